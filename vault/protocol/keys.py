"""Every direct use of `cryptography` in the project: Ed25519 keys, signatures, and HKDF.

The rest of the code sees `SigningKey` and `VerifyingKey` and never a `cryptography` object.
"""

from __future__ import annotations

import re
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.protocol.b64 import b64url_encode
from vault.protocol.origin import origin_problem

MASTER_SEED_BYTES = 32
MAX_EPOCH = 2**32 - 1

# Domain separation: the salt names this derivation, so the seed can never yield the same bytes for
# another use of HKDF elsewhere in the vault.
_PAIRWISE_SALT = b"vault/pairwise-ed25519/v1"


class SigningKey:
    """An Ed25519 private key with its public half pre-encoded (bytes and OKP JWK)."""

    __slots__ = ("_private", "public_bytes", "public_jwk", "verifying_key")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        public = private.public_key()
        self.public_bytes: bytes = public.public_bytes_raw()
        self.public_jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.public_bytes)}
        self.verifying_key = VerifyingKey(public, self.public_bytes)

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """The key whose RFC 8032 private seed is these 32 bytes (give it random bytes to make a new key)."""
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def seed(self) -> bytes:
        """The 32-byte private seed, for storing the key. Handle it as a secret."""
        return self._private.private_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:  # never print private material
        return f"SigningKey(x={self.public_jwk['x']})"


# Raised by `VerifyingKey.check`; the one `cryptography` exception other modules may catch.
BadSignature = InvalidSignature


class VerifyingKey:
    """An Ed25519 public key."""

    __slots__ = ("_public", "check", "raw")

    def __init__(self, public: Ed25519PublicKey, raw: bytes) -> None:
        self._public = public
        self.raw = raw
        # check(signature, message) returns None or raises BadSignature. It is the library's own bound
        # method, not a wrapper: verifying tokens is the hot path, and a Python frame costs measurably.
        self.check = public.verify

    @classmethod
    def from_bytes(cls, raw: bytes) -> VerifyingKey:
        """Load 32 raw public key bytes. Raises ValueError if they are not an Ed25519 public key."""
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return cls(Ed25519PublicKey.from_public_bytes(raw), raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self._public.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyingKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"VerifyingKey({self.raw.hex()})"


IDENTITY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def pairwise_info(origin: str, epoch: int, identity: str | None = None) -> bytes:
    """The HKDF info for (origin, epoch[, identity]): length-prefixed, so ("a", "bc") and ("ab", "c")
    differ. Without an identity it is exactly the info of every key derived before identities existed;
    with one (a context that keeps a separate identity) the identity follows, length-prefixed too."""
    encoded = origin.encode("utf-8")
    if not 0 < len(encoded) < 2**16:
        raise ValueError("origin length")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch <= MAX_EPOCH:
        raise ValueError("epoch must be an int in [0, 2**32)")
    info = struct.pack(">H", len(encoded)) + encoded + struct.pack(">I", epoch)
    if identity is None:
        return info
    if not isinstance(identity, str) or not IDENTITY_PATTERN.fullmatch(identity):
        raise ValueError("an identity is 1 to 64 of a-z, 0-9 and '-'")
    return info + b"identity" + struct.pack(">B", len(identity)) + identity.encode("ascii")


def derive_pairwise_key(
    master_seed: bytes, origin: str, epoch: int, identity: str | None = None
) -> SigningKey:
    """The Ed25519 key this vault uses with one site origin in one epoch (and one identity, for a context
    that keeps its own).

    The same (seed, origin, epoch, identity) always gives the same key, and any other origin, epoch or
    identity an unrelated one. `origin` must be a serialised origin, so that one site has one spelling.
    """
    if origin_problem(origin) is not None:
        raise ValueError("not a serialised origin")
    if not isinstance(master_seed, bytes) or len(master_seed) != MASTER_SEED_BYTES:
        raise ValueError("the master seed is 32 bytes")
    info = pairwise_info(origin, epoch, identity)
    return SigningKey.from_seed(hkdf_sha256(master_seed, info=info, salt=_PAIRWISE_SALT))


def hkdf_sha256(secret: bytes, *, info: bytes, salt: bytes | None = None, length: int = 32) -> bytes:
    """RFC 5869 HKDF with SHA-256 (no salt: HashLen zero bytes, as the RFC says)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)
