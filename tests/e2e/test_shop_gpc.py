"""Global Privacy Control on the demo shop, in real Chromium and Firefox with the real extension: a fresh
vault's Everyday refuses selling data and targeted advertising, so the extension sends `Sec-GPC: 1`, and
the shop's page (rendered by its server from that request's header) says it received the signal; the
page's scripts read navigator.globalPrivacyControl === true; the popup shows the shop's
/.well-known/gpc.json declaration. Turned off for the shop in the vault, the next load carries no signal,
the page says so, and its scripts read the browser's own answer."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.daemon.support import DaemonProcess
from tests.extension.support import WAIT_MS, Browser, admin_call
from tests.extension.test_gpc import BROWSER_OWN_GPC
from vault.demo.server import ShopThread

pytestmark = pytest.mark.slow

RECEIVED = "We received your browser's Global Privacy Control signal with this page"
NOT_RECEIVED = "Your browser sent no Global Privacy Control signal with this page."


def wait_until_applied(browser: Browser, excluded: list[str]) -> None:
    """The worker's request rule for pages is in force, sending everywhere but `excluded` hosts."""
    deadline = time.monotonic() + 15
    while True:
        rules = browser.worker().evaluate("chrome.declarativeNetRequest.getDynamicRules()")
        # Firefox lists every condition key, an unset one as null; Chromium leaves it out.
        pages = next((r for r in rules if "main_frame" in (r["condition"].get("resourceTypes") or [])), None)
        if pages is not None and sorted(pages["condition"].get("excludedRequestDomains") or []) == excluded:
            return
        assert time.monotonic() < deadline, rules
        time.sleep(0.1)


def popup(browser: Browser, origin: str) -> Any:
    page = browser.extension_page(f"pages/popup.html?origin={quote(origin, safe='')}", width=360, height=600)
    page.wait_for_selector('#gpc-declaration[data-state="done"]', timeout=WAIT_MS)
    return page


def gpc_notice(browser: Browser, url: str) -> tuple[str, Any]:
    page = browser.context.new_page()
    page.goto(url)
    text = page.inner_text("#gpc")
    seen = page.evaluate("() => navigator.globalPrivacyControl")
    page.close()
    return text, seen


def test_the_shop_page_says_it_received_gpc_through_the_extension(
    browser: Browser, shop: ShopThread, daemon: DaemonProcess
) -> None:
    assert admin_call(daemon, "GET", "/v1/gpc")["sent"] is True  # a fresh vault refuses selling data
    shown = popup(browser, shop.url)  # opening the popup brings the worker in step with the vault
    assert shown.inner_text("#gpc-sent") == "Sent to this site"
    assert shown.inner_text("#gpc-declaration") == "This site says it honours GPC (updated 1 January 2026)."
    shown.close()
    wait_until_applied(browser, [])

    text, seen = gpc_notice(browser, shop.url + "/")
    assert text.startswith(RECEIVED) and "will not sell or share your personal data" in text, text
    assert seen is True

    # Off for the shop: the vault's standing setting; the browser's rule follows, and so does the page.
    admin_call(daemon, "POST", "/v1/gpc/site", {"origin": shop.url, "gpc": "off"})
    popup(browser, shop.url).close()  # the popup refreshes the worker's rules at once
    wait_until_applied(browser, ["127.0.0.1"])
    text, seen = gpc_notice(browser, shop.url + "/")
    assert text.startswith(NOT_RECEIVED) and seen is BROWSER_OWN_GPC[browser.name], text
