"""The shop's analytics partner, Demo Analytics, as a real separate process, and the shop (served by
uvicorn on 127.0.0.1) passing it claims and forwarding withdrawals over real HTTP.

The visitor's side is played with the protocol's own signing functions (a pairwise key, presentations
that allow or do not allow the partner, notices that withdraw from the partner alone or from the shop
too), and at the end by the vault itself (a real SQLCipher vault, its consent service and outbox);
through the real daemon and native host it is test_demo_command.py, in Chromium and Firefox tests/e2e."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import FAST_KDF, PASSPHRASE
from vault.consent import ledger
from vault.consent.acknowledgements import store_acknowledgement
from vault.consent.outbox import deliver_due
from vault.consent.policy import Answer
from vault.consent.report import site_report
from vault.consent.revocation import revoke
from vault.consent.service import decide_prompt, request_presentation
from vault.demo.partner import PARTNER_ID
from vault.demo.partner_api import PartnerLink
from vault.demo.server import PartnerProcess, ShopThread
from vault.demo.shop import REVOCATION_PATH
from vault.protocol.acknowledgement import verify_acknowledgement, verify_revocation_ack
from vault.protocol.keys import SigningKey, derive_pairwise_key
from vault.protocol.presentation import issue_presentation
from vault.protocol.revocation import sign_revocation
from vault.site import MANIFEST_PATH, decode_manifest
from vault.store import Vault

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
    recommendations, age_check, suggestions = manifest.purposes
    [analytics] = recommendations.third_parties
    assert (analytics.id, analytics.name, analytics.role, analytics.country) == (
        PARTNER_ID,
        "Demo Analytics B.V.",
        "dpv:ThirdParty",
        "NL",
    )
    assert analytics.claims == ("sizes.shoe", "interests") and analytics.required is False
    assert analytics.privacy_policy == partner.url + "/privacy" and analytics.why
    assert age_check.third_parties == suggestions.third_parties == ()
    # Its privacy notice is its own page, served by the partner's process (not the shop's).
    policy = httpx.get(analytics.privacy_policy, timeout=10)
    assert policy.status_code == 200 and "Demo Analytics B.V." in policy.text
    assert "We hold <strong>0</strong> records about\n<strong>0</strong> visitors" in policy.text
    # The shop's own privacy notice names it, what it receives, and links its notice.
    shop_privacy = httpx.get(shop.url + "/privacy", timeout=10).text
    assert (
        f'<a href="{partner.url}/privacy">Demo Analytics B.V.</a> (NL; uses them for its own ends)'
        in shop_privacy
    )
    assert "receives sizes.shoe, interests, only if you allow it" in shop_privacy


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
    page = visitor.page.get("/held").text  # and the shop's "what we hold" page says so
    assert "from our third parties only: we keep ours. Forwarded to demo-analytics: erased." in page
    assert "<td>demo-analytics</td>" in page  # each presentation says whom it was passed on to

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


# -- with the real vault: its decisions, its notices, its outbox -------------------------------------------


def test_the_vault_allows_the_partner_then_withdraws_from_it_alone(
    tmp_path: Path, shop: ShopThread, partner: PartnerProcess
) -> None:
    """The vault's side for real (a SQLCipher vault, the consent service, revoke(third_party=...), its
    outbox over real HTTP): left off, the partner gets nothing; switched on, it gets its claim; withdrawn
    alone, it erases, the shop keeps its own, and the ledger keeps the shop's signed answer and verifies."""
    now = int(time.time())
    with (
        Vault.create(tmp_path / "vault", PASSPHRASE, now=now, kdf=FAST_KDF) as vault,
        httpx.Client(base_url=shop.url, timeout=10) as page,
    ):
        for name, value in {"birthdate": "1990-12-10", "country": "NL", "sizes.shoe": 39.5}.items():
            vault.set_attribute(name, value, now=now)
        manifest = decode_manifest(page.get(MANIFEST_PATH).content)

        def visit(partner_on: bool | None) -> dict[str, Any]:
            nonce = page.get("/api/nonce").json()["nonce"]
            outcome = request_presentation(
                vault, manifest=manifest, audience=shop.url, purpose_id="recommendations", nonce=nonce,
                now=now, new_id=lambda: next(_ids),
            )  # fmt: skip
            if partner_on is not None:
                assert outcome.outcome == "consent_required"
                claims = frozenset(q.claim for q in outcome.prompt.questions)
                recipients = frozenset({PARTNER_ID} if partner_on else ())
                answer = Answer(share=True, claims=claims, remember=True, recipients=recipients)
                outcome = decide_prompt(vault, outcome.prompt.id, answer, now=now, new_id=lambda: next(_ids))
            assert outcome.outcome == "granted", outcome
            body = page.post(
                "/api/verify", json={"purpose": "recommendations", "token": outcome.token}
            ).json()
            store_acknowledgement(vault, body["acknowledgement"], now=now)
            return body

        # Asked once and left off (remembered): the partner gets nothing.
        off = visit(partner_on=False)
        assert off["passed_to"] == [] and partner.held() == []

        # The user allows it (it is asked again after its decision is revoked): it gets the shoe size.
        revoke(vault, shop.url, third_party=PARTNER_ID, now=now, new_id=lambda: next(_ids))
        on = visit(partner_on=True)
        assert on["passed_to"] == [PARTNER_ID]
        assert [r["claims"] for r in partner.held()] == [{"sizes.shoe": 39.5}]

        # Withdrawn from the partner alone, with erasure, delivered by the vault's outbox.
        revoke(vault, shop.url, third_party=PARTNER_ID, erase=True, now=now + 1, new_id=lambda: next(_ids))
        outcomes_ = deliver_due(vault, now=now + 1, allow_loopback_http=True)
        assert outcomes_ and all(o.delivered for o in outcomes_), outcomes_
        assert partner.held() == []
        assert {p["jti"] for p in page.get("/api/held").json()["presentations"]} == {off["jti"], on["jti"]}
        [disclosure] = [d for d in site_report(vault, shop.url).disclosures if d.jti == on["jti"]]
        assert disclosure.withdrawn_at is None
        [holding] = disclosure.recipients
        assert (holding.id, holding.withdrawal_state, holding.outcome) == (PARTNER_ID, "confirmed", "erased")
        assert ledger.verify(vault).ok
