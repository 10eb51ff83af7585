"""Real parts for the extension's browser tests: a `vault serve` process, Debian's Chromium or firefox-esr
with the unpacked extension and our native host, and a tiny test site on 127.0.0.1 serving its manifest.

Everything is per test (a fresh vault, a fresh browser profile): extension storage and the daemon's
pairings must not carry over. Only one browser runs at a time (the machines have 2 cores).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browsers.bidi import MIN_VERSION
from tests.browsers.firefox import FirefoxBrowser, SharedFirefox
from tests.daemon.support import PROFILE, DaemonProcess, make_vault, short_dir
from tests.extension.support import (
    BROWSERS,
    EXTENSION,
    Browser,
    ShopSite,
    approve_pairing,
    chromium_path,
    serving,
    shop_on,
)
from tests.support import skip_or_fail
from vault.daemon.browser import HOST_NAME
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


@pytest.fixture(params=BROWSERS)
def browser_name(request: pytest.FixtureRequest) -> str:
    """Every browser test runs in Chromium and in Firefox: one suite, two browsers."""
    return request.param


@pytest.fixture
def launch(
    request: pytest.FixtureRequest, browser_name: str, tmp_path: Path, daemon: DaemonProcess
) -> Iterator[Callable[[], Browser | FirefoxBrowser]]:
    """launch() -> the browser, whose extension talks to `daemon` through the real native host."""
    if browser_name == "firefox":
        yield from launch_firefox(request.getfixturevalue("shared_firefox"), daemon)
    else:
        yield from launch_chromium(tmp_path, daemon)


def launch_chromium(tmp_path: Path, daemon: DaemonProcess) -> Iterator[Callable[[], Browser]]:
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


FIREFOX_HOST_MANIFEST = f".mozilla/native-messaging-hosts/{HOST_NAME}.json"


def launch_firefox(
    shared: SharedFirefox | None, daemon: DaemonProcess
) -> Iterator[Callable[[], FirefoxBrowser]]:
    """Firefox finds the native host only under $HOME/.mozilla (FIREFOX-TESTING.md): the shared Firefox's
    HOME, which `vault install-browser --browser firefox` writes to for this test's daemon, as it does for a
    person (Firefox reads the manifest again at every connection)."""
    if shared is None:
        skip_or_fail(f"firefox-esr {MIN_VERSION} or newer is not installed (apt-get install firefox-esr)")
        raise AssertionError("unreachable")
    command = ["install-browser", "--browser", "firefox", "--socket", str(daemon.socket), "--json"]
    installed = subprocess.run(
        [sys.executable, "-m", "vault", *command],
        env={**os.environ, "HOME": str(shared.home)}, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(installed.stdout)["manifest"] == str(shared.home / FIREFOX_HOST_MANIFEST)
    started: list[FirefoxBrowser] = []

    def start() -> FirefoxBrowser:
        assert not started, "one Firefox at a time"
        started.append(FirefoxBrowser(shared.running(), EXTENSION))
        return started[0]

    try:
        yield start
    finally:
        for running in started:
            try:
                running.close()
            except Exception:
                shared.stop()  # in a state we cannot undo: the next test gets a new Firefox
                raise


@pytest.fixture
def browser(
    launch: Callable[[], Browser | FirefoxBrowser], daemon: DaemonProcess
) -> Browser | FirefoxBrowser:
    """A browser whose extension is paired with the daemon, as after `vault pair approve CODE`."""
    started = launch()
    approve_pairing(daemon)
    return started
