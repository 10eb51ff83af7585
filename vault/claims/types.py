"""Value types for profile attributes. Each type turns user text (the CLI) or a JSON value (the API) into
one canonical stored value, or refuses it with a message that says what a good value looks like.

Canonical means: the same meaning is always stored the same way ("nl" and "NL" are both stored "NL"), so
derived claims and the ledger never disagree about what was shared.
"""

import datetime as dt
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from vault.errors import InvalidInput
from vault.protocol.claim_types import (
    EMAIL_MAX_CHARS,
    EMAIL_PATTERN,
    LANGUAGE_TAG_MAX_CHARS,
    LANGUAGE_TAG_PATTERN,
)
from vault.protocol.countries import ISO_3166_ALPHA2


@dataclass(frozen=True)
class Context:
    """What validation depends on besides the value: today's date, passed in (never read from the clock)."""

    today: dt.date


class ValueType:
    """Base: a scalar from text is the text itself; subclasses override `check`."""

    example = ""

    def from_text(self, text: str, ctx: Context) -> Any:
        return self.check(text, ctx)

    def check(self, value: Any, ctx: Context) -> Any:
        raise NotImplementedError

    def to_text(self, value: Any) -> str:
        return str(value)

    def refuse(self, value: Any, why: str) -> InvalidInput:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return InvalidInput(
            f"{shown} is not valid: {why}", f"example: {self.example}" if self.example else ""
        )


def _no_control_chars(text: str) -> bool:
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)


@dataclass(frozen=True)
class Text(ValueType):
    max_chars: int = 100
    example: str = "Amsterdam"

    def check(self, value: Any, ctx: Context) -> str:
        if not isinstance(value, str):
            raise self.refuse(value, "expected text")
        text = unicodedata.normalize("NFC", " ".join(value.split()))
        if not text:
            raise self.refuse(value, "it is empty")
        if len(text) > self.max_chars:
            raise self.refuse(value, f"longer than {self.max_chars} characters")
        if not _no_control_chars(text):
            raise self.refuse(value, "it contains control or unassigned characters")
        return text


@dataclass(frozen=True)
class Pattern(Text):
    """Text that must match a pattern after normalisation (case folded if asked)."""

    pattern: str = ".*"
    case: Literal["keep", "upper", "lower"] = "keep"
    why: str = ""

    def check(self, value: Any, ctx: Context) -> str:
        text = super().check(value, ctx)
        if self.case == "upper":
            text = text.upper()
        elif self.case == "lower":
            text = text.lower()
        if len(text) > self.max_chars:  # changing case can lengthen text: "İ".lower() is two characters
            raise self.refuse(value, f"longer than {self.max_chars} characters")
        if not re.fullmatch(self.pattern, text, flags=re.ASCII):
            raise self.refuse(value, self.why)
        return text


class Country(ValueType):
    example = "NL"

    def check(self, value: Any, ctx: Context) -> str:
        if not isinstance(value, str) or value.strip().upper() not in ISO_3166_ALPHA2:
            raise self.refuse(value, "not an ISO 3166-1 alpha-2 country code")
        return value.strip().upper()


class BirthDate(ValueType):
    example = "1990-05-17"
    earliest = dt.date(1900, 1, 1)

    def check(self, value: Any, ctx: Context) -> str:
        if not isinstance(value, str) or not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}", value.strip(), flags=re.ASCII
        ):
            raise self.refuse(value, "expected an ISO 8601 date, YYYY-MM-DD")
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise self.refuse(value, "no such date") from None
        if day > ctx.today:
            raise self.refuse(value, "it is in the future")
        if day < self.earliest:
            raise self.refuse(value, f"it is before {self.earliest.isoformat()}")
        return day.isoformat()


class Email(ValueType):
    example = "ada@example.org"
    _shape = re.compile(EMAIL_PATTERN)

    def check(self, value: Any, ctx: Context) -> str:
        if (
            not isinstance(value, str)
            or len(value.strip()) > EMAIL_MAX_CHARS
            or not self._shape.fullmatch(value.strip())
        ):
            raise self.refuse(value, "not an email address")
        local, domain = value.strip().rsplit("@", 1)
        if not _no_control_chars(local):
            raise self.refuse(value, "it contains control characters")
        return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class Number(ValueType):
    """A size on a fixed scale: bounded, in steps (EU shoe sizes come in halves)."""

    low: float = 0
    high: float = 100
    step: float = 1
    example: str = ""

    def from_text(self, text: str, ctx: Context) -> Any:
        try:
            number = float(text.strip())
        except ValueError:
            raise self.refuse(text, "not a number") from None
        return self.check(number, ctx)

    def check(self, value: Any, ctx: Context) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.refuse(value, "not a number")
        # An int is finite at any size, and isfinite() cannot take one too large for a float.
        if isinstance(value, float) and not math.isfinite(value):
            raise self.refuse(value, "not a number")
        if not self.low <= value <= self.high:
            raise self.refuse(value, f"outside {self.low:g} to {self.high:g}")
        steps = value / self.step
        if abs(steps - round(steps)) > 1e-9:
            raise self.refuse(value, f"sizes come in steps of {self.step:g}")
        value = round(steps) * self.step
        return int(value) if float(value).is_integer() else value

    def to_text(self, value: Any) -> str:
        return f"{value:g}"


@dataclass(frozen=True)
class Choice(ValueType):
    choices: tuple[str, ...] = ()

    @property
    def example(self) -> str:  # type: ignore[override]
        return "one of " + ", ".join(self.choices)

    def check(self, value: Any, ctx: Context) -> str:
        if isinstance(value, str):
            wanted = value.strip().lower().replace(" ", "-").replace("_", "-")
            for choice in self.choices:
                if choice.lower() == wanted:
                    return choice
        raise self.refuse(value, "not a known choice")


@dataclass(frozen=True)
class ListOf(ValueType):
    """A list in text is comma-separated ("en-GB, nl") or a JSON array; stored de-duplicated, in order."""

    item: ValueType = Text()
    max_items: int = 20

    @property
    def example(self) -> str:  # type: ignore[override]
        return "a comma-separated list; each item: " + self.item.example

    def from_text(self, text: str, ctx: Context) -> list[Any]:
        if text.strip().startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise self.refuse(text, "not a valid JSON array") from None
            return self.check(parsed, ctx)
        return self.check([part for part in text.split(",") if part.strip()], ctx)

    def check(self, value: Any, ctx: Context) -> list[Any]:
        if not isinstance(value, list):
            raise self.refuse(value, "expected a list")
        if not value:
            raise self.refuse(value, "the list is empty (use `profile unset` to remove it)")
        if len(value) > self.max_items:
            raise self.refuse(value, f"more than {self.max_items} items")
        items: list[Any] = []
        for raw in value:
            item = self.item.check(raw, ctx)
            if item not in items:
                items.append(item)
        return items

    def to_text(self, value: Any) -> str:
        return ", ".join(self.item.to_text(v) for v in value)


class LanguageTag(ValueType):
    """BCP 47 (RFC 5646) language tags, with the RFC's case conventions applied: en-GB, zh-Hant-TW."""

    example = "en-GB"
    # ASCII: BCP 47 has no other digits or letters (not ٠, not the Kelvin sign K).
    _shape = re.compile(LANGUAGE_TAG_PATTERN, re.IGNORECASE | re.ASCII)

    def check(self, value: Any, ctx: Context) -> str:
        if not isinstance(value, str) or len(value.strip()) > LANGUAGE_TAG_MAX_CHARS:
            raise self.refuse(value, "not a BCP 47 language tag")
        match = self._shape.fullmatch(value.strip().replace("_", "-"))
        if not match:
            raise self.refuse(value, "not a BCP 47 language tag")
        parts = [match["lang"].lower()]
        if match["script"]:
            parts.append(match["script"].title())
        if match["region"]:
            parts.append(match["region"].upper())
        return "-".join(parts) + match["rest"].lower()
