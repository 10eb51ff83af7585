"""The comparison of a site's statement with the ledger (pure: no vault, no site), and its words."""

from __future__ import annotations

import datetime as dt

import pytest

from vault.consent.access_compare import (
    DISCREPANCIES,
    Erasure,
    Given,
    Names,
    claim_label,
    compare,
    day,
    discrepancy_words,
    no_answer,
)
from vault.protocol.access import AccessStatement, Holding

T = int(dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp())
DAY = 86400
NAMES = Names(titles={"recs": "Personalised recommendations"}, recipients={"stock": "Stock Check Ltd."})


def statement(*holdings: Holding) -> AccessStatement:
    return AccessStatement(
        iss="https://shop.example", aud="urn:x", iat=T, request="r" * 16, holdings=holdings
    )


def holding(claims=("sizes.shoe",), until=T + 10 * DAY, recipients=(), presentations=("p1",), purpose="recs"):
    return Holding(
        purpose=purpose,
        claims=tuple(claims),
        since=T - DAY,
        until=until,
        recipients=tuple(recipients),
        presentations=tuple(presentations),
    )


def given(jti="p1", claims=("sizes.shoe",), at=T - DAY, keep=T + 10 * DAY, recipients=(), purpose="recs"):
    return Given(jti, purpose, tuple(claims), at, keep, tuple(recipients))


def kinds(found) -> list[tuple[str, tuple[str, ...]]]:
    return [(d.kind, d.claims) for d in found]


def test_dates_and_claim_labels_in_words() -> None:
    assert day(int(dt.datetime(2027, 3, 3, 12, tzinfo=dt.UTC).timestamp())) == "3 March 2027"
    assert claim_label("sizes.shoe") == "your shoe size"
    assert claim_label("age_over_18") == "whether you are 18 or older"
    assert claim_label("not.in.catalogue") == "“not.in.catalogue”"


def test_the_example_sentence() -> None:
    promised = int(dt.datetime(2026, 12, 30, tzinfo=dt.UTC).timestamp())
    until = int(dt.datetime(2027, 3, 3, tzinfo=dt.UTC).timestamp())
    (found,) = compare(statement(holding(until=until)), given=[given(keep=promised)], names=NAMES, now=T)
    assert found.text == (
        "Keeps your shoe size for Personalised recommendations until 3 March 2027, "
        "but promised to keep it only until 30 December 2026."
    )


def test_what_matches_the_ledger_is_not_flagged() -> None:
    found = compare(
        statement(holding(recipients=("stock",))), given=[given(recipients=("stock",))], names=NAMES, now=T
    )
    assert found == []


def test_a_whole_purpose_never_disclosed() -> None:
    (found,) = compare(statement(holding(purpose="profiling")), given=[given()], names=NAMES, now=T)
    assert (found.kind, found.purpose) == ("never_disclosed", "profiling")
    assert "for a purpose its manifest does not name (profiling)" in found.text


def test_every_retention_ended_and_a_listed_presentation_past_its_own() -> None:
    ended = compare(statement(holding()), given=[given(keep=T - DAY)], names=NAMES, now=T)
    assert kinds(ended) == [("held_past_retention", ("sizes.shoe",))]
    assert ended[0].text.startswith("Still holds your shoe size for Personalised recommendations")
    # A newer disclosure runs on, but the old presentation the site lists should be gone.
    old, new = given("p1", keep=T - DAY), given("p2", at=T - 1, keep=T + 10 * DAY)
    listed = compare(statement(holding(presentations=("p1", "p2"))), given=[old, new], names=NAMES, now=T)
    assert kinds(listed) == [("held_past_retention", ("sizes.shoe",))]
    not_listed = compare(statement(holding(presentations=("p2",))), given=[old, new], names=NAMES, now=T)
    assert not_listed == []


def test_erasure_rules() -> None:
    h = statement(holding(claims=("sizes.shoe", "interests")))
    g = [given(claims=("sizes.shoe", "interests"))]
    one_claim = compare(h, given=g, erasures=[Erasure(T - 10, "recs", ("interests",))], names=NAMES, now=T)
    assert kinds(one_claim) == [("held_after_erasure", ("interests",))]
    other_purpose = compare(h, given=g, erasures=[Erasure(T - 10, "other")], names=NAMES, now=T)
    assert other_purpose == []
    every_purpose = compare(h, given=g, erasures=[Erasure(T - 10, None)], names=NAMES, now=T)
    assert kinds(every_purpose) == [("held_after_erasure", ("sizes.shoe", "interests"))]
    shared_again = [*g, given("p2", claims=("interests",), at=T - 5)]
    again = compare(h, given=shared_again, erasures=[Erasure(T - 10, None)], names=NAMES, now=T)
    assert kinds(again) == [("held_after_erasure", ("sizes.shoe",))]


def test_unallowed_recipients_are_named() -> None:
    (found,) = compare(
        statement(holding(recipients=("stock", "broker"))),
        given=[given(recipients=("stock",))],
        names=NAMES,
        now=T,
    )
    assert (found.kind, found.recipients) == ("unallowed_recipient", ("broker",))
    assert found.text == (
        "Says it passed your shoe size for Personalised recommendations to broker (not named in its "
        "manifest), which you never allowed."
    )


def test_no_answer_words() -> None:
    flag = no_answer(
        names=NAMES,
        purpose="recs",
        claims=("sizes.shoe",),
        asked_at=T,
        attempts=6,
        error="HTTP 503",
        retention_end=True,
    )
    assert flag.kind == "no_answer" and flag.text == (
        "Did not answer when asked on 1 December 2026 to confirm it no longer holds your shoe size for "
        "Personalised recommendations, whose retention had ended (6 attempts; last: HTTP 503)."
    )


def test_every_kind_has_words() -> None:
    for kind in DISCREPANCIES:
        assert discrepancy_words(kind, purpose="P", until=T, promised=T - 1, erased_at=T, asked_at=T)
    with pytest.raises(ValueError):
        discrepancy_words("made_up", purpose="P")
