"""The extension in real Chromium, against a real daemon through the real native host, driven from a
test site's page like a site's own script would drive it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.extension.support import (
    PAGE_RESULT_KEYS,
    PROMPT_VIEW,
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
    wait_for_pairing_request,
    wait_for_prompt,
)
from tests.support import PASSPHRASE
from vault.site import InMemoryReplayStore, acknowledge_presentation, make_nonce, verify_presentation

pytestmark = pytest.mark.slow


def test_first_visit_prompts_with_exact_values_then_shares_only_what_is_switched_on(
    browser: Browser, site: ShopSite
) -> None:
    page = browser.site_page(site.url)
    assert page.evaluate("() => [personalVault.version, window.readyEvents]") == ["1.0", 1]
    nonce = make_nonce()
    start_request(page, nonce)
    prompt = wait_for_prompt(browser)

    text = prompt.inner_text("body")
    assert "127.0.0.1" in text and "Test Shoes B.V." in text and "Shoe recommendations" in text
    assert "You see shoes that fit" in text  # the benefit
    assert "30 days" in text and "Example Analytics B.V." in text
    # How long and with whom, without scrolling: a summary line near the top.
    assert prompt.inner_text("#summary") == "Kept 30 days · shared with 2 third parties"
    assert prompt.locator("#summary").bounding_box()["y"] < PROMPT_VIEW["height"] / 2
    values = {
        prompt.locator(f"#claim-{i}").get_attribute("value"): prompt.inner_text(
            f"li.claim:nth-child({i + 1}) .value"
        )
        for i in range(4)
    }
    assert values == {"age_over_18": "Yes", "location.country": "NL", "sizes.shoe": "42", "interests": "jazz"}
    assert prompt.evaluate("() => document.activeElement.id") == "title"  # focus on open
    # Private by default: only the required claims start switched on.
    assert [prompt.is_checked(f"#claim-{i}") for i in range(4)] == [True, True, False, False]
    # Share and Deny weigh the same: one style, one size, neither the coloured default.
    share, deny = prompt.locator("#share"), prompt.locator("#deny")
    assert share.get_attribute("class") == deny.get_attribute("class") == "button answer"
    assert share.bounding_box()["width"] == deny.bounding_box()["width"]
    assert share.bounding_box()["height"] == deny.bounding_box()["height"]
    assert share.evaluate("e => getComputedStyle(e).backgroundColor") == deny.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    screenshot_both_schemes(prompt, "prompt")
    prompt.set_viewport_size({"width": 480, "height": 1200})
    save_screenshot(prompt, "prompt-whole")

    prompt.check("#claim-2")  # sizes.shoe: optional; interests stays off
    prompt.click('label.option:has-text("Remember for this site")')
    assert prompt.is_checked("input[value=remember]")
    prompt.click("#share")
    prompt.wait_for_selector("text=Shared with 127.0.0.1", timeout=WAIT_MS)
    save_screenshot(prompt, "prompt-done")
    prompt.wait_for_event("close", timeout=WAIT_MS)  # the prompt closes itself

    token = granted_token(result(page), site)
    assert verified_claims(site, token, nonce) == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 42,
    }

    # Second request: the remembered answer is given without a prompt.
    pages_before = len(browser.context.pages)
    second = make_nonce()
    start_request(page, second)
    token = granted_token(result(page), site)
    assert verified_claims(site, token, second) == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 42,
    }
    assert len([p for p in browser.context.pages if "prompt.html" in p.url and not p.is_closed()]) == 0
    assert len(browser.context.pages) <= pages_before


def test_deny_gives_the_page_a_denial_and_no_token(browser: Browser, site: ShopSite) -> None:
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    prompt = wait_for_prompt(browser)
    prompt.click("#deny")
    outcome = result(page)
    assert outcome["ok"], outcome
    entry = outcome["value"]["results"]["recommendations"]
    assert entry["outcome"] == "denied" and entry["reason"] == "denied" and "token" not in entry
    assert set(entry) == PAGE_RESULT_KEYS["denied"], entry


def test_escape_denies_and_closing_the_window_denies(browser: Browser, site: ShopSite) -> None:
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    prompt = wait_for_prompt(browser)
    prompt.keyboard.press("Escape")
    assert result(page)["value"]["results"]["recommendations"]["outcome"] == "denied"

    start_request(page, make_nonce())
    prompt = wait_for_prompt(browser)
    prompt.close()
    entry = result(page)["value"]["results"]["recommendations"]
    assert entry["outcome"] == "denied" and entry["reason"] == "denied"


def test_one_prompt_per_tab_at_a_time(browser: Browser, site: ShopSite) -> None:
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    prompt = wait_for_prompt(browser)
    start_request(page, make_nonce(), ["newsletter"], name="second")
    second = result(page, name="second")
    assert second["ok"] is False and second["code"] == "busy", second
    prompt.click("#share")
    assert result(page)["value"]["results"]["recommendations"]["outcome"] == "granted"


def test_required_claim_unticked_shares_nothing(browser: Browser, site: ShopSite) -> None:
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    prompt = wait_for_prompt(browser)
    prompt.uncheck("#claim-1")  # location.country: required
    assert prompt.inner_text("#share") == "Share nothing"
    assert prompt.is_visible("text=nothing will be shared")
    prompt.click("#share")
    entry = result(page)["value"]["results"]["recommendations"]
    assert entry["outcome"] == "denied" and "token" not in entry


def test_locked_vault_waits_until_the_popup_unlocks_it(browser: Browser, site: ShopSite, daemon) -> None:
    remember_everything(daemon, site, make_nonce())
    admin_call(daemon, "POST", "/v1/admin/lock")
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    browser.wait_for_badge("1")  # one request waits for the vault

    popup = browser.extension_page(f"pages/popup.html?origin={site.origin}", width=360, height=600)
    popup.wait_for_selector("#passphrase")
    assert popup.is_visible("text=1 request is waiting for your vault")
    screenshot_both_schemes(popup, "popup-locked", element="body")
    popup.fill("#passphrase", "not the passphrase")
    popup.press("#passphrase", "Enter")
    popup.wait_for_selector("text=That passphrase is not right")
    # The daemon makes a wrong passphrase wait a second before the next try, on a whole-second clock
    # rounded up a tick (vault/daemon/state.py): up to 2 s.
    time.sleep(2.1)
    popup.fill("#passphrase", PASSPHRASE)
    popup.press("#passphrase", "Enter")

    token = granted_token(result(page), site)
    claims = verified_claims(site, token, nonce)
    assert claims == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42, "interests": ["jazz"]}
    browser.wait_for_badge("")

    # The popup now shows what the site knows, with a Revoke button.
    popup.wait_for_selector("#revoke", timeout=WAIT_MS)
    assert "jazz" in popup.inner_text("main")
    screenshot_both_schemes(popup, "popup-site", element="body")
    popup.click("#revoke")
    popup.click("#confirm-revoke")
    popup.wait_for_selector("#revoke-status", timeout=WAIT_MS)  # asked; the site has not confirmed yet
    assert popup.inner_text("#revoke-status").endswith("Waiting for the site's confirmation.")
    report = admin_call(daemon, "GET", f"/v1/sites/report?origin={site.origin}")
    assert all(d["withdrawn_at"] is not None for d in report["disclosures"])
    assert admin_call(daemon, "GET", "/v1/consents") == []


def test_a_worker_stopped_mid_prompt_still_answers_the_page(browser: Browser, site: ShopSite) -> None:
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    prompt = wait_for_prompt(browser)
    browser.stop_worker()  # its globals are gone; the request lives on in chrome.storage.session
    prompt.click("#share")  # the decision wakes a new worker, which finds the request and answers
    token = granted_token(result(page), site)
    assert verified_claims(site, token, nonce)["location.country"] == "NL"


def test_an_answer_the_stopped_worker_missed_is_read_not_denied(
    browser: Browser, site: ShopSite, daemon
) -> None:
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    prompt = wait_for_prompt(browser)
    prompt_id = prompt.url.split("id=", 1)[1]
    # The answer reaches the daemon but never the worker, which then stops: a new worker reads the
    # prompt's outcome (GET .../outcome) when it starts, and the page gets the token. (The content script,
    # its port closed, asks the new worker which calls it holds: that starts it, no other event needed.)
    decision = {
        "share": True,
        "claims": ["age_over_18", "location.country", "sizes.shoe"],
        "recipients": ["stock"],
    }
    granted = admin_call(daemon, "POST", f"/v1/prompts/{prompt_id}/decision", decision)
    browser.stop_worker()
    token = granted_token(result(page), site)
    assert token == granted["token"] and verified_claims(site, token, nonce)["location.country"] == "NL"


def test_a_worker_stopped_while_the_vault_is_locked_resumes_after_unlock(
    browser: Browser, site: ShopSite, daemon
) -> None:
    remember_everything(daemon, site, make_nonce())
    admin_call(daemon, "POST", "/v1/admin/lock")
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    browser.wait_for_badge("1")
    browser.stop_worker()
    popup = browser.extension_page(f"pages/popup.html?origin={site.origin}", width=360, height=600)
    popup.fill("#passphrase", PASSPHRASE)
    popup.press("#passphrase", "Enter")
    token = granted_token(result(page), site)
    assert verified_claims(site, token, nonce)["age_over_18"] is True


def test_a_manifest_for_another_origin_is_a_clear_bad_request(browser: Browser, site: ShopSite) -> None:
    page = browser.site_page(site.other_origin + "/")
    outcome = (start_request(page, make_nonce()), result(page))[1]
    assert outcome == {
        "ok": False,
        "code": "bad_request",
        "name": "PersonalVaultError",
        "message": f"the vault manifest at {site.other_origin}/.well-known/vault-manifest.json is for "
        f'"{site.origin}", not for this page\'s origin {site.other_origin}',
    }


def test_a_missing_manifest_is_a_clear_bad_request(browser: Browser, site: ShopSite) -> None:
    site.manifest_status = 404
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    outcome = result(page)
    assert outcome["code"] == "bad_request", outcome
    assert (
        outcome["message"]
        == f"this site has no vault manifest: {site.origin}/.well-known/vault-manifest.json answered 404"
    )


def test_an_invalid_manifest_is_a_clear_bad_request(browser: Browser, site: ShopSite) -> None:
    broken = json.loads(site.manifest_text())
    broken["purposes"][0]["retention"] = "thirty days"
    site.manifest_override = json.dumps(broken).encode()
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    outcome = result(page)
    assert outcome["code"] == "bad_request", outcome
    assert outcome["message"].startswith("the site's manifest is invalid:"), outcome
    # The site fixes it: the next request fetches it again instead of using the cached broken copy.
    site.manifest_override = None
    start_request(page, make_nonce())
    assert wait_for_prompt(browser).is_visible("text=Shoe recommendations")


def test_bad_arguments_are_refused_before_anything_is_asked(browser: Browser, site: ShopSite, daemon) -> None:
    page = browser.site_page(site.url)
    cases = [
        ({"purposes": ["recommendations"], "nonce": "short"}, "nonce must be"),
        ({"purposes": "recommendations", "nonce": make_nonce()}, "purposes"),
        ({"purposes": [], "nonce": make_nonce()}, "at least one purpose"),
        ({"purposes": ["Bad Purpose"], "nonce": make_nonce()}, "invalid entry"),
        ({"purposes": ["recommendations"], "nonce": make_nonce(), "claims": ["x" * 100]}, "invalid entry"),
    ]
    for options, words in cases:
        page.evaluate("options => { window.pending = askVault(options); }", options)
        outcome = result(page)
        assert outcome["code"] == "bad_request" and words in outcome["message"], (options, outcome)
    unknown = result_of(page, {"purposes": ["no-such-purpose"], "nonce": make_nonce()})
    entry = unknown["value"]["results"]["no-such-purpose"]
    assert entry["outcome"] == "denied" and entry["reason"] == "bad_request", entry
    assert admin_call(daemon, "GET", "/v1/prompts") == []


def result_of(page: Any, options: dict[str, Any]) -> dict[str, Any]:
    page.evaluate("options => { window.pending = askVault(options); }", options)
    return result(page)


def test_an_unpaired_extension_gets_not_paired_and_the_popup_shows_the_command(launch, site, daemon) -> None:
    browser = launch()
    code = wait_for_pairing_request(daemon)["code"]
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    outcome = result(page)
    assert outcome["ok"] is False and outcome["code"] == "not_paired", outcome
    browser.wait_for_badge("!")

    popup = browser.extension_page("pages/popup.html", width=360, height=600)
    popup.wait_for_selector("#pair-command")
    assert popup.inner_text("#pair-command") == f"vault pair approve {code}"
    screenshot_both_schemes(popup, "popup-pairing", element="body")

    admin_call(daemon, "POST", "/v1/admin/pairings/approve", {"code": code})
    popup.wait_for_selector("#state >> text=Unlocked", timeout=WAIT_MS)  # the popup noticed by itself
    pairings = admin_call(daemon, "GET", "/v1/admin/pairings")
    assert (
        pairings["clients"][0]["name"]
        == {"chromium": "Chromium", "firefox": "Firefox"}[browser.name] + " on Linux"
    )


def test_a_stopped_daemon_is_not_available(browser: Browser, site: ShopSite, daemon) -> None:
    daemon.stop()
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    outcome = result(page)
    assert outcome["ok"] is False and outcome["code"] == "not_available", outcome
    assert "/" not in outcome["message"]  # no socket paths or host details for the page
    popup = browser.extension_page("pages/popup.html", width=360, height=600)
    popup.wait_for_selector("text=Can’t reach your vault")
    assert popup.is_visible("code:text('vault serve')")
    # The command really parses (tests/extension/test_commands.py): `install-browser chromium` did not.
    assert popup.is_visible(f"code:text('vault install-browser --browser {browser.name}')")
    save_screenshot(popup, "popup-unavailable", element="body")


def test_acknowledgement_is_stored(browser: Browser, site: ShopSite, daemon) -> None:
    remember_everything(daemon, site, make_nonce())
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    token = granted_token(result(page), site)
    seen = verify_presentation(
        token, manifest=site.manifest, nonce=nonce, now=int(time.time()), replay=InMemoryReplayStore()
    )
    ack = acknowledge_presentation(site.site_key, seen, manifest=site.manifest, now=int(time.time()))
    outcome = page.evaluate("token => ackVault(token)", ack)
    assert outcome == {"ok": True, "value": {"stored": True, "presentation": seen.jti}}
    outcome = page.evaluate("token => ackVault(token)", "not.a.token")
    assert outcome["ok"] is False and outcome["code"] == "bad_request", outcome


def test_options_page_edits_the_profile_and_shows_sites_history_and_export(
    browser: Browser, site: ShopSite, daemon
) -> None:
    remember_everything(daemon, site, make_nonce())
    page = browser.site_page(site.url)
    start_request(page, make_nonce())
    granted_token(result(page), site)

    options = browser.extension_page("pages/options.html", width=1100, height=900)
    options.wait_for_selector("#attr-sizes-shoe")
    assert options.input_value("#attr-birthdate") == "1990-05-17"
    screenshot_both_schemes(options, "options-profile")
    options.fill("#attr-sizes-shoe", "43")
    options.press("#attr-sizes-shoe", "Enter")  # Enter in a field saves the whole form
    options.wait_for_selector("#undo-text:has-text('Saved Shoe size')")
    options.fill("#attr-languages", "nl")
    options.press("#attr-languages", "Enter")  # in the languages field, Enter adds the language
    options.fill("#attr-languages", "en-GB")
    options.press("#attr-languages", "Enter")
    options.click("#profile-save")
    options.wait_for_selector("#undo-text:has-text('Saved Languages')")
    values = admin_call(daemon, "GET", "/v1/attributes")["values"]
    assert values["sizes.shoe"] == 43 and values["languages"] == ["nl", "en-GB"]
    options.fill("#attr-sizes-shoe", "99")
    options.press("#attr-sizes-shoe", "Enter")
    options.wait_for_selector("#attr-sizes-shoe-status.error-text")
    assert admin_call(daemon, "GET", "/v1/attributes")["values"]["sizes.shoe"] == 43

    options.click("a[data-section=sites]")
    options.wait_for_selector(f"text={site.origin.removeprefix('http://')}")
    options.click("text=What it knows")
    options.wait_for_selector(".site-details table")
    screenshot_both_schemes(options, "options-sites")

    options.click("a[data-section=consents]")
    options.wait_for_selector("table >> text=Shoe size")

    options.click("a[data-section=ledger]")
    options.wait_for_selector("table >> text=Shared")
    screenshot_both_schemes(options, "options-history")

    options.click("a[data-section=export]")
    with options.expect_download() as download:
        options.click("#export-button")
    assert download.value.suggested_filename.startswith("personal-vault-export-")
    exported = json.loads(download.value.path().read_text())
    assert exported["format"] == "personal-vault-export"
    assert {a["name"]: a["value"] for a in exported["profile"]}["sizes.shoe"] == 43
