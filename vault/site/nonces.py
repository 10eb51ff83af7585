"""Stateless nonces bound to a visitor's session, so that any number of a site's processes can hand them
out and check them with no shared nonce table.

A nonce is base64url(issued_at (5 bytes, big-endian) || 16 random bytes || MAC[:16]), 50 characters,
where MAC = HMAC-SHA256(nonce key, session id || issued_at || random). The nonce key is derived from the
site key's seed (HKDF-SHA256, info `vault.site nonce key v1`), so every process holding the site key
agrees on it and nobody else can mint one. A nonce proves only that this site gave it to this session,
recently; that it is used once per purpose is the replay store's job (`spend`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import msgspec

from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.keys import SigningKey, hkdf_sha256
from vault.site.replay import ReplayStore

NONCE_TTL = 600  # seconds a nonce may be used after it was issued
NONCE_KEY_INFO = b"vault.site nonce key v1"
ISSUED_AT_BYTES = 5
RANDOM_BYTES = 16
MAC_BYTES = 16
NONCE_LENGTH = 50  # characters: 37 bytes of base64url, unpadded
_MAX_ISSUED_AT = 2 ** (8 * ISSUED_AT_BYTES) - 1

Rng = Callable[[int], bytes]


def nonce_key(site_key: SigningKey) -> bytes:
    """The 32-byte MAC key for nonces, the same in every process that holds `site_key`."""
    return hkdf_sha256(site_key.seed(), info=NONCE_KEY_INFO)


class CheckedNonce(msgspec.Struct, frozen=True):
    """A nonce this site issued to this session, not too old: what `spend` records."""

    nonce: str
    issued_at: int
    random: str  # the 16 random bytes, base64url: the nonce's identity in the replay store


class SessionNonces:
    """Issue and check session-bound nonces with one key (`nonce_key(site_key)`).

    `ttl` is how long after issue a nonce may be used; `max_skew` allows for the processes' clocks
    disagreeing a little (a nonce issued by a process whose clock runs ahead is not "from the future").
    """

    def __init__(self, key: bytes, *, ttl: int = NONCE_TTL, max_skew: int = 60) -> None:
        if not isinstance(key, bytes) or len(key) < 32:
            raise ValueError("the nonce key is at least 32 bytes")
        if not 0 < ttl <= 86400 or not 0 <= max_skew <= 600:
            raise ValueError("ttl is 1 s to 1 day, max_skew 0 to 600 s")
        self._key = key
        self.ttl = ttl
        self.max_skew = max_skew

    def _mac(self, session: str, head: bytes) -> bytes:
        return hmac.digest(self._key, session.encode("utf-8") + head, hashlib.sha256)[:MAC_BYTES]

    def issue(self, session: str, *, now: int, rng: Rng) -> str:
        """A fresh nonce for `session` (a non-empty string the site keeps for this visitor)."""
        if not isinstance(session, str) or not session:
            raise ValueError("a nonce needs a session")
        if type(now) is not int or not 0 <= now <= _MAX_ISSUED_AT:
            raise ValueError("now is a Unix time in whole seconds")
        random = rng(RANDOM_BYTES)
        if not isinstance(random, bytes) or len(random) != RANDOM_BYTES:
            raise ValueError("rng returned the wrong number of bytes")
        head = now.to_bytes(ISSUED_AT_BYTES, "big") + random
        return b64url_encode(head + self._mac(session, head))

    def check(self, nonce: object, session: str | None, *, now: int) -> CheckedNonce | None:
        """The nonce's parts if this site issued it to `session` at most `ttl` seconds ago, else None."""
        if not isinstance(nonce, str) or len(nonce) != NONCE_LENGTH or not session:
            return None
        try:
            raw = b64url_decode(nonce)
        except ValueError:
            return None
        head, mac = raw[: ISSUED_AT_BYTES + RANDOM_BYTES], raw[ISSUED_AT_BYTES + RANDOM_BYTES :]
        if not hmac.compare_digest(mac, self._mac(session, head)):
            return None
        issued_at = int.from_bytes(head[:ISSUED_AT_BYTES], "big")
        if not now - self.ttl <= issued_at <= now + self.max_skew:
            return None
        return CheckedNonce(nonce, issued_at, b64url_encode(head[ISSUED_AT_BYTES:]))

    def spend(self, replay: ReplayStore, checked: CheckedNonce, purpose: str, *, now: int) -> bool:
        """Record that `checked` was used for `purpose`; False if it already was. A nonce may serve
        several purposes (one request to the vault may ask for several), each once. Raises whatever the
        store raises when it cannot record it."""
        key = "nonce." + checked.random + "." + purpose
        return replay.remember(key, checked.issued_at + self.ttl + self.max_skew, now)
