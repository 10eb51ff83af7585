"""Passphrase to database key: Argon2id, with its parameters and salt kept in the header file.

The Argon2id output is never used directly: two independent keys are drawn from it with HMAC, one for
SQLCipher and one short check value stored in the header. The check lets us say "wrong passphrase"
instead of SQLCipher's ambiguous "file is not a database", and costs an attacker nothing they did not
already have (testing a guess against the database's own page HMAC costs the same Argon2id run).
"""

import hashlib
import hmac
import unicodedata

import msgspec
from argon2.low_level import Type, hash_secret_raw

from vault.errors import InvalidInput

MIN_PASSPHRASE_CHARS = 8
MAX_PASSPHRASE_BYTES = 1024
SALT_BYTES = 16

# Floors follow OWASP's minimum for Argon2id (19 MiB, 2 passes); ceilings stop a tampered header from
# making us allocate unbounded memory or spin for hours.
TIME_COST_RANGE = (2, 64)
MEMORY_KIB_RANGE = (19 * 1024, 4 * 1024 * 1024)
PARALLELISM_RANGE = (1, 16)


class KdfParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    algorithm: str = "argon2id"
    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1

    def check(self) -> None:
        if self.algorithm != "argon2id":
            raise InvalidInput(f"unsupported key derivation {self.algorithm!r}; only argon2id is known")
        for name, (low, high) in (
            ("time_cost", TIME_COST_RANGE),
            ("memory_kib", MEMORY_KIB_RANGE),
            ("parallelism", PARALLELISM_RANGE),
        ):
            value = getattr(self, name)
            if not low <= value <= high:
                raise InvalidInput(f"Argon2id {name} must be between {low} and {high}, not {value}")


DEFAULT_KDF = KdfParams()


def normalise_passphrase(passphrase: str) -> bytes:
    """NFC first, so the same passphrase typed through different input methods gives the same key."""
    data = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    if len(data) > MAX_PASSPHRASE_BYTES:
        raise InvalidInput(f"passphrase is longer than {MAX_PASSPHRASE_BYTES} bytes")
    return data


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise InvalidInput(
            f"passphrase too short: use at least {MIN_PASSPHRASE_CHARS} characters",
            "a few unrelated words make a strong, memorable passphrase",
        )
    normalise_passphrase(passphrase)


class DerivedKeys(msgspec.Struct, frozen=True):
    database_key: bytes
    check: bytes


def derive_keys(passphrase: str, salt: bytes, params: KdfParams) -> DerivedKeys:
    params.check()
    root = hash_secret_raw(
        secret=normalise_passphrase(passphrase),
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )
    return DerivedKeys(
        database_key=hmac.digest(root, b"personal-vault/v1/database-key", hashlib.sha256),
        check=hmac.digest(root, b"personal-vault/v1/key-check", hashlib.sha256)[:16],
    )


def check_matches(keys: DerivedKeys, expected: bytes) -> bool:
    return hmac.compare_digest(keys.check, expected)
