"""scripts/package builds the four artefacts a person installs into dist/ and its checks pass: the wheel
with [app] in a fresh venv (vault --version, vault demo --no-browser), the site library alone, web-ext lint
on the xpi, and Chromium starting the zip's service worker. CI runs this, so a broken package fails CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.support import skip_or_fail
from vault.demo.chromium import find_chromium

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
EXTENSION_VERSION = json.loads((ROOT / "extension" / "manifest.json").read_text())["version"]


def test_package_builds_and_checks_every_artefact() -> None:
    # scripts/package installs Chromium and Node itself, as root with apt-get (as on CI's machines).
    for tool in ("chromium", "node"):
        found = find_chromium() if tool == "chromium" else shutil.which("node")
        if found is None and os.geteuid() != 0:
            skip_or_fail(f"{tool} is missing and cannot be installed without root")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    completed = subprocess.run(
        [str(ROOT / "scripts" / "package")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert "all checks passed" in completed.stdout
    report = completed.stdout
    for expected in (
        "vault --version, vault demo --no-browser ran",
        "verified a presentation",
        "web-ext lint: 0 errors",
        "Chromium started its service worker",
    ):
        assert expected in report, report

    dist = ROOT / "dist"
    wheel = dist / f"personal_vault-{VERSION}-py3-none-any.whl"
    sdist = dist / f"personal_vault-{VERSION}.tar.gz"
    zipped = dist / f"personal-vault-chromium-{EXTENSION_VERSION}.zip"
    xpi = dist / f"personal-vault-firefox-{EXTENSION_VERSION}.xpi"
    for artefact in (wheel, sdist, zipped, xpi):
        assert artefact.is_file() and artefact.stat().st_size > 0, artefact
    assert "vault/cli/__init__.py" in zipfile.ZipFile(wheel).namelist()
    extension_files = {
        p.relative_to(ROOT / "extension").as_posix()
        for p in (ROOT / "extension").rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    for package in (zipped, xpi):
        names = {name for name in zipfile.ZipFile(package).namelist() if not name.endswith("/")}
        assert names == extension_files, sorted(names ^ extension_files)
