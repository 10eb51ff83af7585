"""The shop's analytics partner, Demo Analytics, as a real separate process, and the shop (served by
uvicorn on 127.0.0.1) passing it claims and forwarding withdrawals over real HTTP.

The visitor's side is played with the protocol's own signing functions (a pairwise key, presentations
that allow or do not allow the partner, notices that withdraw from the partner alone or from the shop
too); what the vault itself decides and sends is in test_demo_command.py, through the real daemon."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from vault.demo.partner import PARTNER_ID, PartnerStore, create_partner
from vault.demo.partner_api import HELD_PATH, MAX_REQUEST, RECEIVE_PATH, WITHDRAW_PATH, PartnerLink
from vault.demo.server import PartnerProcess, ShopThread
from vault.demo.shop import REVOCATION_PATH
from vault.protocol.acknowledgement import verify_acknowledgement, verify_revocation_ack
from vault.protocol.keys import SigningKey, derive_pairwise_key
from vault.protocol.presentation import issue_presentation
from vault.protocol.revocation import sign_revocation
from vault.site import MANIFEST_PATH, decode_manifest

pytestmark = pytest.mark.slow

SITE_KEY = SigningKey.from_seed(bytes(range(32)))
SEED = b"\x07" * 32
EVERYTHING = {
    "age_over_18": True,
    "location.country": "NL",
    "sizes.shoe": 39.5,
    "interests": ["trail running", "jazz"],
}
_ids = (f"jti-{n:018d}" for n in itertools.count())


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerProcess]:
    with PartnerProcess(tmp_path) as running:
        yield running


@pytest.fixture
def shop(partner: PartnerProcess) -> Iterator[ShopThread]:
    with ShopThread(site_key=SITE_KEY, partners=(partner.link,)) as running:
        yield running


class Visitor:
    """A vault's side, with one pairwise key for the shop: asks for a nonce as the page does, signs
    presentations and notices, and hands them to the shop."""

    def __init__(self, shop: ShopThread, seed: bytes = SEED) -> None:
        self.shop = shop
        self.page = httpx.Client(base_url=shop.url, timeout=10)
        self.manifest = decode_manifest(self.page.get(MANIFEST_PATH).content)
        self.key = derive_pairwise_key(seed, shop.url, 0)

    def share(self, claims: dict[str, Any], recipients: tuple[str, ...] = ()) -> dict[str, Any]:
        nonce = self.page.get("/api/nonce").json()["nonce"]
        token = issue_presentation(
            self.key, self.manifest, "recommendations", self.shop.url, nonce, claims, int(time.time()),
            next(_ids), recipients=recipients,
        )  # fmt: skip
        answer = self.page.post("/api/verify", json={"purpose": "recommendations", "token": token})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        body["token"] = token
        return body

    def withdraw(self, presentations: list[str], **scope: Any) -> tuple[str, Any]:
        """Send a notice for these presentations; return it and the shop's verified answer."""
        notice = sign_revocation(
            self.key, origin=self.shop.url, purpose_id="recommendations", presentations=presentations,
            now=int(time.time()), jti=next(_ids), **{"erasure": True, **scope},
        )  # fmt: skip
        answer = self.page.post(REVOCATION_PATH, json={"notice": notice})
        assert answer.status_code == 200, answer.text
        ack = verify_revocation_ack(
            answer.json()["acknowledgement"], self.manifest.site_key, notice=notice, now=int(time.time())
        )
        return notice, ack

    def held_by_shop(self) -> list[dict[str, Any]]:
        return self.page.get("/api/held").json()["presentations"]


@pytest.fixture
def make_visitor() -> Iterator[Any]:
    """make_visitor(shop, seed=...) makes a Visitor; their HTTP clients are closed after the test."""
    made: list[Visitor] = []

    def make(shop: ShopThread, seed: bytes = SEED) -> Visitor:
        made.append(Visitor(shop, seed))
        return made[-1]

    yield make
    for one in made:
        one.page.close()


def outcomes(ack: Any) -> dict[str, str]:
    return {outcome.id: outcome.outcome for outcome in ack.recipients}


# -- passing claims on -------------------------------------------------------------------------------------


def test_the_manifest_declares_the_partner_on_its_own_address(
    make_visitor: Any, shop: ShopThread, partner: PartnerProcess
) -> None:
    manifest = make_visitor(shop).manifest
    recommendations, age_check = manifest.purposes
    [analytics] = recommendations.third_parties
    assert (analytics.id, analytics.name, analytics.role, analytics.country) == (
        PARTNER_ID,
        "Demo Analytics B.V.",
        "dpv:ThirdParty",
        "NL",
    )
    assert analytics.claims == ("sizes.shoe", "interests") and analytics.required is False
    assert analytics.privacy_policy == partner.url + "/privacy" and analytics.why
    assert age_check.third_parties == ()
    # Its privacy notice is its own page, served by the partner's process (not the shop's).
    policy = httpx.get(analytics.privacy_policy, timeout=10)
    assert policy.status_code == 200 and "Demo Analytics B.V." in policy.text
    assert "We hold <strong>0</strong> record(s)" in policy.text


def test_the_partner_receives_nothing_when_the_user_left_it_off(
    make_visitor: Any, shop: ShopThread, partner: PartnerProcess
) -> None:
    visitor = make_visitor(shop)
    body = visitor.share(EVERYTHING)  # every claim, but the partner not allowed
    assert body["recipients"] == [] and body["passed_to"] == []
    ack = verify_acknowledgement(
        body["acknowledgement"], visitor.manifest.site_key, presentation=body["token"], now=int(time.time())
    )
    assert ack.recipients == ()
    assert partner.held() == []
    [kept] = visitor.held_by_shop()
    assert kept["claims"] == EVERYTHING and kept["passed_to"] == []


def test_an_allowed_partner_receives_exactly_its_declared_claims(
    make_visitor: Any, shop: ShopThread, partner: PartnerProcess
) -> None:
    visitor = make_visitor(shop)
    body = visitor.share(EVERYTHING, recipients=(PARTNER_ID,))
    assert body["passed_to"] == [PARTNER_ID]
    ack = verify_acknowledgement(
        body["acknowledgement"], visitor.manifest.site_key, presentation=body["token"], now=int(time.time())
    )
    assert ack.recipients == (PARTNER_ID,)  # the shop's signed word: it passed them on
    [record] = partner.held()
    assert record["claims"] == {"sizes.shoe": 39.5, "interests": ["trail running", "jazz"]}
    assert (record["subject"], record["presentation"]) == (body["subject"], body["jti"])
    assert record["keep_until"] == body["keep_until"]  # no longer than the shop promised the vault

    # Allowed, but the user shared none of the partner's claims: nothing to pass, and the ack says so.
    required_only = {"age_over_18": True, "location.country": "NL"}
    second = visitor.share(required_only, recipients=(PARTNER_ID,))
    assert second["passed_to"] == []
    assert len(partner.held()) == 1


# -- withdrawing -------------------------------------------------------------------------------------------


def test_withdrawing_from_the_partner_alone_leaves_the_shop_its_claims(
    make_visitor: Any, shop: ShopThread, partner: PartnerProcess
) -> None:
    visitor = make_visitor(shop)
    body = visitor.share(EVERYTHING, recipients=(PARTNER_ID,))
    assert len(partner.held()) == 1

    notice, ack = visitor.withdraw([body["jti"]], site=False, recipients=(PARTNER_ID,))
    assert outcomes(ack) == {PARTNER_ID: "erased"} and ack.erased is False  # the shop kept its own
    assert partner.held() == []
    [kept] = visitor.held_by_shop()
    assert kept["claims"] == EVERYTHING
    [received] = visitor.page.get("/api/held").json()["notices"]
    assert received["site"] is False and received["recipients"] == {PARTNER_ID: "erased"}
    assert received["deleted"] == 0

    # The vault retries a notice it has no answer to: the same notice gets the same answer.
    again = visitor.page.post(REVOCATION_PATH, json={"notice": notice}).json()["acknowledgement"]
    repeat = verify_revocation_ack(again, visitor.manifest.site_key, notice=notice, now=int(time.time()))
    assert repeat.recipients == ack.recipients

    # Withdrawing from the shop too (and so from its recipients): the shop erases, the partner held nothing.
    _, last = visitor.withdraw([body["jti"]], recipients=(PARTNER_ID,))
    assert outcomes(last) == {PARTNER_ID: "not_held"} and last.erased is True
    assert visitor.held_by_shop() == []


def test_a_withdrawal_of_one_claim_erases_that_claim_alone(
    make_visitor: Any, shop: ShopThread, partner: PartnerProcess
) -> None:
    visitor = make_visitor(shop)
    body = visitor.share(EVERYTHING, recipients=(PARTNER_ID,))
    _, ack = visitor.withdraw([body["jti"]], erasure=False, site=False, claims=("interests",),
                              recipients=(PARTNER_ID,))  # fmt: skip
    assert outcomes(ack) == {PARTNER_ID: "erased"}
    [record] = partner.held()
    assert record["claims"] == {"sizes.shoe": 39.5}
    # From the shop too, that claim alone: it keeps the others.
    _, ack = visitor.withdraw([body["jti"]], erasure=False, claims=("interests",), recipients=(PARTNER_ID,))
    assert outcomes(ack) == {PARTNER_ID: "not_held"}
    [kept] = visitor.held_by_shop()
    assert kept["claims"] == {k: v for k, v in EVERYTHING.items() if k != "interests"}


def test_a_withdrawal_touches_only_its_own_visitor(
    make_visitor: Any, shop: ShopThread, partner: PartnerProcess
) -> None:
    ada, bob = make_visitor(shop), make_visitor(shop, seed=b"\x08" * 32)
    mine = ada.share(EVERYTHING, recipients=(PARTNER_ID,))
    bob.share(EVERYTHING, recipients=(PARTNER_ID,))
    # Bob's vault names Ada's presentation: the shop refuses it (Ada's subject is on record for it)...
    forged = sign_revocation(
        bob.key, origin=shop.url, purpose_id="recommendations", presentations=[mine["jti"]], erasure=True,
        now=int(time.time()), jti=next(_ids), site=False, recipients=(PARTNER_ID,),
    )  # fmt: skip
    refused = bob.page.post(REVOCATION_PATH, json={"notice": forged})
    assert refused.status_code == 400 and refused.json()["reason"] == "wrong_subject"
    assert len(partner.held()) == 2
    # ...and an erasure from Bob erases Bob's records at the partner, never Ada's.
    _, ack = bob.withdraw([next(_ids)], site=False, recipients=(PARTNER_ID,))
    assert outcomes(ack) == {PARTNER_ID: "erased"}
    [left] = partner.held()
    assert left["subject"] == mine["subject"]


def test_an_unreachable_partner_gets_nothing_and_is_told_when_it_is_back(
    make_visitor: Any, tmp_path: Path, partner: PartnerProcess
) -> None:
    gone = PartnerLink(id=PARTNER_ID, url="http://127.0.0.1:9", secret="s" * 43)  # nothing listens there
    with ShopThread(site_key=SITE_KEY, partners=(gone,)) as shop:
        visitor = make_visitor(shop)
        body = visitor.share(EVERYTHING, recipients=(PARTNER_ID,))
        assert body["passed_to"] == []  # not reached: the acknowledgement does not claim it was passed
        _, ack = visitor.withdraw([body["jti"]], site=False, recipients=(PARTNER_ID,))
        assert outcomes(ack) == {PARTNER_ID: "forwarded"}  # the shop's duty now: keep telling it
        assert len(shop.shop.pending) == 1
        # The partner is reachable again: the shop's next attempt tells it, and records its answer.
        shop.shop.partners[PARTNER_ID] = partner.link
        asyncio.run_coroutine_threadsafe(shop.shop.retry_forwards(), shop.loop).result(10)
        assert shop.shop.pending == {}
        [received] = visitor.page.get("/api/held").json()["notices"]
        assert received["recipients"] == {PARTNER_ID: "not_held"}


# -- the partner refuses everyone but the shop, and anything out of bounds --------------------------------


def call(partner: PartnerProcess, method: str, path: str, **options: Any) -> httpx.Response:
    return httpx.request(method, partner.url + path, timeout=10, **options)


def delivery(**changes: Any) -> dict[str, Any]:
    return {
        "subject": "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + "A" * 43,
        "presentation": "AqKu6Qjj2A8Pfu_R0cpFZg",
        "purpose": "recommendations",
        "claims": {"sizes.shoe": 39.5},
        "keep_until": int(time.time()) + 3600,
    } | changes


def test_calls_without_the_shops_secret_are_refused(partner: PartnerProcess) -> None:
    wrong = "x" * len(partner.secret)
    for headers in (
        {},
        {"Authorization": f"Bearer {wrong}"},
        {"Authorization": f"Bearer {partner.secret[:-1]}"},
        {"Authorization": f"Bearer {partner.secret}x"},
        {"Authorization": partner.secret},
        {"Authorization": f"Basic {partner.secret}"},
    ):
        stored = call(partner, "POST", RECEIVE_PATH, json=delivery(), headers=headers)
        assert stored.status_code == 401 and stored.headers["www-authenticate"] == "Bearer"
        withdrawal = {"notice": "n" * 22, "subject": delivery()["subject"], "presentations": ["p" * 22]}
        assert call(partner, "POST", WITHDRAW_PATH, json=withdrawal, headers=headers).status_code == 401
        assert call(partner, "GET", HELD_PATH, headers=headers).status_code == 401
    # A non-ASCII header does not get as far as a comparison either.
    odd = call(partner, "POST", RECEIVE_PATH, json=delivery(), headers={"Authorization": "Bearer é".encode()})
    assert odd.status_code == 401
    assert partner.held() == []
    # The public page says how much it holds, never what.
    assert "39.5" not in call(partner, "GET", "/").text


def test_the_partner_refuses_oversize_and_malformed_input(partner: PartnerProcess) -> None:
    auth = {"Authorization": f"Bearer {partner.secret}"}

    def refused(body: Any, **options: Any) -> int:
        if isinstance(body, bytes):
            options["content"] = body
            options.setdefault("headers", {}).setdefault("Content-Type", "application/json")
        else:
            options["json"] = body
        options["headers"] = {**options.get("headers", {}), **auth}
        return call(partner, "POST", RECEIVE_PATH, **options).status_code

    assert refused(b"{" + b" " * MAX_REQUEST + b"}") == 413
    assert refused(delivery(claims={f"c{n}": 1 for n in range(33)})) == 400  # more claims than a purpose has
    assert refused(delivery(claims={})) == 400
    assert refused(delivery(claims={"location.country": "NL"})) == 422  # not one it receives
    assert refused(delivery(claims={"sizes.shoe": "forty"})) == 422  # not of its type
    assert refused(delivery(subject="someone@example.org")) == 400
    assert refused(delivery(presentation="short")) == 400
    assert refused(delivery(extra=1)) == 400
    assert refused(delivery(keep_until=-1)) == 400
    assert refused(json.dumps(delivery()).encode(), headers={"Content-Type": "text/plain"}) == 400
    too_many = {"notice": "n" * 22, "subject": delivery()["subject"], "presentations": ["p" * 22] * 257}
    withdrawal = call(partner, "POST", WITHDRAW_PATH, json=too_many, headers=auth)
    assert withdrawal.status_code == 400
    assert partner.held() == []


def test_a_full_partner_refuses_instead_of_dropping_what_it_holds() -> None:
    secret = "s" * 43
    clock = iter(range(1_000, 10_000))
    app = create_partner(secret=secret, store=PartnerStore(capacity=1), clock=lambda: next(clock))
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        first = delivery(keep_until=5_000)
        assert client.post(RECEIVE_PATH, json=first, headers=auth).status_code == 200
        other = delivery(presentation="BqKu6Qjj2A8Pfu_R0cpFZg")
        assert client.post(RECEIVE_PATH, json=other, headers=auth).json()["error"] == "full"
        [held] = client.get(HELD_PATH, headers=auth).json()["records"]
        assert held["presentation"] == first["presentation"]
    # Past the date the shop promised, the record is gone, and there is room again.
    later = iter(range(6_000, 10_000))
    app = create_partner(secret=secret, store=app.state.store, clock=lambda: next(later))
    with TestClient(app) as client:
        assert client.get(HELD_PATH, headers=auth).json()["records"] == []
        assert client.post(RECEIVE_PATH, json=delivery(keep_until=9_000), headers=auth).status_code == 200


def test_the_partner_will_not_start_with_a_secret_others_can_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s" * 43)
    os.chmod(secret, 0o644)
    proc = subprocess.run(
        [sys.executable, "-m", "vault.demo.partner", "--port", "0", "--secret-file", str(secret)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0 and "chmod 600" in proc.stderr
    os.chmod(secret, 0o600)
    secret.write_text("short")
    proc = subprocess.run(
        [sys.executable, "-m", "vault.demo.partner", "--port", "0", "--secret-file", str(secret)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0 and "at least 32" in proc.stderr
