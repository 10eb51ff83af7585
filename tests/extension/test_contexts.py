"""Contexts in the extension, in real Chromium and Firefox against a real daemon: a context added in the
options page as a copy, chosen in the popup for every site, for one site, or for the next hour, and what a
page's personalVault.request gets in each (a copied remembered answer, or a prompt that names the context);
the choice ends with "Back to …"; a context is removed behind a confirmation."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import datetime
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
    popup_for,
    remember_everything,
    result,
    save_screenshot,
    screenshot_both_schemes,
    serving,
    shop_on,
    start_request,
    wait_for_prompt,
)
from vault.site import (
    Controller,
    InMemoryReplayStore,
    make_nonce,
    verify_presentation,
)

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def another_site() -> Iterator[ShopSite]:
    """A second shop on its own port (another origin), as conftest's `site`."""
    controller = Controller(
        name="Other Shoes Ltd.", contact="privacy@other.test", privacy_policy="https://other.test/privacy"
    )
    with serving() as server:
        yield shop_on(server, controller)


def contexts(daemon: DaemonProcess, origin: str | None = None) -> dict[str, Any]:
    where = f"?origin={quote(origin, safe='')}" if origin else ""
    return admin_call(daemon, "GET", f"/v1/contexts{where}")


def named(daemon: DaemonProcess) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in contexts(daemon)["contexts"]}


def silent_subject(browser: Browser, site: ShopSite) -> str:
    """The page asks; a remembered answer grants it without a prompt. Returns the token's subject."""
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    token = granted_token(result(page), site)
    page.close()
    seen = verify_presentation(
        token, manifest=site.manifest, nonce=nonce, now=int(time.time()), replay=InMemoryReplayStore()
    )
    return seen.subject


def options(browser: Browser, section: str) -> Any:
    page = browser.extension_page(f"pages/options.html#{section}", width=1100, height=900)
    page.wait_for_selector("#app .section-head", timeout=WAIT_MS)
    return page


def add_context(page: Any, name: str, *, copy_of: str | None = None, separate: bool = False) -> None:
    page.fill("#context-name", name)
    if copy_of:
        page.select_option("#context-copy", label=f"A copy of {copy_of}")
    if separate:
        page.check("#context-separate")
    page.click("#context-add")
    page.wait_for_selector(f"#contexts tr[data-name='{name}']", timeout=WAIT_MS)


def choose(popup: Any, name: str, button: str, expect: str) -> None:
    """In the popup: pick a context, press where it applies, and wait for the chooser to say so."""
    popup.select_option("#context-select", label=name)
    popup.click(button)
    popup.wait_for_selector(f"#context-line:text-is('{expect}')", timeout=WAIT_MS)


def popup(browser: Browser, site: ShopSite) -> Any:
    page = popup_for(browser, site)
    page.wait_for_selector("#context-line", timeout=WAIT_MS)
    return page


def test_a_context_copied_in_the_options_page_and_chosen_in_the_popup_answers_the_next_request(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    with another_site() as other:
        for shop in (site, other):
            remember_everything(daemon, shop, make_nonce())  # remembered in Everyday
        everyday_subject = silent_subject(browser, site)

        # Options: Work starts as a copy of Everyday, with its own identity; Urgent starts empty.
        page = options(browser, "contexts")
        assert page.inner_text("#contexts tr[data-context=everyday]").startswith("Everyday in use")
        assert not page.locator("#contexts tr[data-context=everyday] [data-remove]").count()  # stays
        add_context(page, "Work", copy_of="Everyday", separate=True)
        add_context(page, "Urgent", separate=True)
        work, urgent = named(daemon)["Work"], named(daemon)["Urgent"]
        assert work["separate_identity"] is True and work["gpc"] is True
        assert urgent["separate_identity"] is True
        assert page.is_checked(f"tr[data-context={urgent['id']}] input[data-switch=gpc]")
        assert page.is_checked(f"tr[data-context={work['id']}] input[data-switch=separateIdentity]")

        # The popup: Work on every site. The copied remembered answer grants silently, with a subject of
        # Work's own identity.
        chooser = popup(browser, site)
        assert chooser.inner_text("#context-line") == "Context: Everyday — on every site"
        assert not chooser.locator("#context-back").count()
        choose(chooser, "Work", "#context-everywhere", "Context: Work — on every site")
        assert contexts(daemon)["choices"]["browser"]["id"] == work["id"]
        work_subject = silent_subject(browser, site)
        assert work_subject != everyday_subject

        # Urgent only on this site: the same request brings a prompt there, which names the context...
        assert chooser.locator(".remembered-list").count() == 1  # Work's copied answers
        choose(chooser, "Urgent", "#context-site", "Context: Urgent — always on this site")
        assert chooser.inner_text("#context-back") == "Back to Work"
        # The popup shows the remembered choices of the context answering this site: Urgent has none.
        assert chooser.locator(".remembered-list").count() == 0
        page_a = browser.site_page(site.url)
        start_request(page_a, make_nonce())
        prompt = wait_for_prompt(browser)
        assert prompt.inner_text("#prompt-context") == "Context: Urgent · its own identity"
        save_screenshot(prompt, "prompt-context")
        prompt.click("#deny")
        assert result(page_a)["value"]["results"]["recommendations"]["outcome"] == "denied"
        page_a.close()
        # ... and the other site still answers in Work, silently.
        assert contexts(daemon, other.origin)["active"]["context"]["id"] == work["id"]
        silent_subject(browser, other)
        other_popup = popup(browser, other)
        assert other_popup.inner_text("#context-line") == "Context: Work — on every site"
        other_popup.close()

        # Back to Work on this site: answered silently again.
        chooser.click("#context-back")
        chooser.wait_for_selector("#context-line:text-is('Context: Work — on every site')", timeout=WAIT_MS)
        assert silent_subject(browser, site) == work_subject

        # Urgent for the next hour, everywhere: the chooser says until when, and Back to Work ends it.
        chooser.select_option("#context-select", label="Urgent")
        chooser.click("#context-hour")
        chooser.wait_for_selector("#context-line:has-text('Context: Urgent — until')", timeout=WAIT_MS)
        assert chooser.inner_text("#context-line") == f"Context: Urgent — until {timed_end(daemon)}"
        assert chooser.inner_text("#context-back") == "Back to Work"
        screenshot_both_schemes(chooser, "popup-context", element="body")
        chooser.click("#context-back")
        chooser.wait_for_selector("#context-line:text-is('Context: Work — on every site')", timeout=WAIT_MS)
        assert contexts(daemon)["choices"]["timed"] is None


def timed_end(daemon: DaemonProcess) -> str:
    """The timed choice's end as the popup shows it (same time zone as the browser: this machine's): the
    time alone on the same day, else with the date ("1 Dec 2026, 00:02", when the hour crosses midnight)."""
    until = contexts(daemon)["choices"]["timed_until"]
    assert 3590 <= until - time.time() <= 3610
    end = datetime.fromtimestamp(until)
    if end.date() == datetime.now().date():
        return end.strftime("%H:%M")
    return f"{end.day} {end.strftime('%b %Y, %H:%M')}"


def test_the_options_page_lists_renames_and_removes_contexts_and_the_sites_choices(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    page = options(browser, "contexts")
    add_context(page, "Work", copy_of="Everyday")
    add_context(page, "Urgent", separate=True)
    urgent = named(daemon)["Urgent"]
    admin_call(daemon, "POST", "/v1/contexts/use", {"context": "Work", "origin": site.origin})
    admin_call(daemon, "POST", "/v1/contexts/use", {"context": "Urgent", "minutes": 90})
    page.reload()
    page.wait_for_selector("#site-choices", timeout=WAIT_MS)
    row = page.locator(f"#contexts tr[data-context={urgent['id']}]")
    assert "in use until" in row.inner_text()
    assert "uses Work, always" in page.inner_text(f"#site-choices li[data-origin='{site.origin}']")
    screenshot_both_schemes(page, "options-contexts", full_page=True)

    # Rename inline.
    page.click(f"button[data-rename={urgent['id']}]")
    page.fill("#rename-input", "Right now")
    page.click("#rename-save")
    page.wait_for_selector("#contexts tr[data-name='Right now']", timeout=WAIT_MS)
    assert urgent["id"] in {c["id"] for c in contexts(daemon)["contexts"] if c["name"] == "Right now"}

    # GPC off for a context, from its switch.
    page.click(f"tr[data-context={urgent['id']}] input[data-switch=gpc]")
    deadline = time.monotonic() + 10
    while named(daemon)["Right now"]["gpc"]:
        assert time.monotonic() < deadline, "GPC was not switched off"
        time.sleep(0.1)
    # The page says so once the daemon's answer is back (the switch is disabled until then).
    switched = "label:has(input[data-switch=gpc]:not(:checked):enabled):has-text('off')"
    page.wait_for_selector(f"tr[data-context={urgent['id']}] {switched}", timeout=WAIT_MS)

    # Remove, behind a confirmation that says what goes and what stays.
    page.click(f"button[data-remove={urgent['id']}]")
    page.wait_for_selector("#confirm-dialog", timeout=WAIT_MS)
    text = page.inner_text("#confirm-dialog")
    assert "rules and remembered decisions go" in text and "stays in the history" in text, text
    save_screenshot(page, "options-contexts-remove")
    page.click("#confirm-no")
    assert "Right now" in named(daemon)
    page.click(f"button[data-remove={urgent['id']}]")
    page.click("#confirm-yes")
    page.wait_for_selector(f"#contexts tr[data-context={urgent['id']}]", state="detached", timeout=WAIT_MS)
    assert "Right now" not in named(daemon)
    assert contexts(daemon)["choices"]["timed"] is None  # its timed choice fell back
    page.wait_for_selector("#undo-text:has-text('stays in the history')")

    # A site's own choice is removed from the list.
    page.click(f"button[data-end-site='{site.origin}']")
    page.wait_for_selector("#no-site-choices", timeout=WAIT_MS)
    assert contexts(daemon)["choices"]["sites"] == {}
    kinds = [
        e["body"]["action"]
        for e in admin_call(daemon, "GET", "/v1/ledger?limit=100")
        if e["kind"] == "context"
    ]
    assert kinds == ["added", "added", "renamed", "changed", "removed"]
    assert admin_call(daemon, "GET", "/v1/ledger/verify")["ok"] is True


def test_rules_and_remembered_choices_are_edited_per_context_and_views_name_each_disclosures_context(
    browser: Browser, site: ShopSite, daemon: DaemonProcess
) -> None:
    remember_everything(daemon, site, make_nonce())
    silent_subject(browser, site)  # shared in Everyday
    admin_call(daemon, "POST", "/v1/contexts", {"name": "Work", "copy_from": "Everyday"})
    admin_call(daemon, "POST", "/v1/contexts/use", {"context": "Work"})
    silent_subject(browser, site)  # shared in Work, from the copied remembered answer
    work = named(daemon)["Work"]["id"]

    # Rules: the one in use is chosen at first; a rule added goes to it alone.
    page = options(browser, "rules")
    assert page.inner_text("#context-for-words") == "Rules for Work, the context in use now."
    page.select_option("#rule-kind", "never")
    page.select_option("#rule-target", "email")
    page.click("#rule-add")
    page.wait_for_selector("li.rule-row[data-rule='never:email']", timeout=WAIT_MS)
    assert page.inner_text("#undo-text").startswith("Rule added to Work: Never share")
    rules = {c: admin_call(daemon, "GET", f"/v1/rules?context={c}")["rules"] for c in ("Work", "Everyday")}
    assert {"kind": "never", "target": "email"} in rules["Work"]
    assert {"kind": "never", "target": "email"} not in rules["Everyday"]
    screenshot_both_schemes(page, "options-rules-context")
    page.select_option("#context-for", "everyday")
    page.wait_for_selector("#context-for-words:text-is('Rules for Everyday.')", timeout=WAIT_MS)
    assert not page.locator("li.rule-row[data-rule='never:email']").count()

    # Remembered choices: Everyday's changed, Work's copy stays as it was.
    page = options(browser, "consents")
    assert page.inner_text("#context-for-words") == "Remembered choices for Work, the context in use now."
    page.select_option("#context-for", "everyday")
    page.wait_for_selector("#context-for-words:text-is('Remembered choices for Everyday.')", timeout=WAIT_MS)
    page.locator("tr[data-item='claim:sizes.shoe'] button[data-change=deny]").click()
    page.wait_for_selector("tr[data-item='claim:sizes.shoe'] button[data-change=allow]", timeout=WAIT_MS)

    def shoe(context: str) -> str:
        rows = admin_call(daemon, "GET", f"/v1/consents?context={context}")
        return next(r["effect"] for r in rows if r["claim"] == "sizes.shoe")

    assert (shoe("everyday"), shoe(work)) == ("deny", "allow")

    # The history and the site's view say which context each disclosure was made in.
    page = options(browser, "ledger")
    page.wait_for_selector("#history-table", timeout=WAIT_MS)
    shared = page.locator("#history-table tr[data-kind=disclosure] .context-tag").all_inner_texts()
    assert shared == ["in Work", "in Everyday", "in Everyday"], shared  # remember_everything shared once
    added = page.locator("#history-table tr[data-kind=context]").inner_text()
    assert "Added Work, a copy of Everyday" in added, added
    page = options(browser, "sites")
    page.click("button:has-text('What it knows')")
    page.wait_for_selector(".site-details .purpose-block", timeout=WAIT_MS)
    tags = page.locator(".purpose-block[data-purpose=recommendations] .context-tag").all_inner_texts()
    assert sorted(tags) == ["in Everyday", "in Everyday", "in Work"], tags
    save_screenshot(page, "options-sites-context", full_page=True)
