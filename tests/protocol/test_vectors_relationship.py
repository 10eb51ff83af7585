"""The committed vectors of the access request, the access statement and the site message
(vault/protocol/vectors_access_request/, vectors_access_statement/, vectors_message/): each case's expected
outcome, with the verifier a site or vault uses. tests/protocol/test_vectors.py checks the generator
reproduces them byte for byte; the acknowledgements that carry messages are in vectors_acknowledgement/
(test_vectors_messages.py)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tests.protocol.test_vectors_messages import as_json, cases, check, load, reasons_raised_by, site_key
from vault.protocol import decode_manifest
from vault.protocol.access import verify_access_statement
from vault.protocol.acknowledgement import verify_acknowledgement
from vault.protocol.b64 import b64url_decode
from vault.protocol.errors import AccessRequestInvalid, MessageInvalid, Reason, StatementInvalid
from vault.protocol.message import verify_message
from vault.site import InMemoryReplayStore, verify_access_request

REQUESTS = cases("vectors_access_request")
STATEMENTS = cases("vectors_access_statement")
MESSAGES = cases("vectors_message")


@pytest.mark.parametrize("path", REQUESTS, ids=[path.stem for path in REQUESTS])
def test_access_request_vector(path: Path) -> None:
    case = load(path)
    inputs = case["inputs"]
    manifest = decode_manifest(msgspec.json.encode(inputs["manifest"]))
    assert manifest.origin == inputs["audience"]
    assert manifest.access_endpoint is not None
    replay = InMemoryReplayStore()
    for seen in inputs["seen"]:
        assert replay.remember(seen["key"], seen["expires_at"], inputs["now"])
    verified = check(
        case,
        lambda: verify_access_request(
            inputs["token"], manifest=manifest, now=inputs["now"], replay=replay, max_skew=inputs["max_skew"]
        ),
        AccessRequestInvalid,
    )
    if verified is not None:
        assert as_json(verified) == {name: case[name] for name in ("subject", "jti", "purposes", "issued_at")}


@pytest.mark.parametrize("path", STATEMENTS, ids=[path.stem for path in STATEMENTS])
def test_access_statement_vector(path: Path) -> None:
    case = load(path)
    inputs = case["inputs"]
    verified = check(
        case,
        lambda: verify_access_statement(
            inputs["token"],
            site_key(inputs),
            request=inputs["request"],
            now=inputs["now"],
            max_skew=inputs["max_skew"],
        ),
        StatementInvalid,
    )
    if verified is not None:
        assert as_json(verified) == case["statement"]


@pytest.mark.parametrize("path", MESSAGES, ids=[path.stem for path in MESSAGES])
def test_message_vector(path: Path) -> None:
    case = load(path)
    inputs = case["inputs"]
    verified = check(
        case,
        lambda: verify_message(
            inputs["token"],
            site_key(inputs),
            origin=inputs["origin"],
            subject=inputs["subject"],
            now=inputs["now"],
            max_skew=inputs["max_skew"],
        ),
        MessageInvalid,
    )
    if verified is not None:
        assert as_json(verified) == case["message"]


def carried_outcome(token: str, ack: dict, inputs: dict) -> str:
    try:
        verify_message(token, site_key(inputs), origin=ack["iss"], subject=ack["aud"], now=inputs["now"])
    except MessageInvalid as error:
        return error.reason.value
    return "valid"


def test_carried_messages_are_verified_on_their_own() -> None:
    """A refused carried message does not make its acknowledgement or statement fail (SPEC.md)."""
    outcomes = {}
    for path in [*cases("vectors_acknowledgement"), *STATEMENTS]:
        case = load(path)
        if case["expect"] != "valid":
            continue
        carrier = case.get("acknowledgement") or case["statement"]
        for token in carrier.get("messages", ()):
            outcomes.setdefault(path.stem, []).append(carried_outcome(token, carrier, case["inputs"]))
    assert outcomes == {
        "valid_carries_one_message": ["valid"],
        "valid_carries_two_messages": ["valid", "valid"],
        "valid_carries_a_refused_message": ["bad_signature"],
        "valid_carries_messages": ["valid", "valid"],
    }


def test_the_acknowledgement_of_a_refused_message_verifies() -> None:
    case = load(next(path for path in cases("vectors_acknowledgement") if "refused_message" in path.stem))
    inputs = case["inputs"]
    ack = verify_acknowledgement(
        inputs["token"], site_key(inputs), presentation=inputs["presentation"], now=inputs["now"]
    )
    assert ack.messages is not None and len(ack.messages) == 1


@pytest.mark.parametrize(
    ("folder", "who", "not_by_vector"),
    [
        # A vector cannot make a replay store fail: tests/site/test_access.py shows it.
        ("vectors_access_request", "access request", {"replay_check_failed"}),
        ("vectors_access_statement", "access statement", set()),
        ("vectors_message", "site message", set()),
    ],
)
def test_vectors_cover_every_reason_of_the_message(folder: str, who: str, not_by_vector: set[str]) -> None:
    expected = {load(path)["expect"] for path in cases(folder)}
    assert "valid" in expected
    reasons = reasons_raised_by(who)
    assert expected - {"valid"} <= reasons
    assert reasons - expected == not_by_vector


@pytest.mark.parametrize("folder", ["vectors_access_request", "vectors_access_statement", "vectors_message"])
def test_enough_cases(folder: str) -> None:
    loaded = [load(path) for path in cases(folder)]
    assert sum(case["expect"] == "valid" for case in loaded) >= 5
    assert sum(case["expect"] != "valid" for case in loaded) >= 20
    assert all(Reason(case["expect"]) for case in loaded if case["expect"] != "valid")


def test_message_vectors_cover_every_kind_and_text_rule() -> None:
    loaded = {path.stem: load(path) for path in MESSAGES}
    kinds = {case["message"]["kind"] for case in loaded.values() if case["expect"] == "valid"}
    assert kinds == {"proposal", "change", "deletion", "breach"}
    texts = {name: payload_text(case["inputs"]["token"]) for name, case in loaded.items()}
    bidi = {name for name, text in texts.items() if "\u202e" in text or "\u2066" in text or "\u200f" in text}
    assert len(bidi) >= 3
    assert all(loaded[name]["expect"] == "malformed" for name in bidi)


def payload_text(token: str) -> str:
    try:
        return b64url_decode(token.split(".")[1].encode()).decode("utf-8")
    except (ValueError, IndexError):
        return ""
