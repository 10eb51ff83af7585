"""verify_presentation: what it returns, and the properties that hold whatever the input."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests import example
from vault.protocol import Manifest, key_subject
from vault.protocol.b64 import b64url_decode
from vault.protocol.jws import sign_raw
from vault.site import (
    InMemoryReplayStore,
    PresentationInvalid,
    Reason,
    VerifiedPresentation,
    verify_presentation,
)

NONCE = "n" * 22
NOW = example.NOW


def verify(
    token: object, manifest: Manifest, replay: object = None, **kwargs: object
) -> VerifiedPresentation:
    arguments: dict = {"nonce": NONCE, "now": NOW + 1}
    arguments.update(kwargs)
    return verify_presentation(
        token, manifest=manifest, replay=InMemoryReplayStore() if replay is None else replay, **arguments
    )


def test_valid_presentation(issue: Callable[..., str], manifest: Manifest) -> None:
    verified = verify(issue(), manifest)
    assert verified.subject == key_subject(example.pairwise_key().public_jwk)
    assert verified.jti == "j" * 16
    assert verified.purpose == "recommendations"
    assert verified.claims == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 42,
        "interests": ["running"],
    }
    assert (verified.issued_at, verified.expires_at) == (NOW, NOW + 300)
    assert verified.retention == "P30D"


def test_second_use_is_a_replay(issue: Callable[..., str], manifest: Manifest) -> None:
    replay = InMemoryReplayStore()
    token = issue()
    verify(token, manifest, replay)
    with pytest.raises(PresentationInvalid) as raised:
        verify(token, manifest, replay)
    assert raised.value.reason == Reason.REPLAYED


def test_same_jti_from_another_key_is_not_a_replay(issue: Callable[..., str], manifest: Manifest) -> None:
    replay = InMemoryReplayStore()
    verify(issue(), manifest, replay)
    verify(issue(key=example.pairwise_key(epoch=1)), manifest, replay)
    assert replay.size == 2


def test_refused_tokens_are_not_recorded(issue: Callable[..., str], manifest: Manifest) -> None:
    replay = InMemoryReplayStore()
    token = issue()
    for kwargs in ({"nonce": "x" * 22}, {"now": NOW + 400}, {"max_lifetime": 200}):
        with pytest.raises(PresentationInvalid):
            verify(token, manifest, replay, **kwargs)
    assert replay.size == 0
    verify(token, manifest, replay)  # still usable once: nothing was written by the refusals
    assert replay.size == 1


class BrokenStore:
    def remember(self, key: str, expires_at: int, now: int) -> bool:
        raise ConnectionError("store down")


class SilentStore:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def remember(self, key: str, expires_at: int, now: int) -> bool:
        self.calls.append((key, expires_at, now))
        return True


def test_store_failure_fails_closed(issue: Callable[..., str], manifest: Manifest) -> None:
    with pytest.raises(PresentationInvalid) as raised:
        verify(issue(), manifest, BrokenStore())
    assert raised.value.reason == Reason.REPLAY_CHECK_FAILED
    assert isinstance(raised.value.__cause__, ConnectionError)


def test_replay_record_outlives_the_token(issue: Callable[..., str], manifest: Manifest) -> None:
    store = SilentStore()
    verify(issue(), manifest, store, max_skew=30)
    [(key, expires_at, now)] = store.calls
    thumbprint = key_subject(example.pairwise_key().public_jwk).rsplit(":", 1)[1]
    assert key == f"{thumbprint}.{'j' * 16}"
    assert expires_at == NOW + 300 + 30  # the last second the token could still pass the time checks
    assert now == NOW + 1


def test_store_is_only_asked_once_everything_else_passed(
    issue: Callable[..., str], manifest: Manifest
) -> None:
    store = SilentStore()
    with pytest.raises(PresentationInvalid):
        verify(issue(claims={"age_over_18": True, "location.country": "NL"}), manifest, store, nonce="y" * 22)
    assert store.calls == []


@pytest.mark.parametrize("token", [None, 42, b"a.b.c", ["a", "b", "c"]])
def test_non_string_tokens(token: object, manifest: Manifest) -> None:
    with pytest.raises(PresentationInvalid) as raised:
        verify(token, manifest)
    assert raised.value.reason == Reason.MALFORMED


def test_errors_carry_only_the_reason(issue: Callable[..., str], manifest: Manifest) -> None:
    token = issue()
    head, payload, signature = token.split(".")
    for bad, kwargs in ((f"{head}.{payload}.{signature[::-1]}", {}), (token, {"nonce": "z" * 22})):
        with pytest.raises(PresentationInvalid) as raised:
            verify(bad, manifest, **kwargs)
        assert str(raised.value) == raised.value.reason.value
        assert raised.value.__cause__ is None
        assert raised.value.__context__ is None or raised.value.__suppress_context__


def test_own_manifest_decides_the_audience(issue: Callable[..., str], manifest: Manifest) -> None:
    import msgspec

    other = msgspec.structs.replace(
        manifest, origin="https://other.example", revocation_endpoint="https://other.example/revoke"
    )
    with pytest.raises(PresentationInvalid) as raised:
        verify(issue(), other)
    assert raised.value.reason == Reason.WRONG_AUDIENCE


def test_header_cache_keeps_tokens_apart(issue: Callable[..., str], manifest: Manifest) -> None:
    # Same header text (same key) twice, then a token whose payload belongs to another key's header.
    first = issue(jti="a" * 16)
    second = issue(jti="b" * 16)
    other = issue(key=example.pairwise_key(epoch=9), jti="c" * 16)
    replay = InMemoryReplayStore()
    verify(first, manifest, replay)
    verify(second, manifest, replay)
    mixed = ".".join([first.split(".")[0], *other.split(".")[1:]])
    with pytest.raises(PresentationInvalid) as raised:
        verify(mixed, manifest, replay)
    assert raised.value.reason == Reason.BAD_SIGNATURE


def signed_with_claims(token: str, claims: dict) -> str:
    """`token` with other claims, signed again by the vault's key: what a faulty vault could send."""
    head, payload, _ = token.split(".")
    body = json.loads(b64url_decode(payload))
    body["claims"] = claims
    return sign_raw(example.pairwise_key(), b64url_decode(head), json.dumps(body).encode())


@pytest.mark.parametrize(
    "claims",
    [
        {"age_over_18": "false", "location.country": "NL"},
        {"age_over_18": 0, "location.country": "NL"},
        {"age_over_18": True, "location.country": ["NL", "DE"]},
        {"age_over_18": True, "location.country": "<script>alert(1)</script>"},
        {"age_over_18": True, "location.country": "nl"},
        {"age_over_18": True, "location.country": "NL", "sizes.shoe": "42"},
        {"age_over_18": True, "location.country": "NL", "interests": ["x" * 41]},
    ],
)
def test_a_value_of_the_wrong_type_is_refused_and_not_recorded(
    issue: Callable[..., str], manifest: Manifest, claims: dict
) -> None:
    store = SilentStore()
    with pytest.raises(PresentationInvalid) as raised:
        verify(signed_with_claims(issue(), claims), manifest, store)
    assert raised.value.reason == Reason.BAD_CLAIM_VALUE
    assert store.calls == []  # refused before the replay record: the token cannot fill the store


def test_claim_names_are_checked_before_claim_values(issue: Callable[..., str], manifest: Manifest) -> None:
    undeclared = {"age_over_18": "no", "location.country": "NL", "email": "ada@example.org"}
    missing = {"age_over_18": "no"}
    for claims, reason in ((undeclared, Reason.UNDECLARED_CLAIM), (missing, Reason.MISSING_CLAIM)):
        with pytest.raises(PresentationInvalid) as raised:
            verify(signed_with_claims(issue(), claims), manifest)
        assert raised.value.reason == reason
