"""Creating, opening and re-keying a vault, and the profile attributes stored in it.

Values arrive here already validated (vault.claims.attributes); this layer only keeps them safe.
"""

import datetime as dt
import os
import secrets
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from vault.errors import VaultDamaged, VaultExists, VaultMissing, WrongPassphrase
from vault.protocol.keys import SigningKey, derive_pairwise_key
from vault.store import database
from vault.store.files import (
    HEADER_FORMAT,
    HEADER_VERSION,
    Header,
    VaultPaths,
    fsync_dir,
    make_private_dir,
    read_header,
    write_header,
)
from vault.store.kdf import (
    DEFAULT_KDF,
    SALT_BYTES,
    KdfParams,
    check_matches,
    check_new_passphrase,
    derive_keys,
)
from vault.store.migrations import LATEST_VERSION, MigrationContext, migrate
from vault.store.read_model import ReadModel, cached

RandomBytes = Callable[[int], bytes]


def _iso(now: int) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).isoformat().replace("+00:00", "Z")


def _new_header(passphrase: str, kdf: KdfParams, now: int, random_bytes: RandomBytes) -> tuple[Header, bytes]:
    salt = random_bytes(SALT_BYTES)
    keys = derive_keys(passphrase, salt, kdf)
    header = Header(
        format=HEADER_FORMAT,
        version=HEADER_VERSION,
        kdf=kdf,
        salt=salt,
        key_check=keys.check,
        created_at=_iso(now),
    )
    return header, keys.database_key


class Vault:
    """An open (unlocked) vault. Use as a context manager, or call close()."""

    def __init__(self, paths: VaultPaths, conn: database.Connection, header: Header, key: bytes) -> None:
        self.paths = paths
        self.conn = conn
        self.header = header
        self._key = key  # kept only so another_connection() need not run Argon2id again
        # Forgotten with the vault on close().
        self._pairwise: dict[tuple[str, int, str | None], SigningKey] = {}
        # The daemon's worker keeps its request path's reads in memory (vault.store.read_model); None
        # everywhere else: every read goes to the database.
        self.reads: ReadModel | None = None
        # True while the daemon's worker runs a job in a savepoint of its own, which it rolls back when
        # the job raises (see transaction()).
        self.job_savepoint = False

    # -- lifecycle ---------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        home: Path,
        passphrase: str,
        *,
        now: int,
        kdf: KdfParams = DEFAULT_KDF,
        random_bytes: RandomBytes = secrets.token_bytes,
        schema_version: int = LATEST_VERSION,
    ) -> "Vault":
        paths = VaultPaths(home)
        if paths.exists():
            raise VaultExists(f"a vault already exists at {paths.home}", "use --force to replace it")
        check_new_passphrase(passphrase)
        kdf.check()
        make_private_dir(paths.home)
        header, key = _new_header(passphrase, kdf, now, random_bytes)
        # Created 0600 before SQLite touches it; SQLite gives the -wal and -shm files the same mode.
        os.close(os.open(paths.database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        conn = database.connect(paths.database, key)
        try:
            migrate(conn, MigrationContext(now, random_bytes), target=schema_version)
        except BaseException:
            conn.close()
            raise
        # The header is written last: its presence is what makes the directory a vault.
        write_header(paths.header, header)
        return cls(paths, conn, header, key)

    @classmethod
    def open(
        cls, home: Path, passphrase: str, *, now: int, random_bytes: RandomBytes = secrets.token_bytes
    ) -> "Vault":
        paths = cls.check_present(home)
        conn, header, key = cls._unlock(paths, passphrase)
        return cls._migrated(paths, conn, header, key, MigrationContext(now, random_bytes))

    @classmethod
    def open_with_key(
        cls, home: Path, key: bytes, *, now: int, random_bytes: RandomBytes = secrets.token_bytes
    ) -> "Vault":
        """Opens with the database key itself, without Argon2id: the key a running daemon, which derived
        it from the passphrase, hands the command line. Raises WrongPassphrase when the key does not open
        the file, and while a passphrase change is unsettled (open() with the passphrase settles it)."""
        paths = cls.check_present(home)
        if paths.pending_header.exists():
            raise WrongPassphrase(
                f"a passphrase change of the vault at {paths.home} is not settled",
                "open it with the passphrase",
            )
        header = read_header(paths.header)
        try:
            conn = database.connect(paths.database, key)
        except (database.DatabaseError, ValueError):
            raise WrongPassphrase(f"the key does not open the vault at {paths.home}") from None
        return cls._migrated(paths, conn, header, key, MigrationContext(now, random_bytes))

    @classmethod
    def _migrated(
        cls,
        paths: VaultPaths,
        conn: database.Connection,
        header: Header,
        key: bytes,
        context: MigrationContext,
    ) -> "Vault":
        try:
            migrate(conn, context)
        except database.DatabaseError as e:
            conn.close()
            raise database.integrity_error(paths.database, e) from None
        except BaseException:
            conn.close()
            raise
        return cls(paths, conn, header, key)

    @property
    def database_key(self) -> bytes:
        """The raw SQLCipher key, for the daemon to hand a command line of the same user (never stored)."""
        return self._key

    def another_connection(self) -> "Vault":
        """The same vault on a second connection, for a thread that must not share the first one."""
        return Vault(self.paths, database.connect(self.paths.database, self._key), self.header, self._key)

    def checkpoint_wal(self) -> tuple[int, int, int]:
        """Copies the write-ahead log into the database without waiting for any writer (PASSIVE).
        Returns SQLite's (busy, pages in the log, pages copied)."""
        return self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    @staticmethod
    def check_present(home: Path) -> VaultPaths:
        """Refuses early, before anyone is asked for a passphrase, when there is nothing to open."""
        paths = VaultPaths(home)
        if not paths.header.exists():
            if paths.database.exists():
                raise VaultDamaged(
                    f"the vault header {paths.header} is missing",
                    "restore it from a backup; it holds the salt",
                )
            raise VaultMissing(f"no vault at {paths.home}", "create one with: vault init")
        if not paths.database.exists():
            raise VaultDamaged(f"the vault database {paths.database} is missing", "restore it from a backup")
        return paths

    @staticmethod
    def _unlock(paths: VaultPaths, passphrase: str) -> tuple[database.Connection, Header, bytes]:
        header = read_header(paths.header)
        pending = read_header(paths.pending_header) if paths.pending_header.exists() else None
        for candidate in (header, pending):
            if candidate is None:
                continue
            keys = derive_keys(passphrase, candidate.salt, candidate.kdf)
            if not check_matches(keys, candidate.key_check):
                continue
            try:
                conn = database.connect(paths.database, keys.database_key)
            except database.DatabaseError as e:
                if pending is not None:
                    raise WrongPassphrase(
                        "a passphrase change was interrupted and this passphrase is not the one in effect",
                        "try the other (old or new) passphrase",
                    ) from None
                raise VaultDamaged(
                    f"the passphrase is right but {paths.database} cannot be read ({e})",
                    "the database is damaged or was replaced; restore it from a backup",
                ) from None
            # Finish (or clean up after) an interrupted passphrase change, now we know which key is live.
            if candidate is pending:
                os.replace(paths.pending_header, paths.header)
                fsync_dir(paths.home)
            elif pending is not None:
                paths.pending_header.unlink()
            return conn, candidate, keys.database_key
        raise WrongPassphrase(
            f"wrong passphrase for the vault at {paths.home}", "nothing was changed; try again"
        )

    def change_passphrase(
        self,
        new_passphrase: str,
        *,
        now: int,
        kdf: KdfParams | None = None,
        random_bytes: RandomBytes = secrets.token_bytes,
    ) -> None:
        """Re-keys in place. Crash-safe: the new header is written first as 'pending', so after a crash at
        any point one of the two passphrases opens the vault, and open() settles which."""
        check_new_passphrase(new_passphrase)
        header, key = _new_header(new_passphrase, kdf or self.header.kdf, now, random_bytes)
        header = msgspec.structs.replace(header, created_at=self.header.created_at)
        write_header(self.paths.pending_header, header)
        try:
            database.rekey(self.conn, key)
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except BaseException:
            self.paths.pending_header.unlink(missing_ok=True)
            raise
        os.replace(self.paths.pending_header, self.paths.header)
        fsync_dir(self.paths.home)
        self.header, self._key = header, key

    def close(self) -> None:
        self._pairwise.clear()
        self.conn.close()

    def __enter__(self) -> "Vault":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, lets_errors_out: bool = False) -> Iterator[database.Connection]:
        """`lets_errors_out`: the caller promises nothing between this block and its job catches an
        exception; then, inside a job the worker already runs in a savepoint of its own, no second one is
        made (two statements fewer on the request path; the job's savepoint rolls the block back)."""
        if lets_errors_out and self.job_savepoint and self.conn.in_transaction:
            yield self.conn
            return
        with database.transaction(self.conn) as conn:
            yield conn

    @property
    def schema_version(self) -> int:
        return database.schema_version(self.conn)

    def meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    # -- pairwise identities -----------------------------------------------------------------------

    def master_seed(self) -> bytes:
        return bytes(self.meta("master_seed"))

    def pairwise_key(self, origin: str, epoch: int, identity: str | None = None) -> SigningKey:
        """The site's signing key for that epoch (and identity: a context's own, or None for the shared
        one), derived once while the vault is open (HKDF + Ed25519 key setup cost more than the rest of a
        remembered-consent presentation)."""
        key = self._pairwise.get((origin, epoch, identity))
        if key is None:
            if len(self._pairwise) >= 1024:
                self._pairwise.clear()
            key = derive_pairwise_key(self.master_seed(), origin, epoch, identity)
            self._pairwise[(origin, epoch, identity)] = key
        return key

    def site_epoch(self, origin: str) -> int:
        return cached(self.reads, _epoch_key(origin), lambda: self._site_epoch(origin))

    def kept_signing(
        self, snapshot: Mapping[Hashable, Any], origin: str, identity: str | None
    ) -> tuple[int, SigningKey] | None:
        """(epoch, key) for signing at `origin` from memory alone: the epoch from the read model's
        `snapshot`, the key from those already derived. None if either is not there. Touches no
        connection (ReadModel.snapshot says where this is used)."""
        epoch = snapshot.get(_epoch_key(origin))
        if not isinstance(epoch, int):
            return None
        key = self._pairwise.get((origin, epoch, identity))
        return None if key is None else (epoch, key)

    def _site_epoch(self, origin: str) -> int:
        row = self.conn.execute("SELECT epoch FROM sites WHERE origin = ?", (origin,)).fetchone()
        return 0 if row is None else row[0]

    def bump_site_epoch(self, origin: str, *, now: int) -> int:
        """A new identity for this site: keys from the new epoch are unrelated to the old ones."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO sites (origin, epoch, first_seen) VALUES (?, 1, ?) "
                "ON CONFLICT (origin) DO UPDATE SET epoch = epoch + 1",
                (origin, now),
            )
        return self.site_epoch(origin)

    # -- profile attributes ------------------------------------------------------------------------

    def attributes(self) -> dict[str, Any]:
        # Kept (when kept) as one JSON object's bytes, so every caller decodes its own copy of the values.
        return msgspec.json.decode(cached(self.reads, "attributes", self._attributes_json))

    def _attributes_json(self) -> bytes:
        rows = self.conn.execute("SELECT name, value FROM attributes ORDER BY name")
        return b"{%b}" % b",".join(msgspec.json.encode(name) + b":" + value.encode() for name, value in rows)

    def get_attribute(self, name: str) -> Any | None:
        row = self.conn.execute("SELECT value FROM attributes WHERE name = ?", (name,)).fetchone()
        return None if row is None else msgspec.json.decode(row[0])

    def set_attribute(self, name: str, value: Any, *, now: int) -> None:
        self.change_attributes({name: value}, (), now=now)

    def unset_attribute(self, name: str) -> bool:
        return bool(self.change_attributes({}, (name,), now=0))

    def change_attributes(self, values: Mapping[str, Any], remove: Iterable[str], *, now: int) -> list[str]:
        """Sets `values` and removes `remove` in one transaction, so a crash, a lock or another writer
        never sees half of them; returns the removed names that were stored."""
        with self.transaction() as conn:
            for name, value in values.items():
                conn.execute(
                    "INSERT INTO attributes (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (name, msgspec.json.encode(value).decode(), now),
                )
            return [n for n in remove if conn.execute("DELETE FROM attributes WHERE name = ?", (n,)).rowcount]


def _epoch_key(origin: str) -> tuple[str, str]:
    """The read model's key for a site's epoch (Vault.site_epoch keeps it, Vault.kept_signing reads it)."""
    return ("site_epoch", origin)
