"""Where a vault's files live, and how they are written so a crash never leaves half a file."""

import os
from pathlib import Path

import msgspec
import platformdirs

from vault.errors import VaultDamaged
from vault.store.kdf import KdfParams

HEADER_FORMAT = "personal-vault"
HEADER_VERSION = 1
MAX_HEADER_BYTES = 4096


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("personal-vault", appauthor=False))


class VaultPaths:
    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.database = self.home / "vault.db"
        self.header = self.home / "vault-header.json"
        # Written before a passphrase change re-keys the database, promoted after (Vault.change_passphrase).
        self.pending_header = self.home / "vault-header.json.pending"

    @property
    def wal(self) -> Path:
        return self.database.with_name(self.database.name + "-wal")

    def sidecars(self) -> list[Path]:
        return [self.wal, self.database.with_name(self.database.name + "-shm")]

    def all_files(self) -> list[Path]:
        return [self.database, *self.sidecars(), self.header, self.pending_header]

    def exists(self) -> bool:
        return self.header.exists() or self.database.exists()


class Header(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: str
    version: int
    kdf: KdfParams
    salt: bytes
    key_check: bytes
    created_at: str


_header_decoder = msgspec.json.Decoder(Header)


def read_header(path: Path) -> Header:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_HEADER_BYTES + 1)
    except OSError as e:
        raise VaultDamaged(f"cannot read the vault header {path}: {e.strerror}") from None
    if len(raw) > MAX_HEADER_BYTES:
        raise VaultDamaged(f"the vault header {path} is too large to be a vault header")
    try:
        header = _header_decoder.decode(raw)
    except msgspec.DecodeError as e:
        raise VaultDamaged(
            f"the vault header {path} is damaged ({e})",
            "restore it from a backup; the database alone cannot be opened",
        ) from None
    if header.format != HEADER_FORMAT or header.version != HEADER_VERSION:
        raise VaultDamaged(f"{path} is not a vault header this version understands")
    if len(header.salt) < 16 or len(header.key_check) != 16:
        raise VaultDamaged(f"the vault header {path} is damaged (bad salt or key check)")
    try:
        header.kdf.check()
    except Exception as e:
        raise VaultDamaged(f"the vault header {path} has unusable key-derivation parameters: {e}") from None
    return header


def write_private_file(path: Path, data: bytes) -> None:
    """Atomic and durable: temp file, fsync, rename, fsync the directory. Mode 0600 from the start."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_header(path: Path, header: Header) -> None:
    write_private_file(path, msgspec.json.format(msgspec.json.encode(header), indent=2) + b"\n")


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
