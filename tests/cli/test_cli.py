"""The `vault` command as a person or a script uses it: a real process, real files, exit codes, messages."""

import json
import os
from pathlib import Path

import pytest

from tests.support import PASSPHRASE, snapshot

FAST = ("--kdf-time", "2", "--kdf-memory-mib", "19")


@pytest.fixture
def initialised(run_vault, vault_home: Path) -> Path:
    result = run_vault("init", *FAST)
    assert result.code == 0, result.err
    assert "Created a vault" in result.out
    return vault_home


def test_profile_set_get_list_unset(run_vault, initialised: Path) -> None:
    assert run_vault("profile", "set", "birthdate", "1990-05-17").code == 0
    result = run_vault("profile", "set", "languages", "en_gb, NL")
    assert result.code == 0 and "en-GB, nl" in result.out
    assert run_vault("profile", "set", "sizes.shoe", "42.5").code == 0
    assert run_vault("profile", "get", "sizes.shoe").out.strip() == "42.5"
    assert json.loads(run_vault("profile", "get", "languages", "--json").out) == ["en-GB", "nl"]
    listed = json.loads(run_vault("profile", "list", "--json").out)
    assert listed == {"birthdate": "1990-05-17", "languages": ["en-GB", "nl"], "sizes.shoe": 42.5}
    human = run_vault("profile", "list", "--all").out
    assert "birthdate" in human and "not set" in human and "accessibility" in human
    assert run_vault("profile", "unset", "sizes.shoe").out.strip() == "sizes.shoe removed"
    result = run_vault("profile", "get", "sizes.shoe")
    assert result.code == 1 and "not set" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("profile", "set", "birthdate", "2090-01-01"), "in the future"),
        (("profile", "set", "country", "XX"), "ISO 3166-1"),
        (("profile", "set", "sizes.shoe", "banana"), "not a number"),
        (("profile", "set", "nickname", "Ada"), "unknown attribute"),
        (("profile", "get", "nickname"), "unknown attribute"),
        (("profile", "unset", "custom.BAD"), "custom attribute name"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
    run_vault, initialised: Path, args, message
) -> None:
    assert run_vault("profile", "set", "country", "NL").code == 0
    before = snapshot(initialised)
    result = run_vault(*args)
    assert result.code == 1
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert result.err.startswith("Error: ")
    assert snapshot(initialised) == before


def test_wrong_passphrase_exit_3_changes_nothing(run_vault, initialised: Path) -> None:
    before = snapshot(initialised)
    result = run_vault("profile", "set", "country", "NL", passphrase="wrong passphrase")
    assert result.code == 3 and "wrong passphrase" in result.err
    assert snapshot(initialised) == before


def test_no_vault_exit_4(run_vault, tmp_path: Path) -> None:
    result = run_vault("profile", "list", home=tmp_path / "none")
    assert result.code == 4 and "vault init" in result.err


def test_damaged_header_exit_4(run_vault, initialised: Path) -> None:
    (initialised / "vault-header.json").write_text("{not json")
    result = run_vault("profile", "list")
    assert result.code == 4 and "damaged" in result.err


def test_database_that_is_not_a_vault_exit_4(run_vault, initialised: Path) -> None:
    (initialised / "vault.db").write_bytes(os.urandom(4096))
    result = run_vault("profile", "list")
    assert result.code == 4 and "cannot be read" in result.err


def test_init_over_existing_vault(run_vault, initialised: Path) -> None:
    assert run_vault("profile", "set", "country", "NL").code == 0
    before = snapshot(initialised)
    result = run_vault("init", *FAST)
    assert result.code == 5 and "--force" in result.err
    # --force asks; without a terminal and without --yes it refuses rather than guess.
    result = run_vault("init", "--force", *FAST)
    assert result.code == 1 and "--yes" in result.err
    assert snapshot(initialised) == before
    # A too-short new passphrase is refused before anything is deleted.
    result = run_vault("init", "--force", "--yes", *FAST, passphrase="short")
    assert result.code == 1 and "too short" in result.err
    assert snapshot(initialised) == before
    assert run_vault("init", "--force", "--yes", *FAST).code == 0
    assert json.loads(run_vault("profile", "list", "--json").out) == {}


def test_passphrase_file(run_vault, initialised: Path, tmp_path: Path) -> None:
    good = tmp_path / "pass.txt"
    good.write_text(PASSPHRASE + "\n")
    assert run_vault("--passphrase-file", str(good), "profile", "list", passphrase=None).code == 0
    result = run_vault("--passphrase-file", str(tmp_path / "missing"), "profile", "list", passphrase=None)
    assert result.code == 1 and "cannot read passphrase file" in result.err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = run_vault("--passphrase-file", str(empty), "profile", "list", passphrase=None)
    assert result.code == 1 and "empty" in result.err


def test_no_passphrase_and_no_terminal(run_vault, initialised: Path) -> None:
    result = run_vault("profile", "list", passphrase=None, stdin="")
    assert result.code == 1 and "VAULT_PASSPHRASE" in result.err


def test_passwd(run_vault, initialised: Path, tmp_path: Path) -> None:
    assert run_vault("profile", "set", "custom.note", "survives").code == 0
    result = run_vault("passwd", env={"VAULT_NEW_PASSPHRASE": "another good passphrase"})
    assert result.code == 0, result.err
    assert run_vault("profile", "list").code == 3
    result = run_vault("profile", "get", "custom.note", passphrase="another good passphrase")
    assert result.out.strip() == "survives"
    new_file = tmp_path / "new.txt"
    new_file.write_text("third passphrase here")
    result = run_vault(
        "passwd",
        "--new-passphrase-file",
        str(new_file),
        "--kdf-time",
        "4",
        passphrase="another good passphrase",
    )
    assert result.code == 0, result.err
    status = json.loads(run_vault("status", "--json", passphrase=None).out)
    assert status["kdf"]["time_cost"] == 4


def test_status_needs_no_passphrase(run_vault, vault_home: Path, initialised: Path, tmp_path: Path) -> None:
    status = json.loads(run_vault("status", "--json", passphrase=None).out)
    assert status["initialised"] is True and status["vault"] == str(vault_home)
    assert status["kdf"] == {"algorithm": "argon2id", "time_cost": 2, "memory_mib": 19, "parallelism": 1}
    assert "Argon2id" in run_vault("status", passphrase=None).out
    missing = run_vault("status", home=tmp_path / "none", passphrase=None)
    assert missing.code == 0 and "No vault" in missing.out


def test_default_kdf_is_argon2id_3_passes_64_mib(run_vault, vault_home: Path) -> None:
    assert run_vault("init").code == 0
    status = json.loads(run_vault("status", "--json").out)
    assert status["kdf"] == {"algorithm": "argon2id", "time_cost": 3, "memory_mib": 64, "parallelism": 1}


def test_help_and_usage_errors(run_vault) -> None:
    result = run_vault("--help")
    assert result.code == 0 and "Exit codes" in result.out and "VAULT_PASSPHRASE" in result.out
    assert run_vault("profile", "set", "--help").out.count("Examples") == 1
    result = run_vault("profile", "set", "country")
    assert result.code == 2 and "Missing argument" in result.err
    assert run_vault("--version").code == 0
