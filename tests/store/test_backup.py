"""`vault backup` / `vault restore`: one encrypted file, a consistent snapshot, a round trip equal in content,
and damaged, truncated or foreign files refused with nothing changed."""

import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import msgspec
import pytest

from tests.consent.test_export import EXPORTED_AT, fill
from tests.support import FAST_KDF, NOW, PASSPHRASE, snapshot
from vault.consent.export import export_vault
from vault.errors import InvalidInput, VaultExists, WrongPassphrase
from vault.store import Vault
from vault.store.backup import (
    DATABASE_NAME,
    HEADER_NAME,
    INFO_NAME,
    BackupDamaged,
    backup,
    read_backup_info,
    restore,
)

OTHER_PASSPHRASE = "a different passphrase entirely"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A vault with a bit of everything, closed; its backup file beside it."""
    root = tmp_path_factory.mktemp("backup")
    with Vault.create(root / "vault", PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        fill(vault, 300)
        backup(vault, root / "vault.backup", now=NOW)
    return root


def content(home: Path, passphrase: str = PASSPHRASE) -> tuple[bytes, dict]:
    """The export (at a fixed time) and every row of every table: what `equal in content` means."""
    with Vault.open(home, passphrase, now=NOW) as vault:
        exported = msgspec.json.encode(export_vault(vault, now=EXPORTED_AT))
        conn = vault.conn
        dump: dict = {"user_version": conn.execute("PRAGMA user_version").fetchone()}
        for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"):
            dump[name] = (
                kind,
                sql,
                sorted(conn.execute(f'SELECT * FROM "{name}"')) if kind == "table" else None,  # noqa: S608
            )
        return exported, dump


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_round_trip_is_equal_in_content(source: Path, tmp_path: Path) -> None:
    info = restore(source / "vault.backup", tmp_path / "restored", PASSPHRASE, now=NOW)
    assert info.database_bytes > 0 and info.schema_version >= 3
    original, restored = content(source / "vault"), content(tmp_path / "restored")
    assert original[0] == restored[0]  # the whole export, byte for byte
    assert original[1] == restored[1]  # every row of every table, master seed and ledger included
    assert json.loads(restored[0])["ledger_verification"]["ok"] is True
    assert stat.S_IMODE((tmp_path / "restored").stat().st_mode) == 0o700
    assert leftovers(tmp_path) == []


def test_backup_is_one_private_encrypted_file(source: Path) -> None:
    path = source / "vault.backup"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with tarfile.open(path) as tar:
        assert tar.getnames() == [INFO_NAME, HEADER_NAME, DATABASE_NAME]
    data = path.read_bytes()
    assert b"SQLite format 3" not in data
    for plaintext in (b"1990-05-17", b"hiking", b"Example Shoes", b"jti-000000000000"):
        assert plaintext not in data
    assert read_backup_info(path).format == "personal-vault-backup"
    assert leftovers(source) == []


def test_backup_refuses_to_overwrite_unless_forced(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "existing"
    target.write_bytes(b"precious")
    with Vault.open(source / "vault", PASSPHRASE, now=NOW) as vault:
        with pytest.raises(InvalidInput, match="already exists"):
            backup(vault, target, now=NOW)
        assert target.read_bytes() == b"precious"
        backup(vault, target, now=NOW, force=True)
    assert tarfile.is_tarfile(target) and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_backup_is_a_consistent_snapshot(tmp_path: Path) -> None:
    """A write that has not committed when the backup runs is not in it, even half."""
    home = tmp_path / "vault"
    Vault.create(home, PASSPHRASE, now=NOW, kdf=FAST_KDF).close()
    with Vault.open(home, PASSPHRASE, now=NOW) as writer, Vault.open(home, PASSPHRASE, now=NOW) as reader:
        writer.conn.execute("BEGIN IMMEDIATE")
        writer.conn.execute("INSERT INTO attributes VALUES ('country', '\"NL\"', 1)")
        backup(reader, tmp_path / "b", now=NOW)
        writer.conn.execute("COMMIT")
        assert reader.get_attribute("country") == "NL"
    restore(tmp_path / "b", tmp_path / "restored", PASSPHRASE, now=NOW)
    with Vault.open(tmp_path / "restored", PASSPHRASE, now=NOW) as restored:
        assert restored.attributes() == {}


def test_backup_keeps_the_passphrase_it_was_made_under(source: Path, tmp_path: Path) -> None:
    home = tmp_path / "vault"
    Vault.create(home, PASSPHRASE, now=NOW, kdf=FAST_KDF).close()
    with Vault.open(home, PASSPHRASE, now=NOW) as vault:
        vault.set_attribute("country", "NL", now=NOW)
        backup(vault, tmp_path / "b", now=NOW)
        vault.change_passphrase(OTHER_PASSPHRASE, now=NOW)
    with pytest.raises(WrongPassphrase, match="wrong passphrase for the backup"):
        restore(tmp_path / "b", tmp_path / "r", OTHER_PASSPHRASE, now=NOW)
    assert not (tmp_path / "r").exists() and leftovers(tmp_path) == []
    restore(tmp_path / "b", tmp_path / "r", PASSPHRASE, now=NOW)
    with Vault.open(tmp_path / "r", PASSPHRASE, now=NOW) as restored:
        assert restored.attributes() == {"country": "NL"}


def test_restore_replaces_a_vault_only_when_forced(source: Path, tmp_path: Path) -> None:
    home = tmp_path / "vault"
    with Vault.create(home, OTHER_PASSPHRASE, now=NOW, kdf=FAST_KDF) as other:
        other.set_attribute("country", "DE", now=NOW)
    (home / "notes.txt").write_text("not the vault's")
    before = snapshot(home)
    with pytest.raises(VaultExists):
        restore(source / "vault.backup", home, PASSPHRASE, now=NOW)
    assert snapshot(home) == before
    with pytest.raises(WrongPassphrase):
        restore(source / "vault.backup", home, OTHER_PASSPHRASE, now=NOW, force=True)
    assert snapshot(home) == before and leftovers(tmp_path) == []
    restore(source / "vault.backup", home, PASSPHRASE, now=NOW, force=True)
    assert content(home) == content(source / "vault")
    assert (home / "notes.txt").read_text() == "not the vault's"
    assert leftovers(tmp_path) == []
    with pytest.raises(WrongPassphrase):
        Vault.open(home, OTHER_PASSPHRASE, now=NOW)


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def _damaged(source: Path, other_db: bytes) -> dict[str, bytes]:
    data = (source / "vault.backup").read_bytes()
    members = _members(source / "vault.backup")
    info = json.loads(members[INFO_NAME])
    db_end = data.index(members[DATABASE_NAME][:4096]) + len(members[DATABASE_NAME])
    header_at = data.index(members[HEADER_NAME])

    def flipped(at: int) -> bytes:
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]

    def relabelled(db: bytes) -> bytes:
        """Digests recomputed, so only the passphrase check and SQLCipher can tell."""
        fixed = {**info, "database_bytes": len(db), "database_sha256": hashlib.sha256(db).hexdigest()}
        return _tar(
            [
                (INFO_NAME, json.dumps(fixed).encode()),
                (HEADER_NAME, members[HEADER_NAME]),
                (DATABASE_NAME, db),
            ]
        )

    return {
        "empty": b"",
        "garbage": os.urandom(20_000),
        "truncated in half": data[: len(data) // 2],
        "one byte short": data[: db_end - 1],
        "last page cut off": relabelled(members[DATABASE_NAME][:-4096]),
        "bit flip in the database": flipped(db_end - 10_000),
        "bit flip in the header": flipped(header_at + 40),
        "foreign tar": _tar([("etc/passwd", b"root:x:0:0")]),
        "extra member": _tar([*members.items(), ("evil", b"x")]),
        "members reordered": _tar([(HEADER_NAME, members[HEADER_NAME]), (INFO_NAME, members[INFO_NAME])]),
        "info not json": _tar([(INFO_NAME, b"{"), (HEADER_NAME, b"{}"), (DATABASE_NAME, b"")]),
        "another vault's database": relabelled(other_db),
        "database replaced by zeros": relabelled(bytes(len(members[DATABASE_NAME]))),
    }


def test_damaged_backups_are_refused_and_change_nothing(source: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    with Vault.create(other, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        vault.set_attribute("country", "NL", now=NOW)
        backup(vault, tmp_path / "other.backup", now=NOW)
    other_db = _members(tmp_path / "other.backup")[DATABASE_NAME]
    existing = tmp_path / "existing"
    Vault.create(existing, PASSPHRASE, now=NOW, kdf=FAST_KDF).close()
    before = snapshot(existing)
    for name, data in _damaged(source, other_db).items():
        bad = tmp_path / "bad.backup"
        bad.write_bytes(data)
        for home, force in ((tmp_path / "fresh", False), (existing, True)):
            with pytest.raises(BackupDamaged) as caught:
                restore(bad, home, PASSPHRASE, now=NOW, force=force)
            message = str(caught.value)
            assert str(bad) in message and "\n" not in message, (name, message)
            assert not (tmp_path / "fresh").exists(), name
            assert snapshot(existing) == before, name
            assert leftovers(tmp_path) == [], name


def test_restore_needs_a_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no backup file"):
        restore(tmp_path / "missing", tmp_path / "vault", PASSPHRASE, now=NOW)
    with pytest.raises(InvalidInput, match="no backup file"):
        restore(tmp_path, tmp_path / "vault", PASSPHRASE, now=NOW)


# -- the real `vault` process ------------------------------------------------------------------------

FAST = ("--kdf-time", "2", "--kdf-memory-mib", "19")


def test_cli_export_backup_restore(run_vault, vault_home: Path, tmp_path: Path) -> None:
    assert run_vault("init", *FAST).code == 0
    assert run_vault("profile", "set", "birthdate", "1990-05-17").code == 0
    assert run_vault("profile", "set", "country", "NL").code == 0

    exported = run_vault("export")
    assert exported.code == 0 and "NOT encrypted" in exported.err
    document = json.loads(exported.out)
    assert {a["name"] for a in document["profile"]} == {"birthdate", "country"}

    out = tmp_path / "export.json"
    assert run_vault("export", "--output", str(out)).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["vault"] == document["vault"]
    again = run_vault("export", "--output", str(out))
    assert again.code == 1 and "already exists" in again.err
    assert run_vault("export", "--output", str(out), "--force").code == 0

    file = tmp_path / "vault.backup"
    result = run_vault("backup", str(file))
    assert result.code == 0 and "Backed up" in result.out
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    result = run_vault("backup", str(file))
    assert result.code == 1 and result.err.startswith("Error: ") and "--force" in result.err
    assert run_vault("backup", str(file), "--force").code == 0

    other = tmp_path / "restored"
    result = run_vault("restore", str(file), home=other)
    assert result.code == 0 and "Restored" in result.out
    assert run_vault("profile", "get", "country", home=other).out.strip() == "NL"
    assert json.loads(run_vault("export", home=other).out)["vault"] == document["vault"]

    before = snapshot(vault_home)
    result = run_vault("restore", str(file))
    assert result.code == 5 and "--force" in result.err and snapshot(vault_home) == before
    result = run_vault("restore", str(file), "--force", passphrase="wrong passphrase!")
    assert result.code == 3 and len(result.err.strip().splitlines()) == 1
    assert snapshot(vault_home) == before
    bad = tmp_path / "bad.backup"
    bad.write_bytes(file.read_bytes()[:5000])
    result = run_vault("restore", str(bad), "--force")
    assert result.code == 4 and "truncated" in result.err and len(result.err.strip().splitlines()) == 1
    assert snapshot(vault_home) == before
    assert run_vault("restore", str(file), "--force").code == 0
    assert run_vault("profile", "get", "country").out.strip() == "NL"


def test_cli_help_explains(run_vault) -> None:
    for command, words in (
        ("export", "NOT encrypted"),
        ("backup", "encrypted"),
        ("restore", "--force"),
    ):
        result = run_vault(command, "--help", passphrase=None)
        assert result.code == 0 and words in result.out, command
