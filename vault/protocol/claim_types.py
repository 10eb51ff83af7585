"""The claim vocabulary: every claim name a presentation may carry, and the type its value must have.

This table is data that both ends use. The vault's issuer refuses to sign a value that does not match
(IssueError `bad_claim_value`) and a site's verifier refuses a presentation that carries one (reason
`bad_claim_value`), so a site can rely on `age_over_18` being a boolean and `location.country` an
upper-case ISO 3166-1 code without checking them itself. The vocabulary is closed: a claim name with no
type here is refused as well, since no site could know what its value means.

The bounds are the profile's own (vault/claims/attributes.py builds its attribute types from the
constants below), so every value the vault derives from a valid profile passes. SPEC.md ("Claim value
types") states this table as rules; tests/protocol/test_spec.py keeps the two in step.

Each check is compiled once, here; checking a value is a dictionary look-up and a call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vault.protocol.countries import ISO_3166_ALPHA2

AGE_THRESHOLDS = (13, 16, 18, 21, 65)
# (lowest age, highest age, label): the label is what travels; the bounds are how the vault derives it.
AGE_RANGES = (
    (0, 12, "under 13"),
    (13, 17, "13-17"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 200, "65+"),
)
CLOTHING_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL")
DIETS = (
    "vegetarian",
    "vegan",
    "pescatarian",
    "halal",
    "kosher",
    "gluten-free",
    "lactose-free",
    "nut-free",
    "low-sugar",
    "low-salt",
)
ACCESSIBILITY_NEEDS = (
    "screen-reader",
    "high-contrast",
    "large-text",
    "reduced-motion",
    "captions",
    "audio-description",
    "sign-language",
    "keyboard-only",
    "dyslexia-friendly",
    "simple-language",
    "wheelchair-access",
)
# The enumerations by the name SPEC.md gives them.
ENUMERATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "age ranges": tuple(label for _, _, label in AGE_RANGES),
        "clothing sizes": CLOTHING_SIZES,
        "diets": DIETS,
        "accessibility needs": ACCESSIBILITY_NEEDS,
    }
)

SHOE_SIZE_LOW, SHOE_SIZE_HIGH, SHOE_SIZE_STEP = 15, 52, 0.5  # EU sizes come in halves
NAME_MAX_CHARS = 100  # given name, family name, region
MAX_INTERESTS = 5  # the claim carries the first five of the profile's interests
TOPIC_MAX_CHARS = 40
TOPIC_PATTERN = r"[^\x00-\x1f,\[\]{}<>]+"  # no commas or brackets: topics are listed in text and HTML
MAX_LANGUAGES = 16
LANGUAGE_TAG_MAX_CHARS = 64
# BCP 47 (RFC 5646) tags, matched case-insensitively: language, script, region, variants, extensions,
# private use. The group names let the profile put each part in the RFC's case (en-GB, zh-Hant-TW).
LANGUAGE_TAG_PATTERN = (
    r"(?P<lang>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|\d{3}))?"
    r"(?P<rest>(?:-(?:[a-z0-9]{5,8}|\d[a-z0-9]{3}))*(?:-[a-wy-z0-9](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?)"
)
EMAIL_MAX_CHARS = 254
EMAIL_PATTERN = (
    r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
POSTAL_CODE_MAX_CHARS = 12
POSTAL_CODE_PATTERN = r"[A-Z0-9](?:[A-Z0-9 -]{0,10}[A-Z0-9])?"
POSTAL_PREFIX_CHARS = 3
POSTAL_PREFIX_PATTERN = rf"[A-Z0-9]{{1,{POSTAL_PREFIX_CHARS}}}"

# Any character but the C0 and C1 controls, which a profile never holds (it refuses them on the way in).
_NOT_CONTROL = r"[^\x00-\x1f\x7f-\x9f]"


@dataclass(frozen=True, slots=True)
class ClaimType:
    """A claim's value type: `rule` is how SPEC.md states it, `accepts(value)` checks a decoded value."""

    rule: str
    accepts: Callable[[object], bool]


def _boolean() -> ClaimType:
    return ClaimType("`true` or `false`", lambda value: value is True or value is False)


def _one_of(enumeration: str) -> ClaimType:
    allowed = frozenset(ENUMERATIONS[enumeration])
    return ClaimType(f"one of the {enumeration}", lambda value: isinstance(value, str) and value in allowed)


# Strings each string type accepted lately, so that the values which recur (a user's interests, languages,
# region, presented to site after site) skip the regex (~600 ns each, a dict look-up ~40). Bounded by
# count: a type's memo is emptied when it holds this many (values are at most a few hundred characters).
MEMO_SIZE = 256


def _string(rule: str, regex: str, flags: int = 0) -> ClaimType:
    # One compiled expression per type says everything about a string (length included): a single
    # fullmatch is the cheapest check Python has, and verifying runs it for every string claim.
    fullmatch = re.compile(regex, flags).fullmatch
    accepted: dict[str, None] = {}  # only exact str: a subclass could compare equal to what it is not

    def accepts(value: object) -> bool:
        if type(value) is str and value in accepted:
            return True
        if not isinstance(value, str) or fullmatch(value) is None:
            return False
        if type(value) is str:
            if len(accepted) >= MEMO_SIZE:
                accepted.clear()
            accepted[value] = None
        return True

    return ClaimType(rule, accepts)


def _text(max_chars: int, *, noun: str = "text", pattern: str | None = None, rule: str = "") -> ClaimType:
    """Text as the profile stores it: 1 to `max_chars` characters, no control characters, no white space
    first or last, and (if given) matching `pattern` as well."""
    bounded = f"{_NOT_CONTROL}{{1,{max_chars}}}"
    body = bounded if pattern is None else rf"(?={bounded}\Z)(?:{pattern})"
    return _string(rule or f"{noun} of 1 to {max_chars} characters", rf"(?!\s){body}(?<!\s)")


def _matching(pattern: str, max_chars: int, rule: str, flags: int = 0) -> ClaimType:
    return _string(rule, rf"(?=.{{1,{max_chars}}}\Z)(?:{pattern})", flags | re.DOTALL)


def _country() -> ClaimType:
    return ClaimType(
        "an ISO 3166-1 alpha-2 country code, upper case",
        lambda value: isinstance(value, str) and value in ISO_3166_ALPHA2,
    )


def _number(low: float, high: float, step: float) -> ClaimType:
    def accepts(value: object) -> bool:
        # bool is an int subclass, hence the exact type test; NaN and infinities fail the bounds.
        return (
            (type(value) is int or type(value) is float)
            and low <= value <= high  # type: ignore[operator]
            and value % step == 0  # type: ignore[operator]
        )

    return ClaimType(f"a number from {low:g} to {high:g}, a multiple of {step:g}", accepts)


def _list_of(item: ClaimType, max_items: int, items: str) -> ClaimType:
    check = item.accepts

    def accepts(value: object) -> bool:
        return (
            isinstance(value, list)
            and 0 < len(value) <= max_items
            and all(map(check, value))
            and len(set(value)) == len(value)  # items are strings by now, so hashable
        )

    return ClaimType(f"a list of 1 to {max_items} distinct {items}", accepts)


_NAME = _text(NAME_MAX_CHARS)

CLAIM_TYPES: Mapping[str, ClaimType] = MappingProxyType(
    {
        **{f"age_over_{threshold}": _boolean() for threshold in AGE_THRESHOLDS},
        "age_range": _one_of("age ranges"),
        "location.country": _country(),
        "location.region": _NAME,
        "location.postal_prefix": _matching(
            POSTAL_PREFIX_PATTERN, POSTAL_PREFIX_CHARS, f"matches `{POSTAL_PREFIX_PATTERN}`"
        ),
        "location.postal_code": _matching(
            POSTAL_CODE_PATTERN, POSTAL_CODE_MAX_CHARS, f"matches `{POSTAL_CODE_PATTERN}`"
        ),
        "interests": _list_of(
            _text(TOPIC_MAX_CHARS, noun="topic", pattern=TOPIC_PATTERN), MAX_INTERESTS, "topics"
        ),
        "sizes.shoe": _number(SHOE_SIZE_LOW, SHOE_SIZE_HIGH, SHOE_SIZE_STEP),
        "sizes.clothing": _one_of("clothing sizes"),
        "languages": _list_of(
            _matching(
                LANGUAGE_TAG_PATTERN, LANGUAGE_TAG_MAX_CHARS, "a language tag", re.ASCII | re.IGNORECASE
            ),
            MAX_LANGUAGES,
            "language tags",
        ),
        "diet": _list_of(_one_of("diets"), len(DIETS), "diets"),
        "accessibility": _list_of(
            _one_of("accessibility needs"), len(ACCESSIBILITY_NEEDS), "accessibility needs"
        ),
        "email": _text(EMAIL_MAX_CHARS, pattern=EMAIL_PATTERN, rule="an email address"),
        "given_name": _NAME,
        "family_name": _NAME,
    }
)

# One valid value of each claim, as it travels: the site developer's guide shows them and `vault
# conformance` presents them (tests/protocol/test_claim_types.py checks each against its type).
CLAIM_EXAMPLES: Mapping[str, object] = MappingProxyType(
    {
        **{f"age_over_{threshold}": True for threshold in AGE_THRESHOLDS},
        "age_range": "25-34",
        "location.country": "NL",
        "location.region": "Noord-Holland",
        "location.postal_prefix": "101",
        "location.postal_code": "1017 CT",
        "interests": ["running", "jazz"],
        "sizes.shoe": 42.5,
        "sizes.clothing": "M",
        "languages": ["nl", "en-GB"],
        "diet": ["vegetarian"],
        "accessibility": ["large-text"],
        "email": "ada@example.org",
        "given_name": "Ada",
        "family_name": "Lovelace",
    }
)

# name -> check, as a plain dict: the verifier looks every claim up here.
_ACCEPTS: dict[str, Callable[[object], bool]] = {name: t.accepts for name, t in CLAIM_TYPES.items()}


def claim_value_ok(name: str, value: object) -> bool:
    """Whether `value` has the type claim `name` promises (False for a name the vocabulary lacks)."""
    accepts = _ACCEPTS.get(name)
    return accepts is not None and accepts(value)


def claim_values_ok(claims: Mapping[str, object]) -> bool:
    """Whether every claim in `claims` is in the vocabulary and has its type."""
    for name, value in claims.items():
        accepts = _ACCEPTS.get(name)
        if accepts is None or not accepts(value):
            return False
    return True
