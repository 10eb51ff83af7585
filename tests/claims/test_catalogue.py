"""Claims derived from the profile: exactly their own granularity, never finer, never guessed."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.claims.attributes import CATALOGUE as ATTRIBUTES
from vault.claims.catalogue import CLAIMS, MAX_INTERESTS, age_on, derive_claims

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
