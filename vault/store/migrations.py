"""Forward-only schema migrations. The version lives in SQLite's user_version, changed in the same
transaction as the schema, so a crash leaves either the old or the new version, never a mixture.

Rules (so old vaults keep opening): never edit a migration that has shipped; add a new one. New columns
get defaults. A vault written by a newer version is refused rather than guessed at.
"""

from collections.abc import Callable
from dataclasses import dataclass

from vault.errors import VaultError
from vault.store.database import Connection, schema_version, transaction


@dataclass(frozen=True)
class MigrationContext:
    """What a migration may need besides SQL: randomness and time are passed in, never fetched."""

    now: int
    random_bytes: Callable[[int], bytes]


Migration = Callable[[Connection, MigrationContext], None]


def _v1_profile(conn: Connection, ctx: MigrationContext) -> None:
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
    conn.execute(
        """CREATE TABLE attributes (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,          -- JSON, validated by the attribute catalogue before storing
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID"""
    )
    conn.execute("INSERT INTO meta (key, value) VALUES ('vault_id', ?)", (ctx.random_bytes(16).hex(),))
    conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?)", (ctx.now,))


def _v2_pairwise_identities(conn: Connection, ctx: MigrationContext) -> None:
    # The root of every per-site signing key (HKDF with the origin and the site's epoch). It never leaves
    # the vault; "forget me on this site" bumps the epoch, giving the site a new, unlinkable identity.
    conn.execute("INSERT INTO meta (key, value) VALUES ('master_seed', ?)", (ctx.random_bytes(32),))
    conn.execute(
        """CREATE TABLE sites (
            origin TEXT PRIMARY KEY,
            epoch INTEGER NOT NULL DEFAULT 0,
            first_seen INTEGER NOT NULL
        ) WITHOUT ROWID"""
    )


MIGRATIONS: list[Migration] = [_v1_profile, _v2_pairwise_identities]
LATEST_VERSION = len(MIGRATIONS)


def migrate(conn: Connection, ctx: MigrationContext, target: int = LATEST_VERSION) -> int:
    """Brings the schema to `target`, one transaction per step. Returns the version it started from."""
    start = schema_version(conn)
    if start > LATEST_VERSION:
        raise VaultError(
            f"this vault uses schema version {start}, newer than this program knows ({LATEST_VERSION})",
            "upgrade the vault program",
        )
    for version in range(start + 1, target + 1):
        with transaction(conn):
            MIGRATIONS[version - 1](conn, ctx)
            conn.execute(f"PRAGMA user_version = {version:d}")
    return start
