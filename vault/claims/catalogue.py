"""The claim catalogue: what a site may ask for, which attribute each claim comes from, and how it is
coarsened on the way out. It is data: a new claim is a new row with a derivation, not a new code path.
Each claim's value type is the protocol's (vault/protocol/claim_types.py), so a new claim also needs a
row there, and sites learn its type from the same table.

Minimisation is the point. A claim yields exactly its own granularity and never falls back to something
finer: `age_over_18` is a boolean, never the birth date; `location.postal_prefix` is three characters,
never the whole code. A claim whose attribute is not in the profile is reported missing, never guessed.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from vault.claims.attributes import Sensitivity
from vault.protocol.claim_types import (
    AGE_RANGES,
    AGE_THRESHOLDS,
    CLAIM_TYPES,
    MAX_INTERESTS,
    POSTAL_PREFIX_CHARS,
    ClaimType,
)

ClaimValue = bool | int | float | str | list[str]


def age_on(birthdate: str, today: dt.date) -> int:
    born = dt.date.fromisoformat(birthdate)
    # Born on 29 February: the birthday counts as reached on 1 March in common years.
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _age_range(age: int) -> str:
    return next(label for low, high, label in AGE_RANGES if low <= age <= high)


@dataclass(frozen=True)
class ClaimSpec:
    name: str
    attribute: str
    derive: Callable[[Any, dt.date], ClaimValue]
    sensitivity: Sensitivity
    describe: str  # what the user is told this claim reveals, in the consent prompt
    coarser: tuple[str, ...] = field(default=())  # claims of the same family that reveal strictly less

    @property
    def value_type(self) -> ClaimType:
        """What the value must look like on the wire: the protocol's table, which sites check too."""
        return CLAIM_TYPES[self.name]

    def value_from(self, attributes: dict[str, Any], today: dt.date) -> ClaimValue | None:
        raw = attributes.get(self.attribute)
        return None if raw is None else self.derive(raw, today)


def _same(value: Any, today: dt.date) -> ClaimValue:
    return value


def _postal_prefix(code: str, today: dt.date) -> str:
    return re.sub(r"[^A-Z0-9]", "", code.upper())[:POSTAL_PREFIX_CHARS]


def _age_over(threshold: int) -> ClaimSpec:
    return ClaimSpec(
        f"age_over_{threshold}",
        "birthdate",
        lambda birthdate, today: age_on(birthdate, today) >= threshold,
        "low",
        f"whether you are {threshold} or older (yes or no), not your birth date",
    )


_LOCATION = ("location.country", "location.region", "location.postal_prefix", "location.postal_code")

CLAIMS: dict[str, ClaimSpec] = {
    spec.name: spec
    for spec in (
        *(_age_over(threshold) for threshold in AGE_THRESHOLDS),
        ClaimSpec(
            "age_range",
            "birthdate",
            lambda b, today: _age_range(age_on(b, today)),
            "medium",
            "your age band (such as 25-34), not your birth date",
        ),
        ClaimSpec("location.country", "country", _same, "low", "the country you live in"),
        ClaimSpec("location.region", "region", _same, "low", "your region or province", _LOCATION[:1]),
        ClaimSpec(
            "location.postal_prefix",
            "postal_code",
            _postal_prefix,
            "medium",
            f"the first {POSTAL_PREFIX_CHARS} characters of your postal code",
            _LOCATION[:2],
        ),
        ClaimSpec(
            "location.postal_code", "postal_code", _same, "high", "your full postal code", _LOCATION[:3]
        ),
        ClaimSpec(
            "interests",
            "interests",
            lambda topics, today: list(topics[:MAX_INTERESTS]),
            "medium",
            f"up to {MAX_INTERESTS} of your interests, in your order of preference",
        ),
        ClaimSpec("sizes.shoe", "sizes.shoe", _same, "low", "your shoe size (EU)"),
        ClaimSpec("sizes.clothing", "sizes.clothing", _same, "low", "your clothing size"),
        ClaimSpec("languages", "languages", _same, "low", "the languages you read"),
        ClaimSpec("diet", "diet", _same, "high", "your dietary needs (may reveal religion or health)"),
        ClaimSpec("accessibility", "accessibility", _same, "high", "your accessibility needs (health data)"),
        ClaimSpec("email", "email", _same, "high", "your email address (identifies you)"),
        ClaimSpec("given_name", "given_name", _same, "high", "your given name (identifies you)"),
        ClaimSpec("family_name", "family_name", _same, "high", "your family name (identifies you)"),
    )
}


@dataclass(frozen=True)
class Derived:
    """What a set of claim names yields from a profile: values, and why any name yields nothing."""

    values: dict[str, ClaimValue]
    unknown: tuple[str, ...]  # not in the catalogue
    missing: tuple[str, ...]  # in the catalogue, but the profile lacks the attribute


def derive_claims(names: Iterable[str], attributes: dict[str, Any], today: dt.date) -> Derived:
    values: dict[str, ClaimValue] = {}
    unknown: list[str] = []
    missing: list[str] = []
    for name in names:
        spec = CLAIMS.get(name)
        if spec is None:
            unknown.append(name)
            continue
        value = spec.value_from(attributes, today)
        if value is None:
            missing.append(name)
        else:
            values[name] = value
    return Derived(values, tuple(unknown), tuple(missing))
