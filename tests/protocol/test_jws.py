"""The compact JWS checks run in the order SPEC.md gives: with two faults, the earlier one is reported."""

from __future__ import annotations

import pytest

from tests import example
from vault.protocol import Reason, TokenInvalid
from vault.protocol.b64 import b64url_encode
from vault.protocol.jws import MAX_TOKEN_LENGTH, open_compact, sign_raw

KEY = example.pairwise_key()
JWK = KEY.public_jwk
TYP = "vault-presentation+jwt"


def token(header: bytes, payload: bytes = b"{}") -> str:
    return sign_raw(KEY, header, payload)


def reason_of(text: object) -> Reason:
    with pytest.raises(TokenInvalid) as raised:
        open_compact(text, TYP)
    return raised.value.reason


def header(**members: object) -> bytes:
    import json

    return json.dumps(members, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("A" * (MAX_TOKEN_LENGTH + 1), Reason.TOO_LARGE),
        (token(header(alg="none", typ="JWT", crit=["x"])), Reason.UNSUPPORTED_ALG),
        (token(header(alg="EdDSA", typ="JWT", crit=["x"], jwk=dict(JWK, crv="X25519"))), Reason.WRONG_TYP),
        (
            token(header(alg="EdDSA", typ=TYP, crit=["x"], jwk=dict(JWK, crv="X25519"))),
            Reason.UNSUPPORTED_CRIT,
        ),
        (token(header(alg="EdDSA", typ=TYP, kid="k", jwk=dict(JWK, crv="X25519"))), Reason.MALFORMED),
        (token(header(alg="EdDSA", typ=TYP, jwk=dict(JWK, crv="X25519"))), Reason.BAD_KEY),
    ],
    ids=["too_large", "alg_before_typ", "typ_before_crit", "crit_before_key", "shape_before_key", "key"],
)
def test_first_fault_wins(text: str, reason: Reason) -> None:
    assert reason_of(text) == reason


def test_signature_before_payload() -> None:
    good = token(header(alg="EdDSA", typ=TYP, jwk=JWK), b"not json")
    head, _, signature = good.split(".")
    other = b64url_encode(b"also not json")
    assert reason_of(f"{head}.{other}.{signature}") == Reason.BAD_SIGNATURE
    # open_compact does not parse the payload at all: that is the message's job, after the signature.
    assert open_compact(good, TYP)[1] == b"not json"


def test_expected_key_is_named_by_kid() -> None:
    from vault.protocol.jws import key_id

    site = example.site_key()
    signed = token(header(alg="EdDSA", typ=TYP, kid=key_id(site.verifying_key)))
    assert reason_of(signed) == Reason.MALFORMED  # a presentation must embed its key
    with pytest.raises(TokenInvalid) as raised:
        open_compact(signed, TYP, site.verifying_key)
    assert raised.value.reason == Reason.BAD_SIGNATURE  # signed by KEY, not the site key
    with pytest.raises(TokenInvalid) as raised:
        open_compact(signed, TYP, KEY.verifying_key)
    assert raised.value.reason == Reason.BAD_KEY  # kid names the site key
