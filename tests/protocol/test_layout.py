"""Architecture rules that are cheap to check: where `cryptography` is used, and that the protocol takes
its clock and randomness as arguments."""

from __future__ import annotations

import ast
from pathlib import Path

VAULT = Path(__file__).resolve().parents[2] / "vault"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_keys_py_imports_cryptography() -> None:
    users = {
        path.relative_to(VAULT).as_posix()
        for path in VAULT.rglob("*.py")
        if any(name.split(".")[0] == "cryptography" for name in imported_modules(path))
    }
    assert users <= {"protocol/keys.py"}, users


def test_protocol_has_no_clock_no_randomness_no_io() -> None:
    forbidden = {"time", "datetime", "random", "secrets", "os", "socket", "pathlib", "io", "subprocess"}
    for path in (VAULT / "protocol").glob("*.py"):
        roots = {name.split(".")[0] for name in imported_modules(path)}
        assert not roots & forbidden, (path.name, roots & forbidden)


def test_protocol_and_site_do_not_import_the_daemon_side() -> None:
    allowed_roots = {"vault.protocol", "vault.site"}
    for package in ("protocol", "site"):
        for path in (VAULT / package).glob("*.py"):
            for name in imported_modules(path):
                if name.startswith("vault"):
                    assert any(name.startswith(root) for root in allowed_roots), (path.name, name)
                    if package == "protocol":
                        assert not name.startswith("vault.site"), (path.name, name)


def test_modules_stay_small() -> None:
    for package in ("protocol", "site"):
        for path in (VAULT / package).glob("*.py"):
            assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name
