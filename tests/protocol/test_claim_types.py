"""Claim value types: what each claim accepts and refuses, and that the vault's issuer and a site's
verifier draw the line in the same place (the issuer never signs what a verifier would refuse)."""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import example
from tests.protocol.claim_samples import BAD, GOOD, LONGEST
from vault.protocol import IssueError, issue_presentation
from vault.protocol.b64 import b64url_decode
from vault.protocol.claim_types import CLAIM_EXAMPLES, CLAIM_TYPES, claim_value_ok, claim_values_ok
from vault.protocol.countries import ISO_3166_ALPHA2
from vault.protocol.jws import MAX_TOKEN_LENGTH, sign_raw
from vault.protocol.manifest import manifest_index
from vault.site import InMemoryReplayStore, PresentationInvalid, Reason, verify_presentation

KEY = example.pairwise_key()
MANIFEST = example.manifest_with_every_claim()
NONCE = "n" * 22
JTI = "j" * 16


def issue(claims: dict[str, Any], purpose_id: str = "account") -> str:
    return issue_presentation(KEY, MANIFEST, purpose_id, example.ORIGIN, NONCE, claims, example.NOW, JTI)


def verify(token: str) -> dict[str, Any]:
    verified = verify_presentation(
        token, manifest=MANIFEST, nonce=NONCE, now=example.NOW, replay=InMemoryReplayStore()
    )
    return verified.claims


def signed_anyway(claims: dict[str, Any], purpose_id: str = "account") -> str:
    """What a faulty or hostile vault could send: a valid token with `claims` put in and signed again."""
    head, payload, _ = issue({"email": "ada@example.org"}).split(".")
    body = json.loads(b64url_decode(payload))
    if purpose_id != "account":
        entry = MANIFEST.purpose(purpose_id)
        assert entry is not None
        body["purpose"] = {"id": purpose_id, "concept": entry.concept}
        body["retention"] = entry.retention
        body["purpose_digest"] = manifest_index(MANIFEST)[purpose_id].digest
    body["claims"] = claims
    return sign_raw(KEY, b64url_decode(head), msgspec.json.encode(body))


def test_every_claim_has_good_and_bad_samples() -> None:
    assert set(GOOD) == set(BAD) == set(LONGEST) == set(CLAIM_TYPES)


def test_every_claim_has_one_example_of_its_type_that_is_signed_and_accepted() -> None:
    assert set(CLAIM_EXAMPLES) == set(CLAIM_TYPES)
    assert verify(issue(dict(CLAIM_EXAMPLES))) == CLAIM_EXAMPLES


GOOD_CASES = [(name, value) for name, values in GOOD.items() for value in values]
BAD_CASES = [(name, value) for name, values in BAD.items() for value in values]


@pytest.mark.parametrize(("name", "value"), GOOD_CASES, ids=[f"{n}={v!r}"[:60] for n, v in GOOD_CASES])
def test_good_values_are_signed_and_accepted(name: str, value: Any) -> None:
    assert claim_value_ok(name, value)
    assert verify(issue({name: value})) == {name: value}


@pytest.mark.parametrize(("name", "value"), BAD_CASES, ids=[f"{n}={v!r}"[:60] for n, v in BAD_CASES])
def test_bad_values_are_neither_signed_nor_accepted(name: str, value: Any) -> None:
    assert not claim_value_ok(name, value)
    with pytest.raises(IssueError) as refused:
        issue({name: value})
    assert refused.value.reason == "bad_claim_value"
    if isinstance(value, float) and not math.isfinite(value):
        return  # not JSON: no token can carry it
    with pytest.raises(PresentationInvalid) as raised:
        verify(signed_anyway({name: value}))
    # The payload schema refuses some shapes before the claim types are looked at (an object, a list in a
    # list, null): either way the presentation is refused.
    assert raised.value.reason in (Reason.BAD_CLAIM_VALUE, Reason.MALFORMED)


def test_a_claim_outside_the_vocabulary_is_refused_even_when_declared() -> None:
    assert not claim_value_ok("loyalty.tier", "gold")
    with pytest.raises(IssueError) as refused:
        issue({"loyalty.tier": "gold"}, purpose_id="loyalty")
    assert refused.value.reason == "bad_claim_value"
    with pytest.raises(PresentationInvalid) as raised:
        verify(signed_anyway({"loyalty.tier": "gold"}, purpose_id="loyalty"))
    assert raised.value.reason == Reason.BAD_CLAIM_VALUE


def test_one_bad_value_spoils_the_presentation() -> None:
    good = {name: values[0] for name, values in GOOD.items()}
    assert claim_values_ok(good)
    assert verify(issue(good)) == good
    for name, values in BAD.items():
        assert not claim_values_ok({**good, name: values[0]})


def test_the_longest_values_of_every_type_fit_in_a_token() -> None:
    token = issue(LONGEST)
    assert len(token) <= MAX_TOKEN_LENGTH
    assert verify(token) == LONGEST


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def promised_kind(name: str) -> str:
    rule = CLAIM_TYPES[name].rule
    if rule == "`true` or `false`":
        return "boolean"
    if rule.startswith("a number"):
        return "number"
    return "list" if rule.startswith("a list") else "str"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CLAIM_TYPES)), JSON_VALUES)
def test_every_value_of_the_wrong_json_kind_is_refused(name: str, value: object) -> None:
    if json_kind(value) == promised_kind(name):
        return  # the right kind: the samples above test the finer rules
    assert not claim_value_ok(name, value)
    with pytest.raises(IssueError) as refused:
        issue({name: value})
    assert refused.value.reason == "bad_claim_value"


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(CLAIM_TYPES)), JSON_VALUES | st.lists(st.text(max_size=45), max_size=7))
def test_issuer_and_verifier_draw_the_same_line(name: str, value: object) -> None:
    """Whatever the value: the issuer signs it exactly when a verifier accepts it."""
    try:
        token = issue({name: value})
    except IssueError as refused:
        assert refused.reason == "bad_claim_value"
        assert not claim_value_ok(name, value)
        with pytest.raises(PresentationInvalid) as raised:
            verify(signed_anyway({name: value}))
        assert raised.value.reason in (Reason.BAD_CLAIM_VALUE, Reason.MALFORMED)
    else:
        assert claim_value_ok(name, value)
        assert verify(token) == {name: value}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=8))
def test_only_assigned_upper_case_codes_are_countries(text: str) -> None:
    assert claim_value_ok("location.country", text) == (text in ISO_3166_ALPHA2)
