"""A Firefox tab with the part of Playwright's Page API our browser tests use, over WebDriver BiDi.

The suites are written once against Playwright's API and run in both browsers; this is the subset they
use, with Playwright's meaning: selectors are CSS plus `text=`, `:has-text()`, `:text()`, `:text-is()`
and `>>`; actions wait for their element (visible and enabled for a click); clicks and key presses are
real input events (input.performActions), so pages that trust only real input behave as they do for a
person.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.browsers.bidi import BidiError
from tests.browsers.firefox_locator import Keyboard, Locator, Mouse
from tests.browsers.selectors import POLL

if TYPE_CHECKING:
    from tests.browsers.firefox import FirefoxBrowser

DEFAULT_TIMEOUT_MS = 30_000


def _call(function: str, arg: Any) -> str:
    """An expression that runs `function` (JS source: a function, or any expression) with `arg` and yields
    its awaited result as JSON text; values cross as JSON, as Playwright's evaluate returns plain data."""
    return (
        "(async () => { let v = (" + function + ");"
        " if (typeof v === 'function') v = v(" + json.dumps(arg) + ");"
        " v = await v; return v === undefined ? 'null' : JSON.stringify(v); })()"
    )


class Frame:
    """A browsing context (a tab or an iframe in one) in which scripts run."""

    def __init__(self, browser: FirefoxBrowser, context: str) -> None:
        self.browser = browser
        self.context = context

    @property
    def url(self) -> str:
        with contextlib.suppress(BidiError):
            tree = self.browser.bidi.send("browsingContext.getTree", {"root": self.context, "maxDepth": 0})
            return tree["contexts"][0]["url"]
        return ""

    def evaluate(self, function: str, arg: Any = None) -> Any:
        answer = self.browser.bidi.send(
            "script.evaluate",
            {"expression": _call(function, arg), "target": {"context": self.context}, "awaitPromise": True},
        )
        if answer["type"] == "exception":
            details = answer["exceptionDetails"]
            raise AssertionError(f"page script failed: {details.get('text')}")
        return json.loads(answer["result"]["value"])


class Page(Frame):
    browser_name = "firefox"

    def __init__(self, browser: FirefoxBrowser, context: str) -> None:
        super().__init__(browser, context)
        self.default_timeout = DEFAULT_TIMEOUT_MS

    def __repr__(self) -> str:
        return f"<firefox page {self.context}>"

    # -- the tab --
    def goto(self, url: str, **_: Any) -> None:
        self.browser.bidi.send(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def set_content(self, html: str, **_: Any) -> None:
        """The page's document becomes `html` (as Playwright's: written into the current document)."""
        self.evaluate("(html) => { document.open(); document.write(html); document.close(); }", html)
        self.wait_for_load_state()

    def reload(self, **_: Any) -> None:
        self.browser.bidi.send("browsingContext.reload", {"context": self.context, "wait": "complete"})

    def wait_for_load_state(self, *_: Any, **__: Any) -> None:
        self.wait_for_function("() => document.readyState === 'complete'")

    def close(self) -> None:
        with contextlib.suppress(BidiError):
            self.browser.bidi.send("browsingContext.close", {"context": self.context})

    def is_closed(self) -> bool:
        # Firefox 153 sends no contextDestroyed when an extension's popup window is removed: ask the tree.
        if self.context in self.browser.context.destroyed:
            return True
        try:
            self.browser.bidi.send("browsingContext.getTree", {"root": self.context, "maxDepth": 0})
        except BidiError as e:
            if e.error != "no such frame":
                raise
            self.browser.context.destroyed.add(self.context)
            return True
        return False

    def wait_for_event(self, event: str, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
        assert event == "close", event
        deadline = time.monotonic() + timeout / 1000
        while not self.is_closed():
            assert time.monotonic() < deadline, "the page did not close"
            time.sleep(POLL)

    def set_viewport_size(self, size: dict[str, int]) -> None:
        self.browser.bidi.send("browsingContext.setViewport", {"context": self.context, "viewport": size})

    def emulate_media(self, color_scheme: str) -> None:
        self.browser.set_color_scheme(color_scheme)
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")

    @property
    def frames(self) -> list[Frame]:
        tree = self.browser.bidi.send("browsingContext.getTree", {"root": self.context})

        def walk(node: dict[str, Any]) -> list[Frame]:
            return [Frame(self.browser, node["context"])] + [
                f for c in node.get("children") or [] for f in walk(c)
            ]

        return walk(tree["contexts"][0])

    def wait_for_timeout(self, ms: float) -> None:
        time.sleep(ms / 1000)

    def wait_for_function(self, function: str, arg: Any = None, timeout: float | None = None) -> Any:
        deadline = time.monotonic() + (timeout or self.default_timeout) / 1000
        while True:
            with contextlib.suppress(AssertionError, BidiError):  # e.g. mid-navigation
                if value := self.evaluate(function, arg):
                    return value
            assert time.monotonic() < deadline, f"timed out waiting for {function}"
            time.sleep(POLL)

    def screenshot(
        self, path: str, full_page: bool = False, clip: dict[str, float] | None = None, **_: Any
    ) -> None:
        params: dict[str, Any] = {
            "context": self.context,
            "origin": "document" if full_page or clip else "viewport",
        }
        if clip:
            params["clip"] = {"type": "box", **clip}
        # Firefox captures at once: let transitions just started (a switch clicked, a colour scheme
        # changed) end first, so the picture shows the page as it settles (at most a second).
        self.evaluate(
            "Promise.race([Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null))),"
            " new Promise((r) => setTimeout(r, 1000))]).then(() => true)"
        )
        data = self.browser.bidi.send("browsingContext.captureScreenshot", params)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    @contextlib.contextmanager
    def expect_download(self, timeout: float = DEFAULT_TIMEOUT_MS) -> Any:
        yield from self.browser.expect_download(timeout)

    @property
    def keyboard(self) -> Keyboard:
        return Keyboard(self)

    @property
    def mouse(self) -> Mouse:
        return Mouse(self)

    # -- elements --
    def locator(self, selector: str, has_text: str | None = None) -> Locator:
        return Locator(self, selector, has_text)

    def wait_for_selector(
        self, selector: str, state: str = "visible", timeout: float | None = None
    ) -> Locator:
        locator = self.locator(selector)
        locator.wait_for(state=state, timeout=timeout)
        return locator

    def click(self, selector: str, **options: Any) -> None:
        self.locator(selector).click(**options)

    def fill(self, selector: str, value: str, **options: Any) -> None:
        self.locator(selector).fill(value, **options)

    def select_option(self, selector: str, value: Any = None, **options: Any) -> list[str]:
        return self.locator(selector).select_option(value, **options)

    def check(self, selector: str, **options: Any) -> None:
        self.locator(selector).check(**options)

    def uncheck(self, selector: str, **options: Any) -> None:
        self.locator(selector).uncheck(**options)

    def press(self, selector: str, key: str, **options: Any) -> None:
        self.locator(selector).press(key, **options)

    def inner_text(self, selector: str, **options: Any) -> str:
        return self.locator(selector).inner_text(**options)

    def text_content(self, selector: str, **options: Any) -> str:
        return self.locator(selector).text_content(**options)

    def get_attribute(self, selector: str, name: str, **options: Any) -> str | None:
        return self.locator(selector).get_attribute(name, **options)

    def is_checked(self, selector: str, **options: Any) -> bool:
        return self.locator(selector).is_checked(**options)

    def is_visible(self, selector: str) -> bool:
        return self.locator(selector).is_visible()

    def is_hidden(self, selector: str) -> bool:
        return self.locator(selector).is_hidden()

    def input_value(self, selector: str, **options: Any) -> str:
        return self.locator(selector).input_value(**options)

    def is_disabled(self, selector: str, **options: Any) -> bool:
        return self.locator(selector).is_disabled(**options)

    def focus(self, selector: str, **options: Any) -> None:
        self.locator(selector).focus(**options)
