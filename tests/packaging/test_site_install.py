"""A website installs the site library alone: the wheel, installed as a site would (`pip install
personal-vault`) into a fresh virtual environment, brings cryptography, msgspec and rfc8785 and none of
the vault application's dependencies, and verifies a real presentation there.

The wheel is built once for the module from a copy of the source (no build/ or egg-info in the working
tree) with this venv's setuptools; the fresh environment fetches the site's dependencies through pip (its
cache, or the package index). Nothing here skips: a failure to build or install is a failure.
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

SITE_DISTRIBUTIONS = {"msgspec", "cryptography", "rfc8785"}
# The `personal-vault[app]` (and `[redis]`) distributions, and the names they import as.
APP_DISTRIBUTIONS = {
    "sqlcipher3": "sqlcipher3",
    "argon2-cffi": "argon2",
    "platformdirs": "platformdirs",
    "click": "click",
    "rich": "rich",
    "litestar": "litestar",
    "uvicorn": "uvicorn",
    "httptools": "httptools",
    "uvloop": "uvloop",
    "redis": "redis",
}

# The site check scripts/package runs too: it verifies a presentation with the site library alone, checks
# that RedisReplayStore needs redis, and fails when any of its APP_MODULES is importable.
CHECK = ROOT / "scripts" / "check_package.py"


def run(args: list[str | Path], *, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return normalise(match.group())


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a clean clone builds from: the package, its metadata files, no caches or build output."""
    src = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    shutil.copytree(ROOT / "vault", src / "vault", ignore=ignore)
    return src


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", out],
        cwd=source,
    )
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("personal_vault-*.whl")
    return path


@pytest.fixture(scope="module")
def site_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A fresh venv (no system site packages) with the wheel installed as the README tells websites to."""
    env_dir = tmp_path_factory.mktemp("site-venv")
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(env_dir)
    installed = run(
        [env_dir / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", f"{wheel}[site]"],
        cwd=env_dir,
    )
    assert installed.returncode == 0, installed.stderr
    return env_dir, installed.stderr


def test_wheel_holds_every_file_of_the_package(source: Path, wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    files = {p.relative_to(source).as_posix() for p in (source / "vault").rglob("*") if p.is_file()}
    assert files - names == set()
    # The package data a site or the demo reads at run time, named so a bad glob cannot hide it.
    for data in (
        "vault/protocol/SPEC.md",
        "vault/protocol/examples/manifest.json",
        "vault/protocol/vectors/valid_age_check.json",
        "vault/consent/export-schema.json",
        "vault/demo/shop_static/shop.js",
        "vault/demo/shop_static/shop.css",
        "vault/demo/templates/layout.html",
    ):
        assert data in names
    # The example shop's private keys are test support (tests/example.py), never shipped.
    assert "vault/protocol/example.py" not in names
    assert len([n for n in names if n.startswith("vault/protocol/vectors/")]) == len(
        list((source / "vault/protocol/vectors").iterdir())
    )


def test_wheel_metadata_requires_only_the_site_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        (meta_name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.parser.Parser().parsestr(zf.read(meta_name).decode())
        scripts = zf.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    requires = meta.get_all("Requires-Dist") or []
    base = {requirement_name(r) for r in requires if ";" not in r}
    assert base == SITE_DISTRIBUTIONS
    assert {"app", "site", "redis", "dev"} <= set(meta.get_all("Provides-Extra") or [])
    app = {requirement_name(r) for r in requires if 'extra == "app"' in r}
    assert app == set(APP_DISTRIBUTIONS) - {"redis"}
    assert "vault = vault.cli:main" in scripts


def test_site_install_has_no_daemon_dependencies(site_env: tuple[Path, str]) -> None:
    env_dir, install_log = site_env
    # pip warns, and carries on, for an extra the package does not declare.
    assert "does not provide the extra" not in install_log
    listed = run([env_dir / "bin" / "python", "-m", "pip", "list", "--format=json"], cwd=env_dir)
    assert listed.returncode == 0, listed.stderr
    installed = {normalise(d["name"]) for d in json.loads(listed.stdout)}
    assert SITE_DISTRIBUTIONS | {"personal-vault"} <= installed
    assert installed & set(APP_DISTRIBUTIONS) == set(), sorted(installed)


def test_site_install_verifies_a_presentation(site_env: tuple[Path, str]) -> None:
    env_dir, _ = site_env
    # -I: no current directory or PYTHONPATH on sys.path, so `vault` can only come from the install.
    # The check's list of the application's modules is this test's, import name for import name.
    assert sorted(runpy.run_path(str(CHECK))["APP_MODULES"]) == sorted(APP_DISTRIBUTIONS.values())
    checked = run([env_dir / "bin" / "python", "-I", CHECK, "site"], cwd=env_dir)
    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout)
    assert Path(result["vault"]).is_relative_to(env_dir), result["vault"]
    assert result["importable"] == []


@pytest.mark.parametrize("args", [["--help"], [], ["status"]])
def test_vault_command_in_a_site_install_says_what_to_install(
    site_env: tuple[Path, str], args: list[str]
) -> None:
    env_dir, _ = site_env
    completed = run([env_dir / "bin" / "vault", *args], cwd=env_dir)
    assert completed.returncode == 1
    assert completed.stdout == ""
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert "pip install 'personal-vault[app]'" in lines[0]
    assert "Traceback" not in completed.stderr
