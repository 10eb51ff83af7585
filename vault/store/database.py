"""The SQLCipher 4 connection: keyed with a raw 256-bit key, WAL, durable commits, nothing in temp files."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlcipher3

from vault.errors import VaultDamaged, VaultError

Connection = sqlcipher3.Connection
DatabaseError = sqlcipher3.DatabaseError


def _key_pragma(key: bytes) -> str:
    if len(key) != 32:
        raise ValueError("database key must be 32 bytes")
    # A raw key (x'...') skips SQLCipher's own PBKDF2: the key already comes from Argon2id.
    return f"PRAGMA key = \"x'{key.hex()}'\""


def connect(path: Path, key: bytes) -> Connection:
    """Opens and proves the key; raises DatabaseError for a wrong key or a file that is not a vault.

    The caller decides what that means (it knows whether the passphrase itself was right).
    """
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        # SQLCipher otherwise prints every failed page HMAC to stderr.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(_key_pragma(key))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        for pragma in (
            "PRAGMA journal_mode = WAL",
            # FULL: a commit that records a disclosure is on disk before the token leaves the daemon.
            "PRAGMA synchronous = FULL",
            # Sorts and temporary tables stay in memory; temp files would not be encrypted.
            "PRAGMA temp_store = MEMORY",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000",
        ):
            conn.execute(pragma)
    except BaseException:
        conn.close()
        raise
    return conn


def rekey(conn: Connection, key: bytes) -> None:
    conn.execute(_key_pragma(key).replace("PRAGMA key", "PRAGMA rekey", 1))


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """BEGIN IMMEDIATE: take the write lock up front so two writers queue instead of failing mid-way.

    Inside an open transaction this is a savepoint: the daemon runs several requests in one transaction
    (one fsync for all of them), and each request's writes still roll back alone if it fails.
    """
    if conn.in_transaction:
        with savepoint(conn):
            yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def savepoint(conn: Connection) -> Iterator[Connection]:
    conn.execute("SAVEPOINT nested")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK TO nested")
        conn.execute("RELEASE nested")
        raise
    conn.execute("RELEASE nested")


def schema_version(conn: Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def integrity_error(path: Path, error: Exception) -> VaultError:
    return VaultDamaged(f"the vault database {path} is damaged ({error})", "restore it from a backup")
