"""Real parts for the end-to-end tests: the demo shop (vault.demo, served by uvicorn on 127.0.0.1), a
`vault serve --allow-loopback-http` daemon on a throw-away vault, and Debian's Chromium with the unpacked
extension and the real native host.

The browser fixtures are the extension tests' own (`launch`, `browser`: a fresh Chromium profile per test,
paired with the daemon); only the daemon differs, with a profile that can also answer `languages` (the
claim the "changed purpose" scenario adds). One Chromium at a time.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.daemon.support import PROFILE, DaemonProcess, make_vault, short_dir
from tests.extension.conftest import browser, launch  # noqa: F401 (fixtures, used by name)
from vault.demo.server import ShopThread

E2E_PROFILE = {**PROFILE, "languages": ["nl", "en"]}


@pytest.fixture
def daemon() -> Iterator[DaemonProcess]:
    directory = short_dir()
    home = make_vault(directory / "home", E2E_PROFILE)
    process = DaemonProcess(home, socket_dir=directory, args=("--allow-loopback-http",))
    try:
        with process:
            yield process
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def shop() -> Iterator[ShopThread]:
    """Demo Shoes on http://127.0.0.1:PORT, in a thread of this process (`shop.shop` is its state)."""
    with ShopThread() as running:
        yield running
