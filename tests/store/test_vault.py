"""The vault at rest, with real SQLCipher files on disk."""

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlcipher3

from tests.support import FAST_KDF, NOW, PASSPHRASE, snapshot
from vault.errors import InvalidInput, VaultDamaged, VaultError, VaultExists, VaultMissing, WrongPassphrase
from vault.store import Vault, VaultPaths
from vault.store.files import read_header
from vault.store.migrations import LATEST_VERSION

FIXTURE_V1 = Path(__file__).parent.parent / "fixtures" / "vault-v1"
NEEDLES = {
    "email": "zyxwvu.distinctive@example.org",
    "custom.secret": "Quetzalcoatl-Marmalade-7731",
    "given_name": "Bartholomew-Xylophone",
}


def make(home: Path) -> Vault:
    return Vault.create(home, PASSPHRASE, now=NOW, kdf=FAST_KDF)


def test_values_never_reach_the_disk_in_plaintext(vault_home: Path) -> None:
    vault = make(vault_home)
    for name, value in NEEDLES.items():
        vault.set_attribute(name, value, now=NOW)
    paths = VaultPaths(vault_home)
    # While open, the freshest data sits in the -wal file: read every file, then again after closing.
    for moment in ("open", "closed"):
        if moment == "closed":
            vault.close()
        files = [p for p in vault_home.iterdir() if p.is_file()]
        assert paths.database in files
        if moment == "open":
            assert any(p.name.endswith("-wal") for p in files), "the WAL should hold the recent writes"
        for path in files:
            raw = path.read_bytes()
            for needle in NEEDLES.values():
                for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                    assert needle.encode(encoding) not in raw, (
                        f"{needle} in plaintext in {path.name} ({moment})"
                    )
            assert b"SQLite format 3" not in raw[:16]


def test_database_cannot_be_opened_without_the_key(vault_home: Path) -> None:
    make(vault_home).close()
    db = VaultPaths(vault_home).database
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(db).execute("SELECT * FROM sqlite_master").fetchall()
    conn = sqlcipher3.connect(str(db))
    conn.execute("PRAGMA cipher_log_level = NONE")
    with pytest.raises(sqlcipher3.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.execute(f"PRAGMA key = \"x'{'00' * 32}'\"")
    with pytest.raises(sqlcipher3.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()


def test_files_and_directory_are_private(vault_home: Path) -> None:
    vault = make(vault_home)
    vault.set_attribute("country", "NL", now=NOW)
    assert stat.S_IMODE(vault_home.stat().st_mode) == 0o700
    for path in vault_home.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    vault.close()


def test_round_trip_and_unset(vault_home: Path) -> None:
    with make(vault_home) as vault:
        vault.set_attribute("languages", ["en-GB", "nl"], now=NOW)
        vault.set_attribute("sizes.shoe", 42.5, now=NOW)
        vault.set_attribute("sizes.shoe", 43, now=NOW + 1)
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        assert vault.attributes() == {"languages": ["en-GB", "nl"], "sizes.shoe": 43}
        assert vault.unset_attribute("sizes.shoe") is True
        assert vault.unset_attribute("sizes.shoe") is False
        assert vault.get_attribute("sizes.shoe") is None


def test_changes_to_several_attributes_are_stored_together_or_not_at_all(vault_home: Path) -> None:
    with make(vault_home) as vault:
        vault.change_attributes({"country": "NL", "city": "Utrecht"}, [], now=NOW)
        removed = vault.change_attributes({"sizes.shoe": 43}, ["city", "interests"], now=NOW + 1)
        assert removed == ["city"]  # interests was not stored
        assert vault.attributes() == {"country": "NL", "sizes.shoe": 43}
        # The last value cannot be stored: the first one is rolled back with it, and nothing is removed.
        with pytest.raises(TypeError):
            vault.change_attributes({"city": "Delft", "custom.bad": object()}, ["country"], now=NOW + 2)
        assert vault.attributes() == {"country": "NL", "sizes.shoe": 43}


def test_wrong_passphrase_is_refused_and_changes_nothing(vault_home: Path) -> None:
    with make(vault_home) as vault:
        vault.set_attribute("country", "NL", now=NOW)
    before = snapshot(vault_home)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        Vault.open(vault_home, "not the passphrase", now=NOW)
    assert snapshot(vault_home) == before


def test_change_passphrase_rekeys_in_place(vault_home: Path) -> None:
    with make(vault_home) as vault:
        vault.set_attribute("custom.note", "kept across re-key", now=NOW)
        old_salt = vault.header.salt
        vault.change_passphrase("a brand new passphrase", now=NOW)
    assert read_header(VaultPaths(vault_home).header).salt != old_salt
    assert not VaultPaths(vault_home).pending_header.exists()
    with pytest.raises(WrongPassphrase):
        Vault.open(vault_home, PASSPHRASE, now=NOW)
    with Vault.open(vault_home, "a brand new passphrase", now=NOW) as vault:
        assert vault.get_attribute("custom.note") == "kept across re-key"


def test_change_passphrase_refuses_a_short_one(vault_home: Path) -> None:
    with make(vault_home) as vault, pytest.raises(InvalidInput, match="too short"):
        vault.change_passphrase("short", now=NOW)
    Vault.open(vault_home, PASSPHRASE, now=NOW).close()


def test_crash_before_rekey_keeps_the_old_passphrase(vault_home: Path) -> None:
    """A crash after the pending header is written but before the database is re-keyed."""
    with make(vault_home) as vault:
        vault.set_attribute("country", "NL", now=NOW)
    paths = VaultPaths(vault_home)
    other = vault_home.parent / "other"
    Vault.create(other, "the new passphrase", now=NOW, kdf=FAST_KDF).close()
    shutil.copy(VaultPaths(other).header, paths.pending_header)
    with pytest.raises(WrongPassphrase, match="interrupted"):
        Vault.open(vault_home, "the new passphrase", now=NOW)
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        assert vault.get_attribute("country") == "NL"
    assert not paths.pending_header.exists()


def test_crash_after_rekey_opens_with_the_new_passphrase(vault_home: Path) -> None:
    """A crash after the database was re-keyed but before the pending header replaced the old one."""
    with make(vault_home) as vault:
        vault.set_attribute("country", "NL", now=NOW)
    paths = VaultPaths(vault_home)
    old_header = paths.header.read_bytes()
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        vault.change_passphrase("the new passphrase", now=NOW)
    shutil.copy(paths.header, paths.pending_header)
    paths.header.write_bytes(old_header)
    with pytest.raises(WrongPassphrase, match="interrupted"):
        Vault.open(vault_home, PASSPHRASE, now=NOW)
    with Vault.open(vault_home, "the new passphrase", now=NOW) as vault:
        assert vault.get_attribute("country") == "NL"
    assert not paths.pending_header.exists()
    Vault.open(vault_home, "the new passphrase", now=NOW).close()


def test_create_refuses_an_existing_vault(vault_home: Path) -> None:
    make(vault_home).close()
    before = snapshot(vault_home)
    with pytest.raises(VaultExists):
        make(vault_home)
    assert snapshot(vault_home) == before


def test_missing_vault(tmp_path: Path) -> None:
    with pytest.raises(VaultMissing, match="vault init"):
        Vault.open(tmp_path / "nothing", PASSPHRASE, now=NOW)


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not json",
        b'{"format": "personal-vault"}',
        b"[" * 10_000,
        b'{"format": "something-else", "version": 1}',
    ],
    ids=["empty", "garbage", "truncated", "huge", "foreign"],
)
def test_damaged_header_is_reported_and_nothing_changes(vault_home: Path, damage: bytes) -> None:
    make(vault_home).close()
    VaultPaths(vault_home).header.write_bytes(damage)
    before = snapshot(vault_home)
    with pytest.raises(VaultDamaged):
        Vault.open(vault_home, PASSPHRASE, now=NOW)
    assert snapshot(vault_home) == before


def test_header_with_unknown_field_or_absurd_kdf_is_refused(vault_home: Path) -> None:
    make(vault_home).close()
    header = VaultPaths(vault_home).header
    original = header.read_text()
    header.write_text(original.replace('"version": 1,', '"version": 1, "extra": true,'))
    with pytest.raises(VaultDamaged):
        Vault.open(vault_home, PASSPHRASE, now=NOW)
    # A header that asks for 1 TiB of memory must be refused, not obeyed.
    header.write_text(original.replace('"memory_kib": 19456', '"memory_kib": 1073741824'))
    with pytest.raises(VaultDamaged, match="memory"):
        Vault.open(vault_home, PASSPHRASE, now=NOW)


def test_missing_header_with_a_database(vault_home: Path) -> None:
    make(vault_home).close()
    VaultPaths(vault_home).header.unlink()
    with pytest.raises(VaultDamaged, match=r"header .* missing"):
        Vault.open(vault_home, PASSPHRASE, now=NOW)


@pytest.mark.parametrize("kind", ["random", "plain-sqlite", "other-vault"])
def test_database_that_is_not_this_vault(vault_home: Path, tmp_path: Path, kind: str) -> None:
    make(vault_home).close()
    db = VaultPaths(vault_home).database
    if kind == "random":
        db.write_bytes(os.urandom(8192))
    elif kind == "plain-sqlite":
        db.unlink()
        sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    else:
        other = tmp_path / "other"
        Vault.create(other, PASSPHRASE, now=NOW, kdf=FAST_KDF).close()
        shutil.copy(VaultPaths(other).database, db)
    before = snapshot(vault_home)
    with pytest.raises(VaultDamaged, match="cannot be read"):
        Vault.open(vault_home, PASSPHRASE, now=NOW)
    assert snapshot(vault_home) == before


def test_schema_1_fixture_opens_and_upgrades(tmp_path: Path) -> None:
    home = tmp_path / "v1"
    shutil.copytree(FIXTURE_V1, home)
    with Vault.open(home, "fixture passphrase v1", now=NOW) as vault:
        assert vault.schema_version == LATEST_VERSION
        assert vault.attributes() == {
            "birthdate": "1990-05-17",
            "country": "NL",
            "languages": ["en-GB", "nl"],
        }
    with Vault.open(home, "fixture passphrase v1", now=NOW) as vault:
        assert vault.schema_version == LATEST_VERSION


def test_a_vault_from_a_newer_version_is_refused(vault_home: Path) -> None:
    with make(vault_home) as vault:
        vault.conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(VaultError, match="newer"):
        Vault.open(vault_home, PASSPHRASE, now=NOW)


def test_passphrase_is_unicode_normalised(vault_home: Path) -> None:
    composed, decomposed = "caf\u00e9 au lait!", "cafe\u0301 au lait!"
    Vault.create(vault_home, composed, now=NOW, kdf=FAST_KDF).close()
    Vault.open(vault_home, decomposed, now=NOW).close()


def test_schema_1_fixture_gains_a_master_seed_on_upgrade(tmp_path: Path) -> None:
    home = tmp_path / "v1"
    shutil.copytree(FIXTURE_V1, home)
    with Vault.open(home, "fixture passphrase v1", now=NOW) as vault:
        seed = vault.master_seed()
        assert len(seed) == 32
        assert vault.site_epoch("https://shop.example") == 0
    with Vault.open(home, "fixture passphrase v1", now=NOW) as vault:
        assert vault.master_seed() == seed, "the seed is made once, by the migration"


def test_site_epochs(vault_home: Path) -> None:
    with make(vault_home) as vault:
        assert vault.site_epoch("https://a.example") == 0
        assert vault.bump_site_epoch("https://a.example", now=NOW) == 1
        assert vault.bump_site_epoch("https://a.example", now=NOW) == 2
        assert vault.site_epoch("https://b.example") == 0
