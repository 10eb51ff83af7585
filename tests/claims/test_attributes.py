"""The attribute catalogue: every type round-trips, bad values are refused with a message."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.claims.attributes import ACCESSIBILITY_NEEDS, ATTRIBUTES, CLOTHING_SIZES, DIETS, lookup
from vault.claims.types import Context
from vault.errors import InvalidInput
from vault.protocol.countries import ISO_3166_ALPHA2

TODAY = dt.date(2026, 11, 22)
CTX = Context(today=TODAY)

words = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=12)
VALID = {
    "given_name": words,
    "family_name": words,
    "city": st.lists(words, min_size=1, max_size=3).map(" ".join),
    "region": words,
    "email": st.tuples(
        st.from_regex(r"[a-z0-9._+-]{1,20}", fullmatch=True),
        st.from_regex(r"[a-z0-9]{1,10}\.[a-z]{2,6}", fullmatch=True),
    ).map("@".join),
    "birthdate": st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY).map(dt.date.isoformat),
    "country": st.sampled_from(sorted(ISO_3166_ALPHA2)),
    "postal_code": st.from_regex(r"[A-Z0-9]{2,5}( [A-Z0-9]{1,4})?", fullmatch=True),
    "languages": st.lists(
        st.sampled_from(["en-GB", "nl", "zh-Hant-TW", "de-CH-1996", "es-419", "fr"]),
        min_size=1,
        max_size=5,
        unique=True,
    ),
    "interests": st.lists(
        st.lists(st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True), min_size=1, max_size=3).map(" ".join),
        min_size=1,
        max_size=10,
        unique=True,
    ),
    "sizes.shoe": st.integers(30, 104)
    .map(lambda half: half / 2)
    .map(lambda v: int(v) if v.is_integer() else v),
    "sizes.clothing": st.sampled_from(CLOTHING_SIZES),
    "diet": st.lists(st.sampled_from(DIETS), min_size=1, unique=True),
    "accessibility": st.lists(st.sampled_from(ACCESSIBILITY_NEEDS), min_size=1, unique=True),
    "custom.note": st.text(alphabet=st.characters(categories=("L", "N", "P")), min_size=1, max_size=50),
}


def test_every_catalogue_attribute_has_a_generator() -> None:
    assert set(ATTRIBUTES) <= set(VALID)


@pytest.mark.parametrize("name", sorted(VALID))
def test_canonical_values_round_trip_through_text_and_json(name: str) -> None:
    spec = lookup(name)

    @given(VALID[name])
    def check(value: object) -> None:
        canonical = spec.check(value, CTX)
        assert spec.check(canonical, CTX) == canonical, "canonical form must be a fixed point"
        assert spec.from_text(spec.to_text(canonical), CTX) == canonical

    check()


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("birthdate", "2090-01-01", "in the future"),
        ("birthdate", "2026-11-23", "in the future"),
        ("birthdate", "1990-02-30", "no such date"),
        ("birthdate", "17/05/1990", "YYYY-MM-DD"),
        ("birthdate", "1850-01-01", "before 1900"),
        ("country", "XX", "ISO 3166-1"),
        ("country", "Netherlands", "ISO 3166-1"),
        ("sizes.shoe", "banana", "not a number"),
        ("sizes.shoe", "42.3", "steps of 0.5"),
        ("sizes.shoe", "99", "outside"),
        ("sizes.shoe", "nan", "not a number"),
        ("sizes.clothing", "XXXXL", "not a known choice"),
        ("email", "not-an-email", "not an email"),
        ("email", "a@b", "not an email"),
        ("languages", "e", "BCP 47"),
        ("languages", "en--GB", "BCP 47"),
        ("languages", "englishlanguage", "BCP 47"),
        ("languages", "aa-000u-\u0660000", "BCP 47"),  # an Arabic-Indic digit is not a BCP 47 digit
        ("languages", "\u212a", "BCP 47"),  # the Kelvin sign is not the letter k
        ("languages", "en-GB,", "en-GB"),  # a trailing comma is fine: the list is en-GB
        ("languages", "[1, 2]", "BCP 47"),
        ("languages", "[not json", "JSON array"),
        ("diet", "carnivore", "not a known choice"),
        ("given_name", "   ", "empty"),
        ("given_name", "x" * 101, "longer than 100"),
        ("given_name", "Ada\x00", "control"),
        ("postal_code", "10<17", "letters, digits"),
        ("interests", ",".join(f"t{i}" for i in range(51)), "more than 50"),
        ("interests", "\u0130" * 40, "longer than 40"),  # 80 characters once lower-cased
        ("custom.note", "", "empty"),
    ],
)
def test_bad_values_are_refused_with_a_reason(name: str, text: str, message: str) -> None:
    if message == "en-GB":
        assert lookup(name).from_text(text, CTX) == ["en-GB"]
        return
    with pytest.raises(InvalidInput, match=message) as error:
        lookup(name).from_text(text, CTX)
    assert error.value.message.startswith(f"{name}:")


def test_birthdate_today_is_accepted() -> None:
    assert lookup("birthdate").from_text(TODAY.isoformat(), CTX) == "2026-11-22"


@pytest.mark.parametrize(
    "name", ["nickname", "sizes.hat", "custom.", "custom.Upper", "custom.a.b", "custom." + "a" * 41]
)
def test_unknown_and_malformed_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        lookup(name)


def test_json_values_are_checked_strictly() -> None:
    assert lookup("sizes.shoe").check(42.0, CTX) == 42
    for bad in (True, "42", None, [42]):
        with pytest.raises(InvalidInput):
            lookup("sizes.shoe").check(bad, CTX)
    with pytest.raises(InvalidInput):
        lookup("languages").check("en-GB", CTX)


def test_lists_are_deduplicated_in_order_and_canonicalised() -> None:
    assert lookup("languages").from_text("EN-gb, nl, en_GB", CTX) == ["en-GB", "nl"]
    assert lookup("interests").from_text("Running,  Board   Games, running", CTX) == [
        "running",
        "board games",
    ]
