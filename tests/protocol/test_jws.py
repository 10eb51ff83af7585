"""The compact JWS checks run in the order SPEC.md gives: with two faults, the earlier one is reported."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import example
from vault.protocol import Reason, TokenInvalid
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.jws import MAX_TOKEN_LENGTH, decode_signed_segments, open_compact, sign_raw

KEY = example.pairwise_key()
JWK = KEY.public_jwk
TYP = "vault-presentation+jwt"
B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


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


# decode_signed_segments decodes with msgspec's standard-alphabet base64 decoder inside a JSON array:
# it must accept and refuse exactly what b64url_decode does, including characters that mean something
# to JSON (a quote ending the string, a backslash escaping: "\u0041" must not decode as "A").
_SEGMENT_CHARACTERS = B64URL_ALPHABET + '+/=." \\\n\t\x00\x7fu'
_SIGNATURE = b64url_encode(bytes(range(64)))


def _decoded_each(payload: str, signature: str) -> tuple[bytes, bytes] | None:
    try:
        return b64url_decode(payload), b64url_decode(signature)
    except ValueError:
        return None


def _decoded_together(payload: str, signature: str) -> tuple[bytes, bytes] | None:
    try:
        return decode_signed_segments(payload.encode("ascii"), signature.encode("ascii"))
    except ValueError:
        return None


@settings(max_examples=500)
@given(st.text(alphabet=_SEGMENT_CHARACTERS, max_size=16), st.binary(max_size=40))
def test_signed_segments_decode_exactly_as_b64url_decode(noise: str, data: bytes) -> None:
    for payload in (noise, b64url_encode(data), b64url_encode(data) + noise, noise + b64url_encode(data)):
        assert _decoded_together(payload, _SIGNATURE) == _decoded_each(payload, _SIGNATURE)
        signature = (_SIGNATURE + noise)[-86:]
        assert _decoded_together(b64url_encode(data), signature) == _decoded_each(
            b64url_encode(data), signature
        )


@pytest.mark.parametrize(
    "payload",
    [
        *("e30", "e30=", 'e3"0', "e3+0", "e3/0", "e30.", "e31", "e", "", "e3\\", "\\u0041AAA"),
        # Escapes that a JSON parser would turn into base64 characters, four of them so the length fits:
        "\\u0041" * 4,
        "\\_" * 4,
        "e30A" + "\\u002f" * 4,
        'AAAA","AAAA',
    ],
)
def test_signed_segments_refuse_what_b64url_decode_refuses(payload: str) -> None:
    assert _decoded_together(payload, _SIGNATURE) == _decoded_each(payload, _SIGNATURE)


def test_signature_segment_is_86_characters() -> None:
    for signature in (_SIGNATURE[:-1], _SIGNATURE + "A", _SIGNATURE[:-2] + "AAAA", b64url_encode(bytes(65))):
        assert _decoded_together("e30", signature) is None
    assert _decoded_together("e30", _SIGNATURE) == (b"{}", bytes(range(64)))
