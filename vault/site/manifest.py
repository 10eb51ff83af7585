"""What a site publishes and hands out: its manifest, its signing key, and nonces."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

import msgspec

from vault.protocol.b64 import b64url_encode
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Controller, Manifest, Purpose, decode_manifest

MANIFEST_PATH = "/.well-known/vault-manifest.json"
NONCE_BYTES = 16  # 128 bits: unguessable, and 22 characters of base64url

Rng = Callable[[int], bytes]


def make_nonce(rng: Rng | None = None, nbytes: int = NONCE_BYTES) -> str:
    """A fresh nonce for one page: base64url of `nbytes` (>= 16) bytes from `rng` (default: secrets)."""
    if not NONCE_BYTES <= nbytes <= 96:
        raise ValueError("a nonce has 16 to 96 random bytes")
    raw = (rng or secrets.token_bytes)(nbytes)
    if len(raw) != nbytes:
        raise ValueError("rng returned the wrong number of bytes")
    return b64url_encode(raw)


def generate_site_key(rng: Rng | None = None) -> SigningKey:
    """A new Ed25519 key for signing acknowledgements. Store `key.seed()` as a secret; reload with
    `SigningKey.from_seed(seed)`."""
    return SigningKey.from_seed((rng or secrets.token_bytes)(32))


def build_manifest(
    *,
    origin: str,
    controller: Controller,
    site_key: SigningKey,
    revocation_endpoint: str,
    purposes: Sequence[Purpose],
    access_endpoint: str | None = None,
) -> Manifest:
    """Assemble a manifest around the site's public key, validated exactly as the vault will validate it.

    `access_endpoint` (optional) is where the vault asks what the site holds (`answer_access_request`).
    Raises ManifestInvalid naming the first problem.
    """
    manifest = Manifest(
        version=1,
        origin=origin,
        controller=controller,
        site_key=OkpPublicJwk(**site_key.public_jwk),
        revocation_endpoint=revocation_endpoint,
        purposes=tuple(purposes),
        access_endpoint=access_endpoint,
    )
    # Struct constructors do not check lengths and patterns; a round trip through the decoder does.
    return decode_manifest(msgspec.json.encode(manifest))


def manifest_json(manifest: Manifest) -> bytes:
    """The bytes to serve at MANIFEST_PATH (as application/json)."""
    return msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"
