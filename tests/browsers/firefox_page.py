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

if TYPE_CHECKING:
    from tests.browsers.firefox import FirefoxBrowser

DEFAULT_TIMEOUT_MS = 30_000
POLL = 0.05

# Finds elements for a selector: `A >> B` parts, each CSS (with an optional trailing :has-text('x')) or
# text=x (the deepest elements whose text contains x, case-insensitively; quoted: equal to it).
ENGINE = r"""
const pvNorm = (s) => (s || "").replace(/\s+/g, " ").trim();
const pvText = (el) => pvNorm(el.innerText !== undefined ? el.innerText : el.textContent);
function pvByText(scopes, text) {
  const quoted = /^(["']).*\1$/.test(text);
  const want = pvNorm(quoted ? text.slice(1, -1) : text).toLowerCase();
  const hit = (el) => { const t = pvText(el).toLowerCase(); return quoted ? t === want : t.includes(want); };
  const found = [];
  for (const scope of scopes) {
    for (const el of [scope, ...scope.querySelectorAll("*")]) {
      if (["SCRIPT", "STYLE", "HEAD", "TITLE"].includes(el.tagName) || !hit(el)) continue;
      if ([...el.children].some(hit)) continue;
      if (!found.includes(el)) found.push(el);
    }
  }
  return found;
}
function pvQuery(selector, hasText) {
  let scopes = [document.documentElement];
  for (let part of selector.split(" >> ")) {
    part = part.trim();
    if (part.startsWith("text=")) { scopes = pvByText(scopes, part.slice(5)); continue; }
    let contains = null, deepest = false, exact = false;
    const m = part.match(/:(has-text|text-is|text)\((["'])(.*)\2\)$/);
    if (m) {
      exact = m[1] === "text-is";  // the whole text, case-sensitive (Playwright's :text-is)
      contains = exact ? pvNorm(m[3]) : pvNorm(m[3]).toLowerCase();
      deepest = m[1] === "text";
      part = part.slice(0, m.index);
    }
    const next = [];
    for (const scope of scopes) {
      const within = scope === document.documentElement ? document.querySelectorAll(part)
        : [...(scope.matches(part) ? [scope] : []), ...scope.querySelectorAll(part)];
      for (const el of within) {
        if (exact && pvText(el) !== contains) continue;
        if (contains !== null && !exact && !pvText(el).toLowerCase().includes(contains)) continue;
        if (deepest && [...el.children].some((c) => pvText(c).toLowerCase().includes(contains))) continue;
        if (!next.includes(el)) next.push(el);
      }
    }
    scopes = next;
  }
  const having = pvNorm(hasText).toLowerCase();
  if (having) scopes = scopes.filter((el) => pvText(el).toLowerCase().includes(having));
  return scopes;
}
function pvVisible(el) {
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
}
"""

KEYS = {
    "Enter": "\ue007", "Escape": "\ue00c", "Tab": "\ue004", "Backspace": "\ue003", "Delete": "\ue017",
    "ArrowUp": "\ue013", "ArrowDown": "\ue015", "ArrowLeft": "\ue012", "ArrowRight": "\ue014",
    "Space": " ", "Home": "\ue011", "End": "\ue010",
}  # fmt: skip


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


class Locator:
    def __init__(
        self, page: Page, selector: str, has_text: str | None = None, index: int | None = None
    ) -> None:
        self.page, self.selector, self.has_text, self.index = page, selector, has_text, index

    @property
    def first(self) -> Locator:
        return Locator(self.page, self.selector, self.has_text, 0)

    @property
    def last(self) -> Locator:
        return Locator(self.page, self.selector, self.has_text, -1)

    def nth(self, index: int) -> Locator:
        return Locator(self.page, self.selector, self.has_text, index)

    def locator(self, selector: str, has_text: str | None = None) -> Locator:
        assert self.index is None and self.has_text is None, "nested locators: only from a plain selector"
        return Locator(self.page, f"{self.selector} >> {selector}", has_text)

    def _run(self, body: str, arg: Any = None) -> Any:
        """Runs `body` with `els` (all matches), `el` (this locator's element or null) and `arg`."""
        script = (
            "(args) => {" + ENGINE + "const els = pvQuery(args.selector, args.hasText);"
            " const el = args.index === null ? (els[0] || null) : (els.at(args.index) || null);"
            " const arg = args.arg; " + body + "}"
        )
        return self.page.evaluate(
            script, {"selector": self.selector, "hasText": self.has_text, "index": self.index, "arg": arg}
        )

    def _until(self, body: str, arg: Any, timeout: float | None, what: str) -> Any:
        """Polls `body` until it returns something other than null."""
        deadline = time.monotonic() + (timeout or self.page.default_timeout) / 1000
        while True:
            with contextlib.suppress(BidiError):
                value = self._run(body, arg)
                if value is not None:
                    return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out: {what} {self.selector!r}")
            time.sleep(POLL)

    def wait_for(self, state: str = "visible", timeout: float | None = None) -> None:
        tests = {
            "visible": "el && pvVisible(el)",
            "attached": "el !== null",
            "hidden": "!el || !pvVisible(el)",
            "detached": "el === null",
        }
        self._until(f"return ({tests[state]}) ? true : null;", None, timeout, f"waiting for {state}")

    def count(self) -> int:
        return self._run("return els.length;")

    def all_inner_texts(self) -> list[str]:
        return self._run("return els.map((e) => e.innerText);")

    def inner_text(self, timeout: float | None = None) -> str:
        return self._until("return el ? el.innerText : null;", None, timeout, "reading")

    def text_content(self, timeout: float | None = None) -> str:
        return self._until("return el ? el.textContent : null;", None, timeout, "reading")

    def input_value(self, timeout: float | None = None) -> str:
        return self._until("return el ? el.value : null;", None, timeout, "reading")

    def get_attribute(self, name: str, timeout: float | None = None) -> str | None:
        found = self._until("return el ? [el.getAttribute(arg)] : null;", name, timeout, "reading")
        return found[0]

    def is_checked(self, timeout: float | None = None) -> bool:
        return self._until("return el ? el.checked : null;", None, timeout, "reading")

    def is_visible(self) -> bool:
        return self._run("return !!el && pvVisible(el);")

    def is_hidden(self) -> bool:
        return not self.is_visible()

    def evaluate(self, function: str, arg: Any = None) -> Any:
        """`function` called with the element (and `arg`), as Playwright's Locator.evaluate."""
        return self._until(
            "if (!el) return null; return [(" + function + ")(el, arg)];", arg, None, "evaluating"
        )[0]

    def bounding_box(self, timeout: float | None = None) -> dict[str, float]:
        return self._until(
            "if (!el) return null; const r = el.getBoundingClientRect();"
            " return {x: r.x, y: r.y, width: r.width, height: r.height};",
            None, timeout, "measuring",
        )  # fmt: skip

    def is_enabled(self) -> bool:
        return self._run("return !!el && !el.disabled;")

    def is_disabled(self, timeout: float | None = None) -> bool:
        return self._until("return el ? el.disabled === true : null;", None, timeout, "reading")

    def focus(self, timeout: float | None = None) -> None:
        self._until("if (!el) return null; el.focus(); return true;", None, timeout, "focusing")

    def evaluate_all(self, function: str, arg: Any = None) -> Any:
        """`function` called with every match (and `arg`), as Playwright's Locator.evaluate_all."""
        return self._run("return [(" + function + ")(els, arg)];", arg)[0]

    def scroll_into_view_if_needed(self, timeout: float | None = None) -> None:
        self._until(
            "if (!el) return null; el.scrollIntoView({block: 'center'}); return true;",
            None,
            timeout,
            "scrolling to",
        )

    def screenshot(self, path: str, **_: Any) -> None:
        box = self._until(
            "if (!el) return null; el.scrollIntoView({block: 'nearest'});"
            " const r = el.getBoundingClientRect();"
            " return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height};",
            None, None, "photographing",
        )  # fmt: skip
        self.page.screenshot(path, clip=box)

    def _point(self, timeout: float | None) -> dict[str, int]:
        """Where a person would click: the middle of the element, once it is visible and enabled."""
        return self._until(
            "if (!el || !pvVisible(el) || el.disabled) return null; el.scrollIntoView({block: 'center'});"
            " const r = el.getBoundingClientRect();"
            " return {x: Math.round(r.x + r.width / 2), y: Math.round(r.y + r.height / 2)};",
            None, timeout, "clicking",
        )  # fmt: skip

    def click(self, timeout: float | None = None, **_: Any) -> None:
        point = self._point(timeout)
        actions = [
            {"type": "pointerMove", "x": point["x"], "y": point["y"]},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        self.page.browser.perform(self.page.context, [{"type": "pointer", "id": "mouse", "actions": actions}])

    def check(self, timeout: float | None = None) -> None:
        if not self.is_checked(timeout):
            self.click(timeout)
        assert self.is_checked(), f"{self.selector!r} did not become checked"

    def uncheck(self, timeout: float | None = None) -> None:
        if self.is_checked(timeout):
            self.click(timeout)
        assert not self.is_checked(), f"{self.selector!r} did not become unchecked"

    def fill(self, value: str, timeout: float | None = None) -> None:
        # As Playwright does for inputs: replace the value and fire input and change.
        self._until(
            "if (!el || !pvVisible(el) || el.disabled) return null; el.focus(); el.value = arg;"
            " el.dispatchEvent(new Event('input', {bubbles: true}));"
            " el.dispatchEvent(new Event('change', {bubbles: true})); return true;",
            value, timeout, "filling",
        )  # fmt: skip

    def select_option(
        self, value: Any = None, *, label: str | None = None, timeout: float | None = None
    ) -> list[str]:
        wanted = [label] if label is not None else value if isinstance(value, list) else [value]
        return self._until(
            "if (!el || el.disabled) return null;"
            " const options = [...el.options].filter((o) => arg.includes(o.value) || arg.includes(o.label));"
            " if (options.length !== arg.length) return null;"
            " for (const o of el.options) o.selected = options.includes(o);"
            " el.dispatchEvent(new Event('input', {bubbles: true}));"
            " el.dispatchEvent(new Event('change', {bubbles: true})); return options.map((o) => o.value);",
            wanted, timeout, f"selecting {wanted} in",
        )  # fmt: skip

    def press(self, key: str, timeout: float | None = None) -> None:
        self._until("if (!el) return null; el.focus(); return true;", None, timeout, "focusing")
        self.page.keyboard.press(key)


class Keyboard:
    def __init__(self, page: Page) -> None:
        self.page = page

    def press(self, key: str) -> None:
        code = KEYS.get(key, key)
        actions = [{"type": "keyDown", "value": code}, {"type": "keyUp", "value": code}]
        self.page.browser.perform(self.page.context, [{"type": "key", "id": "keyboard", "actions": actions}])


class Mouse:
    def __init__(self, page: Page) -> None:
        self.page = page

    def click(self, x: float, y: float) -> None:
        """A real click at (x, y) in the viewport, as Playwright's page.mouse.click."""
        actions = [
            {"type": "pointerMove", "x": round(x), "y": round(y)},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        self.page.browser.perform(self.page.context, [{"type": "pointer", "id": "mouse", "actions": actions}])
