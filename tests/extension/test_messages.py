"""Hearing from a site, in real Chromium and Firefox against a real daemon through the real native host: a
message a page hands to `personalVault.notify` reaches the popup (plain text only) with the unread count on
the badge; a proposal opens nothing by itself, and the normal consent prompt only once the user accepts it
and the site's page asks; and a page cannot tell whether the vault holds messages (the same answers, in the
same timing class, and no event of any kind)."""

from __future__ import annotations

import statistics
import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.daemon.support import DaemonProcess
from tests.extension.support import (
    PROMPT_VIEW,
    WAIT_MS,
    Browser,
    ShopSite,
    admin_call,
    granted_token,
    popup_for,
    remember_everything,
    result,
    save_screenshot,
    screenshot_both_schemes,
    share_once,
    start_request,
)
from vault.site import make_message, make_nonce

pytestmark = pytest.mark.slow

XSS = '<img src=x onerror="window.pwned = 1">'
DAY = 86400


def message(site: ShopSite, subject: str, kind: str = "change", **fields: Any) -> str:
    now = int(time.time())
    defaults: dict[str, Any] = {
        "title": "We keep your sizes a little longer",
        "body": "From 1 January we keep your shoe size for 60 days instead of 30.\nYou can say no.",
    }
    if kind == "change":
        defaults["effective_at"] = now + 30 * DAY
    return make_message(
        site.site_key, manifest=site.manifest, subject=subject, kind=kind, now=now, **{**defaults, **fields}
    )


def notify(page: Any, token: Any) -> dict[str, Any]:
    return page.evaluate("token => notifyVault(token)", token)


def inbox(daemon: DaemonProcess, site: ShopSite | None = None) -> dict[str, Any]:
    where = f"?origin={quote(site.origin, safe='')}" if site else ""
    return admin_call(daemon, "GET", f"/v1/messages{where}")


def wait_for_messages(daemon: DaemonProcess, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(kept := inbox(daemon)["messages"]) < count:
        assert time.monotonic() < deadline, f"{len(kept)} messages kept, not {count}"
        time.sleep(0.1)
    return kept


def prompts(browser: Browser) -> list[Any]:
    return [p for p in browser.context.pages if "/pages/prompt.html" in p.url]


def opened_prompt(browser: Browser, page: Any) -> Any:
    """The consent prompt's window, once it takes input (it may have opened before we looked). Waits with
    `page` (Playwright's sync API learns of new windows only while it waits on something)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not (found := prompts(browser)):
        assert time.monotonic() < deadline, "no consent prompt opened"
        page.wait_for_timeout(100)
    prompt = found[0]
    prompt.set_viewport_size(PROMPT_VIEW)
    prompt.wait_for_selector("#share:enabled", timeout=WAIT_MS)
    return prompt


def test_a_message_from_the_page_shows_in_the_popup_with_the_unread_count_on_the_badge(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    page, seen = share_once(browser, site, daemon)
    subject = seen.subject
    assert browser.badge() == ""
    answer = notify(page, message(site, subject))
    assert answer["ok"] and answer["value"] == {"received": True}, answer
    [kept] = wait_for_messages(daemon, 1)
    assert kept["origin"] == site.origin and kept["via"] == "page" and not kept["read"]
    browser.wait_for_badge("1")

    popup = popup_for(browser, site)
    popup.wait_for_selector("#messages .message", timeout=WAIT_MS)
    item = popup.locator("#messages .message")
    assert item.locator(".tag").first.inner_text() == "Change to come"
    assert item.locator(".message-title").inner_text() == "We keep your sizes a little longer"
    assert item.locator(".message-body").inner_text() == (
        "From 1 January we keep your shoe size for 60 days instead of 30.\nYou can say no."
    )
    assert "Takes effect on" in item.inner_text()
    assert popup.inner_text("#unread-count") == "1 new"
    # Shown, so read: the badge goes back to nothing, and the daemon says so.
    browser.wait_for_badge("")
    assert inbox(daemon)["unread"] == 0
    assert popup.locator("#ask-access").is_visible()
    screenshot_both_schemes(popup, "popup-messages", element="body")

    # Delete hides it; the site can never learn either.
    popup.click("#messages [data-delete]")
    popup.wait_for_selector("#no-messages", timeout=WAIT_MS)
    assert inbox(daemon)["messages"] == []

    # Mute this site: the daemon drops its change notices from now on.
    popup.click(f'#messages label[for="{popup.get_attribute("#messages [data-mute]", "id")}"]')
    deadline = time.monotonic() + 10
    while inbox(daemon)["muted"] != [site.origin]:
        assert time.monotonic() < deadline, "the site was not muted"
        popup.wait_for_timeout(100)
    assert popup.is_checked("#messages [data-mute]")


def test_a_proposal_opens_nothing_until_the_user_accepts_it_then_the_sites_page_brings_the_normal_prompt(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    page, seen = share_once(browser, site, daemon)
    subject = seen.subject
    pages_before = len(browser.context.pages)
    proposal = message(
        site,
        subject,
        "proposal",
        title="News about shoes you can buy",
        body="Share your country and we write to you only about shoes we deliver there.",
        purpose="newsletter",
        url=f"{site.origin}/offer",
    )
    assert notify(page, proposal)["value"] == {"received": True}
    wait_for_messages(daemon, 1)
    browser.wait_for_badge("1")
    page.wait_for_timeout(1500)  # time enough for a prompt window to appear if anything opened one
    assert len(browser.context.pages) == pages_before and not prompts(browser), "a proposal opened a window"
    consents = admin_call(daemon, "GET", "/v1/consents")
    assert {c["purpose"] for c in consents} == {"recommendations"}, "a proposal shared something"

    popup = popup_for(browser, site)
    popup.wait_for_selector("#messages [data-accept]", timeout=WAIT_MS)
    text = popup.inner_text("#messages .message")
    assert "Proposal" in text and "Offers: A newsletter about shoes we deliver" in text
    host = site.origin.removeprefix("http://")
    assert popup.inner_text("#messages .message-link") == f"{host} — {site.origin}/offer"
    assert popup.locator("#messages a").count() == 0  # the link is text, not a live link
    with browser.context.expect_page(timeout=WAIT_MS) as opened:
        popup.click("#messages [data-accept]")
    offer = opened.value
    offer.wait_for_load_state()
    assert offer.url == f"{site.origin}/offer"
    # The site's page asks the normal way: the normal prompt, for the purpose offered.
    prompt = opened_prompt(browser, offer)
    assert "A newsletter about shoes we deliver" in prompt.inner_text("body")
    prompt.click("#share")
    outcome = offer.evaluate("() => window.offer")
    token = granted_token(outcome, site, "newsletter")
    assert token
    assert inbox(daemon)["messages"][0]["accepted_at"] is not None


def notify_many(page: Any, tokens: list[str]) -> list[dict[str, Any]]:
    """The page's calls one after another, as a page probing the vault would make them."""
    script = "async ts => { const out = []; for (const t of ts) out.push(await notifyVault(t)); return out; }"
    return page.evaluate(script, tokens)


WATCH_PAGE = """() => {
  window.seen = [];
  if (window.watching) return;
  window.watching = true;
  // What the page API's own window traffic looks like: who, what, and the answer's shape (not its token).
  const shape = (d) => [d.from, d.type, d.ok ?? null, d.value ? Object.keys(d.value).sort().join() : null];
  window.addEventListener("message", (e) =>
    window.seen.push(e.data && typeof e.data === "object" ? shape(e.data) : ["?"]));
  for (const name of ["personalvault:ready", "personalvault:message", "storage", "focus", "blur",
                      "visibilitychange", "hashchange", "popstate"]) {
    window.addEventListener(name, () => window.seen.push(["event", name]));
  }
  new MutationObserver((records) => window.seen.push(["dom", records.length])).observe(
    document, { subtree: true, childList: true, attributes: true, characterData: true });
}"""


def probe(page: Any, site: ShopSite, subject: str) -> dict[str, Any]:
    """What a page can learn: 20 notify answers and their times, an acknowledge and a request's answers,
    and every window message and event it saw meanwhile."""
    page.evaluate(WATCH_PAGE)
    tokens = [message(site, subject, title=f"Change {i}") for i in range(20)]
    answers = notify_many(page, tokens)
    ack = page.evaluate("() => ackVault('a.b.c')")
    start_request(page, make_nonce(), ["newsletter"], name="probe")
    asked = result(page, name="probe")
    page.wait_for_timeout(1000)  # the worker forwards in the background: any leak would arrive by now
    seen = page.evaluate("() => window.seen")
    return {
        "values": [(a["ok"], a.get("value"), a.get("code")) for a in answers],
        "ms": [a["ms"] for a in answers],
        "ack": (ack["ok"], ack.get("code"), ack.get("message")),
        "request": asked["value"]["results"]["newsletter"]["outcome"] if asked["ok"] else asked,
        "seen": seen,
    }


def test_a_page_cannot_tell_whether_the_vault_holds_messages(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    page, seen = share_once(browser, site, daemon)
    subject = seen.subject
    remember_everything(daemon, site, make_nonce(), "newsletter")  # request() answers without a prompt
    assert inbox(daemon)["messages"] == []

    empty = probe(page, site, subject)
    kept = wait_for_messages(daemon, 1)
    # Full and muted: unread messages (3 a day is the most a site gets kept), and the site muted.
    admin_call(daemon, "POST", "/v1/messages/mute", {"origin": site.origin, "muted": True})
    assert inbox(daemon)["unread"] == len(kept) > 0
    full = probe(page, site, subject)
    assert len(inbox(daemon)["messages"]) == len(kept), "a muted site's change notices are not kept"

    for run in (empty, full):
        assert run["values"] == [(True, {"received": True}, None)] * 20
    assert empty["values"] == full["values"]
    assert empty["ack"] == full["ack"] and empty["ack"][1] == "bad_request"
    assert empty["request"] == full["request"] == "granted"
    # The same window traffic (the page API's own calls and answers) and no event or DOM change at all.
    assert empty["seen"] == full["seen"]
    assert not [entry for entry in empty["seen"] if entry[0] in ("event", "dom")], empty["seen"]
    # The same timing class: answered before any daemon call, in both cases well under the bound.
    medians = [statistics.median(run["ms"]) for run in (empty, full)]
    print(f"notify medians: empty {medians[0]:.1f} ms, full and muted {medians[1]:.1f} ms")
    assert all(m < 250 for m in medians), medians
    assert max(empty["ms"] + full["ms"]) < 2000


def test_a_message_is_shown_as_plain_text_and_bad_input_is_refused(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    page, seen = share_once(browser, site, daemon)
    subject = seen.subject
    for bad in [42, None, {"token": "a.b.c"}, "x" * 8193]:
        refused = notify(page, bad)
        assert not refused["ok"] and refused["code"] == "bad_request", (bad, refused)
        assert refused["name"] == "PersonalVaultError"
    assert notify(page, "x" * 8192)["value"] == {"received": True}  # any string within the limit

    breach = message(
        site,
        subject,
        "breach",
        title="<b>Security incident</b> at our warehouse",
        body=f"Someone read our order list.\n{XSS}\nDetails: https://evil.example/",
        claims=["sizes.shoe"],
        url=f"{site.origin}/security",
    )
    assert notify(page, breach)["value"] == {"received": True}
    wait_for_messages(daemon, 1)
    browser.wait_for_badge("1")

    # The options page's inbox: the same plain text; shown, so read, and the badge counts again.
    options = browser.extension_page("pages/options.html#inbox", width=1100, height=900)
    options.wait_for_selector("#inbox .message", timeout=WAIT_MS)
    assert options.locator("#inbox .message img, #inbox .message b").count() == 0
    assert XSS in options.inner_text("#inbox .message-body")
    assert options.locator(f'#inbox [data-mute="{site.origin}"]').count() == 1
    screenshot_both_schemes(options, "options-inbox")
    browser.wait_for_badge("")
    assert inbox(daemon)["unread"] == 0

    popup = popup_for(browser, site)
    popup.wait_for_selector("#messages .message", timeout=WAIT_MS)
    item = popup.locator("#messages .message")
    assert item.locator(".message-title").inner_text() == "<b>Security incident</b> at our warehouse"
    assert XSS in item.locator(".message-body").inner_text()
    assert item.locator("img, b, a, script").count() == 0
    assert popup.evaluate("() => window.pwned === undefined")
    assert "About: Shoe size" in item.inner_text()
    # The link is text with its origin first, opened only by the explicit button.
    host = site.origin.removeprefix("http://")
    assert item.locator(".message-link").inner_text() == f"{host} — {site.origin}/security"
    with browser.context.expect_page(timeout=WAIT_MS) as opened:
        item.locator("[data-open]").click()
    assert opened.value.url == f"{site.origin}/security"
    opened.value.close()

    save_screenshot(popup, "popup-message-plain-text", element="body")
