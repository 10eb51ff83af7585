"""Published test vectors: RFC 8037 appendix A (Ed25519 in JOSE) and RFC 7638 section 3.1 (thumbprints)."""

from __future__ import annotations

import hashlib

import msgspec

from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.jwk import jwk_thumbprint, thumbprint_uri
from vault.protocol.jws import sign_raw
from vault.protocol.keys import SigningKey, VerifyingKey

# RFC 8037 A.1 / A.2
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
# RFC 8037 A.3
RFC8037_THUMBPRINT_HEX = "90facafea9b1556698540f70c0117a22ea37bd5cf3ed3c47093c1707282b4b89"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
# RFC 8037 A.4
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)
# RFC 7638 3.1
RFC7638_JWK = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRX"
    "jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJ"
    "ZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw"
    "0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def rfc8037_key() -> SigningKey:
    return SigningKey.from_seed(b64url_decode(RFC8037_D))


def test_rfc8037_public_key_from_private() -> None:
    assert rfc8037_key().public_jwk == {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}


def test_rfc8037_thumbprint() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    assert jwk_thumbprint(jwk) == RFC8037_THUMBPRINT
    assert b64url_decode(RFC8037_THUMBPRINT).hex() == RFC8037_THUMBPRINT_HEX
    # A.3 also gives the canonical JSON that is hashed.
    canonical = b'{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}'
    assert hashlib.sha256(canonical).hexdigest() == RFC8037_THUMBPRINT_HEX


def test_rfc8037_signature_is_reproduced_exactly() -> None:
    token = sign_raw(rfc8037_key(), b'{"alg":"EdDSA"}', b"Example of Ed25519 signing")
    assert token == RFC8037_JWS


def test_rfc8037_signature_verifies() -> None:
    head, payload, signature = RFC8037_JWS.split(".")
    key = VerifyingKey.from_bytes(b64url_decode(RFC8037_X))
    assert key.verify(b64url_decode(signature), f"{head}.{payload}".encode())
    assert not key.verify(b64url_decode(signature), f"{head}.{payload}x".encode())


def test_rfc7638_thumbprint_ignores_optional_members() -> None:
    assert jwk_thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT
    required_only = {name: RFC7638_JWK[name] for name in ("kty", "n", "e")}
    assert jwk_thumbprint(required_only) == RFC7638_THUMBPRINT


def test_thumbprint_uri_is_rfc9278() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    assert thumbprint_uri(jwk) == "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + RFC8037_THUMBPRINT


def test_thumbprint_member_order_is_lexicographic() -> None:
    shuffled = msgspec.json.decode(b'{"x":"' + RFC8037_X.encode() + b'","kty":"OKP","crv":"Ed25519"}')
    assert jwk_thumbprint(shuffled) == RFC8037_THUMBPRINT
    assert b64url_encode(b64url_decode(RFC8037_THUMBPRINT)) == RFC8037_THUMBPRINT
