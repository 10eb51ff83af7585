"""`vault conformance` against real sites: the demo shop passes every case; each site of sites.py, right
but for one flaw, fails exactly the cases that flaw should fail, and says what it did in words."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conformance.conftest import Served, failed, play
from vault.conformance import CASES
from vault.conformance.cases_notices import SIGN_NOTICE_ANSWER
from vault.conformance.report import as_json, summary

# What each flaw must fail, and nothing else.
EXPECTED_FAILURES = {
    "none": set(),
    "no_replay_store": {"presentation.nonce_reused", "presentation.replayed", "access.repeated"},
    "no_nonce_check": {
        "presentation.nonce_reused",
        "presentation.other_session_nonce",
        "presentation.made_up_nonce",
    },
    "audience_unchecked": {"presentation.wrong_audience"},
    "wrong_ack_key": {
        "presentation.acknowledgement",
        "revocation.valid",
        "revocation.repeated",
        "access.valid",
    },
    "crash_on_garbage": {"presentation.body_not_json", "revocation.body_not_json", "access.body_not_json"},
    "subject_unchecked": {"revocation.other_signer"},
}


def test_the_demo_shop_passes_every_case(demo_shop: Served) -> None:
    report = play(
        demo_shop.origin,
        nonce_url=demo_shop.origin + "/api/nonce",
        submit_url=demo_shop.origin + "/api/verify",
    )
    assert report.passed, [(r.id, r.detail) for r in report.results if not r.passed]
    assert [r.id for r in report.results] == [case.id for case in CASES]
    # Its purpose has no required third party: the one case that needs one says so.
    assert {r.id: r.detail for r in report.results if r.skipped} == {
        "presentation.missing_recipient": "the purpose has no required recipient of the claims presented"
    }
    assert report.purpose == "recommendations"


@pytest.mark.parametrize("flaw", sorted(EXPECTED_FAILURES))
def test_a_flawed_site_fails_exactly_the_cases_of_its_flaw(serve: Callable[..., Served], flaw: str) -> None:
    report = play(serve(flaw).origin)
    assert failed(report) == EXPECTED_FAILURES[flaw], [
        (r.id, r.detail) for r in report.results if not r.passed
    ]
    assert [r.id for r in report.results] == [case.id for case in CASES]
    assert not any(r.skipped for r in report.results)  # its purpose needs claims and a third party
    for result in report.results:
        assert result.detail and (result.passed or result.fix), result


def words(flaw: str, serve: Callable[..., Served]) -> dict[str, str]:
    report = play(serve(flaw).origin)
    return {r.id: f"{r.detail} | {r.fix}" for r in report.results if not r.passed}


def test_a_crash_is_its_own_failure_in_words(serve: Callable[..., Served]) -> None:
    said = words("crash_on_garbage", serve)
    assert said["presentation.body_not_json"] == (
        "the site crashed on a request body that is not JSON (500) | never answer 5xx to what a client "
        "sends: refuse it with a 4xx JSON error"
    )


def test_an_acknowledgement_under_another_key_is_refused_in_words(serve: Callable[..., Served]) -> None:
    said = words("wrong_ack_key", serve)
    assert said["presentation.acknowledgement"].startswith(
        "a vault refuses it (bad_key): its kid names another key than the manifest's site_key | sign with"
    )
    assert said["revocation.valid"].startswith("a vault refuses its acknowledgement (bad_key)")
    assert said["revocation.repeated"].endswith("| " + SIGN_NOTICE_ANSWER)
    assert said["access.valid"].startswith("a vault refuses its statement (bad_key)")


def test_an_accepted_replay_says_so_and_what_to_fix(serve: Callable[..., Served]) -> None:
    said = words("no_replay_store", serve)
    assert said["presentation.replayed"] == (
        "accepted it (answered 200) | keep a replay store (vault.site.InMemoryReplayStore, "
        "RedisReplayStore for many processes)"
    )


def test_a_manifest_for_another_origin_stops_the_run(serve: Callable[..., Served]) -> None:
    site = serve("manifest_other_origin")
    report = play(site.origin)
    assert [(r.id, r.passed) for r in report.results] == [("manifest", False)]
    assert report.results[0].detail == f"it is for 'https://another-site.example', not for {site.origin}"
    assert report.stopped == "the manifest is broken, so no other case was played: fix it first"
    assert not report.passed
    assert summary(report) == (
        f"{site.origin} does not conform: 0 passed, 1 failed, 0 skipped; the manifest is broken, so no "
        "other case was played: fix it first."
    )
    assert as_json(report)["stopped"] == report.stopped and as_json(report)["passed"] is False


def test_a_site_giving_nonces_elsewhere_is_told_which_option_to_pass(demo_shop: Served) -> None:
    report = play(demo_shop.origin)  # the demo shop gives nonces at /api/nonce, not /vault/nonce
    nonce = report.results[1]
    assert (nonce.id, nonce.passed, nonce.status) == ("nonce", False, 404)
    assert nonce.detail == f"{demo_shop.origin}/vault/nonce answered 404, not 200"
    assert nonce.fix.endswith("; if the site gives nonces at another path, pass --nonce-url")
    skipped = {r.id for r in report.results if r.skipped}
    assert {case.id for case in CASES if case.id.startswith("presentation.")} <= skipped
    # What needs no nonce is still played: notices for a presentation it never had, access requests.
    assert {r.id for r in report.results if r.passed and not r.skipped} >= {
        "revocation.valid",
        "access.valid",
    }
    assert failed(report) == {"nonce"}


def test_another_purpose_of_the_demo_shop_passes_too(demo_shop: Served) -> None:
    urls = {"nonce_url": demo_shop.origin + "/api/nonce", "submit_url": demo_shop.origin + "/api/verify"}
    report = play(demo_shop.origin, purpose="age-check", **urls)
    assert report.passed and report.purpose == "age-check"
    assert report.results[0].detail == f"valid, for {demo_shop.origin}; presenting purpose age-check"
