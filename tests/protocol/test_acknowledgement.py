"""The vault's side of acknowledgements: the site's promise about a presentation, and its answer to a
revocation notice."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tests import example
from vault.protocol import (
    AcknowledgementInvalid,
    IssueError,
    Reason,
    SigningKey,
    issue_presentation,
    key_subject,
    sign_revocation,
    verify_acknowledgement,
    verify_revocation_ack,
)
from vault.protocol.acknowledgement import (
    Acknowledgement,
    RevocationAcknowledgement,
    presented,
    sign_acknowledgement,
    sign_revocation_ack,
)
from vault.protocol.jwk import OkpPublicJwk
from vault.site import InMemoryReplayStore, acknowledge_presentation, verify_presentation

NOW = example.NOW
MANIFEST = example.manifest()
SITE_KEY = example.site_key()
VAULT_KEY = example.pairwise_key()
NONCE = "n" * 22
CLAIMS = {"age_over_18": True, "location.country": "NL"}


def presentation(jti: str = "p" * 16) -> str:
    return issue_presentation(
        VAULT_KEY, MANIFEST, "recommendations", example.ORIGIN, NONCE, CLAIMS, NOW, jti, recipients=("stock",)
    )


def site_acknowledges(token: str, **kwargs: Any) -> str:
    verified = verify_presentation(
        token, manifest=MANIFEST, nonce=NONCE, now=NOW, replay=InMemoryReplayStore()
    )
    return acknowledge_presentation(SITE_KEY, verified, manifest=MANIFEST, now=NOW + 1, **kwargs)


def forged(token: str, key: SigningKey = SITE_KEY, **changes: Any) -> str:
    """An acknowledgement like the site's default one, with members changed, signed by `key`."""
    verified = verify_presentation(
        token, manifest=MANIFEST, nonce=NONCE, now=NOW, replay=InMemoryReplayStore()
    )
    base = Acknowledgement(
        iss=MANIFEST.origin,
        aud=verified.subject,
        iat=NOW + 1,
        presentation=verified.jti,
        purpose=verified.purpose,
        purpose_digest=verified.purpose_digest,
        claims=tuple(sorted(verified.claims)),
        keep_until=NOW + 30 * 86400,
        recipients=("stock",),
    )
    return sign_acknowledgement(key, msgspec.structs.replace(base, **changes))


def test_round_trip() -> None:
    token = presentation()
    ack = verify_acknowledgement(site_acknowledges(token), MANIFEST.site_key, presentation=token, now=NOW + 2)
    assert ack.keep_until == NOW + 30 * 86400
    assert ack.claims == ("age_over_18", "location.country")
    assert ack.presentation == "p" * 16


def test_shorter_keep_until_is_fine_longer_is_refused_by_the_site() -> None:
    token = presentation()
    ack = verify_acknowledgement(
        site_acknowledges(token, keep_until=NOW + 86400), MANIFEST.site_key, presentation=token, now=NOW + 2
    )
    assert ack.keep_until == NOW + 86400
    with pytest.raises(ValueError):
        site_acknowledges(token, keep_until=NOW + 31 * 86400)


OTHER_KEY = SigningKey.from_seed(bytes(32))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://evil.example"}, Reason.WRONG_ISSUER),
        ({"aud": "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + "A" * 43}, Reason.WRONG_AUDIENCE),
        ({"iat": NOW + 2 + 61}, Reason.NOT_YET_VALID),
        ({"presentation": "q" * 16}, Reason.WRONG_PRESENTATION),
        ({"purpose": "age-check"}, Reason.PURPOSE_MISMATCH),
        ({"purpose_digest": "A" * 43}, Reason.PURPOSE_MISMATCH),
        ({"claims": ("age_over_18",)}, Reason.CLAIMS_MISMATCH),
        ({"claims": ("age_over_18", "location.country", "location.country")}, Reason.CLAIMS_MISMATCH),
        ({"keep_until": NOW + 30 * 86400 + 1}, Reason.RETENTION_EXCEEDED),
        # `$` in the schema's patterns matches before a final line break; JavaScript's does not.
        ({"recipients": ("stock\n",)}, Reason.MALFORMED),
        ({"purpose": "recommendations\n"}, Reason.MALFORMED),
    ],
)
@pytest.mark.parametrize("form", ["token", "members"])
def test_refusals(changes: dict[str, Any], reason: Reason, form: str) -> None:
    """The same refusals whether the presentation is given as the token or as its members (the vault
    checks against its ledger entry's record of them, keeping no token)."""
    token = presentation()
    against = token if form == "token" else presented(token)
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_acknowledgement(forged(token, **changes), MANIFEST.site_key, presentation=against, now=NOW + 2)
    assert raised.value.reason == reason
    verify_acknowledgement(forged(token), MANIFEST.site_key, presentation=against, now=NOW + 2)


def test_signed_by_another_key() -> None:
    token = presentation()
    other_jwk = OkpPublicJwk(**OTHER_KEY.public_jwk)
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_acknowledgement(forged(token, OTHER_KEY), MANIFEST.site_key, presentation=token, now=NOW + 2)
    assert raised.value.reason == Reason.BAD_KEY  # its kid names the other key
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_acknowledgement(forged(token), other_jwk, presentation=token, now=NOW + 2)
    assert raised.value.reason == Reason.BAD_KEY


def test_a_presentation_is_not_an_acknowledgement() -> None:
    token = presentation()
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_acknowledgement(token, MANIFEST.site_key, presentation=token, now=NOW)
    assert raised.value.reason == Reason.WRONG_TYP


def test_tampered_acknowledgement() -> None:
    token = presentation()
    ack = site_acknowledges(token)
    head, payload, signature = ack.split(".")
    tampered = f"{head}.{payload[:10]}{'A' if payload[10] != 'A' else 'B'}{payload[11:]}.{signature}"
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_acknowledgement(tampered, MANIFEST.site_key, presentation=token, now=NOW + 2)
    assert raised.value.reason == Reason.BAD_SIGNATURE


def notice(**changes: Any) -> str:
    arguments: dict[str, Any] = {
        "origin": example.ORIGIN,
        "purpose_id": "recommendations",
        "presentations": ["p" * 16, "q" * 16],
        "erasure": True,
        "now": NOW,
        "jti": "r" * 16,
    }
    arguments.update(changes)
    return sign_revocation(VAULT_KEY, **arguments)


def revocation_answer(notice_token: str, key: SigningKey = SITE_KEY, **changes: Any) -> str:
    base = RevocationAcknowledgement(
        iss=example.ORIGIN,
        aud=key_subject(VAULT_KEY.public_jwk),
        iat=NOW + 5,
        notice="r" * 16,
        presentations=("q" * 16, "p" * 16),
        erased=True,
        recipients=(),
    )
    return sign_revocation_ack(key, msgspec.structs.replace(base, **changes))


def test_revocation_acknowledgement_round_trip() -> None:
    sent = notice()
    answer = verify_revocation_ack(revocation_answer(sent), MANIFEST.site_key, notice=sent, now=NOW + 10)
    assert answer.erased is True
    assert set(answer.presentations) == {"p" * 16, "q" * 16}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://evil.example"}, Reason.WRONG_ISSUER),
        ({"aud": "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + "A" * 43}, Reason.WRONG_AUDIENCE),
        ({"notice": "s" * 16}, Reason.WRONG_NOTICE),
        ({"presentations": ("p" * 16,)}, Reason.WRONG_NOTICE),
        ({"iat": NOW + 100}, Reason.NOT_YET_VALID),
        ({"notice": "r" * 16 + "\n"}, Reason.MALFORMED),
    ],
)
def test_revocation_acknowledgement_refusals(changes: dict[str, Any], reason: Reason) -> None:
    sent = notice()
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_revocation_ack(
            revocation_answer(sent, **changes), MANIFEST.site_key, notice=sent, now=NOW + 10
        )
    assert raised.value.reason == reason


def test_acknowledgement_types_do_not_mix() -> None:
    token = presentation()
    sent = notice()
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_acknowledgement(revocation_answer(sent), MANIFEST.site_key, presentation=token, now=NOW + 10)
    assert raised.value.reason == Reason.WRONG_TYP
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_revocation_ack(site_acknowledges(token), MANIFEST.site_key, notice=sent, now=NOW + 10)
    assert raised.value.reason == Reason.WRONG_TYP


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"origin": "https://shop.example/"}, "wrong_audience"),
        ({"purpose_id": "Bad Purpose"}, "unknown_purpose"),
        ({"presentations": []}, "bad_presentations"),
        ({"presentations": ["p" * 16, "p" * 16]}, "bad_presentations"),
        ({"presentations": ["short"]}, "bad_presentations"),
        ({"jti": "x"}, "bad_jti"),
        ({"ttl": 8 * 86400}, "bad_time"),
        ({"now": -5}, "bad_time"),
    ],
)
def test_sign_revocation_refusals(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(IssueError) as raised:
        notice(**changes)
    assert raised.value.reason == reason
