"""The demo shop after the first exchange, in real Chromium and Firefox with the real extension, native
host and daemon: its messages arrive (a change notice with its acknowledgement, a proposal its page hands
over with `personalVault.notify`), the proposal opens the normal prompt only when the user accepts it in
the popup, and "Ask what it holds" shows the shop's signed statement matching the vault's records."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from tests.daemon.support import DaemonProcess
from tests.e2e.test_shop import (
    PROMPT_VIEW,
    Windows,
    asked,
    first_visit,
    held,
    is_prompt,
    screenshot,
)
from tests.extension.support import WAIT_MS, Browser, admin_call
from vault.demo.server import ShopThread

pytestmark = pytest.mark.slow


def inbox(daemon: DaemonProcess, origin: str) -> list[dict]:
    return admin_call(daemon, "GET", f"/v1/messages?origin={quote(origin, safe='')}")["messages"]


def test_a_proposal_opens_the_prompt_only_when_accepted_and_the_shop_says_what_it_holds(
    browser: Browser, shop: ShopThread, daemon: DaemonProcess
) -> None:
    first_visit(browser, shop)  # shares; the shop's acknowledgement and its page then write to the vault
    windows = Windows(browser)
    deadline = time.monotonic() + 30
    while len(messages := inbox(daemon, shop.url)) < 2:  # notify answers at once, forwards after
        assert time.monotonic() < deadline, messages
        time.sleep(0.2)
    kinds = {m["kind"]: m for m in messages}
    assert kinds["change"]["via"] == "acknowledgement" and kinds["change"]["effective_at"]
    proposal = kinds["proposal"]
    assert (proposal["via"], proposal["purpose"]) == ("page", "suggestions")
    assert proposal["url"] == shop.url + "/offers/interests" and proposal["accepted_at"] is None
    time.sleep(1)
    assert windows.prompts() == []  # a proposal by itself asks nothing, and shares nothing
    assert [p["purpose"] for p in held(shop)["presentations"]] == ["recommendations"]

    popup = browser.extension_page(
        f"pages/popup.html?origin={quote(shop.url, safe='')}", width=360, height=1000
    )
    accept = f'[data-accept="{proposal["jti"]}"]'
    popup.wait_for_selector(accept, timeout=WAIT_MS)
    text = popup.inner_text("#messages")
    assert "Share your interests" in text and "our analytics partner works from Germany" in text
    screenshot(popup, "popup-messages", element="body")

    # Accept: the popup opens the shop's offer page, whose own request brings the normal prompt.
    with browser.context.expect_page(is_prompt, timeout=WAIT_MS) as opened:
        popup.click(accept)
    prompt = opened.value
    prompt.set_viewport_size(PROMPT_VIEW)
    prompt.wait_for_selector("#share:enabled", timeout=WAIT_MS)
    assert asked(prompt) == {"interests": "jazz"}
    assert "Suggestions for your interests" in prompt.inner_text("body")
    screenshot(prompt, "prompt-proposal")
    prompt.click("#share")
    [offer] = [p for p in windows.opened if p.url == proposal["url"]]
    offer.wait_for_selector("#suggested:not([hidden])", timeout=WAIT_MS)
    offer.wait_for_function(
        "() => document.getElementById('promise').textContent.includes('stored in your vault')",
        timeout=WAIT_MS,
    )
    assert "you like jazz" in offer.inner_text("#suggestions")
    screenshot(offer, "shop-offer-accepted")
    [kept] = [p for p in held(shop)["presentations"] if p["purpose"] == "suggestions"]
    assert kept["claims"] == {"interests": ["jazz"]}
    [accepted] = [m for m in inbox(daemon, shop.url) if m["kind"] == "proposal"]
    assert accepted["accepted_at"] is not None

    # "Ask what it holds": the shop's signed statement, compared with the ledger: it matches.
    popup.reload()
    popup.click("#ask-access")
    popup.wait_for_selector('.access-view[data-state="answered"]', timeout=WAIT_MS)
    view = popup.inner_text("#access-result")
    assert "This matches what your vault recorded." in view
    assert "Shoe recommendations" in view and "Suggestions for your interests" in view, view
    screenshot(popup, "popup-access-answered", element="body")
