"""The endpoints' stateless nonces (vault/site/nonces.py): their format, their binding to a session and a
site key, their age, and that each is spent once per purpose. Time and randomness are passed in."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tests import example
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.site import InMemoryReplayStore, SessionNonces, SigningKey, nonce_key
from vault.site.nonces import NONCE_KEY_INFO

NOW = example.NOW
SESSION = "s" * 43


def fixed_rng(n: int) -> bytes:
    return bytes(range(n))


@pytest.fixture
def nonces() -> SessionNonces:
    return SessionNonces(nonce_key(example.site_key()))


def test_the_nonce_key_is_hkdf_sha256_of_the_site_keys_seed() -> None:
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=NONCE_KEY_INFO).derive(
        example.SITE_SEED
    )
    assert nonce_key(example.site_key()) == expected


def test_a_nonce_is_issued_at_random_and_its_mac(nonces: SessionNonces) -> None:
    nonce = nonces.issue(SESSION, now=NOW, rng=fixed_rng)
    assert len(nonce) == 50
    raw = b64url_decode(nonce)
    head = NOW.to_bytes(5, "big") + bytes(range(16))
    mac = hmac.digest(nonce_key(example.site_key()), SESSION.encode() + head, hashlib.sha256)[:16]
    assert raw == head + mac


def test_a_nonce_is_good_for_its_session_for_ttl_seconds(nonces: SessionNonces) -> None:
    nonce = nonces.issue(SESSION, now=NOW, rng=fixed_rng)
    checked = nonces.check(nonce, SESSION, now=NOW + 600)
    assert checked is not None
    assert (checked.nonce, checked.issued_at, checked.random) == (nonce, NOW, b64url_encode(bytes(range(16))))
    assert nonces.check(nonce, SESSION, now=NOW + 601) is None  # too old
    assert nonces.check(nonce, SESSION, now=NOW - 60) is not None  # another process's clock, a bit behind
    assert nonces.check(nonce, SESSION, now=NOW - 61) is None
    assert nonces.check(nonce, "t" * 43, now=NOW) is None  # another session
    assert nonces.check(nonce, None, now=NOW) is None  # no session at all
    other_site = SessionNonces(nonce_key(SigningKey.from_seed(bytes(32))))
    assert other_site.check(nonce, SESSION, now=NOW) is None


def test_anything_but_an_issued_nonce_is_refused(nonces: SessionNonces) -> None:
    nonce = nonces.issue(SESSION, now=NOW, rng=fixed_rng)
    flipped = nonce[:30] + ("A" if nonce[30] != "A" else "B") + nonce[31:]
    for candidate in (flipped, nonce[:-1], nonce + "A", "n" * 22, "=" * 50, 42, None, nonce.encode()):
        assert nonces.check(candidate, SESSION, now=NOW) is None


def test_a_nonce_is_spent_once_per_purpose(nonces: SessionNonces) -> None:
    replay = InMemoryReplayStore()
    checked = nonces.check(nonces.issue(SESSION, now=NOW, rng=fixed_rng), SESSION, now=NOW)
    assert checked is not None
    assert nonces.spend(replay, checked, "recommendations", now=NOW + 1)
    assert not nonces.spend(replay, checked, "recommendations", now=NOW + 2)
    assert nonces.spend(replay, checked, "age-check", now=NOW + 2)
    # Remembered as long as the nonce could pass `check` anywhere: ttl, plus the skew allowed.
    assert not nonces.spend(replay, checked, "recommendations", now=NOW + 659)


def test_bad_arguments_are_refused(nonces: SessionNonces) -> None:
    with pytest.raises(ValueError):
        nonces.issue("", now=NOW, rng=fixed_rng)
    with pytest.raises(ValueError):
        nonces.issue(SESSION, now=-1, rng=fixed_rng)
    with pytest.raises(ValueError):
        nonces.issue(SESSION, now=NOW, rng=lambda n: b"short")
    with pytest.raises(ValueError):
        SessionNonces(b"too short")
