"""Third parties in real Chromium and Firefox, against a real daemon: the consent prompt names each one in
words (what it is to the site, where, its policy, what it would receive) with a switch, optional ones off;
a third party switched off is absent from the signed token's `recipients`; a required one switched off
means nothing is shared. From the popup the user withdraws one third party alone, and sees the withdrawal
asked, then confirmed by the site, while the other third party keeps its share."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import quote

import msgspec
import pytest

from tests.daemon.support import DaemonProcess
from tests.extension.support import (
    RECOMMENDATIONS,
    WAIT_MS,
    Browser,
    ShopSite,
    admin_call,
    granted_token,
    remember_everything,
    result,
    save_screenshot,
    screenshot_both_schemes,
    start_request,
    verified_claims,
    wait_for_prompt,
)
from vault.protocol.acknowledgement import Acknowledgement, sign_acknowledgement
from vault.protocol.manifest import retention_seconds
from vault.site import InMemoryReplayStore, ThirdParty, make_nonce, verify_presentation

pytestmark = pytest.mark.slow


def payload(token: str) -> dict[str, Any]:
    """The token's payload, decoded by hand (the site's verifier checks it too)."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def party(prompt: Any, party_id: str) -> Any:
    return prompt.locator(f"li.party[data-party={party_id}]")


def test_the_prompt_names_each_third_party_and_a_switched_off_one_is_not_in_the_token(
    browser: Browser, site: ShopSite
) -> None:
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    prompt = wait_for_prompt(browser)

    stock, analytics = party(prompt, "stock"), party(prompt, "analytics")
    stock_text, analytics_text = stock.inner_text(), analytics.inner_text()
    assert "Example Stock Check Ltd." in stock_text and "Required" in stock_text
    assert "Processor: works for the site, on its instructions" in stock_text
    assert "based in Ireland" in stock_text and "Would receive: Country" in stock_text
    assert "not sharing with it means not sharing at all" in stock_text
    assert (
        "Third party: uses it for its own purposes" in analytics_text
        and "based in Netherlands" in analytics_text
    )
    assert "Would receive: Shoe size, Interests" in analytics_text
    assert analytics.locator("a", has_text="Privacy policy").get_attribute("href").startswith("https://")
    # Private by default: the optional third party starts off, the required one on.
    assert prompt.is_checked("li.party[data-party=stock] input") is True
    assert prompt.is_checked("li.party[data-party=analytics] input") is False
    prompt.locator("#parties-heading").scroll_into_view_if_needed()
    screenshot_both_schemes(prompt, "prompt-third-parties")

    # The shoe size is shared, the analytics partner stays off: it is not among the token's recipients.
    prompt.check("#claim-2")
    prompt.click("#share")
    prompt.wait_for_selector("#done-recipients", timeout=WAIT_MS)
    assert (
        prompt.inner_text("#done-recipients") == "The site may pass it on to Example Stock Check Ltd. only."
    )
    token = granted_token(result(page), site)
    assert payload(token)["recipients"] == ["stock"]
    assert verified_claims(site, token, nonce) == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 42,
    }


def test_a_required_third_party_switched_off_means_nothing_is_shared(
    browser: Browser, site: ShopSite
) -> None:
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    prompt = wait_for_prompt(browser)
    prompt.uncheck("li.party[data-party=stock] input")
    assert prompt.inner_text("#share") == "Share nothing"
    assert prompt.is_visible("text=You switched off something this purpose requires")
    prompt.locator("li.party[data-party=stock]").scroll_into_view_if_needed()
    save_screenshot(prompt, "prompt-third-party-required-off")
    # Switched on again, with the analytics partner too: both are recipients.
    prompt.check("li.party[data-party=stock] input")
    prompt.check("li.party[data-party=analytics] input")
    prompt.check("#claim-3")  # interests, which the analytics partner receives
    assert prompt.inner_text("#share") == "Share"
    prompt.click("#share")
    token = granted_token(result(page), site)
    assert sorted(payload(token)["recipients"]) == ["analytics", "stock"]

    # And a required one refused: the page is told no, and no token exists.
    start_request(page, make_nonce(), ["newsletter"], name="other")  # another purpose, no third parties
    wait_for_prompt(browser).click("#deny")
    assert result(page, name="other")["value"]["results"]["newsletter"]["outcome"] == "denied"


def report(daemon: DaemonProcess, site: ShopSite) -> dict[str, Any]:
    return admin_call(daemon, "GET", f"/v1/sites/report?origin={quote(site.origin, safe='')}")


def recipient_states(daemon: DaemonProcess, site: ShopSite) -> dict[str, set[str]]:
    states: dict[str, set[str]] = {}
    for disclosure in report(daemon, site)["disclosures"]:
        for recipient in disclosure["recipients"]:
            states.setdefault(recipient["id"], set()).add(recipient["withdrawal_state"])
    return states


def test_the_popup_withdraws_one_third_party_alone(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    remember_everything(daemon, site, make_nonce())  # both third parties allowed
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    assert sorted(payload(granted_token(result(page), site))["recipients"]) == ["analytics", "stock"]
    site.accepts_revocations = False  # the site does not answer yet

    popup = browser.extension_page(
        f"pages/popup.html?origin={quote(site.origin, safe='')}", width=360, height=900
    )
    popup.wait_for_selector("#recipients", timeout=WAIT_MS)
    assert popup.locator("li.recipient").count() == 2
    analytics = popup.locator("li.recipient[data-recipient=analytics]")
    assert "Shoe size" in analytics.inner_text() and "Interests" in analytics.inner_text()
    assert "Country" not in analytics.inner_text()  # only what it received
    screenshot_both_schemes(popup, "popup-recipients", element="body")

    popup.click("button[data-withdraw=analytics]")
    popup.wait_for_selector("button[data-confirm-withdraw=analytics]")
    assert "cannot be undone" in analytics.inner_text()
    save_screenshot(popup, "popup-recipient-confirm", element="body")
    popup.click("button[data-confirm-withdraw=analytics]")
    popup.wait_for_selector("#revoke-status", timeout=WAIT_MS)
    host = site.origin.removeprefix("http://")
    assert popup.inner_text("#revoke-status") == (
        f"Asked {host} to tell Example Analytics B.V. to stop using what it got."
        " Waiting for the site's confirmation."
    )
    popup.wait_for_selector("li.recipient.pending[data-recipient=analytics]", timeout=WAIT_MS)
    assert "waiting for the site's confirmation" in popup.inner_text("li.recipient.pending")
    # The other third party and the site keep theirs.
    assert popup.is_visible("li.recipient.none[data-recipient=stock] button[data-withdraw=stock]")
    assert recipient_states(daemon, site) == {"analytics": {"pending"}, "stock": {"none"}}
    assert all(d["withdrawal_state"] == "none" for d in report(daemon, site)["disclosures"])

    # The site answers: the analytics partner's outcome is confirmed, signed, and shown so.
    site.accepts_revocations = True
    deadline = time.monotonic() + 90
    while recipient_states(daemon, site)["analytics"] != {"confirmed"}:
        assert time.monotonic() < deadline, report(daemon, site)
        time.sleep(0.2)
    notice = site.notices[0]
    assert notice.recipients == ("analytics",) and notice.site is False
    popup.reload()
    popup.wait_for_selector("li.recipient.confirmed[data-recipient=analytics]", timeout=WAIT_MS)
    words = popup.inner_text("li.recipient.confirmed .recipient-state")
    assert words.startswith("Erased, confirmed by the site on "), words
    screenshot_both_schemes(popup, "popup-recipient-confirmed", element="body")
    assert admin_call(daemon, "GET", "/v1/ledger/verify")["ok"] is True


def test_a_new_third_party_is_asked_about_alone_and_the_others_show_the_earlier_answer(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    remember_everything(daemon, site, make_nonce())  # stock and analytics allowed, remembered
    payments = ThirdParty(
        id="payments",
        name="Pay Later S.A.",
        role="dpv:JointDataControllers",
        country="FR",
        privacy_policy="https://paylater.test/privacy",
        claims=("age_over_18",),
        required=False,
        why="Offers you to pay later, and decides with the shop whom to offer it.",
    )
    recommendations = msgspec.structs.replace(
        RECOMMENDATIONS, third_parties=(*RECOMMENDATIONS.third_parties, payments)
    )
    site.manifest = msgspec.structs.replace(
        site.manifest, purposes=(recommendations, *site.manifest.purposes[1:])
    )
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    prompt = wait_for_prompt(browser)
    new = party(prompt, "payments")
    assert "Joint controller: decides with the site how it is used" in new.inner_text()
    assert "based in France" in new.inner_text() and "Would receive: 18 or older" in new.inner_text()
    assert prompt.is_checked("li.party[data-party=payments] input") is False  # optional: off
    # The others were decided before: no switch, the earlier answer instead.
    for decided in ("stock", "analytics"):
        assert party(prompt, decided).locator("input").count() == 0
        assert "You allowed it before" in party(prompt, decided).inner_text()
    prompt.locator("li.party[data-party=payments]").scroll_into_view_if_needed()
    screenshot_both_schemes(prompt, "prompt-new-third-party")
    prompt.set_viewport_size({"width": 480, "height": 1400})
    save_screenshot(prompt, "prompt-new-third-party-whole")
    prompt.click("#share")
    token = granted_token(result(page), site)
    assert sorted(payload(token)["recipients"]) == ["analytics", "stock"]  # payments stayed off


def test_a_site_naming_a_third_party_the_user_refused_is_shown_as_a_broken_promise(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    wait_for_prompt(browser).click("#share")  # analytics stays off
    token = granted_token(result(page), site)
    verified = verify_presentation(
        token, manifest=site.manifest, nonce=nonce, now=int(time.time()), replay=InMemoryReplayStore()
    )
    # A misbehaving site signs an acknowledgement naming analytics (its own library would refuse to).
    ack = sign_acknowledgement(
        site.site_key,
        Acknowledgement(
            iss=site.origin,
            aud=verified.subject,
            iat=int(time.time()),
            presentation=verified.jti,
            purpose="recommendations",
            purpose_digest=verified.purpose_digest,
            claims=tuple(sorted(verified.claims)),
            keep_until=verified.issued_at + retention_seconds("P30D"),
            recipients=("stock", "analytics"),
        ),
    )
    assert page.evaluate("token => ackVault(token)", ack)["ok"] is True
    words = (
        "The site says it passed your information to Example Analytics B.V., which you did not allow"
        " (its signed acknowledgement of "
    )
    popup = browser.extension_page(
        f"pages/popup.html?origin={quote(site.origin, safe='')}", width=360, height=700
    )
    popup.wait_for_selector("#broken-promises", timeout=WAIT_MS)
    assert popup.inner_text("#broken-promises").startswith(words)
    screenshot_both_schemes(popup, "popup-broken-promise", element="body")
    options = browser.extension_page("pages/options.html#sites", width=1100, height=900)
    options.click("button:has-text('What it knows')")
    options.wait_for_selector(".broken-promises", timeout=WAIT_MS)
    assert words in options.inner_text(".broken-promises")
    save_screenshot(options, "options-broken-promise")
    # The user can ask for it back from the third party they refused.
    options.click("[data-withdraw-unallowed='analytics']")
    options.wait_for_selector("#confirm-dialog", timeout=WAIT_MS)
    assert "Withdraw from Example Analytics B.V.?" in options.inner_text("#confirm-dialog")
    options.click("#confirm-yes")
    options.wait_for_selector("#confirm-dialog", state="detached")
    options.wait_for_selector("text=Asked", timeout=WAIT_MS)
    with daemon.admin() as admin:
        status, entries = admin.request_json("GET", "/v1/ledger?limit=1000")
    assert status == 200
    (notice,) = [e["body"] for e in entries if e["kind"] == "revocation"]
    assert (notice["site"], notice["recipients"]) == (False, ["analytics"])  # the site keeps its copy
