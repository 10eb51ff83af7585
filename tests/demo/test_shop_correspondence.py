"""The demo shop after the first exchange, against a real vault: it answers "what do you hold about me?"
from its own records (signed statements the vault's own verifier accepts), and writes to its visitors (a
change notice carried by the first acknowledgement, a proposal handed to the page)."""

from __future__ import annotations

import os

import pytest
from litestar.testing import TestClient

from tests.demo.shop_support import ORIGIN, new_id, nonce, present, shop_of, shop_post, verify
from tests.support import NOW
from vault.consent.outbox import deliver_due
from vault.consent.revocation import revoke
from vault.demo.correspondence import OFFER_PATH
from vault.demo.shop import ACCESS_PATH
from vault.protocol.access import sign_access_request, verify_access_statement
from vault.protocol.acknowledgement import verify_acknowledgement
from vault.protocol.keys import derive_pairwise_key
from vault.protocol.message import verify_message
from vault.site import decode_manifest
from vault.store import Vault


def access_request(
    vault: Vault, *, now: int = NOW, purposes: tuple[str, ...] = (), origin: str = ORIGIN
) -> str:
    """What the vault sends: a request signed with the pairwise key it uses at the shop."""
    key = vault.pairwise_key(ORIGIN, vault.site_epoch(ORIGIN))
    return sign_access_request(key, origin=origin, now=now, jti=new_id(), purposes=purposes)


def ask(client: TestClient, request: str) -> dict:
    response = client.post(ACCESS_PATH, json={"request": request})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json" and set(response.json()) == {"statement"}
    manifest = decode_manifest(client.get("/.well-known/vault-manifest.json").content)
    # Exactly as the vault checks it: the shop's key, answering this very request, for its subject.
    statement = verify_access_statement(
        response.json()["statement"], manifest.site_key, request=request, now=NOW + 5
    )
    return {h.purpose: h for h in statement.holdings}


def refused(client: TestClient, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    response = client.post(ACCESS_PATH, content=body, headers={"Content-Type": content_type})
    return response.status_code, response.json()


# -- the access endpoint -----------------------------------------------------------------------------------


def test_the_statement_lists_what_the_shop_received_from_this_visitor(
    vault: Vault, client: TestClient
) -> None:
    value = nonce(client)
    granted = present(vault, client, value, share=("age_over_18", "location.country", "sizes.shoe"))
    body = verify(client, granted.token).json()
    age = present(vault, client, value, purpose="age-check")
    assert verify(client, age.token, "age-check").status_code == 200

    holdings = ask(client, access_request(vault, now=NOW + 1))
    assert set(holdings) == {"recommendations", "age-check"}
    held = holdings["recommendations"]
    assert held.claims == ("age_over_18", "location.country", "sizes.shoe")
    assert held.values == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 39.5}
    assert (held.since, held.until) == (NOW, body["keep_until"])
    assert held.presentations == (granted.jti,) and held.recipients == ()  # no partner reachable here
    assert holdings["age-check"].presentations == (age.jti,)

    # Asked about one purpose only: the statement covers that one.
    assert set(ask(client, access_request(vault, now=NOW + 2, purposes=("age-check",)))) == {"age-check"}
    # Another visitor (another pairwise key) learns nothing of this one.
    stranger = derive_pairwise_key(b"\x07" * 32, ORIGIN, 0)
    request = sign_access_request(stranger, origin=ORIGIN, now=NOW + 3, jti=new_id())
    assert ask(client, request) == {}
    # The shop lists the questions it answered on /held.
    answered = shop_of(client).answered
    assert [a.holdings for a in answered] == [["age-check", "recommendations"], ["age-check"], []]
    assert 'id="answered"' in client.get("/held").text


def test_after_an_erasure_the_statement_holds_nothing(vault: Vault, client: TestClient) -> None:
    granted = present(vault, client, nonce(client))
    assert verify(client, granted.token).status_code == 200
    assert ask(client, access_request(vault))["recommendations"].presentations == (granted.jti,)
    revoke(vault, ORIGIN, erase=True, now=NOW + 1, new_id=new_id)
    [outcome] = deliver_due(vault, now=NOW + 1, post=shop_post(client), allow_loopback_http=True)
    assert outcome.delivered and outcome.erased is True
    assert ask(client, access_request(vault, now=NOW + 2)) == {}


def test_a_request_is_answered_once(vault: Vault, client: TestClient) -> None:
    request = access_request(vault)
    ask(client, request)
    status, body = refused(client, f'{{"request": "{request}"}}'.encode())
    assert (status, body["error"], body["reason"]) == (400, "access_request_invalid", "replayed")


def test_bad_requests_get_a_clear_4xx_never_a_5xx(vault: Vault, client: TestClient) -> None:
    elsewhere = access_request(vault, origin="https://elsewhere.example")
    cases = {
        "not json": (b'{"request": "a.b.c"}', "text/plain", 415, "not_json"),
        "broken json": (b'{"request": ', "application/json", 400, "bad_body"),
        "another field": (b'{"notice": "a.b.c"}', "application/json", 400, "bad_body"),
        "not a string": (b'{"request": 42}', "application/json", 400, "bad_body"),
        "not a token": (b'{"request": "a.b.c"}', "application/json", 400, "malformed"),
        "for another site": (
            b'{"request": "%s"}' % elsewhere.encode(),
            "application/json",
            400,
            "wrong_audience",
        ),
        "too long a token": (b'{"request": "' + b"a" * 9000 + b'"}', "application/json", 400, None),
    }
    for name, (body, content_type, status, reason) in cases.items():
        got, answer = refused(client, body, content_type)
        assert got == status, (name, got, answer)
        assert answer["message"] and (reason is None or answer["reason"] == reason), (name, answer)
    # A body larger than any request is refused before it is read.
    too_big = client.post(ACCESS_PATH, content=b"x" * 20_000, headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413
    # Random bytes never make it fail.
    for size in (0, 1, 7, 100, 5000):
        got, _ = refused(client, os.urandom(size))
        assert 400 <= got < 500
    assert client.get(ACCESS_PATH).status_code == 405


# -- messages ---------------------------------------------------------------------------------------------


def test_the_first_acknowledgement_carries_a_change_notice(vault: Vault, client: TestClient) -> None:
    manifest = shop_of(client).manifest
    first = present(vault, client, nonce(client))
    ack = verify_acknowledgement(
        verify(client, first.token).json()["acknowledgement"], manifest.site_key, presentation=first.token,
        now=NOW,
    )  # fmt: skip
    [token] = ack.messages
    message = verify_message(token, manifest.site_key, origin=ORIGIN, subject=ack.aud, now=NOW)
    assert message.kind == "change" and message.purpose == "recommendations"
    assert message.effective_at > NOW + 30 * 86400 and "analytics partner" in message.title
    # Once per visitor: the next acknowledgement carries none.
    second = present(vault, client, nonce(client))
    again = verify_acknowledgement(
        verify(client, second.token).json()["acknowledgement"], manifest.site_key, presentation=second.token,
        now=NOW,
    )  # fmt: skip
    assert again.messages is None


def test_the_proposal_is_for_a_visitor_who_shared_and_leads_to_the_offer_page(
    vault: Vault, client: TestClient
) -> None:
    manifest = shop_of(client).manifest
    value = nonce(client)
    assert client.get("/api/proposal").json() == {"message": None}  # shared nothing yet: none
    granted = present(vault, client, value, share=("age_over_18", "location.country"))
    subject = verify(client, granted.token).json()["subject"]
    token = client.get("/api/proposal").json()["message"]
    message = verify_message(token, manifest.site_key, origin=ORIGIN, subject=subject, now=NOW)
    assert (message.kind, message.purpose, message.claims) == ("proposal", "suggestions", ("interests",))
    assert message.url == ORIGIN + OFFER_PATH and message.title.startswith("Share your interests")
    assert client.get("/api/proposal").json()["message"] == token  # the same one, not a new one each time
    assert TestClient(client.app).get("/api/proposal").json() == {"message": None}  # another session

    # The page it leads to asks the vault for that purpose (the normal prompt), with its own script.
    page = client.get(OFFER_PATH)
    assert page.status_code == 200 and 'data-purpose="suggestions"' in page.text
    assert '<script type="module" src="/static/offers.js"></script>' in page.text
    script = client.get("/static/offers.js").text
    assert "vault.request({ purposes: [PURPOSE], nonce })" in script and "/api/verify" in script

    # Accepted: the visitor shares their interests for it, and the shop proposes it no more.
    interests = present(vault, client, value, purpose="suggestions")
    shared = verify(client, interests.token, "suggestions")
    assert shared.status_code == 200 and shared.json()["claims"] == {"interests": ["trail running", "jazz"]}
    assert client.get("/api/proposal").json() == {"message": None}


@pytest.mark.parametrize("cookie", ["", "x" * 4000, "not-ours"])
def test_a_session_the_shop_never_saw_gets_no_proposal(client: TestClient, cookie: str) -> None:
    client.cookies.set("shop_session", cookie)
    answer = client.get("/api/proposal")
    assert answer.status_code == 200 and answer.json() == {"message": None}
