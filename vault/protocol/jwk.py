"""JWK thumbprints (RFC 7638) and the thumbprint URI (RFC 9278) that names a pairwise key."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Annotated

import msgspec

from vault.protocol.b64 import b64url_encode

THUMBPRINT_URI_PREFIX = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"

B64Url32 = Annotated[str, msgspec.Meta(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]{43}$")]

# RFC 7638 section 3.2: the members that define each key type, in the order they are hashed.
_REQUIRED_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "oct": ("k", "kty"),
}


class OkpPublicJwk(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A public Ed25519 JWK as it appears in our headers and manifests: exactly kty, crv, x."""

    kty: Annotated[str, msgspec.Meta(max_length=8)]
    crv: Annotated[str, msgspec.Meta(max_length=16)]
    x: B64Url32


def jwk_thumbprint(jwk: dict[str, str] | OkpPublicJwk) -> str:
    """base64url(SHA-256(the JWK's required members as compact JSON, keys sorted)), per RFC 7638."""
    members = msgspec.structs.asdict(jwk) if isinstance(jwk, OkpPublicJwk) else jwk
    names = _REQUIRED_MEMBERS.get(members.get("kty", ""))
    if names is None or any(not isinstance(members.get(name), str) for name in names):
        raise ValueError("unsupported or incomplete JWK")
    canonical = msgspec.json.encode({name: members[name] for name in names})
    return b64url_encode(hashlib.sha256(canonical).digest())


def thumbprint_uri(jwk: dict[str, str] | OkpPublicJwk) -> str:
    """The RFC 9278 URI of the key's SHA-256 thumbprint, used as `iss` and `sub`."""
    return THUMBPRINT_URI_PREFIX + jwk_thumbprint(jwk)


@lru_cache(maxsize=1024)
def _subject_of_x(x: str) -> str:
    return thumbprint_uri({"kty": "OKP", "crv": "Ed25519", "x": x})


def key_subject(public_jwk: dict[str, str]) -> str:
    """The thumbprint URI of an Ed25519 public JWK (cached: one hash per key, not per token)."""
    return _subject_of_x(public_jwk["x"])
