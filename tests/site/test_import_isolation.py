"""`vault.site` works with only cryptography, msgspec and rfc8785: the daemon's dependencies are blocked
before the import, and a token is verified in that process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCKED = ("litestar", "sqlcipher3", "argon2", "click", "rich", "redis", "platformdirs")

SCRIPT = textwrap.dedent(
    """
    import importlib.abc
    import sys

    BLOCKED = set(sys.argv[1].split(","))

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked for this test: {name}")
            return None

    sys.meta_path.insert(0, Blocker())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]

    import vault.site
    from tests import example
    from vault.protocol import issue_presentation

    manifest = example.manifest()
    nonce = vault.site.make_nonce()
    token = issue_presentation(
        example.pairwise_key(), manifest, "age-check", example.ORIGIN, nonce, {"age_over_18": True},
        example.NOW, "isolation-test-01",
    )
    verified = vault.site.verify_presentation(
        token, manifest=manifest, nonce=nonce, now=example.NOW, replay=vault.site.InMemoryReplayStore()
    )
    assert verified.claims == {"age_over_18": True}
    try:
        vault.site.RedisReplayStore
    except ImportError:
        pass
    else:
        raise AssertionError("RedisReplayStore should need redis")
    loaded = sorted({name.split(".")[0] for name in sys.modules} & BLOCKED)
    assert not loaded, loaded
    print("ok")
    """
)


def test_site_library_imports_and_verifies_without_daemon_dependencies() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(BLOCKED)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"


def test_vault_package_root_imports_nothing() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, vault; print(sorted(m for m in sys.modules if m.startswith('vault')))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert completed.stdout.strip() == "['vault']"
