"""The demo shop's acknowledgements and revocation against a real vault: acknowledgements stored by the
vault, notices signed by the vault and delivered by its outbox, over the real HTTP transport too."""

from __future__ import annotations

import httpx
import pytest
from litestar.testing import TestClient

from tests.demo.shop_support import (
    ORIGIN,
    SITE_KEY,
    Clock,
    new_id,
    nonce,
    present,
    shop_post,
    verify,
)
from tests.support import NOW
from vault.consent.acknowledgements import store_acknowledgement
from vault.consent.outbox import deliver_due
from vault.consent.report import site_report
from vault.consent.revocation import revoke
from vault.demo.server import ShopThread
from vault.demo.shop import REVOCATION_PATH
from vault.protocol.keys import derive_pairwise_key
from vault.protocol.revocation import sign_revocation
from vault.store import Vault


def test_the_acknowledgement_verifies_in_the_vault(vault: Vault, client: TestClient) -> None:
    granted = present(vault, client, nonce(client), share=("age_over_18", "location.country"))
    body = verify(client, granted.token).json()
    stored = store_acknowledgement(vault, body["acknowledgement"], now=NOW + 1)
    assert {k: stored[k] for k in ("presentation", "claims", "keep_until")} == {
        "presentation": granted.jti,
        "claims": ["age_over_18", "location.country"],
        "keep_until": NOW + 30 * 86400,
    }
    assert not stored.get("recipients")  # the user allowed no third party: the shop passed nothing on
    [disclosure] = site_report(vault, ORIGIN).disclosures
    assert disclosure.acknowledged and disclosure.acknowledged_keep_until == NOW + 30 * 86400


def test_revocation_withdraws_a_purpose_then_erasure_erases_everything(
    vault: Vault, client: TestClient
) -> None:
    value = nonce(client)
    recommendation = present(vault, client, value)
    age = present(vault, client, value, purpose="age-check")
    assert verify(client, recommendation.token).status_code == 200
    assert verify(client, age.token, "age-check").status_code == 200
    assert len(client.get("/api/held").json()["presentations"]) == 2

    # Withdraw one purpose: the vault signs a notice, its outbox delivers it, the shop deletes and answers.
    revoke(vault, ORIGIN, purpose_id="recommendations", now=NOW + 10, new_id=new_id)
    [outcome] = deliver_due(vault, now=NOW + 10, post=shop_post(client), allow_loopback_http=True)
    assert outcome.delivered and outcome.erased is True, outcome
    [left] = client.get("/api/held").json()["presentations"]
    assert left["jti"] == age.jti

    # Erasure of everything: the rest goes too, and /held says so.
    revoke(vault, ORIGIN, erase=True, now=NOW + 20, new_id=new_id)
    [outcome] = deliver_due(vault, now=NOW + 20, post=shop_post(client), allow_loopback_http=True)
    assert outcome.delivered and outcome.erased is True
    held = client.get("/api/held").json()
    assert held["presentations"] == []
    assert [(n["purpose"], n["erasure"], n["deleted"]) for n in held["notices"]] == [
        ("recommendations", False, 1),
        ("age-check", True, 1),
    ]
    page = client.get("/held").text
    assert 'id="held-empty"' in page and "erasure request" in page
    disclosures = site_report(vault, ORIGIN).disclosures
    assert all(d.withdrawn_at is not None and d.withdrawal_acknowledged for d in disclosures)


def test_a_notice_is_idempotent_and_a_forged_one_deletes_nothing(vault: Vault, client: TestClient) -> None:
    granted = present(vault, client, nonce(client))
    assert verify(client, granted.token).status_code == 200
    # Signed by a key that is not the one this visitor's presentation came with.
    stranger = derive_pairwise_key(b"\x09" * 32, ORIGIN, 0)
    forged = sign_revocation(
        stranger,
        origin=ORIGIN,
        purpose_id="recommendations",
        presentations=(granted.jti,),
        erasure=True,
        now=NOW,
        jti="forged-notice-0001",
    )
    response = client.post(REVOCATION_PATH, json={"notice": forged})
    assert response.status_code == 400 and response.json()["reason"] == "wrong_subject"
    assert len(client.get("/api/held").json()["presentations"]) == 1
    bad = client.post(REVOCATION_PATH, json={"token": forged})
    assert bad.status_code == 400 and bad.json()["reason"] == "bad_body"

    result = revoke(vault, ORIGIN, now=NOW + 5, new_id=new_id)
    [notice] = vault.conn.execute(
        "SELECT notice FROM outbox WHERE id = ?", (result.notices[0].jti,)
    ).fetchone()
    for _ in range(2):  # delivered twice (a crash before the vault recorded it): withdrawn once
        response = client.post(REVOCATION_PATH, json={"notice": notice})
        assert response.status_code == 200 and set(response.json()) == {"acknowledgement"}
    assert client.get("/api/held").json()["presentations"] == []


@pytest.mark.slow
def test_the_outbox_delivers_to_the_shop_over_real_http(vault: Vault) -> None:
    with ShopThread(site_key=SITE_KEY, clock=Clock()) as running, httpx.Client(base_url=running.url) as page:
        granted = present(vault, page, nonce(page))
        assert verify(page, granted.token).status_code == 200
        # The manifest the vault stored names the shop's real origin: its outbox POSTs there.
        revoke(vault, running.url, erase=True, now=NOW + 1, new_id=new_id)
        [outcome] = deliver_due(vault, now=NOW + 1, allow_loopback_http=True)
        assert outcome.delivered and outcome.status == 200 and outcome.erased is True, outcome
        assert page.get("/api/held").json()["presentations"] == []
        assert 'id="held-empty"' in page.get("/held").text


def test_held_expires_with_the_retention_promised(vault: Vault, client: TestClient, clock: Clock) -> None:
    body = verify(client, present(vault, client, nonce(client)).token).json()
    clock.now = body["keep_until"]
    assert client.get("/api/held").json()["presentations"] == []
