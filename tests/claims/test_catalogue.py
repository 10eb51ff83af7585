"""Claims derived from the profile: exactly their own granularity, never finer, never guessed."""

import contextlib
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import example
from vault.claims.attributes import ATTRIBUTES
from vault.claims.catalogue import CLAIMS, MAX_INTERESTS, age_on, derive_claims
from vault.claims.types import Context
from vault.errors import InvalidInput
from vault.protocol import issue_presentation
from vault.protocol.claim_types import (
    ACCESSIBILITY_NEEDS,
    CLAIM_TYPES,
    DIETS,
    LANGUAGE_TAG_PATTERN,
)
from vault.protocol.countries import ISO_3166_ALPHA2

TODAY = dt.date(2026, 11, 22)
CTX = Context(today=TODAY)
EVERY_CLAIM_MANIFEST = example.manifest_with_every_claim()

PROFILE = {
    "birthdate": "2008-06-15",
    "country": "NL",
    "region": "Noord-Holland",
    "postal_code": "1017 CT",
    "interests": ["jazz", "trail running", "chess", "cooking", "hiking", "poetry", "tea"],
    "sizes.shoe": 39.5,
    "languages": ["en-GB", "nl"],
    "email": "ada@example.org",
}


@pytest.mark.parametrize(
    ("today", "over_16", "over_18", "age_range"),
    [
        (dt.date(2026, 6, 14), True, False, "13-17"),  # the day before the 18th birthday
        (dt.date(2026, 6, 15), True, True, "18-24"),  # the birthday itself
        (dt.date(2024, 6, 14), False, False, "13-17"),
    ],
)
def test_age_claims_turn_on_the_birthday(
    today: dt.date, over_16: bool, over_18: bool, age_range: str
) -> None:
    derived = derive_claims(["age_over_16", "age_over_18", "age_range"], PROFILE, today)
    assert derived.values == {"age_over_16": over_16, "age_over_18": over_18, "age_range": age_range}


def test_leap_day_birthday() -> None:
    assert age_on("2008-02-29", dt.date(2026, 2, 28)) == 17
    assert age_on("2008-02-29", dt.date(2026, 3, 1)) == 18
    assert age_on("2008-02-29", dt.date(2028, 2, 29)) == 20


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 1, 1)), st.integers(0, 40_000))
def test_age_over_agrees_with_a_calendar_count(born: dt.date, days_later: int) -> None:
    today = born + dt.timedelta(days=days_later)
    for threshold in (13, 16, 18, 21, 65):
        try:
            birthday = born.replace(year=born.year + threshold)
        except ValueError:  # 29 February in a common year: the day after 28 February
            birthday = dt.date(born.year + threshold, 3, 1)
        derived = derive_claims([f"age_over_{threshold}"], {"birthdate": born.isoformat()}, today)
        assert derived.values[f"age_over_{threshold}"] is (today >= birthday)


def test_location_ladder_never_yields_finer_than_asked() -> None:
    derived = derive_claims(
        ["location.country", "location.region", "location.postal_prefix"], PROFILE, dt.date(2026, 1, 1)
    )
    assert derived.values == {
        "location.country": "NL",
        "location.region": "Noord-Holland",
        "location.postal_prefix": "101",
    }
    assert derive_claims(["location.postal_code"], PROFILE, dt.date(2026, 1, 1)).values == {
        "location.postal_code": "1017 CT"
    }


def test_interests_are_capped_in_preference_order() -> None:
    values = derive_claims(["interests"], PROFILE, dt.date(2026, 1, 1)).values
    assert values["interests"] == PROFILE["interests"][:MAX_INTERESTS]


def test_unknown_and_missing_claims_are_reported_not_guessed() -> None:
    derived = derive_claims(
        ["age_over_18", "shoe_size", "given_name", "sizes.clothing"], PROFILE, dt.date(2026, 1, 1)
    )
    assert derived.unknown == ("shoe_size",)
    assert derived.missing == ("given_name", "sizes.clothing")
    assert set(derived.values) == {"age_over_18"}


def test_every_claim_comes_from_a_catalogue_attribute() -> None:
    for spec in CLAIMS.values():
        assert spec.attribute in ATTRIBUTES, spec.name
        for coarser in spec.coarser:
            assert coarser in CLAIMS


def test_no_claim_reveals_the_birthdate() -> None:
    profile = {"birthdate": "1990-05-17"}
    for name, spec in CLAIMS.items():
        if spec.attribute == "birthdate":
            value = derive_claims([name], profile, dt.date(2026, 1, 1)).values[name]
            assert "1990" not in str(value) and "05-17" not in str(value)


def test_every_claim_has_a_value_type_and_every_type_a_claim() -> None:
    assert set(CLAIMS) == set(CLAIM_TYPES)
    for name, spec in CLAIMS.items():
        assert spec.value_type is CLAIM_TYPES[name]


# Characters whose case change lengthens text ("İ".lower() and "ß".upper() are two characters each).
CASE_CHANGING = "\u0130\u00dfaK -"
CASE_CHANGERS = st.text(alphabet=CASE_CHANGING, min_size=36, max_size=40)

# Raw profile input, wider than tests/claims/test_attributes.py's: any text, any list; what the profile
# refuses is left out of the profile, and what it accepts is stored in its canonical form.
RAW_PROFILE = st.fixed_dictionaries(
    {},
    optional={
        "birthdate": st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY).map(dt.date.isoformat),
        "country": st.sampled_from(sorted(ISO_3166_ALPHA2)).map(str.lower) | st.text(max_size=4),
        "region": st.text(max_size=110),
        "postal_code": st.from_regex(r"[A-Za-z0-9 -]{1,14}", fullmatch=True)
        | st.text(alphabet=CASE_CHANGING, min_size=1, max_size=14),
        "interests": st.lists(st.text(max_size=45) | CASE_CHANGERS, min_size=1, max_size=60),
        "sizes.shoe": st.floats(14, 53) | st.integers(14, 53).map(lambda n: n + 0.5),
        "sizes.clothing": st.sampled_from(["xs", "M", "3xl", "XXL "]),
        "languages": st.lists(
            st.from_regex(LANGUAGE_TAG_PATTERN, fullmatch=True) | st.sampled_from(["en_gb", "ZH-hant-tw"]),
            min_size=1,
            max_size=16,
        ),
        "diet": st.lists(st.sampled_from([*DIETS, "Gluten free", "low_salt"]), min_size=1, max_size=12),
        "accessibility": st.lists(st.sampled_from(ACCESSIBILITY_NEEDS), min_size=1, max_size=11),
        "email": st.emails() | st.text(max_size=30),
        "given_name": st.text(max_size=110),
        "family_name": st.text(max_size=110),
    },
)


def stored(raw: dict[str, Any]) -> dict[str, Any]:
    """The profile as the vault would hold it: canonical values, refused ones left out."""
    profile = {}
    for name, value in raw.items():
        with contextlib.suppress(InvalidInput):
            profile[name] = ATTRIBUTES[name].check(value, CTX)
    return profile


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RAW_PROFILE, st.dates(min_value=TODAY, max_value=dt.date(2066, 1, 1)))
def test_every_value_derived_from_a_valid_profile_has_its_type(raw: dict[str, Any], today: dt.date) -> None:
    """So the vault never signs a presentation a site would refuse with bad_claim_value. (`today` is on or
    after the day the profile was checked, as it is for a stored profile.)"""
    derived = derive_claims(list(CLAIMS), stored(raw), today)
    for name, value in derived.values.items():
        assert CLAIMS[name].value_type.accepts(value), (name, value)
    if derived.values:
        issue_presentation(
            example.pairwise_key(),
            EVERY_CLAIM_MANIFEST,
            "account",
            example.ORIGIN,
            "n" * 22,
            derived.values,
            example.NOW,
            "j" * 16,
        )
