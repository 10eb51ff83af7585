"""What the Chromium and the Firefox browser handles of the tests share: the badge, the extension's own
pages and a site's page, over each one's `context`, `worker()` and `extension_url`."""

from __future__ import annotations

import time
from typing import Any


class ExtensionBrowser:
    context: Any
    extension_url: str

    def worker(self, timeout: float = 20.0) -> Any:
        raise NotImplementedError

    def badge(self) -> str:
        return self.worker().evaluate("chrome.action.getBadgeText({})")

    def wait_for_badge(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while (shown := self.badge()) != text:
            assert time.monotonic() < deadline, f"badge shows {shown!r}, not {text!r}"
            time.sleep(0.1)

    def extension_page(self, path: str, *, width: int = 1000, height: int = 760) -> Any:
        page = self.context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.goto(self.extension_url + path)
        return page

    def site_page(self, url: str) -> Any:
        page = self.context.new_page()
        page.goto(url)
        page.wait_for_function("() => typeof window.personalVault === 'object'")
        return page
