"""What the popup and the options page say a site still holds, in real Chromium and Firefox against a real
daemon: a revocation is "waiting for the site's confirmation" (with the vault's next try) until the site's
signed acknowledgement arrives, and only then "confirmed"; what a site changed about itself is listed."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.daemon.support import DaemonProcess
from tests.extension.support import (
    WAIT_MS,
    Browser,
    ShopSite,
    admin_call,
    granted_token,
    remember_everything,
    result,
    screenshot_both_schemes,
    start_request,
)
from vault.site import Controller, build_manifest, generate_site_key, make_nonce

pytestmark = pytest.mark.slow

PENDING = re.compile(
    r"^Asked to delete — waiting for the site's confirmation \(next try (at \d\d:\d\d|soon)\)$"
)
CONFIRMED = re.compile(r"^Deleted, confirmed by the site on \d{1,2} [A-Z][a-z]{2} \d{4}$")


def report(daemon: DaemonProcess, site: ShopSite) -> dict[str, Any]:
    return admin_call(daemon, "GET", f"/v1/sites/report?origin={quote(site.origin, safe='')}")


def wait_for_outbox(daemon: DaemonProcess, done: Any, timeout: float, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        notices = admin_call(daemon, "GET", "/v1/outbox")
        if notices and all(done(n) for n in notices):
            return notices[0]
        assert time.monotonic() < deadline, f"{what}: {notices}"
        time.sleep(0.2)


def share_twice(browser: Browser, site: ShopSite, daemon: DaemonProcess) -> None:
    """A remembered "share" (the admin's answer is a disclosure too), then the page asks and gets a token."""
    remember_everything(daemon, site, make_nonce())
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    granted_token(result(page), site)
    page.close()


def popup_for(browser: Browser, site: ShopSite) -> Any:
    url = f"pages/popup.html?origin={quote(site.origin, safe='')}"
    return browser.extension_page(url, width=360, height=600)


def options_site_view(browser: Browser, site: ShopSite) -> Any:
    options = browser.extension_page("pages/options.html#sites", width=1100, height=900)
    options.wait_for_selector(f"text={site.origin.removeprefix('http://')}")
    options.click("text=What it knows")
    options.wait_for_selector(".site-details table")
    return options


def test_a_revocation_waits_for_the_sites_confirmation_in_the_popup_and_the_options_page(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    share_twice(browser, site, daemon)
    site.accepts_revocations = False  # the site's revocation endpoint answers 503

    popup = popup_for(browser, site)
    popup.wait_for_selector("#revoke", timeout=WAIT_MS)
    popup.click("#revoke")
    popup.check("#erase")
    popup.click("#confirm-revoke")
    popup.wait_for_selector("#revoke-status", timeout=WAIT_MS)
    host = site.origin.removeprefix("http://")
    assert popup.inner_text("#revoke-status") == (
        f"Asked {host} to delete what it got (2 disclosures). Waiting for the site's confirmation."
    )
    assert "Revoked." not in popup.inner_text("body")

    # The vault tried, the site did not answer: still pending, with the vault's next try.
    notice = wait_for_outbox(daemon, lambda n: n["attempts"] >= 1, 30, "no delivery attempt")
    assert notice["delivered_at"] is None and notice["next_attempt_at"] > time.time(), notice
    for disclosure in report(daemon, site)["disclosures"]:
        assert disclosure["withdrawal_state"] == "pending", disclosure
        assert disclosure["withdrawal_next_try_at"] == notice["next_attempt_at"], disclosure
    popup.reload()
    popup.wait_for_selector(".withdrawal.pending", timeout=WAIT_MS)
    words = popup.inner_text(".withdrawal.pending .withdrawal-state")
    assert PENDING.match(words), words
    assert "has nothing from your vault" not in popup.inner_text("body")
    screenshot_both_schemes(popup, "popup-revoke-pending", element="body")

    options = options_site_view(browser, site)
    status = options.inner_text(".site-details .withdrawal-state.pending")
    assert PENDING.search(status.removeprefix("waiting").strip()), status
    screenshot_both_schemes(options, "options-sites-pending")

    # The site is back; the vault's next try gets its signed acknowledgement: only now "Deleted".
    site.accepts_revocations = True
    wait_for_outbox(daemon, lambda n: n["delivered_at"] is not None, 90, "not delivered once the site is up")
    assert len(site.revocations) == 1
    for disclosure in report(daemon, site)["disclosures"]:
        assert disclosure["withdrawal_state"] == "confirmed", disclosure
        assert isinstance(disclosure["withdrawal_confirmed_at"], int), disclosure
    popup.reload()
    popup.wait_for_selector(".withdrawal.confirmed", timeout=WAIT_MS)
    words = popup.inner_text(".withdrawal.confirmed .withdrawal-state")
    assert CONFIRMED.match(words), words
    screenshot_both_schemes(popup, "popup-revoke-confirmed", element="body")
    options.reload()
    options.click("text=What it knows")
    options.wait_for_selector(".site-details .withdrawal-state.confirmed")
    status = options.inner_text(".site-details .withdrawal-state.confirmed")
    assert CONFIRMED.search(status.removeprefix("confirmed").strip()), status


def test_the_options_page_lists_what_a_site_changed_about_itself(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    share_twice(browser, site, daemon)
    site.site_key = generate_site_key()
    site.manifest = build_manifest(
        origin=site.origin,
        controller=Controller(
            name="Big Retail Group plc",
            contact="dpo@bigretail.test",
            privacy_policy="https://bigretail.test/p",
        ),
        site_key=site.site_key,
        revocation_endpoint=f"{site.origin}/vault/revocations",
        purposes=site.manifest.purposes,
    )
    share_twice(browser, site, daemon)  # the vault sees the new manifest when the user is involved again
    fields = {change["field"] for change in report(daemon, site)["changes"]}
    assert fields == {"controller", "site_key", "revocation_endpoint"}, fields

    options = options_site_view(browser, site)
    changes = options.locator(".site-changes li").all_inner_texts()
    day = r"\d{1,2} [A-Z][a-z]{2} \d{4}"
    expected = [
        rf"^Now run by Big Retail Group plc \(before: Test Shoes B\.V\.\) since {day}$",
        rf"^Changed its signing key on {day}$",
        rf"^Changed where it receives revocations on {day}$",
    ]
    for pattern in expected:
        assert any(re.match(pattern, text) for text in changes), (pattern, changes)
    screenshot_both_schemes(options, "options-sites-changes")
