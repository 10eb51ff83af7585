"""Access requests against a real site process (tests/consent/access_site.py, only vault.site inside): an
honest site's statement matches the ledger; a lying one gets each discrepancy named; a site that never
answers (or answers 503) is flagged `no_answer` after the retries; a statement signed by another key, or
answering another request, is refused and counted as a failed attempt; retention end asks each site once.

Real vaults with real disclosures (tests/consent/test_revocation.py's helpers); the retries are driven by
the clock handed in and `retry_now`, never by sleeping."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import msgspec
import pytest

from tests.consent import access_site
from tests.consent.test_outbox import FakeSite
from tests.consent.test_revocation import SITE_KEY, Site, disclose, ids, jti, make_vault, manifest_for
from vault.consent import ledger
from vault.consent.access import MAX_ACCESS_ATTEMPTS, queue_request, schedule_retention_checks
from vault.consent.access_compare import claim_label, day
from vault.consent.access_delivery import ask, deliver_access_due
from vault.consent.access_views import access_view, latest_discrepancies, overdue, requests, site_access
from vault.consent.export import export_vault
from vault.consent.export_format import SCHEMA_PATH
from vault.consent.outbox import backoff, deliver_due
from vault.consent.report import site_report
from vault.consent.revocation import revoke
from vault.consent.transport import https_post
from vault.protocol.manifest import Manifest, decode_manifest
from vault.site import make_message
from vault.store import Vault

DAY = 86400


def access_manifest(origin: str, *, endpoint: bool = True) -> Manifest:
    data = msgspec.to_builtins(manifest_for(origin))
    if endpoint:
        data["access_endpoint"] = origin + "/.well-known/vault-access"
    return decode_manifest(msgspec.json.encode(data))


class SiteProcess:
    """tests/consent/access_site.py on a port of its own, holding what the vault gave it."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(exist_ok=True)
        self.directory = directory
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.origin = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.manifest = access_manifest(self.origin)
        self.site = Site()
        self.held: list[dict] = []
        self.process: subprocess.Popen | None = None

    def receive(self, issued, purpose: str, keep_days: int, recipients: tuple[str, ...] = ()) -> None:
        """What the site keeps of a presentation it verified (as a real site would store it)."""
        self.held.append(
            {
                "presentation": issued.jti,
                "subject": self.site.subjects[issued.jti],
                "purpose": purpose,
                "claims": issued.claims,
                "received_at": issued.issued_at,
                "keep_until": issued.issued_at + keep_days * DAY,
                "recipients": list(recipients),
            }
        )
        self.write()

    def write(self) -> None:
        (self.directory / "held.json").write_text(json.dumps(self.held))

    def start(self, mode: str = "honest", messages: list[str] | None = None) -> None:
        d = self.directory
        (d / "manifest.json").write_bytes(msgspec.json.encode(self.manifest))
        (d / "site-key").write_text(SITE_KEY.seed().hex())
        self.write()
        extra = []
        if messages is not None:
            (d / "messages.json").write_text(json.dumps(messages))
            extra = ["--messages", str(d / "messages.json")]
        self.process = access_site.start(
            self.listener,
            d,
            *("--manifest", str(d / "manifest.json"), "--site-key-file", str(d / "site-key")),
            *("--held", str(d / "held.json"), "--log", str(d / "received.jsonl"), "--mode", mode, *extra),
        )

    def received(self) -> list[dict]:
        log = self.directory / "received.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.listener.close()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[SiteProcess]:
    site = SiteProcess(tmp_path / "site")
    yield site
    site.stop()


def real_now() -> int:
    return int(time.time())


def given_to(vault: Vault, shop: SiteProcess, now: int) -> None:
    """Shoe recommendations (P30D) ten days ago, and an age check (P1D) yesterday: both kept honestly."""
    vault.set_attribute("sizes.shoe", 42, now=now - 20 * DAY)
    first = disclose(vault, shop.manifest, "recommendations", jti(1), site=shop.site, now=now - 10 * DAY)
    shop.receive(first, "recommendations", 30, recipients=("stock",))
    second = disclose(vault, shop.manifest, "age-check", jti(2), site=shop.site, now=now - DAY // 2)
    shop.receive(second, "age-check", 1)


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    with make_vault(vault_home, real_now() - 30 * DAY) as vault:
        yield vault


def deliver(vault: Vault, shop: SiteProcess, now: int, **options):
    return deliver_access_due(vault, now=now, allow_loopback_http=True, new_id=ids("attempt"), **options)


# -- honest and lying sites ---------------------------------------------------------------------------


def test_an_honest_site_answers_and_nothing_is_flagged(vault: Vault, shop: SiteProcess) -> None:
    now = real_now()
    given_to(vault, shop, now)
    shop.start("honest")
    request = ask(vault, shop.origin, now=real_now, allow_loopback_http=True, new_id=ids("ask"))
    assert request == "ask-0000000000000001"
    view = access_view(vault, request)
    assert view is not None and view.state == "answered" and view.attempts == 1, view
    assert view.discrepancies == []
    holdings = {h.purpose: h for h in view.holdings}
    assert set(holdings) == {"recommendations", "age-check"}
    assert holdings["recommendations"].purpose_title == "Shoe recommendations"
    assert holdings["recommendations"].recipient_names == ["Example Stock Check Ltd."]
    assert holdings["recommendations"].presentations == [jti(1)]
    (received,) = shop.received()
    # The site was asked under the subject it knows, by a request of its own (a fresh jti, not the id).
    assert received["outcome"] == "answered" and received["subject"] == shop.site.subjects[jti(1)]
    assert received["jti"] != request and received["purposes"] == []
    # The ledger: the request, then the statement and its (empty) comparison, both under the request's id.
    entries = list(ledger.entries(vault, ref=request))
    assert [e.kind for e in entries] == ["access_request", "access_answer"]
    assert entries[0].body["reason"] == "ask" and entries[0].body["endpoint"] == shop.manifest.access_endpoint
    assert entries[1].body["request"] == received["jti"] and entries[1].body["discrepancies"] == []
    assert ledger.verify(vault).ok


def test_a_lying_site_gets_each_discrepancy_named(vault: Vault, shop: SiteProcess) -> None:
    now = real_now()
    given_to(vault, shop, now)
    shop.start("lying")
    request = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)
    view = access_view(vault, request)
    assert view is not None and view.state == "answered"
    found = {(d.kind, d.purpose): d for d in view.discrepancies}
    assert set(found) == {
        ("never_disclosed", "recommendations"),
        ("held_past_retention", "recommendations"),
        ("unallowed_recipient", "recommendations"),
        ("never_disclosed", "age-check"),
        ("held_past_retention", "age-check"),
        ("unallowed_recipient", "age-check"),
    }, view.discrepancies
    never = found[("never_disclosed", "recommendations")]
    assert never.claims == ("email",)
    assert never.text == (
        "Holds your email address for Shoe recommendations, "
        "but you never shared it with this site for that purpose."
    )
    longer = found[("held_past_retention", "recommendations")]
    promised, kept = now - 10 * DAY + 30 * DAY, now - 10 * DAY + 365 * DAY
    assert set(longer.claims) == {"age_over_18", "location.country", "sizes.shoe"}
    assert longer.text.startswith("Keeps ") and longer.text.endswith(
        f" for Shoe recommendations until {day(kept)}, but promised to keep it only until {day(promised)}."
    )
    assert claim_label("sizes.shoe") == "your shoe size" and "your shoe size" in longer.text
    recipient = found[("unallowed_recipient", "recommendations")]
    assert recipient.recipients == ("adbroker",)
    assert "to adbroker (not named in its manifest), which you never allowed." in recipient.text
    # The latest comparison is what the site's report shows.
    assert site_report(vault, shop.origin).discrepancies == view.discrepancies
    assert latest_discrepancies(vault, shop.origin) == view.discrepancies
    # The export has the request, the site's signed statement and every discrepancy, and stays valid.
    exported = json.loads(msgspec.json.encode(export_vault(vault, now=real_now())))
    (request_row,) = exported["access_requests"]
    (answer,) = ledger.entries(vault, ref=request, kinds=("access_answer",))
    assert (request_row["id"], request_row["reason"], request_row["statement"]) == (
        request,
        "ask",
        answer.body["token"],
    )
    assert request_row["discrepancies"] == json.loads(msgspec.json.encode(view.discrepancies))
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    assert list(validator.iter_errors(exported)) == []


def test_a_site_that_never_answers_is_flagged_after_the_retries(vault: Vault, shop: SiteProcess) -> None:
    now = real_now()
    given_to(vault, shop, now)
    shop.start("silent")

    def impatient(url: str, body: bytes, timeout: float):
        return https_post(url, body, 0.5)  # the real transport, a shorter wait: the site never answers

    request = queue_request(vault, shop.origin, now=now, new_id=ids("ask"))
    clock = now
    for attempt in range(1, MAX_ACCESS_ATTEMPTS + 1):
        (outcome,) = deliver(vault, shop, clock, post=impatient)
        assert (outcome.request, outcome.attempt, outcome.answered) == (request, attempt, False)
        assert outcome.error == "timed out"
        if attempt < MAX_ACCESS_ATTEMPTS:
            assert outcome.next_attempt_at == clock + backoff(attempt) and not outcome.gave_up
            assert deliver(vault, shop, outcome.next_attempt_at - 1, post=impatient) == []  # not due yet
            clock = outcome.next_attempt_at
    assert outcome.gave_up
    (flag,) = outcome.discrepancies
    assert flag.kind == "no_answer" and flag.purpose is None
    assert flag.text == (
        f"Did not answer when asked on {day(now)} what it holds about you (6 attempts; last: timed out)."
    )
    assert deliver(vault, shop, clock + 10 * DAY, post=impatient, retry_now=True) == []  # given up: done
    assert len(shop.received()) == MAX_ACCESS_ATTEMPTS
    view = access_view(vault, request)
    assert view is not None and (view.state, view.attempts, view.error) == ("unanswered", 6, "timed out")
    (unanswered,) = ledger.entries(vault, ref=request, kinds=("access_unanswered",))
    assert unanswered.body["attempts"] == 6 and unanswered.body["discrepancies"][0]["kind"] == "no_answer"
    assert site_report(vault, shop.origin).discrepancies == [flag]


def test_a_503_is_retried_then_given_up(vault: Vault, shop: SiteProcess) -> None:
    now = real_now()
    given_to(vault, shop, now)
    shop.start("503")
    request = queue_request(vault, shop.origin, now=now)
    for attempt in range(1, MAX_ACCESS_ATTEMPTS + 1):
        (outcome,) = deliver(vault, shop, now + attempt, retry_now=True)
        assert (outcome.attempt, outcome.status, outcome.error) == (attempt, 503, "HTTP 503")
    assert outcome.gave_up and outcome.discrepancies[0].kind == "no_answer"
    assert access_view(vault, request).state == "unanswered"


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("wrong-key", "invalid statement (bad_key)"),
        ("other-request", "invalid statement (wrong_request)"),
    ],
)
def test_a_statement_that_does_not_answer_this_request_is_refused(
    vault: Vault, shop: SiteProcess, mode: str, error: str
) -> None:
    now = real_now()
    given_to(vault, shop, now)
    shop.start(mode)
    request = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)
    view = access_view(vault, request)
    assert view is not None and (view.state, view.attempts, view.error) == ("waiting", 1, error)
    assert view.next_try_at is not None and view.next_try_at >= now + backoff(1)
    assert view.holdings == [] and view.discrepancies == []
    assert [e.kind for e in ledger.entries(vault, ref=request)] == ["access_request"]  # nothing taken from it


def test_a_site_that_is_down_stays_queued_and_is_answered_later(vault: Vault, shop: SiteProcess) -> None:
    now = real_now()
    given_to(vault, shop, now)
    request = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)  # nothing listens yet
    first = access_view(vault, request)
    assert first is not None and (first.state, first.error) == ("waiting", "connection refused")
    # Asking again while it waits is the same request, tried again now.
    shop.start("honest")
    assert ask(vault, shop.origin, now=real_now, allow_loopback_http=True) == request
    view = access_view(vault, request)
    assert view is not None and (view.state, view.attempts) == ("answered", 2)
    jtis = [r["jti"] for r in shop.received()]
    assert len(jtis) == 1  # the first attempt never reached it


def test_no_access_endpoint_queues_nothing(vault: Vault, tmp_path: Path) -> None:
    origin = "https://plain.example"
    disclose(vault, access_manifest(origin, endpoint=False), "age-check", jti(9))
    assert queue_request(vault, origin, now=real_now()) is None
    assert ask(vault, origin, now=real_now) is None
    assert list(vault.conn.execute("SELECT * FROM access_requests")) == []
    assert site_access(vault, origin).access_endpoint is None


# -- retention end ------------------------------------------------------------------------------------


def test_retention_end_asks_each_site_once_and_flags_what_is_still_held(
    vault: Vault, shop: SiteProcess, tmp_path: Path
) -> None:
    now = real_now()
    vault.set_attribute("sizes.shoe", 42, now=now - 20 * DAY)
    # Two age checks whose one-day retention has ended, one still running, and an ended one at a site
    # that declares no access endpoint (nowhere to ask).
    for n, ago in ((1, 5 * DAY), (2, 3 * DAY), (3, DAY // 2)):
        issued = disclose(vault, shop.manifest, "age-check", jti(n), site=shop.site, now=now - ago)
        shop.receive(issued, "age-check", 1)
    shop.held[0]["keep_until"] = now + 100 * DAY  # the site kept the oldest one
    del shop.held[1]  # and deleted the second, as promised
    plain = "https://plain.example"
    disclose(vault, access_manifest(plain, endpoint=False), "age-check", jti(4), now=now - 5 * DAY)
    shop.start("honest")

    (request,) = schedule_retention_checks(vault, now=now, new_id=ids("retention"))
    assert schedule_retention_checks(vault, now=now + 60) == []  # each disclosure is checked once
    (queued,) = ledger.entries(vault, ref=request, kinds=("access_request",))
    assert queued.body["reason"] == "retention_end" and queued.body["presentations"] == [jti(1), jti(2)]
    assert [row["state"] for row in msgspec.to_builtins(overdue(vault, shop.origin))] == ["asking"] * 2

    (outcome,) = deliver(vault, shop, now)
    assert outcome.answered
    (received,) = shop.received()
    assert received["purposes"] == ["age-check"]  # it was asked only about what it should no longer hold
    (flag,) = [d for d in outcome.discrepancies if d.kind == "held_past_retention"]
    assert flag.purpose == "age-check" and flag.claims == ("age_over_18",)
    assert flag.text == (
        "Still holds whether you are 18 or older for Age confirmation at checkout, "
        f"but promised to keep it only until {day(now - 5 * DAY + DAY)}."
    )
    states = {row.presentation: row.state for row in site_report(vault, shop.origin).overdue}
    assert states == {jti(1): "still_held", jti(2): "gone"}
    # The plain site's ended disclosure is handled too (no one to ask, no request), so no later pass reads
    # it again; the one still running is left for later.
    handled = "SELECT jti FROM disclosures WHERE retention_checked_at IS NOT NULL ORDER BY jti"
    assert [row[0] for row in vault.conn.execute(handled)] == sorted([jti(1), jti(2), jti(4)])
    assert list(vault.conn.execute("SELECT origin FROM access_requests")) == [(shop.origin,)]
    # Each pass finds what is due through the index of those not handled yet, not by reading every row.
    plan = vault.conn.execute(
        "EXPLAIN QUERY PLAN SELECT origin FROM disclosures "
        "WHERE keep_until <= ? AND retention_checked_at IS NULL",
        (now,),
    ).fetchall()
    assert "disclosures_retention_due" in str(plan)


def test_retention_end_a_site_that_deleted_it_shows_gone(vault: Vault, shop: SiteProcess) -> None:
    now = real_now()
    issued = disclose(vault, shop.manifest, "age-check", jti(1), site=shop.site, now=now - 3 * DAY)
    shop.receive(issued, "age-check", 1)
    shop.held.clear()  # deleted on time
    shop.start("honest")
    assert len(schedule_retention_checks(vault, now=now)) == 1
    (outcome,) = deliver(vault, shop, now)
    assert outcome.answered and outcome.discrepancies == ()
    (row,) = overdue(vault, shop.origin)
    assert (row.presentation, row.state, row.purpose_title) == (
        jti(1),
        "gone",
        "Age confirmation at checkout",
    )


# -- confirmed erasures, and messages carried in a statement ------------------------------------------


def test_held_after_an_erasure_the_site_confirmed(vault: Vault, shop: SiteProcess) -> None:
    now = real_now()
    given_to(vault, shop, now)
    shop.start("honest")  # it keeps everything, even what it says it erased
    revoke(vault, shop.origin, purpose_id="recommendations", erase=True, now=now - 60, new_id=ids())
    fake = FakeSite(shop.manifest, shop.site, now=now - 60)  # its revocation endpoint, in-process
    (delivered,) = deliver_due(vault, now=now - 60, post=fake, allow_loopback_http=True)
    assert delivered.delivered and delivered.erased

    request = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)
    (flag,) = access_view(vault, request).discrepancies
    assert (flag.kind, flag.purpose) == ("held_after_erasure", "recommendations")
    assert set(flag.claims) == {"age_over_18", "location.country", "sizes.shoe"}
    assert flag.text.endswith(
        f"for Shoe recommendations, but confirmed on {day(now - 60)} that it deleted it."
    )

    # Shared again since: holding it now is what the user allowed.
    again = disclose(vault, shop.manifest, "recommendations", jti(3), site=shop.site, now=now - 30)
    shop.receive(again, "recommendations", 30, recipients=("stock",))
    request = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)
    assert access_view(vault, request).discrepancies == []


def test_a_deletion_message_in_a_statement_goes_to_the_inbox_and_counts_as_an_erasure(
    vault: Vault, shop: SiteProcess
) -> None:
    now = real_now()
    given_to(vault, shop, now)
    deleted = make_message(
        SITE_KEY,
        manifest=shop.manifest,
        subject=shop.site.subjects[jti(1)],
        kind="deletion",
        title="We deleted your shoe size",
        body="As you asked, your data for recommendations is gone.",
        now=now - 60,
        purpose="recommendations",
        claims=("sizes.shoe",),
    )
    shop.start("honest", messages=[deleted])
    first = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)
    assert access_view(vault, first).discrepancies == []  # compared before the message was read
    kept = vault.conn.execute("SELECT kind, via, purpose_id FROM inbox WHERE origin = ?", (shop.origin,))
    assert kept.fetchall() == [("deletion", "statement", "recommendations")]
    (message,) = ledger.entries(vault, origin=shop.origin, kinds=("message",))
    assert message.body["via"] == "statement"

    # The next statement still lists the shoe size (and carries the same message: refused as a replay,
    # which never fails the statement).
    second = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)
    view = access_view(vault, second)
    assert view.state == "answered"
    (flag,) = view.discrepancies
    assert (flag.kind, flag.claims) == ("held_after_erasure", ("sizes.shoe",))
    assert len(list(ledger.entries(vault, origin=shop.origin, kinds=("message",)))) == 1


def test_a_silent_site_holds_up_neither_another_site_nor_a_stop(vault: Vault, tmp_path: Path) -> None:
    now = real_now()
    silent, honest = SiteProcess(tmp_path / "silent"), SiteProcess(tmp_path / "honest")
    try:
        for n, site in enumerate((silent, honest)):
            issued = disclose(vault, site.manifest, "age-check", jti(n), site=site.site, now=now - 60)
            site.receive(issued, "age-check", 1)
        silent.start("silent")
        honest.start("honest")
        first = queue_request(vault, silent.origin, now=now - 1)  # the longest waiting goes first
        second = queue_request(vault, honest.origin, now=now)

        returned: dict[str, float] = {}
        started = time.monotonic()

        def slow(url: str, body: bytes, timeout: float):
            try:
                return https_post(url, body, 3.0)
            finally:
                returned[url] = time.monotonic() - started

        outcomes = deliver(vault, silent, real_now(), post=slow)
        assert {outcome.request for outcome in outcomes} == {first, second}
        # The honest site's answer came while the silent one still hung; the pass ended with the timeout.
        assert returned[honest.manifest.access_endpoint] < 2.0
        assert 2.5 < returned[silent.manifest.access_endpoint] < time.monotonic() - started < 6
        assert access_view(vault, second).state == "answered"
        assert access_view(vault, first).error == "timed out"
        # A pass that is told to stop sends nothing, and leaves the request as it was.
        assert deliver(vault, silent, real_now(), retry_now=True, stop=lambda: True) == []
        assert access_view(vault, first).attempts == 1
    finally:
        silent.stop()
        honest.stop()


def test_requests_made_in_one_second_are_listed_newest_first(vault: Vault, shop: SiteProcess) -> None:
    """Ids are random, so the second breaks no tie: the order the ledger recorded them in does."""
    now = real_now()
    given_to(vault, shop, now)
    made = []
    for n in range(4):  # an answered ask is done, so each queue_request makes a new one
        made.append(queue_request(vault, shop.origin, now=now, new_id=lambda n=n: "abcd"[n] * 22))
        vault.conn.execute("UPDATE access_requests SET answered_at = ? WHERE id = ?", (now, made[-1]))
    assert [view.request for view in requests(vault, shop.origin)] == made[::-1]
