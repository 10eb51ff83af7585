"""The demo shop in real Chromium and Firefox with the real extension, native host and daemon: the
visitor's whole story as the issue tells it, asserted on what the shop's page shows, what the shop holds,
and what the vault's ledger recorded.

Each test starts from nothing: a fresh throw-away vault (tests/daemon/support.py PROFILE, plus languages),
a fresh browser profile paired with it, and a fresh shop on http://127.0.0.1:PORT. Each test runs once in
each browser; screenshots go to tests/e2e/screenshots/BROWSER/.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import pytest

from tests.daemon.support import DaemonProcess
from tests.extension.support import WAIT_MS, Browser, admin_call
from vault.demo.partner import PARTNER_ID
from vault.demo.server import PartnerProcess, ShopThread
from vault.site import ClaimRequest

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).parent / "screenshots"
SHOP_VIEW = {"width": 1280, "height": 860}
PROMPT_VIEW = {"width": 480, "height": 760}
SHARED = ["age_over_18", "location.country", "sizes.shoe"]  # the required two, and the shoe size switched on
REFUSAL = "You chose not to share: you see our whole range, in our own order."
LANGUAGES = ClaimRequest(name="languages", required=False, why="To describe shoes in a language you read.")


# -- the visitor's side ----------------------------------------------------------------------------------


class Windows:
    """Every page the browser opens from now on; prompts() are the consent windows among them."""

    def __init__(self, browser: Browser) -> None:
        self.opened: list[Any] = []
        browser.context.on("page", lambda page: self.opened.append(page))

    def prompts(self) -> list[Any]:
        return [page for page in self.opened if "prompt.html" in page.url]


def is_prompt(page: Any) -> bool:
    return "prompt.html" in page.url


def visit_expecting_prompt(browser: Browser, page: Any, url: str | None = None) -> Any:
    """Opens the shop (or reloads it): its script asks the vault, and a consent window opens (returned once
    it takes input: it ignores input for a second after it appears)."""
    with browser.context.expect_page(is_prompt, timeout=WAIT_MS) as opened:
        page.goto(url) if url else page.reload()
    prompt = opened.value
    prompt.set_viewport_size(PROMPT_VIEW)
    prompt.wait_for_selector("#share:enabled", timeout=WAIT_MS)
    return prompt


def shop_page(browser: Browser) -> Any:
    page = browser.context.new_page()
    page.set_viewport_size(SHOP_VIEW)
    return page


def asked(prompt: Any) -> dict[str, str]:
    """The claims the prompt asks about, each with the exact value it shows (not its third parties)."""
    rows = prompt.locator("li.claim:not(.party)").evaluate_all(
        "rows => rows.map(r => [r.querySelector('input[name=\"claim\"]').value,"
        " r.querySelector('.value').innerText])"
    )
    return dict(rows)


def wait_personalised(page: Any) -> list[str]:
    """Waits until the page shows what it used and the shop's promise is stored; returns the claims the
    page says it used."""
    page.wait_for_selector("#used:not([hidden])", timeout=WAIT_MS)
    page.wait_for_function(
        "() => document.getElementById('promise').textContent.includes('stored in your vault')",
        timeout=WAIT_MS,
    )
    return page.locator("#used-claims dt").all_inner_texts()


def wait_for_status(page: Any, text: str) -> None:
    page.wait_for_function(
        "text => document.getElementById('vault-status').textContent === text", arg=text, timeout=WAIT_MS
    )


# -- the vault's and the shop's sides ---------------------------------------------------------------------


def ledger(daemon: DaemonProcess, origin: str) -> list[dict[str, Any]]:
    return admin_call(daemon, "GET", f"/v1/ledger?origin={quote(origin, safe='')}")


def site_report(daemon: DaemonProcess, origin: str) -> dict[str, Any]:
    return admin_call(daemon, "GET", f"/v1/sites/report?origin={quote(origin, safe='')}")


def held(shop: ShopThread) -> dict[str, Any]:
    """What the shop says it holds, over its own HTTP API (GET /api/held)."""
    with urllib.request.urlopen(shop.url + "/api/held", timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def with_languages(shop: ShopThread) -> list[Any]:
    """The shop's purposes, its "recommendations" asking for `languages` too (optional)."""
    return [
        msgspec.structs.replace(p, claims=(*p.claims, LANGUAGES)) if p.id == "recommendations" else p
        for p in shop.shop.manifest.purposes
    ]


# -- screenshots -----------------------------------------------------------------------------------------


def screenshot(page: Any, name: str, *, element: str | None = None, **options: Any) -> Path:
    """tests/e2e/screenshots/BROWSER/NAME.png, as the extension tests' save_screenshot; `element`: only
    that element (a popup is as tall as its body)."""
    directory = SCREENSHOTS / getattr(page, "browser_name", "chromium")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    # A switch just clicked is drawn settled, not half-way through its transition.
    options.setdefault("animations", "disabled")
    (page.locator(element) if element else page).screenshot(path=str(path), **options)
    return path


def prompt_over_shop(browser: Browser, shop_png: Path, prompt_png: Path, name: str) -> Path:
    """The consent window drawn over the shop, as the user sees them (headless windows are separate)."""

    def data(path: Path) -> str:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()

    canvas = browser.context.new_page()
    canvas.set_viewport_size(SHOP_VIEW)
    canvas.set_content(
        '<body style="margin:0;position:relative;background:#fff">'
        f'<img src="{data(shop_png)}" style="display:block;filter:brightness(0.85)">'
        f'<img src="{data(prompt_png)}" style="position:absolute;top:50px;left:{SHOP_VIEW["width"] - 540}px;'
        'border:1px solid #666;border-radius:8px;box-shadow:0 12px 40px rgba(0,0,0,.45)"></body>'
    )
    canvas.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    path = screenshot(canvas, name)
    canvas.close()
    return path


# -- the scenarios ---------------------------------------------------------------------------------------


def first_visit(
    browser: Browser, shop: ShopThread, *, screenshots: bool = False, allow_partner: bool = False
) -> Any:
    """The visitor's first visit: the prompt shows the exact values with only the required claims switched
    on, and the analytics partner switched off; they switch on their shoe size (leaving `interests` off),
    the partner too if `allow_partner`, choose "remember" and share; the page is personalised from the
    three shared claims."""
    page = shop_page(browser)
    prompt = visit_expecting_prompt(browser, page, shop.url)
    assert asked(prompt) == {
        "age_over_18": "Yes",
        "location.country": "NL",
        "sizes.shoe": "42",
        "interests": "jazz",
    }
    text = prompt.inner_text("body")
    assert "Demo Shoes" in text and "Shoe recommendations" in text and "30 days" in text
    if screenshots:
        prompt_png = screenshot(prompt, "prompt")
        shop_png = screenshot(page, "shop-asking")
        prompt_over_shop(browser, shop_png, prompt_png, "prompt-over-shop")
    switched_on = prompt.locator('input[name="claim"]:checked')
    assert [switched_on.nth(i).get_attribute("value") for i in range(switched_on.count())] == SHARED[:2]
    partner_switch = prompt.locator(f'input[name="recipient"][value="{PARTNER_ID}"]')
    assert not partner_switch.is_checked()  # an optional third party starts off
    assert "Demo Analytics B.V." in prompt.inner_text(f'li.party[data-party="{PARTNER_ID}"]')
    prompt.check('input[name="claim"][value="sizes.shoe"]')
    if allow_partner:
        partner_switch.check()
    prompt.click('label.option:has-text("Remember for this site")')
    prompt.click("#share")
    assert wait_personalised(page) == SHARED
    return page


def test_first_visit_shares_what_is_switched_on_and_the_vault_records_it(
    browser: Browser, shop: ShopThread, daemon: DaemonProcess, partner: PartnerProcess
) -> None:
    page = first_visit(browser, shop, screenshots=True)
    assert "interests" not in page.inner_text("#used-claims") and "jazz" not in page.inner_text("#used")
    assert page.inner_text("#not-shared") == "You chose not to share: interests."
    assert page.inner_text("#vault-status") == "Personalised with facts your vault verified."
    screenshot(page, "shop-personalised", full_page=True)

    # The shop's server verified the token and keeps exactly the shared claims.
    [kept] = held(shop)["presentations"]
    assert kept["claims"] == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42}
    # The analytics partner was left off: the shop passed it nothing, and it holds nothing.
    assert kept["passed_to"] == [] and partner.held() == []

    # The vault: the decision, the disclosure of exactly those values, and the shop's signed promise.
    entries = ledger(daemon, shop.url)
    kinds = [e["kind"] for e in entries]
    assert kinds.count("disclosure") == 1 and kinds.count("acknowledgement") == 1, kinds
    assert "consent" in kinds, kinds
    [disclosure] = [e for e in entries if e["kind"] == "disclosure"]
    assert disclosure["ref"] == kept["jti"] and disclosure["purpose_id"] == "recommendations"
    report = site_report(daemon, shop.url)
    [told] = report["disclosures"]
    assert told["acknowledged"] is True, told


def test_second_visit_asks_nothing_and_a_changed_purpose_asks_only_about_the_change(
    browser: Browser, shop: ShopThread, daemon: DaemonProcess
) -> None:
    page = first_visit(browser, shop)
    windows = Windows(browser)

    # Second visit: the remembered answer is given at once, no consent window opens.
    page.reload()
    assert wait_personalised(page) == SHARED
    assert windows.prompts() == []
    assert admin_call(daemon, "GET", "/v1/prompts") == []
    assert len(held(shop)["presentations"]) == 2

    # The shop now also asks for `languages`: the very next visit (each page load reads the manifest
    # afresh) asks about that claim alone.
    shop.shop.change_purposes(with_languages(shop))
    prompt = visit_expecting_prompt(browser, page)
    assert asked(prompt) == {"languages": "nl, en"}
    also = prompt.inner_text(".also")  # "Also sent: you allowed these before"
    assert "you allowed these before" in also and "NL" in also and "42" in also
    prompt.check('input[name="claim"][value="languages"]')  # optional, so it starts off
    prompt.set_viewport_size({"width": 480, "height": 900})
    screenshot(prompt, "prompt-changed-purpose")
    prompt.click('label.option:has-text("Remember for this site")')
    prompt.click("#share")
    assert wait_personalised(page) == [*SHARED, "languages"]

    # And the visit after that asks nothing again.
    before = len(windows.prompts())
    page.reload()
    assert wait_personalised(page) == [*SHARED, "languages"]
    assert len(windows.prompts()) == before


def test_deny_shows_a_refusal_and_the_vault_records_only_the_decision(
    browser: Browser, shop: ShopThread, daemon: DaemonProcess
) -> None:
    page = shop_page(browser)
    prompt = visit_expecting_prompt(browser, page, shop.url)
    prompt.click("#deny")
    wait_for_status(page, REFUSAL)
    assert page.locator("#used").is_hidden()
    assert page.inner_text("#products-note") == "Our whole range, in our own order."
    screenshot(page, "shop-denied")
    assert held(shop)["presentations"] == []
    kinds = [e["kind"] for e in ledger(daemon, shop.url)]
    assert kinds and set(kinds) == {"consent"}, kinds


def test_revoking_from_the_popup_reaches_the_shop_and_the_next_visit_asks_again(
    browser: Browser, shop: ShopThread, daemon: DaemonProcess
) -> None:
    page = first_visit(browser, shop)
    origin = quote(shop.url, safe="")
    popup = browser.extension_page(f"pages/popup.html?origin={origin}", width=360, height=600)
    popup.wait_for_selector("#revoke", timeout=WAIT_MS)
    assert "127.0.0.1" in popup.inner_text("body")
    screenshot(popup, "popup-shop", element="body")
    popup.click("#revoke")
    popup.click("#confirm-revoke")
    popup.wait_for_selector("#revoke-status", timeout=WAIT_MS)
    assert popup.inner_text("#revoke-status") == (
        f"Asked {shop.url.removeprefix('http://')} to stop using what it got (1 disclosure). "
        "Waiting for the site's confirmation."
    )
    screenshot(popup, "popup-revoked", element="body")

    # The daemon delivers its signed notice to the shop's revocation endpoint...
    deadline = time.monotonic() + 30
    while not [n for n in admin_call(daemon, "GET", "/v1/outbox") if n["delivered_at"]]:
        assert time.monotonic() < deadline, admin_call(daemon, "GET", "/v1/outbox")
        time.sleep(0.2)
    [notice] = admin_call(daemon, "GET", "/v1/outbox")
    assert notice["origin"] == shop.url and notice["erased"] is True, notice
    # ...which deleted what it held and keeps the notice.
    holdings = held(shop)
    assert holdings["presentations"] == []
    [received] = holdings["notices"]
    assert received["jti"] == notice["jti"] and received["deleted"] == 1, received
    assert all(d["withdrawn_at"] is not None for d in site_report(daemon, shop.url)["disclosures"])
    # Only now does the popup say it is done: the shop's signed answer arrived.
    popup.reload()
    popup.wait_for_selector(".withdrawal.confirmed", timeout=WAIT_MS)
    assert popup.inner_text(".withdrawal.confirmed .withdrawal-state").startswith(
        "Withdrawn, confirmed by the site"
    )
    screenshot(popup, "popup-revocation-confirmed", element="body")

    # The remembered answer is gone: the next visit asks again, about every claim.
    prompt = visit_expecting_prompt(browser, page)
    assert set(asked(prompt)) == {*SHARED, "interests"}


def test_the_partner_gets_its_claims_only_when_switched_on_and_withdrawing_from_it_alone_erases_them(
    browser: Browser, shop: ShopThread, daemon: DaemonProcess, partner: PartnerProcess
) -> None:
    """The issue's demo in the browser: the visitor switches the analytics partner on in the prompt; the
    shop passes it the shoe size (its declared claim that was shared); then, in the popup, the visitor
    withdraws from the partner alone: the shop forwards the vault's notice, the partner erases, the shop
    keeps its own claims, and the shop's signed answer (partner: erased) is in the vault's ledger."""
    page = first_visit(browser, shop, allow_partner=True)
    [kept] = held(shop)["presentations"]
    assert kept["passed_to"] == [PARTNER_ID]
    [record] = partner.held()
    assert record["claims"] == {"sizes.shoe": 42} and record["presentation"] == kept["jti"]

    origin = quote(shop.url, safe="")
    popup = browser.extension_page(f"pages/popup.html?origin={origin}", width=360, height=700)
    popup.wait_for_selector(f'[data-withdraw="{PARTNER_ID}"]', timeout=WAIT_MS)
    assert "Demo Analytics B.V." in popup.inner_text("#recipients")
    screenshot(popup, "popup-partner-holds", element="body")
    popup.click(f'[data-withdraw="{PARTNER_ID}"]')
    popup.click(f'[data-confirm-withdraw="{PARTNER_ID}"]')

    # The daemon delivers the notice to the shop, which forwards it to the partner, which erases.
    deadline = time.monotonic() + 30
    while partner.held():
        assert time.monotonic() < deadline, "the withdrawal never reached the partner"
        time.sleep(0.2)
    deadline = time.monotonic() + 30
    while not all(n["delivered_at"] for n in admin_call(daemon, "GET", "/v1/outbox")):
        assert time.monotonic() < deadline, admin_call(daemon, "GET", "/v1/outbox")
        time.sleep(0.2)
    holdings = held(shop)
    assert [p["claims"] for p in holdings["presentations"]] == [kept["claims"]]  # the shop keeps its own
    [received] = holdings["notices"]
    assert received["site"] is False and received["recipients"] == {PARTNER_ID: "erased"}
    [answer] = [e for e in ledger(daemon, shop.url) if e["kind"] == "delivery_ack"]
    assert answer["body"]["erased"] is False
    assert [(o["id"], o["outcome"]) for o in answer["body"]["recipients"]] == [(PARTNER_ID, "erased")]
    [told] = site_report(daemon, shop.url)["disclosures"]
    assert told["withdrawn_at"] is None  # withdrawn from the partner, not from the shop
    assert [(r["id"], r["withdrawal_state"], r["outcome"]) for r in told["recipients"]] == [
        (PARTNER_ID, "confirmed", "erased")
    ]

    popup.reload()
    popup.wait_for_selector(f'li.recipient.confirmed[data-recipient="{PARTNER_ID}"]', timeout=WAIT_MS)
    screenshot(popup, "popup-partner-withdrawn", element="body")
    # Withdrawing took back the decision about the partner, not about the claims: the next visit asks
    # about the partner alone (off again); left off, it gets nothing.
    prompt = visit_expecting_prompt(browser, page)
    assert asked(prompt) == {}
    assert not prompt.locator(f'input[name="recipient"][value="{PARTNER_ID}"]').is_checked()
    prompt.set_viewport_size({"width": 480, "height": 1150})
    screenshot(prompt, "prompt-partner-only")
    prompt.click("#share")
    assert wait_personalised(page) == SHARED
    assert held(shop)["presentations"][-1]["passed_to"] == [] and partner.held() == []
