"""`vault ask` in a subprocess against a real site process (tests/consent/access_site.py): the answer and
each discrepancy in words, --json for scripts, "no access endpoint", "no answer yet", and `vault site`
showing the latest comparison and the holdings past their retention."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.consent.test_access import DAY, SiteProcess, access_manifest, given_to, real_now
from tests.consent.test_identity_relationship import share
from tests.consent.test_revocation import disclose, jti, make_vault
from tests.support import PASSPHRASE, Result
from vault.consent.access import schedule_retention_checks
from vault.consent.access_compare import day
from vault.consent.contexts import add_context, new_context_id, use_context
from vault.store import Vault


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[SiteProcess]:
    site = SiteProcess(tmp_path / "site")
    yield site
    site.stop()


def test_vault_ask_names_what_a_lying_site_holds_and_each_discrepancy(
    vault_home: Path, shop: SiteProcess, run_vault: Callable[..., Result]
) -> None:
    now = real_now()
    with make_vault(vault_home, now - 30 * DAY) as vault:
        given_to(vault, shop, now)
    shop.start("lying")
    asked = run_vault("ask", shop.origin, "--allow-loopback-http")
    assert asked.code == 0, asked.err
    out = asked.out
    assert f"{shop.origin} answered on {day(now)}. It holds:" in out, out
    assert "  Shoe recommendations: " in out and "your shoe size (sizes.shoe = 42)" in out
    assert f"since {day(now - 10 * DAY)}, until {day(now - 10 * DAY + 365 * DAY)}" in out
    assert "passed on to adbroker (not named in its manifest), Example Stock Check Ltd." in out
    assert out.count("DISCREPANCY: ") == 6
    assert "DISCREPANCY: Holds your email address for Shoe recommendations, but you never shared it" in out

    # --json: the same request, for scripts (asking again while nothing waits is a new request).
    data = json.loads(run_vault("ask", shop.origin, "--allow-loopback-http", "--json").out)
    assert data["state"] == "answered" and data["origin"] == shop.origin
    assert {d["kind"] for d in data["discrepancies"]} == {
        "held_past_retention",
        "never_disclosed",
        "unallowed_recipient",
    }
    # `vault site` shows the latest comparison too.
    site = run_vault("site", shop.origin)
    assert site.code == 0 and site.out.count("DISCREPANCY: ") == 6, site.out
    site_json = json.loads(run_vault("site", shop.origin, "--json").out)
    assert site_json["discrepancies"] == data["discrepancies"] and site_json["overdue"] == []


def test_no_endpoint_and_no_answer_yet(
    vault_home: Path, shop: SiteProcess, run_vault: Callable[..., Result]
) -> None:
    now = real_now()
    with make_vault(vault_home, now - 30 * DAY) as vault:
        given_to(vault, shop, now)
        disclose(vault, access_manifest("https://plain.example", endpoint=False), "age-check", jti(7))
    plain = run_vault("ask", "https://plain.example")
    assert plain.code == 0 and "declares no access endpoint" in plain.out and "Nothing was asked" in plain.out
    assert json.loads(run_vault("ask", "https://plain.example", "--json").out)["state"] == "no_endpoint"
    # The site is not running: the request stays queued, and says when it is tried again.
    waiting = run_vault("ask", shop.origin, "--allow-loopback-http")
    assert waiting.code == 0 and "has not answered yet (1 attempt, last: connection refused)" in waiting.out
    assert "will try again at " in waiting.out
    queued = run_vault("ask", shop.origin, "--no-wait", "--json")
    assert json.loads(queued.out)["state"] == "waiting"  # the same request, still waiting
    unknown = run_vault("ask", "https://never.example")
    assert unknown.code == 1 and "never dealt with" in unknown.err and unknown.err.count("\n") == 1
    bad = run_vault("ask", "shop.example")
    assert bad.code == 1 and "is not a site origin" in bad.err


def test_vault_site_shows_holdings_past_their_retention(
    vault_home: Path, shop: SiteProcess, run_vault: Callable[..., Result]
) -> None:
    now = real_now()
    with make_vault(vault_home, now - 30 * DAY) as vault:
        issued = disclose(vault, shop.manifest, "age-check", jti(1), site=shop.site, now=now - 3 * DAY)
        shop.receive(issued, "age-check", 30)
    shop.start("honest")
    with Vault.open(vault_home, PASSPHRASE, now=now) as vault:
        assert len(schedule_retention_checks(vault, now=now)) == 1
    out = run_vault("site", shop.origin).out
    assert f"Retention ended {day(now - 2 * DAY)}: Age confirmation at checkout (age_over_18): asked" in out


def test_vault_ask_and_report_show_each_identity_the_site_knows_you_by(
    vault_home: Path, shop: SiteProcess, run_vault: Callable[..., Result]
) -> None:
    """A site that knows you by two identities (the shared one and Work's own) is asked once for each,
    and `vault ask` says both answers, each under its identity (not only the first); `vault report
    --context` chooses which identity a complaint is about."""
    now = real_now()
    with make_vault(vault_home, now - 30 * DAY) as vault:
        vault.set_attribute("sizes.shoe", 42, now=now - 30 * DAY)
        share(vault, shop, "recommendations", now=now - 10 * DAY, keep_days=30)
        add_context(vault, "Work", now=now - 9 * DAY, new_id=new_context_id("work"), separate_identity=True)
        use_context(vault, "Work", now=now - 9 * DAY, origin=shop.origin)
        share(vault, shop, "age-check", now=now - DAY // 2, keep_days=1)
    shop.start("honest")
    asked = run_vault("ask", shop.origin, "--allow-loopback-http")
    assert asked.code == 0, asked.err
    out = asked.out
    assert out.index("Asked for your shared identity:") < out.index("Asked for your Work identity:"), out
    assert out.count(f"{shop.origin} answered on {day(now)}. It holds:") == 2, out

    # A complaint is about one identity at a time: the shared one by default, Work's with --context.
    subjects = {item["purpose"]: item["subject"] for item in shop.held}
    for chosen, purpose in ((None, "recommendations"), ("work", "age-check"), ("shared", "recommendations")):
        where = vault_home.parent / f"report-{chosen}"
        where.mkdir()
        extra = () if chosen is None else ("--context", chosen)
        written = run_vault("report", shop.origin, "--out", str(where), "--json", *extra)
        assert written.code == 0, written.err
        assert json.loads(written.out)["subject"] == subjects[purpose]
    unknown = run_vault("report", shop.origin, "--out", str(vault_home.parent), "--context", "holiday")
    assert unknown.code == 1 and "holiday" in unknown.err.lower(), unknown.err
