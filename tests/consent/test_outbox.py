"""Delivering revocation notices: backoff, every attempt in the ledger, strict answers, leases,
re-signing, the real HTTP transport, and the end-to-end run against a real site process."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import msgspec
import pytest

from tests.consent import revocation_site
from tests.consent.test_revocation import (
    ORIGIN,
    SITE_KEY,
    Site,
    add_decision,
    disclose,
    ids,
    jti,
    make_vault,
    manifest_for,
)
from tests.support import NOW, PASSPHRASE, Result
from vault.consent import ledger
from vault.consent.outbox import (
    LEASE_SECONDS,
    backoff,
    deliver_due,
    endpoint_problem,
    items,
    pending,
)
from vault.consent.report import site_report
from vault.consent.revocation import revoke
from vault.consent.transport import MAX_RESPONSE_BYTES, DeliveryFailed, Response, https_post
from vault.protocol.acknowledgement import (
    RevocationAcknowledgement,
    sign_revocation_ack,
    verify_revocation_ack,
)
from vault.protocol.manifest import Manifest
from vault.protocol.revocation import open_notice
from vault.site import SigningKey, acknowledge_revocation
from vault.store import Vault

OTHER_KEY = SigningKey.from_seed(b"\x07" * 32)


class FakeSite:
    """An injected `post`: the site library answering in-process, or misbehaving on request."""

    def __init__(self, manifest: Manifest, site: Site, now: int = NOW) -> None:
        self.manifest, self.site, self.now = manifest, site, now
        self.mode = "up"
        self.received: list[str] = []
        self.urls: list[str] = []

    def __call__(self, url: str, body: bytes, timeout: float) -> Response:
        self.urls.append(url)
        assert 0 < timeout <= 10
        if self.mode == "down":
            raise DeliveryFailed("connection refused")
        request = json.loads(body)
        assert list(request) == ["notice"]
        token = request["notice"]
        self.received.append(token)
        notice = self.site.verify_notice(token, self.manifest, self.now)
        outcomes = {recipient: ("erased", self.now) for recipient in notice.recipients}
        ack = acknowledge_revocation(
            SITE_KEY, notice, manifest=self.manifest, now=self.now, erased=True, recipients=outcomes
        )
        json_type = "application/json"
        answers = {
            "up": (200, "application/json; charset=utf-8", json.dumps({"acknowledgement": ack})),
            "http 503": (503, json_type, "{}"),
            "html": (200, "text/html", json.dumps({"acknowledgement": ack})),
            "not json": (200, json_type, "<html>"),
            "extra field": (200, json_type, json.dumps({"acknowledgement": ack, "x": 1})),
            "duplicate key": (200, json_type, f'{{"acknowledgement": "{ack}", "acknowledgement": "x"}}'),
            "wrong key": (
                200,
                json_type,
                json.dumps({"acknowledgement": self._signed_by(OTHER_KEY, notice)}),
            ),
            "wrong notice": (200, json_type, json.dumps({"acknowledgement": self._other_notice(notice)})),
        }
        status, content_type, text = answers[self.mode]
        return Response(status, content_type, text.encode())

    def _signed_by(self, key: SigningKey, notice) -> str:
        answer = RevocationAcknowledgement(
            iss=self.manifest.origin,
            aud=notice.subject,
            iat=self.now,
            notice=notice.jti,
            presentations=notice.presentations,
            erased=True,
            recipients=(),
        )
        return sign_revocation_ack(key, answer)

    def _other_notice(self, notice) -> str:
        answer = RevocationAcknowledgement(
            iss=self.manifest.origin,
            aud=notice.subject,
            iat=self.now,
            notice="someone-elses-notice",
            presentations=notice.presentations,
            erased=True,
            recipients=(),
        )
        return sign_revocation_ack(SITE_KEY, answer)


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    with make_vault(vault_home) as vault:
        yield vault


def revoked_vault(vault: Vault, manifest: Manifest, site: Site, *, erase: bool = False) -> str:
    """One disclosure, revoked at NOW: returns the notice's jti."""
    disclose(vault, manifest, "recommendations", jti(1), site=site, now=NOW - 100)
    result = revoke(vault, manifest.origin, erase=erase, now=NOW, new_id=ids())
    (notice,) = result.notices
    return notice.jti


def deliveries(vault: Vault, ref: str) -> list[dict]:
    return [entry.body for entry in ledger.entries(vault, ref=ref, kinds=("delivery",))]


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    assert [backoff(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(10_000) == 3600
    assert backoff(1, jitter=lambda delay: delay // 2) == 45
    assert backoff(2, jitter=lambda delay: 10**9) == 120  # jitter is bounded by the delay itself


def test_retried_with_backoff_until_acknowledged(vault: Vault) -> None:
    manifest, site = manifest_for(), Site()
    notice_id = revoked_vault(vault, manifest, site)
    fake = FakeSite(manifest, site)
    fake.mode = "down"
    schedule = []
    for now in (NOW, NOW + 29, NOW + 30, NOW + 89, NOW + 90):
        outcomes = deliver_due(vault, now=now, post=fake)
        schedule.append([(o.attempt, o.delivered, o.error, o.next_attempt_at) for o in outcomes])
    assert schedule == [
        [(1, False, "connection refused", NOW + 30)],
        [],
        [(2, False, "connection refused", NOW + 90)],
        [],
        [(3, False, "connection refused", NOW + 210)],
    ]
    assert [(item.attempts, item.last_error) for item in pending(vault)] == [(3, "connection refused")]

    fake.mode, fake.now = "up", NOW + 210
    (outcome,) = deliver_due(vault, now=NOW + 210, post=fake)
    assert (outcome.delivered, outcome.attempt, outcome.status, outcome.erased) == (True, 4, 200, True)
    assert deliver_due(vault, now=NOW + 100_000, post=fake) == []
    assert pending(vault) == [] and len(fake.received) == 1

    assert deliveries(vault, notice_id) == [
        {"attempt": 1, "outcome": "failed", "error": "connection refused", "next_attempt_at": NOW + 30},
        {"attempt": 2, "outcome": "failed", "error": "connection refused", "next_attempt_at": NOW + 90},
        {"attempt": 3, "outcome": "failed", "error": "connection refused", "next_attempt_at": NOW + 210},
        {"attempt": 4, "outcome": "delivered", "status": 200},
    ]
    (answer,) = ledger.entries(vault, ref=notice_id, kinds=("delivery_ack",))
    assert answer.body["erased"] is True
    notice = vault.conn.execute("SELECT notice FROM outbox WHERE id = ?", (notice_id,)).fetchone()[0]
    assert verify_revocation_ack(answer.body["token"], manifest.site_key, notice=notice, now=NOW + 211).erased
    (item,) = items(vault)
    assert (item.delivered_at, item.next_attempt_at, item.erased) == (NOW + 210, None, True)
    (disclosure,) = site_report(vault, ORIGIN).disclosures
    assert disclosure.withdrawn_at == NOW and disclosure.withdrawal_acknowledged
    assert ledger.verify(vault).ok


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("http 503", "HTTP 503"),
        ("html", "answer is not application/json"),
        ("not json", 'answer is not {"acknowledgement": token}'),
        ("extra field", 'answer is not {"acknowledgement": token}'),
        ("duplicate key", 'answer is not {"acknowledgement": token}'),
        ("wrong key", "invalid acknowledgement (bad_key)"),
        ("wrong notice", "invalid acknowledgement (wrong_notice)"),
    ],
)
def test_a_bad_answer_is_refused_and_retried(vault: Vault, mode: str, error: str) -> None:
    manifest, site = manifest_for(), Site()
    notice_id = revoked_vault(vault, manifest, site)
    fake = FakeSite(manifest, site)
    fake.mode = mode
    (outcome,) = deliver_due(vault, now=NOW, post=fake)
    assert (outcome.delivered, outcome.error, outcome.next_attempt_at) == (False, error, NOW + 30)
    assert list(ledger.entries(vault, kinds=("delivery_ack",))) == []
    (failed,) = deliveries(vault, notice_id)
    assert failed["error"] == error
    # Neither the notice nor the site's answer is ever copied into an error.
    stored_error = vault.conn.execute("SELECT last_error FROM outbox").fetchone()[0]
    assert fake.received[0] not in stored_error and "eyJ" not in stored_error

    fake.mode = "up"
    (retried,) = deliver_due(vault, now=NOW + 30, post=fake)
    assert retried.delivered and retried.attempt == 2
    assert ledger.verify(vault).ok


def test_an_acknowledgement_for_another_notice_is_refused(vault: Vault) -> None:
    # The answer must name the notice sent: a valid answer to a different notice does not count.
    manifest, site = manifest_for(), Site()
    disclose(vault, manifest, "recommendations", jti(1), site=site, now=NOW - 100)
    disclose(vault, manifest, "age-check", jti(2), site=site, now=NOW - 100)
    revoke(vault, ORIGIN, now=NOW, new_id=ids())
    fake = FakeSite(manifest, site)
    first_answer: list[bytes] = []

    def replaying(url: str, body: bytes, timeout: float) -> Response:
        response = fake(url, body, timeout)
        first_answer.append(response.body)
        return Response(200, "application/json", first_answer[0])

    outcomes = deliver_due(vault, now=NOW, post=replaying)
    assert [(o.delivered, o.error) for o in outcomes] == [
        (True, None),
        (False, "invalid acknowledgement (wrong_notice)"),
    ]


def test_plain_http_only_in_test_mode_and_only_on_loopback(vault: Vault) -> None:
    manifest, site = manifest_for("http://127.0.0.1:9"), Site()
    revoked_vault(vault, manifest, site)
    fake = FakeSite(manifest, site)
    (refused,) = deliver_due(vault, now=NOW, post=fake)
    assert refused.error == "plain http endpoint (allowed only on loopback, in test mode)"
    assert fake.urls == []  # never sent
    (delivered,) = deliver_due(vault, now=NOW + 30, post=fake, allow_loopback_http=True)
    assert delivered.delivered and fake.urls == ["http://127.0.0.1:9/.well-known/vault-revocation"]


@pytest.mark.parametrize(
    ("url", "origin", "loopback", "allowed"),
    [
        ("https://shop.example/r", "https://shop.example", False, True),
        ("https://evil.example/r", "https://shop.example", False, False),
        ("https://shop.example.evil.example/r", "https://shop.example", False, False),
        ("http://127.0.0.1:8080/r", "http://127.0.0.1:8080", False, False),
        ("http://127.0.0.1:8080/r", "http://127.0.0.1:8080", True, True),
        ("http://localhost:8080/r", "http://localhost:8080", True, True),
        ("http://[::1]:8080/r", "http://[::1]:8080", True, True),
        ("http://shop.example/r", "http://shop.example", True, False),
        ("http://127.0.0.2/r", "http://127.0.0.2", True, False),
    ],
)
def test_endpoint_rules(url: str, origin: str, loopback: bool, allowed: bool) -> None:
    assert (endpoint_problem(url, origin, allow_loopback_http=loopback) is None) is allowed


def test_a_notice_being_sent_is_not_sent_again_by_another_process(vault: Vault, vault_home: Path) -> None:
    manifest, site = manifest_for(), Site()
    revoked_vault(vault, manifest, site)
    fake = FakeSite(manifest, site)
    seen_by_other: list = []

    def slow_post(url: str, body: bytes, timeout: float) -> Response:
        # While this POST is in flight, a second process (the daemon, say) runs its own pass.
        with Vault.open(vault_home, PASSPHRASE, now=NOW) as other:
            seen_by_other.append(deliver_due(other, now=NOW + 1, post=fake))
        return fake(url, body, timeout)

    (outcome,) = deliver_due(vault, now=NOW, post=slow_post)
    assert outcome.delivered and seen_by_other == [[]] and len(fake.received) == 1


def test_a_crash_after_the_post_resends_the_same_notice(vault: Vault) -> None:
    manifest, site = manifest_for(), Site()
    notice_id = revoked_vault(vault, manifest, site)
    fake = FakeSite(manifest, site)

    def crashing(url: str, body: bytes, timeout: float) -> Response:
        fake(url, body, timeout)
        raise KeyboardInterrupt  # the process dies after the site answered, before the commit

    with pytest.raises(KeyboardInterrupt):
        deliver_due(vault, now=NOW, post=crashing)
    assert [item.jti for item in pending(vault)] == [notice_id]
    assert deliver_due(vault, now=NOW + 1, post=fake) == []  # still claimed by the dead pass
    (outcome,) = deliver_due(vault, now=NOW + LEASE_SECONDS, post=fake)
    assert outcome.delivered and outcome.attempt == 1
    # The site got the same notice twice and answered both: withdrawing twice is withdrawing once.
    assert [open_notice(token)[1].jti for token in fake.received] == [notice_id, notice_id]
    assert len(list(ledger.entries(vault, kinds=("delivery_ack",)))) == 1
    assert ledger.verify(vault).ok


def test_a_notice_is_re_signed_before_it_would_expire(vault: Vault) -> None:
    manifest, site = manifest_for(), Site()
    notice_id = revoked_vault(vault, manifest, site, erase=True)
    queued = vault.conn.execute("SELECT notice FROM outbox").fetchone()[0]
    fake = FakeSite(manifest, site)
    fake.mode = "down"
    deliver_due(vault, now=NOW, post=fake)  # a long outage begins
    later = NOW + 3 * 86400  # the queued notice expired two days ago
    fake.mode, fake.now = "up", later
    (outcome,) = deliver_due(vault, now=later, post=fake)
    assert outcome.delivered
    (sent,) = fake.received
    _, payload = open_notice(sent)
    _, original = open_notice(queued)
    assert payload.jti == notice_id and payload.iat == later and payload.exp > later
    assert (payload.presentations, payload.erasure, payload.sub) == (
        original.presentations,
        original.erasure,
        original.sub,
    )


def test_only_the_named_notices_and_at_most_limit(vault: Vault) -> None:
    manifest, site = manifest_for(), Site()
    disclose(vault, manifest, "recommendations", jti(1), site=site, now=NOW - 100)
    disclose(vault, manifest, "age-check", jti(2), site=site, now=NOW - 100)
    first, second = revoke(vault, ORIGIN, now=NOW, new_id=ids()).notices
    fake = FakeSite(manifest, site)
    assert [o.jti for o in deliver_due(vault, now=NOW, post=fake, only=[second.jti])] == [second.jti]
    assert deliver_due(vault, now=NOW, post=fake, limit=0) == []
    assert [o.jti for o in deliver_due(vault, now=NOW, post=fake)] == [first.jti]


def test_a_hanging_site_holds_up_neither_another_site_nor_a_stop(vault: Vault) -> None:
    """The hanging site's notice is due first; the other site's is still sent (in parallel) and
    recorded; `stop` ends the pass at once, and the notice in flight keeps its lease, unrecorded."""
    slow_manifest, slow_site = manifest_for("https://slow.example"), Site()
    good_manifest, good_site = manifest_for("https://good.example"), Site()
    disclose(vault, slow_manifest, "recommendations", jti(1), site=slow_site, now=NOW - 100)
    disclose(vault, good_manifest, "recommendations", jti(2), site=good_site, now=NOW - 100)
    (slow,) = revoke(vault, slow_manifest.origin, now=NOW, new_id=ids("a")).notices
    (good,) = revoke(vault, good_manifest.origin, now=NOW, new_id=ids("b")).notices
    good_post, release = FakeSite(good_manifest, good_site), threading.Event()

    def post(url: str, body: bytes, timeout: float) -> Response:
        if url.startswith(slow_manifest.origin):
            release.wait(10)
            raise DeliveryFailed("timed out")
        return good_post(url, body, timeout)

    started = time.monotonic()
    delivered = lambda: good.jti not in {item.jti for item in pending(vault)}  # noqa: E731
    outcomes = deliver_due(vault, now=NOW, post=post, stop=delivered)
    release.set()
    assert time.monotonic() - started < 2
    assert [(o.jti, o.delivered) for o in outcomes] == [(good.jti, True)]
    (waiting,) = pending(vault)
    assert (waiting.jti, waiting.attempts, waiting.next_attempt_at) == (slow.jti, 0, NOW + LEASE_SECONDS)
    assert deliveries(vault, slow.jti) == []


# -- the real transport ----------------------------------------------------------------------------


class _Misbehaving(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[" + b"0," * MAX_RESPONSE_BYTES + b"0]")
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                for _ in range(100):  # 5 s: far longer than the caller's whole-exchange timeout
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass  # the caller hung up, as it should
        elif self.path == "/redirect":
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            data = b'{"acknowledgement": "x"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


@pytest.fixture(scope="module")
def misbehaving() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_https_post_reads_a_bounded_answer_in_bounded_time(misbehaving: str) -> None:
    ok = https_post(f"http://{misbehaving}/ok", b"{}", 5)
    assert (ok.status, ok.content_type, ok.body) == (200, "application/json", b'{"acknowledgement": "x"}')
    with pytest.raises(DeliveryFailed, match="answer too large"):
        https_post(f"http://{misbehaving}/huge", b"{}", 5)
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match="timed out"):
        https_post(f"http://{misbehaving}/drip", b"{}", 0.5)
    assert time.monotonic() - started < 3  # not the 5 s the site would take
    redirected = https_post(f"http://{misbehaving}/redirect", b"{}", 5)
    assert redirected.status == 307  # not followed: the caller refuses anything but 2xx
    with pytest.raises(DeliveryFailed, match="TLS error"):
        https_post(f"https://{misbehaving}/ok", b"{}", 5)


def test_https_post_refused_connection() -> None:
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        with pytest.raises(DeliveryFailed, match="connection refused"):
            https_post(f"http://127.0.0.1:{port}/r", b"{}", 5)


# -- end to end: a real site process, the real CLI in separate processes ---------------------------


def _start_site(listener: socket.socket, tmp_path: Path, manifest: Manifest, site: Site) -> subprocess.Popen:
    (tmp_path / "manifest.json").write_bytes(msgspec.json.encode(manifest))
    (tmp_path / "site-key").write_text(SITE_KEY.seed().hex())
    (tmp_path / "subjects.json").write_text(json.dumps(site.subjects))
    return revocation_site.start(
        listener,
        tmp_path,
        *("--manifest", str(tmp_path / "manifest.json"), "--site-key-file", str(tmp_path / "site-key")),
        *("--subjects", str(tmp_path / "subjects.json"), "--log", str(tmp_path / "received.jsonl")),
    )


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port for the site, bound but not listening: until the site process takes it, it is "down"."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_end_to_end_site_down_then_up_delivered_once(
    vault_home: Path,
    tmp_path: Path,
    run_vault: Callable[..., Result],
    listener: socket.socket,
    processes: list[subprocess.Popen],
) -> None:
    origin = f"http://127.0.0.1:{listener.getsockname()[1]}"
    manifest, site = manifest_for(origin), Site()
    now = int(time.time())
    with make_vault(vault_home, now) as vault:
        disclose(vault, manifest, "recommendations", jti(1), site=site, now=now - 60)
        disclose(vault, manifest, "recommendations", jti(2), site=site, now=now - 50)
        disclose(vault, manifest, "age-check", jti(3), site=site, now=now - 40)
        add_decision(vault, origin, "recommendations", "age_over_18", now=now - 60)

    queued = run_vault("revoke", origin, "--erase", "--allow-loopback-http", "--json")
    assert queued.code == 0, queued.err
    revoked = json.loads(queued.out)
    assert revoked["decisions_revoked"] == 1 and revoked["withdrawn"] == 3
    notices = {notice["jti"]: notice for notice in revoked["notices"]}
    assert len(notices) == 2
    for notice in notices.values():
        assert notice["delivery"]["delivered"] is False
        assert notice["delivery"]["error"] == "connection refused"
        assert notice["delivery"]["next_attempt_at"] >= now + 30

    processes.append(_start_site(listener, tmp_path, manifest, site))
    # A new process: the outbox is in the vault. Nothing is due yet (30 s backoff) ...
    waiting = run_vault("outbox", "deliver", "--allow-loopback-http")
    assert waiting.code == 0 and "2 notices wait for a later attempt" in waiting.out
    # ... until the user asks for it now.
    delivered = run_vault("outbox", "deliver", "--allow-loopback-http", "--retry-now", "--json")
    assert delivered.code == 0, delivered.err
    outcomes = json.loads(delivered.out)
    assert {o["jti"] for o in outcomes} == set(notices)
    assert all(o["delivered"] and o["erased"] and o["attempt"] == 2 and o["status"] == 200 for o in outcomes)
    again = run_vault("outbox", "deliver", "--allow-loopback-http", "--retry-now")
    assert (again.code, again.out.strip()) == (0, "Nothing to deliver.")

    received = [json.loads(line) for line in (tmp_path / "received.jsonl").read_text().splitlines()]
    assert sorted(r["jti"] for r in received) == sorted(notices)  # each notice exactly once
    assert all(r["outcome"] == "acknowledged" and r["erasure"] and r["unknown"] == [] for r in received)
    assert sorted(j for r in received for j in r["presentations"]) == [jti(1), jti(2), jti(3)]

    listing = run_vault("outbox", "--json")
    assert [(i["state"], i["attempts"], i["erased"]) for i in json.loads(listing.out)] == [
        ("delivered", 2, True)
    ] * 2
    assert "delivered" in run_vault("outbox").out
    nothing = run_vault("revoke", origin)
    assert nothing.code == 0 and "Nothing to withdraw" in nothing.out
    unknown = run_vault("revoke", "https://never.example")
    assert unknown.code == 1 and unknown.err.count("\n") == 1 and "never dealt with" in unknown.err

    with Vault.open(vault_home, PASSPHRASE, now=int(time.time())) as vault:
        report = site_report(vault, origin)
        assert len(report.disclosures) == 3
        assert all(
            d.withdrawn_at is not None and d.withdrawal_acknowledged and d.erasure_requested
            for d in report.disclosures
        )
        for notice_id in notices:
            attempts = deliveries(vault, notice_id)
            assert [(a["attempt"], a["outcome"]) for a in attempts] == [(1, "failed"), (2, "delivered")]
            assert len(list(ledger.entries(vault, ref=notice_id, kinds=("delivery_ack",)))) == 1
        assert ledger.verify(vault).ok


def test_a_third_party_notice_keeps_its_scope_when_re_signed_and_records_each_outcome(vault: Vault) -> None:
    manifest, site = manifest_for(), Site()
    vault.set_attribute("sizes.shoe", 42, now=NOW - 200)
    disclose(
        vault,
        manifest,
        "recommendations",
        jti(1),
        site=site,
        now=NOW - 100,
        recipients=("stock", "analytics"),
    )
    (notice,) = revoke(vault, ORIGIN, third_party="analytics", erase=True, now=NOW, new_id=ids()).notices
    fake = FakeSite(manifest, site)
    fake.mode = "down"
    deliver_due(vault, now=NOW, post=fake)
    later = NOW + 3 * 86400  # re-signed: the scope must survive, or the site would withdraw from itself
    fake.mode, fake.now = "up", later
    (outcome,) = deliver_due(vault, now=later, post=fake)
    (sent,) = fake.received
    _, payload = open_notice(sent)
    assert payload.iat == later and (payload.site, payload.recipients, payload.claims) == (
        False,
        ("analytics",),
        (),
    )
    assert [(r.id, r.outcome, r.at) for r in outcome.recipients] == [("analytics", "erased", later)]
    (answer,) = ledger.entries(vault, ref=notice.jti, kinds=("delivery_ack",))
    assert answer.body["recipients"] == [{"id": "analytics", "outcome": "erased", "at": later}]
    assert ledger.verify(vault).ok
