"""Issuing presentations: the exact shape of what the vault signs, and what it refuses to sign."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import example
from vault.protocol import (
    IssueError,
    issue_presentation,
    key_subject,
    open_presentation,
    purpose_digest,
)
from vault.protocol.b64 import b64url_decode

KEY = example.pairwise_key()
MANIFEST = example.manifest()
NONCE = "n" * 22
JTI = "j" * 16
CLAIMS = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42.5, "interests": ["running"]}


def issue(**changes: Any) -> str:
    arguments: dict[str, Any] = {
        "key": KEY,
        "manifest": MANIFEST,
        "purpose_id": "recommendations",
        "audience": example.ORIGIN,
        "nonce": NONCE,
        "claims": CLAIMS,
        "now": example.NOW,
        "jti": JTI,
        "recipients": ("stock",),
    }
    arguments.update(changes)
    return issue_presentation(**arguments)


def parts(token: str) -> tuple[dict, dict]:
    head, payload, _ = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(payload))


def test_header_and_payload() -> None:
    header, payload = parts(issue())
    assert header == {"alg": "EdDSA", "typ": "vault-presentation+jwt", "jwk": KEY.public_jwk}
    subject = key_subject(KEY.public_jwk)
    assert subject.startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-256:")
    recommendations = MANIFEST.purpose("recommendations")
    assert recommendations is not None
    assert payload == {
        "iss": subject,
        "sub": subject,
        "aud": "https://shop.example",
        "nonce": NONCE,
        "iat": example.NOW,
        "exp": example.NOW + 300,
        "jti": JTI,
        "purpose": {"id": "recommendations", "concept": "dpv:ProvidePersonalisedRecommendations"},
        "retention": "P30D",
        "purpose_digest": purpose_digest(recommendations),
        "claims": CLAIMS,
        "recipients": ["stock"],
    }


def test_deterministic_and_opens() -> None:
    token = issue()
    assert issue() == token
    header, payload = open_presentation(token)
    assert header.subject == payload.sub
    assert issue(ttl=600) != token


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"audience": "https://evil.example"}, "wrong_audience"),
        ({"purpose_id": "marketing"}, "unknown_purpose"),
        ({"claims": {**CLAIMS, "email": "a@b.example"}}, "undeclared_claim"),
        ({"purpose_id": "age-check", "claims": CLAIMS}, "undeclared_claim"),
        ({"claims": {"age_over_18": True}}, "missing_claim"),
        ({"claims": {**CLAIMS, "sizes.shoe": {"eu": 42}}}, "bad_claim_value"),
        ({"claims": {**CLAIMS, "sizes.shoe": 2**60}}, "bad_claim_value"),
        ({"claims": {**CLAIMS, "sizes.shoe": float("nan")}}, "bad_claim_value"),
        ({"claims": {**CLAIMS, "interests": ["x"] * 33}}, "bad_claim_value"),
        ({"claims": {**CLAIMS, "interests": [1]}}, "bad_claim_value"),
        ({"claims": {**CLAIMS, "location.country": "x" * 257}}, "bad_claim_value"),
        ({"claims": {**CLAIMS, "location.country": "nl"}}, "bad_claim_value"),
        ({"claims": {**CLAIMS, "age_over_18": "false"}}, "bad_claim_value"),
        ({"claims": {**CLAIMS, "sizes.shoe": "42"}}, "bad_claim_value"),
        ({"nonce": "short"}, "bad_nonce"),
        ({"nonce": "n" * 21 + "="}, "bad_nonce"),
        ({"nonce": None}, "bad_nonce"),
        ({"jti": "j" * 15}, "bad_jti"),
        ({"jti": "j/" * 10}, "bad_jti"),
        ({"ttl": 0}, "bad_time"),
        ({"ttl": 601}, "bad_time"),
        ({"now": -1}, "bad_time"),
        ({"now": 1.5}, "bad_time"),
        ({"now": True}, "bad_time"),
    ],
)
def test_refusals(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(IssueError) as raised:
        issue(**changes)
    assert raised.value.reason == reason
    assert str(raised.value) == reason


def test_refusal_messages_never_carry_values() -> None:
    with pytest.raises(IssueError) as raised:
        issue(claims={**CLAIMS, "sizes.shoe": {"secret": "1234-5678"}})
    assert "1234" not in str(raised.value)


def test_claims_are_copied_not_kept() -> None:
    claims = dict(CLAIMS)
    token = issue(claims=claims)
    claims["age_over_18"] = False
    assert parts(token)[1]["claims"]["age_over_18"] is True


def test_tokens_no_verifier_would_accept_are_not_issued(monkeypatch: pytest.MonkeyPatch) -> None:
    # Typed claims keep every valid presentation under the length limit (tests/protocol/test_claim_types.py
    # signs the longest); the check stays as a guard should a new claim type break that.
    token = issue()
    monkeypatch.setattr("vault.protocol.presentation.MAX_TOKEN_LENGTH", len(token) - 1)
    with pytest.raises(IssueError) as raised:
        issue()
    assert raised.value.reason == "too_large"
