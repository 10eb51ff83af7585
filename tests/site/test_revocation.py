"""A site receiving revocation / erasure notices and answering them."""

from __future__ import annotations

from typing import Any

import pytest

from tests import example
from vault.protocol import (
    Manifest,
    SigningKey,
    key_subject,
    sign_revocation,
    verify_revocation_ack,
)
from vault.site import NoticeInvalid, Reason, acknowledge_revocation, verify_revocation

NOW = example.NOW
VAULT_KEY = example.pairwise_key()
SUBJECT = key_subject(VAULT_KEY.public_jwk)
OTHER_KEY = example.pairwise_key(epoch=1)


def notice(key: SigningKey = VAULT_KEY, **changes: Any) -> str:
    arguments: dict[str, Any] = {
        "origin": example.ORIGIN,
        "purpose_id": "recommendations",
        "presentations": ["p" * 16, "u" * 16],
        "erasure": True,
        "now": NOW,
        "jti": "r" * 16,
    }
    arguments.update(changes)
    return sign_revocation(key, **arguments)


STORED = {"p" * 16: SUBJECT, "o" * 16: key_subject(OTHER_KEY.public_jwk)}


def verify(token: str, manifest: Manifest, now: int = NOW + 5) -> Any:
    return verify_revocation(token, manifest=manifest, now=now, stored_subject=STORED.get)


def test_notice_round_trip(manifest: Manifest) -> None:
    sent = notice()
    received = verify(sent, manifest)
    assert received.subject == SUBJECT
    assert received.presentations == ("p" * 16, "u" * 16)
    assert received.unknown == ("u" * 16,)
    assert received.erasure is True
    answer = acknowledge_revocation(example.site_key(), received, manifest=manifest, now=NOW + 6, erased=True)
    checked = verify_revocation_ack(answer, manifest.site_key, notice=sent, now=NOW + 7)
    assert checked.erased is True
    assert checked.notice == "r" * 16


def test_cannot_withdraw_someone_elses_presentation(manifest: Manifest) -> None:
    with pytest.raises(NoticeInvalid) as raised:
        verify(notice(presentations=["o" * 16]), manifest)
    assert raised.value.reason == Reason.WRONG_SUBJECT
    with pytest.raises(NoticeInvalid) as raised:
        verify(notice(OTHER_KEY, presentations=["p" * 16]), manifest)
    assert raised.value.reason == Reason.WRONG_SUBJECT


@pytest.mark.parametrize(
    ("token_changes", "now", "reason"),
    [
        ({"origin": "https://other.example"}, NOW, Reason.WRONG_AUDIENCE),
        ({}, NOW - 61, Reason.NOT_YET_VALID),
        ({"ttl": 3600}, NOW + 3600 + 60, Reason.EXPIRED),
    ],
)
def test_refusals(manifest: Manifest, token_changes: dict, now: int, reason: Reason) -> None:
    with pytest.raises(NoticeInvalid) as raised:
        verify(notice(**token_changes), manifest, now=now)
    assert raised.value.reason == reason


def test_a_presentation_is_not_a_notice(manifest: Manifest, issue: Any) -> None:
    with pytest.raises(NoticeInvalid) as raised:
        verify(issue(), manifest)
    assert raised.value.reason == Reason.WRONG_TYP


def test_tampered_notice(manifest: Manifest) -> None:
    head, payload, signature = notice().split(".")
    with pytest.raises(NoticeInvalid) as raised:
        verify(
            f"{head}.{payload}.{signature[:10]}{'B' if signature[10] == 'A' else 'A'}{signature[11:]}",
            manifest,
        )
    assert raised.value.reason == Reason.BAD_SIGNATURE


def test_answer_needs_the_manifest_key(manifest: Manifest) -> None:
    received = verify(notice(), manifest)
    with pytest.raises(ValueError):
        acknowledge_revocation(OTHER_KEY, received, manifest=manifest, now=NOW, erased=False)
