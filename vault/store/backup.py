"""`vault backup` and `vault restore`: one file holding a consistent, still encrypted copy of the vault.

The backup file is an uncompressed POSIX tar (so `tar tf` can look inside; the database would not
compress anyway) with exactly three members, in this order:

  backup.json        {"format": "personal-vault-backup", "version": 1, "created_at", "schema_version",
                      "database_bytes", "database_sha256", "header_sha256"}
  vault-header.json  the header matching the database's key: Argon2id parameters, salt, key check
  vault.db           the SQLCipher 4 database, made with VACUUM INTO: one consistent snapshot, encrypted
                     with the vault's own key (SQLCipher gives the copy the key of the database it copies)

Nothing in it is readable without the passphrase. The digests catch a truncated or damaged file before
anything is written; the passphrase check (and SQLCipher's page HMACs) catch a swapped one.

Restore unpacks into a private directory beside the target, opens it with the passphrase and checks it
(`PRAGMA quick_check`), and only then puts it in place: a plain rename when there is no vault yet, an
atomic exchange of the two directories (renameat2 RENAME_EXCHANGE) when --force replaces one. Files in
the vault directory that are not the vault's own are carried over. Stop the daemon before restoring.
"""

import contextlib
import ctypes
import datetime as dt
import errno
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

import msgspec

from vault.errors import InvalidInput, VaultDamaged, VaultError, VaultExists, WrongPassphrase
from vault.store import Vault, VaultPaths
from vault.store.database import DatabaseError
from vault.store.files import MAX_HEADER_BYTES, fsync_dir, read_header

FORMAT = "personal-vault-backup"
VERSION = 1
INFO_NAME, HEADER_NAME, DATABASE_NAME = "backup.json", "vault-header.json", "vault.db"
MAX_INFO_BYTES = 4096
MAX_DATABASE_BYTES = 1 << 40  # 1 TiB: far above any real vault, low enough to refuse nonsense sizes
CHUNK = 1 << 20


class BackupInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: Literal["personal-vault-backup"]
    version: Literal[1]
    created_at: str
    schema_version: int
    database_bytes: int
    database_sha256: str
    header_sha256: str


class BackupDamaged(VaultDamaged):
    """The file is not a vault backup, or not a whole one; nothing was changed."""


# -- writing -----------------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _member(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, 0o600
    return info


@contextlib.contextmanager
def _private_temp_dir(beside: Path, label: str) -> Iterator[Path]:
    """A 0700 directory next to `beside`, so the final rename stays on one file system."""
    directory = Path(tempfile.mkdtemp(prefix=f".{beside.name}.{label}-", dir=beside.parent))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def backup(vault: Vault, path: Path, *, now: int, force: bool = False) -> BackupInfo:
    """Writes the backup to `path` (0600, atomically: temp file, fsync, rename). Refuses to overwrite
    an existing file unless `force`."""
    path = Path(path)
    if path.exists() and not force:
        raise InvalidInput(f"{path} already exists", "use --force to overwrite it")
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory", "name the backup file to write")
    if not path.parent.is_dir():
        raise InvalidInput(f"the directory {path.parent} does not exist")
    header = msgspec.json.format(msgspec.json.encode(vault.header), indent=2) + b"\n"
    with _private_temp_dir(path, "backup") as work:
        copy = work / DATABASE_NAME
        # The header in memory is the one whose key opened this connection, so it matches the copy even
        # if the passphrase changed on disk since.
        vault.conn.execute("VACUUM INTO ?", (str(copy),))
        info = BackupInfo(
            format=FORMAT,
            version=VERSION,
            created_at=dt.datetime.fromtimestamp(now, dt.UTC).isoformat().replace("+00:00", "Z"),
            schema_version=vault.schema_version,
            database_bytes=copy.stat().st_size,
            database_sha256=_sha256_file(copy),
            header_sha256=hashlib.sha256(header).hexdigest(),
        )
        info_bytes = msgspec.json.format(msgspec.json.encode(info), indent=2) + b"\n"
        tmp = work / "backup.tar"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            tar.addfile(_member(INFO_NAME, len(info_bytes), now), io.BytesIO(info_bytes))
            tar.addfile(_member(HEADER_NAME, len(header), now), io.BytesIO(header))
            with open(copy, "rb") as db:
                tar.addfile(_member(DATABASE_NAME, info.database_bytes, now), db)
            tar.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    return info


# -- reading -----------------------------------------------------------------------------------------


def _read_exactly(stream: IO[bytes], size: int, out: IO[bytes] | None = None) -> tuple[bytes, str]:
    """Copies `size` bytes (to `out`, or returned when small); raises EOFError on a short member."""
    digest, kept, left = hashlib.sha256(), bytearray(), size
    while left:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            raise EOFError
        digest.update(chunk)
        left -= len(chunk)
        if out is None:
            kept += chunk
        else:
            out.write(chunk)
    return bytes(kept), digest.hexdigest()


def _unpack(path: Path, into: Path) -> BackupInfo:
    """Checks the container strictly and writes header and database into `into`."""
    expected = (INFO_NAME, HEADER_NAME, DATABASE_NAME)
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = []
            for member in tar:
                if (
                    len(members) == len(expected)
                    or member.name != expected[len(members)]
                    or not member.isreg()
                ):
                    raise BackupDamaged(f"{path} is not a vault backup (unexpected member {member.name!r})")
                members.append(member)
            if len(members) != len(expected):
                raise BackupDamaged(f"{path} is not a whole vault backup (members are missing)")
            info_member, header_member, db_member = members
            if info_member.size > MAX_INFO_BYTES or header_member.size > MAX_HEADER_BYTES:
                raise BackupDamaged(f"{path} is not a vault backup (oversized metadata)")
            info_bytes, _ = _read_exactly(tar.extractfile(info_member), info_member.size)
            try:
                info = msgspec.json.decode(info_bytes, type=BackupInfo)
            except msgspec.DecodeError:
                raise BackupDamaged(f"{path} is not a vault backup this version understands") from None
            if not 0 <= info.database_bytes <= MAX_DATABASE_BYTES or db_member.size != info.database_bytes:
                raise BackupDamaged(f"the backup {path} is damaged (its database has the wrong size)")
            header, header_sha = _read_exactly(tar.extractfile(header_member), header_member.size)
            if header_sha != info.header_sha256:
                raise BackupDamaged(f"the backup {path} is damaged (its header does not match its digest)")
            _write_new(into / HEADER_NAME, header)
            fd = os.open(into / DATABASE_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                _, db_sha = _read_exactly(tar.extractfile(db_member), db_member.size, out)
                out.flush()
                os.fsync(out.fileno())
            if db_sha != info.database_sha256:
                raise BackupDamaged(f"the backup {path} is damaged (its database does not match its digest)")
    except (tarfile.TarError, EOFError):
        raise BackupDamaged(f"{path} is not a vault backup, or it is truncated") from None
    except OSError as e:
        raise InvalidInput(f"cannot read the backup {path}: {e.strerror or e}") from None
    return info


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_backup_info(path: Path) -> BackupInfo:
    """Checks a backup file completely (structure and digests) without a passphrase; writes nothing
    outside a temporary directory."""
    path = Path(path)
    with _private_temp_dir(path, "check") as work:
        return _unpack(path, work)


# -- restoring ---------------------------------------------------------------------------------------


def _check_opens(staged: Path, source: Path, passphrase: str, now: int) -> None:
    try:
        read_header(staged / HEADER_NAME)
        with Vault.open(staged, passphrase, now=now) as vault:
            problems = [row[0] for row in vault.conn.execute("PRAGMA quick_check")]
            vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except (VaultDamaged, DatabaseError):
        raise BackupDamaged(f"the backup {source} does not hold a readable vault") from None
    except WrongPassphrase:
        raise WrongPassphrase(f"wrong passphrase for the backup {source}", "nothing was changed") from None
    except VaultError as e:
        # E.g. a vault written by a newer version: the same failure, said about the backup file.
        raise type(e)(f"the backup {source}: {e.message}", e.hint) from None
    if problems != ["ok"]:
        raise BackupDamaged(f"the vault in the backup {source} is damaged ({problems[0]})")


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swaps two directories in one step (Linux renameat2). False where the system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def restore(path: Path, home: Path, passphrase: str, *, now: int, force: bool = False) -> BackupInfo:
    """Restores the backup at `path` as the vault in `home`. Checks everything first (the container, its
    digests, the passphrase, the database); refuses to replace an existing vault unless `force`."""
    path, home = Path(path), Path(home)
    if home.is_symlink():
        home = home.resolve()  # restore where the link points; do not replace the link with a directory
    if home.exists() and not home.is_dir():
        raise InvalidInput(f"{home} is not a directory")
    target = VaultPaths(home)
    if target.exists() and not force:
        raise VaultExists(f"a vault already exists at {home}", "use --force to replace it")
    if not path.is_file():
        raise InvalidInput(f"no backup file at {path}")
    # Not make_private_dir: the parent may be a shared directory whose mode is not ours to change.
    home.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _private_temp_dir(home, "restore") as staged:
        os.chmod(staged, 0o700)
        info = _unpack(path, staged)
        _check_opens(staged, path, passphrase, now)
        if not home.exists():
            os.rename(staged, home)
        else:
            _replace(home, staged, target)
        fsync_dir(home.parent)
    return info


def _replace(home: Path, staged: Path, target: VaultPaths) -> None:
    """Puts the staged vault at `home`; the old directory ends up at `staged` and is removed with it."""
    ours = {p.name for p in target.all_files()}
    if not _exchange(staged, home):
        aside = staged.with_name(staged.name + "-old")
        os.rename(home, aside)
        os.rename(staged, home)
        os.rename(aside, staged)
    for entry in staged.iterdir():
        if entry.name not in ours:
            os.rename(entry, home / entry.name)
