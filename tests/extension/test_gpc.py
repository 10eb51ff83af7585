"""Global Privacy Control in real Chromium and Firefox: a test server that records the headers of every
request sees `Sec-GPC: 1` on page loads, frames and subresources where the vault's rules refuse selling and
targeted advertising (a fresh vault's do), and pages read navigator.globalPrivacyControl === true; after
the user turns GPC off for one site in the popup, that site's loads carry none and its pages see no GPC
from the extension (the browser's own answer: none in Chromium, false in Firefox), while another host
still gets it. The popup shows the site's /.well-known/gpc.json declaration, fetched without the site's
cookies.

The two sites are one server reached as http://127.0.0.1:PORT and http://localhost:PORT (the browser's
rules know hosts, not ports: two hosts are needed to tell sites apart).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from tests.daemon.support import PASSPHRASE, DaemonProcess
from tests.extension.support import (
    WAIT_MS,
    Browser,
    admin_call,
    save_screenshot,
    screenshot_both_schemes,
    serving,
    wait_for_pairing_request,
)

PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A site without the vault protocol</title>
<link rel="icon" href="data:,"><script src="/page.js"></script></head>
<body><h1>Plain site</h1><img src="/pixel.png" alt=""><iframe src="/frame.html" title="frame"></iframe>
</body></html>
"""
FRAME = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>f</title></head><body>f</body></html>'
)
PAGE_JS = b"window.fetched = fetch('/data.json', {cache: 'no-store'}).then((r) => r.text());\n"
# The smallest GIF: an image the page really loads.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
DECLARATION = b'{"gpc": true, "lastUpdate": "2026-11-01"}'
SUBRESOURCES = ["/page.js", "/pixel.png", "/frame.html", "/data.json"]


@dataclass
class Seen:
    host: str
    path: str
    headers: dict[str, str]


@dataclass
class PlainSite:
    """A site that does not speak the vault protocol; it only records what it is sent."""

    port: int
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_origin(self) -> str:
        return f"http://localhost:{self.port}"

    def requests(self, host: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.host == host]

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()


def handler(site: PlainSite) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            with site.lock:
                site.seen.append(Seen(host, self.path, {k.lower(): v for k, v in self.headers.items()}))
            extra: list[tuple[str, str]] = []
            if self.path == "/.well-known/gpc.json" and host == "127.0.0.1":
                body, kind = DECLARATION, "application/json"
            elif self.path == "/set-cookie":
                body, kind = b"cookie set", "text/plain"
                extra.append(("Set-Cookie", "session=secret-session; Path=/; SameSite=Lax"))
            else:
                pages = {"/": (PAGE, "text/html; charset=utf-8"), "/frame.html": (FRAME, "text/html")}
                pages |= {"/page.js": (PAGE_JS, "text/javascript"), "/pixel.png": (PIXEL, "image/gif")}
                pages |= {"/data.json": (b"{}", "application/json")}
                if self.path not in pages:
                    self.send_error(404)
                    return
                body, kind = pages[self.path]
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def plain_site() -> Iterator[PlainSite]:
    with serving() as server:
        site = PlainSite(port=server.server_address[1])
        server.RequestHandlerClass = handler(site)
        yield site


def popup(browser: Browser, origin: str) -> Any:
    page = browser.extension_page(f"pages/popup.html?origin={quote(origin, safe='')}", width=360, height=600)
    page.wait_for_selector("#gpc #gpc-sent", timeout=WAIT_MS)
    page.wait_for_selector('#gpc-declaration[data-state="done"]', timeout=WAIT_MS)
    return page


def wait_for_text(page: Any, selector: str, text: str) -> None:
    """Extension pages forbid eval (no wait_for_function there): poll the element's text."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while (shown := page.inner_text(selector)) != text:
        assert time.monotonic() < deadline, f"{selector} says {shown!r}, not {text!r}"
        page.wait_for_timeout(50)


def visit(browser: Browser, site: PlainSite, origin: str) -> tuple[Any, list[Seen]]:
    """Loads the site's page (its script, image, frame and fetch), and returns the page and its requests."""
    host = origin.removeprefix("http://").rsplit(":", 1)[0]
    site.clear()
    page = browser.context.new_page()
    page.goto(origin + "/")
    page.evaluate("() => window.fetched")
    page.wait_for_load_state("load")
    deadline = time.monotonic() + 10
    while {"/", *SUBRESOURCES} - {s.path for s in site.requests(host)}:
        assert time.monotonic() < deadline, [s.path for s in site.requests(host)]
        time.sleep(0.05)
    return page, [s for s in site.requests(host) if s.path in ("/", *SUBRESOURCES)]


# What a page reads where the extension sends no GPC: the browser's own answer. Chromium has no
# navigator.globalPrivacyControl; Firefox has its own, false unless its "Tell websites not to sell or share
# my data" setting is on (off in a fresh profile).
BROWSER_OWN_GPC = {"chromium": None, "firefox": False}


def not_sent(browser: Browser) -> list[Any]:
    """page_sees_gpc where the extension sends nothing: the page and its frame see the browser's own."""
    return [BROWSER_OWN_GPC[browser.name]] * 2


def page_sees_gpc(page: Any) -> list[Any]:
    """What navigator.globalPrivacyControl says in the page and in its frame."""
    frame = next(f for f in page.frames if f.url.endswith("/frame.html"))
    return [target.evaluate("() => navigator.globalPrivacyControl") for target in (page, frame)]


def browser_rules(browser: Browser) -> list[dict[str, Any]]:
    page = browser.extension_page("pages/popup.html?origin=about%3Ablank", width=360, height=200)
    rules = page.evaluate("chrome.declarativeNetRequest.getDynamicRules()")
    page.close()
    return rules


def wait_until_applied(browser: Browser, sent_default: bool, hosts: list[str]) -> None:
    """The extension's rules as the daemon's state says (read from an extension page: a restarted worker
    is not always reported to Playwright again)."""
    page = browser.extension_page("pages/popup.html?origin=about%3Ablank", width=360, height=200)
    deadline = time.monotonic() + 10
    while True:
        rules = page.evaluate("chrome.declarativeNetRequest.getDynamicRules()")
        documents = next((r for r in rules if r["id"] == 1401), None)
        if documents is not None:
            condition = documents["condition"]
            # Firefox lists every condition key, an unset one as null; Chromium leaves it out.
            listed = condition.get("excludedRequestDomains" if sent_default else "requestDomains") or []
            if sorted(listed) == sorted(hosts):
                page.close()
                return
        assert time.monotonic() < deadline, rules
        time.sleep(0.1)


def test_gpc_is_sent_where_the_rules_refuse_and_the_user_can_turn_it_off_for_one_site(
    browser: Browser, plain_site: PlainSite, daemon: DaemonProcess
) -> None:
    site = plain_site
    # A fresh vault's Everyday refuses selling data and targeted advertising: GPC goes everywhere.
    assert admin_call(daemon, "GET", "/v1/gpc") == {"sent": True, "sites": {}, "next_change": None}

    # The cookie the site sets: the page's own requests carry it, the declaration's fetch must not.
    cookie_page = browser.context.new_page()
    cookie_page.goto(site.origin + "/set-cookie")
    cookie_page.close()

    shown = popup(browser, site.origin)  # opening the popup also brings the worker in step with the daemon
    assert shown.inner_text("#gpc-sent") == "Sent to this site"
    assert "The rules of Everyday refuse selling your data and targeted advertising" in shown.inner_text(
        "#gpc-why"
    )
    assert shown.inner_text("#gpc-declaration") == "This site says it honours GPC (updated 1 November 2026)."
    assert shown.is_checked("#gpc-switch") and shown.is_hidden("#gpc-switch-hint")
    fetched = [s for s in site.requests("127.0.0.1") if s.path == "/.well-known/gpc.json"]
    assert len(fetched) == 1, fetched
    assert "cookie" not in fetched[0].headers and "referer" not in fetched[0].headers, fetched[0].headers
    screenshot_both_schemes(shown, "popup-gpc", element="body")
    wait_until_applied(browser, True, [])

    for origin in (site.origin, site.other_origin):
        page, requests = visit(browser, site, origin)
        missing = [s.path for s in requests if s.headers.get("sec-gpc") != "1"]
        assert missing == [], f"{origin}: no Sec-GPC on {missing}"
        assert page_sees_gpc(page) == [True, True], origin
        page.close()
    # The cookie was really set: the site's own page loads carry it.
    _, requests = visit(browser, site, site.origin)
    assert "secret-session" in requests[0].headers.get("cookie", ""), requests[0].headers

    # The user turns GPC off for 127.0.0.1 in the popup.
    shown.click('label[for="gpc-switch"]')
    shown.wait_for_selector("#gpc-switch:not(:checked):enabled", timeout=WAIT_MS)
    wait_for_text(shown, "#gpc-sent", "Not sent to this site")
    assert shown.inner_text("#gpc-why") == "You turned it off for this site."
    state = admin_call(daemon, "GET", "/v1/gpc")
    assert state == {"sent": True, "sites": {site.origin: False}, "next_change": None}
    wait_until_applied(browser, True, ["127.0.0.1"])
    save_screenshot(shown, "popup-gpc-off", element="body")

    page, requests = visit(browser, site, site.origin)
    sent = [s.path for s in requests if "sec-gpc" in s.headers]
    assert sent == [], f"Sec-GPC still sent to 127.0.0.1 on {sent}"
    assert page_sees_gpc(page) == not_sent(browser)
    page.close()
    # Another host still gets it, page and subresources.
    page, requests = visit(browser, site, site.other_origin)
    assert [s.path for s in requests if s.headers.get("sec-gpc") != "1"] == []
    assert page_sees_gpc(page) == [True, True]
    page.close()

    # A site without a declaration says so; it still gets GPC.
    other = popup(browser, site.other_origin)
    assert other.inner_text("#gpc-sent") == "Sent to this site"
    assert other.inner_text("#gpc-declaration") == "This site does not say whether it honours GPC."
    save_screenshot(other, "popup-gpc-undeclared", element="body")

    # And back on: the browser follows at once.
    shown.click('label[for="gpc-switch"]')
    wait_for_text(shown, "#gpc-sent", "Sent to this site")
    wait_until_applied(browser, True, [])
    page, requests = visit(browser, site, site.origin)
    assert [s.path for s in requests if s.headers.get("sec-gpc") != "1"] == []
    assert page_sees_gpc(page) == [True, True]


def act(browser: Browser, action: str, **args: Any) -> Any:
    """One action as the popup or the options page sends it to the worker; its value."""
    page = browser.extension_page("pages/popup.html?origin=about%3Ablank", width=360, height=200)
    reply = page.evaluate("(m) => chrome.runtime.sendMessage(m)", {**args, "action": action})
    page.close()
    assert reply["ok"], reply
    return reply["value"]


def test_rule_and_context_changes_in_the_pages_move_gpc_at_once(
    browser: Browser, plain_site: PlainSite, daemon: DaemonProcess
) -> None:
    site = plain_site
    popup(browser, site.origin).close()
    wait_until_applied(browser, True, [])
    # The options page removes the two refusals: GPC is sent nowhere, and the answer waits for the browser.
    for concept in ("dpv:SellDataToThirdParties", "dpv:TargetedAdvertising"):
        act(browser, "rules.remove", kind="deny_concept", target=concept)
    assert browser_rules(browser) == []
    # A second context that refuses, chosen in the popup for localhost only.
    admin_call(daemon, "POST", "/v1/contexts", {"name": "Careful", "copy_from": "everyday"})
    refuse = {"kind": "deny_concept", "target": "dpv:TargetedAdvertising", "context": "careful"}
    admin_call(daemon, "POST", "/v1/rules", refuse)
    act(browser, "contexts.use", context="Careful", origin=site.other_origin)
    assert admin_call(daemon, "GET", "/v1/gpc") == {
        "sent": False,
        "sites": {site.other_origin: True},
        "next_change": None,
    }
    wait_until_applied(browser, False, ["localhost"])
    shown = popup(browser, site.origin)
    assert shown.inner_text("#gpc-sent") == "Not sent to this site"
    assert "refuse neither" in shown.inner_text("#gpc-why")
    # The site's switch is on, yet nothing is sent: the popup says the context decides.
    assert shown.is_checked("#gpc-switch")
    assert shown.inner_text("#gpc-switch-hint").startswith("Everyday does not send it")

    page, requests = visit(browser, site, site.origin)
    assert [s.path for s in requests if "sec-gpc" in s.headers] == []
    assert page_sees_gpc(page) == not_sent(browser)
    page, requests = visit(browser, site, site.other_origin)
    assert [s.path for s in requests if s.headers.get("sec-gpc") != "1"] == []
    assert page_sees_gpc(page) == [True, True]


def fire_refresh_alarm(browser: Browser) -> None:
    """What the 5-minute alarm does, now (unpacked extensions' alarms are not held to 30 s)."""
    page = browser.extension_page("pages/popup.html?origin=about%3Ablank", width=360, height=200)
    page.evaluate("chrome.alarms.create('vault-gpc-change', {when: Date.now() + 50})")
    page.wait_for_timeout(1500)
    page.close()


def test_a_restarted_worker_and_the_alarm_apply_what_changed_and_a_locked_or_stopped_vault_keeps_it(
    browser: Browser, plain_site: PlainSite, daemon: DaemonProcess
) -> None:
    site = plain_site
    popup(browser, site.origin).close()
    wait_until_applied(browser, True, [])
    # The command line turns GPC off for 127.0.0.1 (vault gpc off ORIGIN) while the worker is stopped.
    browser.stop_worker()
    assert admin_call(daemon, "POST", "/v1/gpc/site", {"origin": site.origin, "gpc": "off"})["sent"] is False
    browser.extension_page("pages/options.html").close()  # any event wakes the worker: it refreshes
    wait_until_applied(browser, True, ["127.0.0.1"])

    # Back on from the command line, but the vault is locked before the worker looks: nothing changes.
    admin_call(daemon, "POST", "/v1/gpc/site", {"origin": site.origin, "gpc": "on"})
    admin_call(daemon, "POST", "/v1/lock")
    fire_refresh_alarm(browser)
    wait_until_applied(browser, True, ["127.0.0.1"])
    page, requests = visit(browser, site, site.origin)
    assert [s.path for s in requests if "sec-gpc" in s.headers] == []
    page.close()

    # Unlocked (from outside, as by the command line): the next alarm applies it.
    admin_call(daemon, "POST", "/v1/unlock", {"passphrase": PASSPHRASE})
    fire_refresh_alarm(browser)
    wait_until_applied(browser, True, [])

    # Off again, and the daemon stops before the worker looks: the rules and the page script stay.
    admin_call(daemon, "POST", "/v1/gpc/site", {"origin": site.origin, "gpc": "off"})
    daemon.stop()
    fire_refresh_alarm(browser)
    wait_until_applied(browser, True, [])
    for origin in (site.origin, site.other_origin):
        page, requests = visit(browser, site, origin)
        assert [s.path for s in requests if s.headers.get("sec-gpc") != "1"] == [], origin
        assert page_sees_gpc(page) == [True, True], origin
        page.close()


def test_the_popup_says_when_the_browser_itself_sends_gpc_where_the_vault_does_not(
    browser: Browser, plain_site: PlainSite, daemon: DaemonProcess
) -> None:
    """Firefox has a GPC setting of its own ("Tell websites not to sell or share my data"): on, Firefox sends
    every site the signal whatever the vault decides, so where the vault sends none the popup says the
    browser sends it (it said "Not sent" while Firefox sent it). Chromium has no such setting: its popup
    says what the vault does, and nothing is sent."""
    site = plain_site
    admin_call(daemon, "POST", "/v1/gpc/site", {"origin": site.origin, "gpc": "off"})
    if browser.name == "firefox":  # the person turns on Firefox's own setting
        browser.chrome_evaluate('Services.prefs.setBoolPref("privacy.globalprivacycontrol.enabled", true)')
    shown = popup(browser, site.origin)
    wait_until_applied(browser, True, ["127.0.0.1"])
    page, requests = visit(browser, site, site.origin)
    sent = sorted(s.path for s in requests if s.headers.get("sec-gpc") == "1")
    headline, why = shown.inner_text("#gpc-sent"), shown.inner_text("#gpc-why")
    save_screenshot(shown, "popup-gpc-by-browser", element="body")
    if browser.name == "firefox":
        assert sent == sorted(["/", *SUBRESOURCES]) and page_sees_gpc(page) == [True, True]
        assert headline == "Sent to this site by your browser"
        assert why.startswith("You turned it off for this site. Your browser's own setting sends it")
    else:
        assert sent == [] and page_sees_gpc(page) == not_sent(browser)
        assert (headline, why) == ("Not sent to this site", "You turned it off for this site.")


def test_gpc_is_sent_as_soon_as_the_extension_is_paired(
    launch: Any, plain_site: PlainSite, daemon: DaemonProcess
) -> None:
    """Privacy by default from the first page after pairing: unpaired, the extension cannot read where GPC
    goes and would have tried again a minute later; the popup that shows the code notices the pairing."""
    browser = launch()
    code = wait_for_pairing_request(daemon)["code"]
    shown = browser.extension_page("pages/popup.html", width=360, height=600)
    shown.wait_for_selector("#pair-command")
    admin_call(daemon, "POST", "/v1/admin/pairings/approve", {"code": code})
    shown.wait_for_selector("#state >> text=Unlocked", timeout=WAIT_MS)
    wait_until_applied(browser, True, [])  # within 10 s, not the minute's retry
    page, requests = visit(browser, plain_site, plain_site.origin)
    assert [s.path for s in requests if s.headers.get("sec-gpc") != "1"] == []
    assert page_sees_gpc(page) == [True, True]
