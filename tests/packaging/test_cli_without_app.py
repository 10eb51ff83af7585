"""`vault` with part of `personal-vault[app]` missing says what to install, in one line, without a
traceback; a missing module that is not ours to name stays a traceback (it is a bug)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import importlib.abc
    import sys

    BLOCKED = sys.argv[1]

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    sys.argv = ["vault", *sys.argv[2:]]
    from vault.cli import main

    main()
    """
)


def run_vault(blocked: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, blocked, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("blocked", ["click", "sqlcipher3", "argon2"])
def test_missing_app_dependency_is_one_line(blocked: str) -> None:
    completed = run_vault(blocked, "--help")
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout == ""
    assert completed.stderr == (
        f"Error: the vault application is not installed (no module named {blocked!r}; "
        "this may be the site library alone): pip install 'personal-vault[app]'\n"
    )


def test_other_missing_module_is_not_disguised() -> None:
    completed = run_vault("msgspec", "--help")
    assert completed.returncode == 1
    assert "Traceback" in completed.stderr
    assert "personal-vault[app]" not in completed.stderr
