"""Access requests through a real `vault serve` (test mode: plain http to loopback) and real site processes
(tests/consent/access_site.py): POST /v1/access asks and waits for the statement, GET /v1/access lists
the requests and the overdue holdings, the site report carries the discrepancies, and the daemon's own
delivery task asks each site once when a disclosure's retention has ended."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.consent.test_access import DAY, SiteProcess, access_manifest, given_to, real_now
from tests.consent.test_revocation import disclose, jti, make_vault
from tests.daemon.support import DaemonProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[SiteProcess]:
    site = SiteProcess(tmp_path / "site")
    yield site
    site.stop()


def wait_for(condition, timeout: float, what: str):
    started = time.monotonic()
    while not (value := condition()):
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout} s"
        time.sleep(0.1)
    return value


def test_asking_a_lying_site_through_the_daemon(vault_home: Path, shop: SiteProcess) -> None:
    now = real_now()
    with make_vault(vault_home, now - 30 * DAY) as vault:
        given_to(vault, shop, now)
        disclose(vault, access_manifest("https://plain.example", endpoint=False), "age-check", jti(7))
    shop.start("lying")
    with (
        DaemonProcess(vault_home, args=("--allow-loopback-http",)) as daemon,
        daemon.paired_client() as client,
    ):
        status, view = client.request_json("POST", "/v1/access", {"origin": shop.origin})
        assert status == 200, view
        assert (view["state"], view["reason"], view["attempts"], view["origin"]) == (
            "answered",
            "ask",
            1,
            shop.origin,
        )
        kinds = sorted((d["kind"], d["purpose"]) for d in view["discrepancies"])
        assert kinds == sorted(
            (kind, purpose)
            for kind in ("held_past_retention", "never_disclosed", "unallowed_recipient")
            for purpose in ("age-check", "recommendations")
        )
        assert all(d["text"].endswith(".") and "\n" not in d["text"] for d in view["discrepancies"])
        holding = next(h for h in view["holdings"] if h["purpose"] == "recommendations")
        assert holding["purpose_title"] == "Shoe recommendations" and "email" in holding["claims"]
        assert holding["values"]["sizes.shoe"] == 42 and holding["recipients"] == ["adbroker", "stock"]

        status, listing = client.request_json("GET", f"/v1/access?origin={quote(shop.origin, safe='')}")
        assert status == 200, listing
        assert listing["access_endpoint"] == shop.manifest.access_endpoint
        assert [r["request"] for r in listing["requests"]] == [view["request"]] and listing["overdue"] == []
        status, report = client.request_json("GET", f"/v1/sites/report?origin={quote(shop.origin, safe='')}")
        assert status == 200 and report["discrepancies"] == view["discrepancies"], report

        # A site without an access endpoint: said in words, nothing queued.
        status, plain = client.request_json("POST", "/v1/access", {"origin": "https://plain.example"})
        assert status == 200 and plain["state"] == "no_endpoint" and plain["request"] is None, plain
        assert "no access endpoint" in plain["error"]
        # Sites the vault never dealt with, and things that are not origins, are refused in words.
        status, body = client.request_json("POST", "/v1/access", {"origin": "https://never.example"})
        assert (status, body["error"]) == (400, "invalid_input") and "never dealt with" in body["message"]
        status, body = client.request_json("POST", "/v1/access", {"origin": "shop.example"})
        assert (status, body["error"]) == (400, "invalid_input")
        status, body = client.request_json("GET", "/v1/access?origin=nope")
        assert (status, body["error"]) == (400, "invalid_input")
    assert "Traceback" not in daemon.log()


def test_unpaired_callers_are_refused_and_a_site_that_is_down_stays_waiting(
    vault_home: Path, shop: SiteProcess
) -> None:
    now = real_now()
    with make_vault(vault_home, now - 30 * DAY) as vault:
        given_to(vault, shop, now)
    # The site is not started: nothing listens on its port.
    with DaemonProcess(vault_home, args=("--allow-loopback-http",)) as daemon:
        with daemon.client() as stranger:
            status, body = stranger.request_json("POST", "/v1/access", {"origin": shop.origin})
            assert (status, body["error"]) == (403, "not_paired")
        with daemon.paired_client() as client:
            started = time.monotonic()
            status, view = client.request_json("POST", "/v1/access", {"origin": shop.origin})
            assert status == 200 and time.monotonic() - started < 12.5
            assert (view["state"], view["attempts"], view["error"]) == ("waiting", 1, "connection refused")
            assert view["next_try_at"] >= now + 30


def test_the_daemon_asks_once_when_retention_ends(vault_home: Path, shop: SiteProcess) -> None:
    now = real_now()
    with make_vault(vault_home, now - 30 * DAY) as vault:
        issued = disclose(vault, shop.manifest, "age-check", jti(1), site=shop.site, now=now - 3 * DAY)
        shop.receive(issued, "age-check", 30)  # it keeps a one-day age check for a month
    shop.start("honest")
    with (
        DaemonProcess(vault_home, args=("--allow-loopback-http",)) as daemon,
        daemon.paired_client() as client,
    ):
        path = f"/v1/access?origin={quote(shop.origin, safe='')}"

        def answered():
            status, listing = client.request_json("GET", path)
            assert status == 200, listing
            done = [r for r in listing["requests"] if r["state"] == "answered"]
            return listing if done else None

        listing = wait_for(answered, 20, "the retention-end request answered by the delivery task")
        (request,) = listing["requests"]
        assert request["reason"] == "retention_end"
        assert [d["kind"] for d in request["discrepancies"]] == ["held_past_retention"]
        (row,) = listing["overdue"]
        assert (row["presentation"], row["state"], row["purpose_title"]) == (
            jti(1),
            "still_held",
            "Age confirmation at checkout",
        )
        status, report = client.request_json("GET", f"/v1/sites/report?origin={quote(shop.origin, safe='')}")
        assert status == 200 and report["overdue"] == listing["overdue"]
    assert len(shop.received()) == 1  # asked once
