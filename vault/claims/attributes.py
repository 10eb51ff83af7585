"""The attribute catalogue: what a profile may hold. It is data: adding an attribute is adding a row.

Sensitivity says how much harm a disclosure could do, and drives the consent defaults (sensitive claims are
always asked for). Diet and accessibility are `high`: they can reveal religion or health, which GDPR
article 9 treats as special categories.
"""

import re
from dataclasses import dataclass
from typing import Any, Literal

from vault.claims.types import (
    BirthDate,
    Choice,
    Context,
    Country,
    Email,
    LanguageTag,
    ListOf,
    Number,
    Pattern,
    Text,
    ValueType,
)
from vault.errors import InvalidInput
from vault.protocol.claim_types import (
    ACCESSIBILITY_NEEDS,
    CLOTHING_SIZES,
    DIETS,
    MAX_LANGUAGES,
    NAME_MAX_CHARS,
    POSTAL_CODE_MAX_CHARS,
    POSTAL_CODE_PATTERN,
    SHOE_SIZE_HIGH,
    SHOE_SIZE_LOW,
    SHOE_SIZE_STEP,
    TOPIC_MAX_CHARS,
    TOPIC_PATTERN,
)

Sensitivity = Literal["low", "medium", "high"]

CUSTOM_PREFIX = "custom."
CUSTOM_NAME_PATTERN = r"custom\.[a-z][a-z0-9_]{0,39}"  # the options page checks it too (page_contract)
_CUSTOM_NAME = re.compile(CUSTOM_NAME_PATTERN)


@dataclass(frozen=True)
class AttributeSpec:
    name: str
    type: ValueType
    sensitivity: Sensitivity
    description: str

    def from_text(self, text: str, ctx: Context) -> Any:
        return self._named(lambda: self.type.from_text(text, ctx))

    def check(self, value: Any, ctx: Context) -> Any:
        return self._named(lambda: self.type.check(value, ctx))

    def to_text(self, value: Any) -> str:
        return self.type.to_text(value)

    def _named(self, parse):
        try:
            return parse()
        except InvalidInput as e:
            raise InvalidInput(f"{self.name}: {e.message}", e.hint) from None


_TOPIC = Pattern(
    max_chars=TOPIC_MAX_CHARS,
    pattern=TOPIC_PATTERN,
    case="lower",
    why="a topic is a short phrase without commas or brackets",
    example="running",
)

ATTRIBUTES: dict[str, AttributeSpec] = {
    spec.name: spec
    for spec in (
        AttributeSpec(
            "given_name", Text(max_chars=NAME_MAX_CHARS, example="Ada"), "high", "Your given (first) name"
        ),
        AttributeSpec(
            "family_name", Text(max_chars=NAME_MAX_CHARS, example="Lovelace"), "high", "Your family name"
        ),
        AttributeSpec("email", Email(), "high", "Your email address"),
        AttributeSpec(
            "birthdate",
            BirthDate(),
            "medium",
            "Your date of birth; sites normally get only an age check such as 'over 18'",
        ),
        AttributeSpec("country", Country(), "low", "The country you live in (ISO 3166-1 code, e.g. NL)"),
        AttributeSpec(
            "region",
            Text(max_chars=NAME_MAX_CHARS, example="Noord-Holland"),
            "low",
            "Your region, province or state",
        ),
        AttributeSpec("city", Text(max_chars=100, example="Amsterdam"), "medium", "Your city or town"),
        AttributeSpec(
            "postal_code",
            Pattern(
                max_chars=POSTAL_CODE_MAX_CHARS,
                pattern=POSTAL_CODE_PATTERN,
                case="upper",
                why="letters, digits, spaces and hyphens only",
                example="1017 CT",
            ),
            "high",
            "Your postal code; sites normally get only its first characters",
        ),
        AttributeSpec(
            "languages",
            ListOf(item=LanguageTag(), max_items=MAX_LANGUAGES),
            "low",
            "Languages you read, most preferred first (BCP 47 tags, e.g. en-GB, nl)",
        ),
        AttributeSpec(
            "interests",
            ListOf(item=_TOPIC, max_items=50),
            "medium",
            "Topics you are interested in, for recommendations",
        ),
        AttributeSpec(
            "sizes.shoe",
            Number(
                low=SHOE_SIZE_LOW, high=SHOE_SIZE_HIGH, step=SHOE_SIZE_STEP, example="42 or 42.5 (EU sizes)"
            ),
            "low",
            "Your shoe size (EU)",
        ),
        AttributeSpec("sizes.clothing", Choice(choices=CLOTHING_SIZES), "low", "Your clothing size"),
        AttributeSpec(
            "diet",
            ListOf(item=Choice(choices=DIETS), max_items=len(DIETS)),
            "high",
            "Dietary needs and preferences",
        ),
        AttributeSpec(
            "accessibility",
            ListOf(item=Choice(choices=ACCESSIBILITY_NEEDS), max_items=len(ACCESSIBILITY_NEEDS)),
            "high",
            "Accessibility needs sites can adapt to",
        ),
    )
}

_CUSTOM_TYPE = Text(max_chars=1000, example="any text")


def lookup(name: str) -> AttributeSpec:
    """The spec for an attribute name, including user-defined `custom.*` ones; refuses unknown names."""
    spec = ATTRIBUTES.get(name)
    if spec is not None:
        return spec
    if name.startswith(CUSTOM_PREFIX):
        if not _CUSTOM_NAME.fullmatch(name):
            raise InvalidInput(
                f"{name!r} is not a valid custom attribute name",
                "custom. then up to 40 lower-case letters, digits or _, e.g. custom.favourite_colour",
            )
        return AttributeSpec(name, _CUSTOM_TYPE, "medium", "A custom attribute you defined")
    raise InvalidInput(
        f"unknown attribute {name!r}",
        "see `vault profile list --all` for the catalogue, or use a custom.NAME attribute",
    )
