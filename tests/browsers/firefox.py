"""Firefox with the extension installed, shaped like tests/extension/support.py's Chromium `Browser`, so one
suite runs in both: `context` (pages, new_page, the next page that opens), `worker()` (the extension's
background, for its chrome.* APIs), `badge()`, `extension_page`, `site_page`, `stop_worker`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.browsers.bidi import BidiError, FirefoxProcess
from tests.browsers.common import ExtensionBrowser
from tests.browsers.firefox_page import DEFAULT_TIMEOUT_MS, Page

ADDON_ID = "personal-vault@personal-vault.org"
EVENTS = ["browsingContext.contextCreated", "browsingContext.contextDestroyed"]


def profile_prefs(downloads: Path) -> dict[str, Any]:
    return {
        "browser.shell.checkDefaultBrowser": False,
        "browser.startup.homepage_override.mstone": "ignore",
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.reportingpolicy.firstRun": False,
        "browser.download.folderList": 2,
        "browser.download.dir": str(downloads),
        "browser.download.useDownloadDir": True,
        "browser.download.always_ask_before_handling_new_types": False,
        "browser.download.panel.shown": True,
        LIGHT_OR_DARK: 1,  # light, as Chromium's default
    }


LIGHT_OR_DARK = "layout.css.prefers-color-scheme.content-override"
# What one test may change and the next must not inherit (the browser's own GPC switch: test_gpc).
TEST_PREFS = (LIGHT_OR_DARK, "privacy.globalprivacycontrol.enabled")


def start_firefox(executable: str, directory: Path, home: Path) -> FirefoxProcess:
    """firefox-esr with a fresh profile in `directory`, HOME `home` (where the native host is registered)."""
    downloads = directory / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    process = FirefoxProcess(executable, directory / "profile", home, profile_prefs(downloads))
    process.downloads = downloads
    tree = process.connection.send("browsingContext.getTree", {"maxDepth": 0})
    process.first_context = tree["contexts"][0]["context"]
    process.connection.send("session.subscribe", {"events": EVENTS})
    return process


class SharedFirefox:
    """One Firefox for many tests (its start and BiDi session take 5-8 s of a 10 s test): each test gets it
    with its tabs closed, its test prefs, cookies and cache reset and the add-on installed afresh (empty
    storage, a new moz-extension origin); a Firefox that died is started again."""

    def __init__(self, executable: str, directory: Path) -> None:
        self.executable, self.directory = executable, directory
        self.home = directory / "home"
        self.process: FirefoxProcess | None = None
        self.starts = 0

    def running(self) -> FirefoxProcess:
        if self.process is not None and self.process.process.poll() is not None:
            self.stop()
        if self.process is None:
            self.starts += 1
            self.process = start_firefox(self.executable, self.directory / f"run-{self.starts}", self.home)
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


class FirefoxContext:
    """The browser's top-level tabs and windows, as Playwright's BrowserContext lists its pages."""

    def __init__(self, browser: FirefoxBrowser) -> None:
        self.browser = browser
        self._pages: dict[str, Page] = {}
        self.destroyed: set[str] = set()
        self._claimed: set[str] = set()  # pages already handed out as "the page that opened"
        self._page_listeners: list[Callable[[Page], None]] = []
        browser.bidi.listeners.append(self._on_event)

    def _on_event(self, event: dict[str, Any]) -> None:  # on the reader thread: no commands here
        params = event["params"]
        if event["method"] == "browsingContext.contextDestroyed":
            self.destroyed.add(params["context"])
        elif event["method"] == "browsingContext.contextCreated" and params.get("parent") is None:
            page = self.page(params["context"])
            for listener in list(self._page_listeners):
                listener(page)

    def page(self, context: str) -> Page:
        return self._pages.setdefault(context, Page(self.browser, context))

    @property
    def pages(self) -> list[Page]:
        tree = self.browser.bidi.send("browsingContext.getTree", {"maxDepth": 0})
        hidden = {self.browser.helper_context}
        return [self.page(c["context"]) for c in tree["contexts"] if c["context"] not in hidden]

    def new_page(self) -> Page:
        try:
            created = self.browser.bidi.send("browsingContext.create", {"type": "tab"})["context"]
        except BidiError as e:
            # Firefox 153's create first reads the selected tab of getMostRecentBrowserWindow(); once in
            # CI (97a85e4, a tab closed just before) that window had no tab browser: "can't access
            # property "selectedTab", lazy.TabManager.getTabBrowser(...) is undefined". Asked once more.
            if "getTabBrowser" not in str(e):
                raise
            time.sleep(0.2)
            created = self.browser.bidi.send("browsingContext.create", {"type": "tab"})["context"]
        self._claimed.add(created)
        return self.page(created)

    def on(self, event: str, listener: Callable[[Page], None]) -> None:
        assert event == "page", event
        self._page_listeners.append(listener)

    def wait_for_event(
        self, event: str, predicate: Callable[[Page], bool] | None = None, timeout: float = DEFAULT_TIMEOUT_MS
    ) -> Page:
        """The next page that opened (a tab or window the browser or extension opened), once it has its
        address; unlike Playwright, one that opened just before the call is not missed."""
        assert event == "page", event
        deadline = time.monotonic() + timeout / 1000
        since = self.browser.first_event
        while True:
            try:
                index, created = self._next_created(since, deadline)
            except TimeoutError:
                opened = [
                    (e["params"]["context"], e["params"].get("url"))
                    for e in self.browser.bidi.events[self.browser.first_event :]
                    if e["method"] == "browsingContext.contextCreated" and e["params"].get("parent") is None
                ]
                urls = [page.url for page in self.pages]
                raise AssertionError(f"no new page opened; opened: {opened}; open now: {urls}") from None
            since = index + 1
            page = self.page(created["params"]["context"])
            with contextlib.suppress(AssertionError):
                page.wait_for_function(
                    "() => location.href !== 'about:blank' && document.readyState !== 'loading'",
                    timeout=max(1.0, (deadline - time.monotonic()) * 1000),
                )
            if predicate is None or predicate(page):
                self._claimed.add(page.context)
                return page

    def _next_created(self, since: int, deadline: float) -> tuple[int, dict[str, Any]]:
        return self.browser.bidi.wait_event(
            lambda e: (
                e["method"] == "browsingContext.contextCreated"
                and e["params"].get("parent") is None
                and e["params"]["context"] not in self._claimed
            ),
            since=since,
            timeout=max(0.0, deadline - time.monotonic()),
        )

    @contextlib.contextmanager
    def expect_page(
        self, predicate: Callable[[Page], bool] | None = None, timeout: float = DEFAULT_TIMEOUT_MS
    ) -> Iterator[Any]:
        class Info:
            value: Page

        info = Info()
        yield info
        info.value = self.wait_for_event("page", predicate, timeout=timeout)


class Background:
    """The extension's background, for reading its chrome.* APIs (badge, declarativeNetRequest rules).
    Firefox's event page is not a BiDi context, so the same APIs are read from an extension page."""

    def __init__(self, browser: FirefoxBrowser) -> None:
        self.browser = browser

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        return self.browser.helper_page().evaluate(expression, arg)


class FirefoxBrowser(ExtensionBrowser):
    name = "firefox"

    def __init__(self, process: FirefoxProcess, extension: Path) -> None:
        self.process = process
        self.bidi = process.connection
        assert process.downloads is not None
        self.downloads = process.downloads
        self.helper_context: str | None = None
        self.first_event = len(self.bidi.events)  # events before this test are not its own
        self.context = FirefoxContext(self)
        self._reset()
        installed = self.bidi.send(
            "webExtension.install", {"extensionData": {"type": "path", "path": str(extension.absolute())}}
        )
        assert installed["extension"] == ADDON_ID, installed
        policy = f'WebExtensionPolicy.getByID("{ADDON_ID}")'
        self.extension_uuid = self.chrome_evaluate(f"{policy}.mozExtensionHostname")
        self.extension_url = f"moz-extension://{self.extension_uuid}/"

    def _reset(self) -> None:
        """Firefox's first tab and nothing else; the prefs tests change back to their defaults; no cookies or
        cached responses from an earlier test (its sites were on the same hosts)."""
        # Every window and tab but the first tab Firefox opened goes: new tabs open in the most recent
        # window, which could be a small prompt window an earlier test left (clicks outside it are lost),
        # and a window BiDi creates stays in the background (its timers slowed to once a second).
        contexts = self.bidi.send("browsingContext.getTree", {"maxDepth": 0})["contexts"]
        first = self.process.first_context
        self.context._claimed.add(first)
        for context in contexts:
            if context["context"] != first:
                self.bidi.send("browsingContext.close", {"context": context["context"]})
        self.chrome_evaluate(
            f"{list(TEST_PREFS)}.forEach((name) => Services.prefs.clearUserPref(name));"
            f" Services.prefs.setIntPref({LIGHT_OR_DARK!r}, 1);"
            " Services.cookies.removeAll(); Services.cache2.clear(); true"
        )

    def close(self) -> None:
        """Uninstalls the add-on (its storage, rules and registered scripts go with it) and stops listening;
        Firefox itself stays for the next test."""
        self.bidi.listeners.remove(self.context._on_event)
        self.bidi.send("webExtension.uninstall", {"extension": ADDON_ID})

    # -- privileged (chrome) scope: prefs and the add-on's background --
    def chrome_evaluate(self, expression: str) -> Any:
        tree = self.bidi.send("browsingContext.getTree", {"moz:scope": "chrome", "maxDepth": 0})
        target = {"context": tree["contexts"][0]["context"]}
        answer = self.bidi.send(
            "script.evaluate", {"expression": expression, "target": target, "awaitPromise": True}
        )
        assert answer["type"] == "success", answer
        return answer["result"].get("value")

    def set_color_scheme(self, scheme: str) -> None:
        value = {"dark": 0, "light": 1}[scheme]
        self.chrome_evaluate(
            f'Services.prefs.setIntPref("layout.css.prefers-color-scheme.content-override", {value})'
        )

    def perform(self, context: str, actions: list[dict[str, Any]]) -> None:
        self.bidi.send("input.performActions", {"context": context, "actions": actions})
        self.bidi.send("input.releaseActions", {"context": context})

    def helper_page(self) -> Page:
        """A hidden extension tab (not among context.pages) in which the extension's APIs are read."""
        if self.helper_context is None or self.helper_context in self.context.destroyed:
            page = self.context.new_page()
            self.helper_context = page.context
            page.goto(self.extension_url + "pages/popup.html?origin=about%3Ablank")
        return self.context.page(self.helper_context)

    def worker(self, timeout: float = 20.0) -> Background:
        return Background(self)

    def stop_worker(self) -> None:
        """Stops the background as Firefox does when it is idle (the open native port otherwise keeps it)."""
        self.chrome_evaluate(
            "(async () => { const { ExtensionParent } = ChromeUtils.importESModule("
            '"resource://gre/modules/ExtensionParent.sys.mjs");'
            f' await ExtensionParent.GlobalManager.getExtension("{ADDON_ID}")'
            ".terminateBackground({disableResetIdleForTest: true}); return true; })()"
        )

    def expect_download(self, timeout: float) -> Iterator[Any]:
        before = set(self.downloads.iterdir())

        class Download:
            def __init__(self, path: Path) -> None:
                self._path = path

            def path(self) -> Path:
                return self._path

            @property
            def suggested_filename(self) -> str:
                return self._path.name

        class Info:
            value: Download

        info = Info()
        yield info
        deadline = time.monotonic() + timeout / 1000
        while True:
            done = [p for p in set(self.downloads.iterdir()) - before if not p.name.endswith(".part")]
            if done and not any(p.name.endswith(".part") for p in self.downloads.iterdir()):
                info.value = Download(done[0])
                return
            assert time.monotonic() < deadline, "no download finished"
            time.sleep(0.1)
