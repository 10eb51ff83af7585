import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browsers.bidi import firefox_executable
from tests.browsers.firefox import SharedFirefox
from tests.support import PASSPHRASE, Result


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@pytest.fixture
def run_vault(vault_home: Path, tmp_path: Path) -> Callable[..., Result]:
    """Runs the real `vault` command in a subprocess against vault_home, passphrase from the environment."""

    def run(
        *args: str,
        passphrase: str | None = PASSPHRASE,
        stdin: str | None = None,
        env: dict | None = None,
        home: Path | None = None,
    ) -> Result:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        environment["VAULT_HOME"] = str(home or vault_home)
        environment["HOME"] = str(tmp_path / "home")
        if passphrase is not None:
            environment["VAULT_PASSPHRASE"] = passphrase
        environment.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "vault", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def shared_firefox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedFirefox | None]:
    """One Firefox per test session (started at the first Firefox test; tests/extension/conftest.py resets
    it for each test), for the extension and end-to-end suites alike."""
    executable = firefox_executable()
    shared = SharedFirefox(executable, tmp_path_factory.mktemp("firefox")) if executable else None
    yield shared
    if shared is not None:
        shared.stop()
