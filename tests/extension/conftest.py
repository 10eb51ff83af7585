"""Real parts for the extension's browser tests: a `vault serve` process, Debian's Chromium with the
unpacked extension and our native host, and a tiny test site on 127.0.0.1 serving its manifest.

Everything is per test (a fresh vault, a fresh browser profile): chrome.storage.local and the daemon's
pairings must not carry over. Only one Chromium runs at a time (the machines have 2 cores).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.support import PROFILE, DaemonProcess, make_vault, short_dir
from tests.extension.support import (
    Browser,
    ShopSite,
    approve_pairing,
    chromium_path,
    serving,
    shop_on,
)
from tests.support import skip_or_fail
from vault.daemon.install import install_browser
from vault.demo.chromium import launch_headless
from vault.site import Controller


@pytest.fixture
def site() -> Iterator[ShopSite]:
    controller = Controller(
        name="Test Shoes B.V.", contact="privacy@shoes.test", privacy_policy="https://shoes.test/privacy"
    )
    with serving() as server:
        yield shop_on(server, controller)


@pytest.fixture
def profile() -> dict[str, Any]:
    """The vault's profile (tests/e2e overrides it)."""
    return PROFILE


@pytest.fixture
def daemon(profile: dict[str, Any]) -> Iterator[DaemonProcess]:
    directory = short_dir()
    home = make_vault(directory / "home", profile)
    process = DaemonProcess(home, socket_dir=directory, args=("--allow-loopback-http",))
    try:
        with process:
            yield process
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def launch(tmp_path: Path, daemon: DaemonProcess) -> Iterator[Callable[[], Browser]]:
    """launch() -> Chromium whose extension talks to `daemon` through the real native host."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed in the virtualenv")
    executable = chromium_path()
    user_data_dir = tmp_path / "chromium"
    user_data_dir.mkdir()
    install_browser("chromium", profile=user_data_dir, socket_path=daemon.socket, home=tmp_path / "home")
    manager = sync_playwright().start()
    contexts: list[Any] = []

    def start() -> Browser:
        assert not contexts, "one Chromium at a time"
        context = launch_headless(manager, user_data_dir, executable)
        contexts.append(context)
        browser = Browser(context)
        browser.worker()
        return browser

    try:
        yield start
    finally:
        for context in contexts:
            context.close()
        manager.stop()


@pytest.fixture
def browser(launch: Callable[[], Browser], daemon: DaemonProcess) -> Browser:
    """A browser whose extension is paired with the daemon, as after `vault pair approve CODE`."""
    started = launch()
    approve_pairing(daemon)
    return started
