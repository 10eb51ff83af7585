"""Elements of a Firefox page, found by selector, as Playwright's Locator: they wait for their element, and
clicks and key presses are real input events (input.performActions)."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from tests.browsers.bidi import BidiError
from tests.browsers.selectors import ENGINE, KEYS, POLL

if TYPE_CHECKING:
    from tests.browsers.firefox_page import Page


# Whether the guard pvGuardClick set stopped a click that reached something other than its element.
_MISSED = (
    "() => { const guard = window.__pvClickGuard; if (!guard) return false;"
    " guard.stop(); delete window.__pvClickGuard; return guard.missed; }"
)


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
            "if (!el) return null; pvScrollIfNeeded(el); return true;",
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

    def _aim(self, timeout: float | None) -> dict[str, int]:
        """Where a person would click: the middle of the element, once it is visible, enabled, stable (in the
        same place over an animation frame: a bar appearing above moves it) and the topmost thing there. As
        Playwright does, a guard then lets the click's events through only if they reach the element: what
        moves it between this check and the click makes the click miss instead of landing on its neighbour."""
        return self._until(
            "if (!el || !pvVisible(el) || el.disabled) return null; pvScrollIfNeeded(el);"
            " const a = el.getBoundingClientRect();"
            " return new Promise((done) => requestAnimationFrame(() => {"
            " const r = el.getBoundingClientRect();"
            " const x = Math.round(r.x + r.width / 2), y = Math.round(r.y + r.height / 2);"
            " const still = r.x === a.x && r.y === a.y && r.width === a.width && r.height === a.height;"
            " if (!still || !pvHits(el, document.elementFromPoint(x, y))) return done(null);"
            " pvGuardClick(el); done({x, y}); }));",
            None, timeout, "clicking",
        )  # fmt: skip

    def click(self, timeout: float | None = None, **_: Any) -> None:
        deadline = time.monotonic() + (timeout or self.page.default_timeout) / 1000
        while True:
            point = self._aim(max(deadline - time.monotonic(), POLL) * 1000)
            actions = [
                {"type": "pointerMove", "x": point["x"], "y": point["y"]},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerUp", "button": 0},
            ]
            self.page.browser.perform(
                self.page.context, [{"type": "pointer", "id": "mouse", "actions": actions}]
            )
            missed = False
            with contextlib.suppress(BidiError):  # the click navigated or closed the page: it landed
                missed = self.page.evaluate(_MISSED)
            if not missed:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out: clicking {self.selector!r} (something else was hit)")

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
