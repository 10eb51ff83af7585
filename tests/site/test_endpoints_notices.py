"""The revocation and access endpoints of `VaultEndpoints`, on a real uvicorn process: answers that the
vault's own verifiers accept, repeats, forgeries and bad bodies."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import pytest

from tests.site.test_endpoints import ORIGIN, Browser, SiteProcess, new_key, present
from vault.protocol import SigningKey, key_subject, sign_revocation, verify_revocation_ack
from vault.protocol.access import sign_access_request, verify_access_statement
from vault.protocol.b64 import b64url_decode

REVOCATION = "/.well-known/vault-revocation"
ACCESS = "/vault/access"


def now() -> int:
    return int(time.time())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteProcess]:
    process = SiteProcess(tmp_path_factory.mktemp("site") / "site.log")
    try:
        yield process
    finally:
        process.stop()


def accepted(browser: Browser, key: SigningKey) -> str:
    """A presentation the site accepted from `key`: its jti."""
    token = present(browser.manifest(), browser.nonce(), key=key)
    status, answer = browser.post("/vault/presentation", {"purpose": "recommendations", "token": token})
    assert status == 200, answer
    return json.loads(b64url_decode(token.split(".")[1]))["jti"]


def notice(key: SigningKey, presentations: list[str], **changes: object) -> str:
    arguments: dict = {
        "origin": ORIGIN, "purpose_id": "recommendations", "presentations": presentations,
        "erasure": True, "now": now(), "jti": secrets.token_urlsafe(16), "recipients": ["stock"],
    }  # fmt: skip
    arguments.update(changes)
    return sign_revocation(key, **arguments)


def held(browser: Browser) -> list[str]:
    return json.loads(browser.request("GET", "/held")[2])


def test_a_notice_is_answered_with_an_acknowledgement_the_vault_accepts(site: SiteProcess) -> None:
    browser, key = site.browser(), new_key()
    jti = accepted(browser, key)
    assert jti in held(browser)
    sent = notice(key, [jti])
    status, answer = site.browser().post(REVOCATION, {"notice": sent})  # the vault has no cookie
    assert status == 200 and set(answer) == {"acknowledgement"}
    manifest = browser.manifest()
    ack = verify_revocation_ack(answer["acknowledgement"], manifest.site_key, notice=sent, now=now())
    assert (ack.erased, [(r.id, r.outcome) for r in ack.recipients]) == (True, [("stock", "erased")])
    assert jti not in held(browser)
    # Notices are idempotent: the same notice again is answered again.
    status, answer = site.browser().post(REVOCATION, {"notice": sent})
    assert status == 200
    verify_revocation_ack(answer["acknowledgement"], manifest.site_key, notice=sent, now=now())


def test_a_notice_for_a_third_party_it_does_not_declare_is_answered_not_held(site: SiteProcess) -> None:
    browser, key = site.browser(), new_key()
    jti = accepted(browser, key)
    sent = notice(key, [jti], recipients=["stock", "gone"], site=False)
    status, answer = site.browser().post(REVOCATION, {"notice": sent})
    assert status == 200, answer
    ack = verify_revocation_ack(
        answer["acknowledgement"], browser.manifest().site_key, notice=sent, now=now()
    )
    assert {r.id: r.outcome for r in ack.recipients} == {"stock": "erased", "gone": "not_held"}
    assert ack.erased is False and jti in held(browser)  # site: false, so the site keeps its copy


def test_forged_and_stale_notices_are_refused(site: SiteProcess) -> None:
    browser, key = site.browser(), new_key()
    jti = accepted(browser, key)
    signed = notice(key, [jti])
    changed = signed.split(".")
    changed[1] = changed[1][:-4] + ("AAAA" if changed[1][-4:] != "AAAA" else "BBBB")
    long_ago = now() - 3 * 86400
    cases = [
        (notice(new_key(), [jti]), "wrong_subject"),  # someone else withdrawing this visitor's presentation
        (".".join(changed), "bad_signature"),
        (notice(key, [jti], origin="https://other.example"), "wrong_audience"),
        (notice(key, [jti], now=long_ago, ttl=86400), "expired"),
        ("not a token", "malformed"),
    ]
    for token, reason in cases:
        status, answer = site.browser().post(REVOCATION, {"notice": token})
        assert (status, answer["error"], answer["reason"]) == (400, "notice_invalid", reason)
    assert jti in held(browser)
    status, answer = site.browser().post(REVOCATION, {"notice": signed, "extra": 1})
    assert (status, answer["reason"]) == (400, "bad_body")
    status, answer = site.browser().post(REVOCATION, b"{" + b" " * 70000 + b"}")
    assert (status, answer["reason"]) == (413, "too_large")


def test_an_access_request_is_answered_once_with_a_statement(site: SiteProcess) -> None:
    browser, key = site.browser(), new_key()
    first, second = accepted(browser, key), accepted(browser, key)
    accepted(site.browser(), new_key())  # another visitor's: not in this answer
    request = sign_access_request(
        key, origin="https://site.example", now=now(), jti=secrets.token_urlsafe(16)
    )
    status, answer = site.browser().post(ACCESS, {"request": request})
    assert status == 200 and set(answer) == {"statement"}
    statement = verify_access_statement(
        answer["statement"], browser.manifest().site_key, request=request, now=now()
    )
    assert statement.aud == key_subject(key.public_jwk)
    [holding] = statement.holdings
    assert (holding.purpose, set(holding.presentations)) == ("recommendations", {first, second})
    assert holding.claims == ("age_over_18", "location.country", "sizes.shoe") and holding.values is None
    status, answer = site.browser().post(ACCESS, {"request": request})
    assert (status, answer["error"], answer["reason"]) == (400, "access_request_invalid", "replayed")
    other = sign_access_request(key, origin="https://other.example", now=now(), jti=secrets.token_urlsafe(16))
    status, answer = site.browser().post(ACCESS, {"request": other})
    assert (status, answer["reason"]) == (400, "wrong_audience")
    status, answer = site.browser().post(ACCESS, {"request": request}, "text/plain")
    assert (status, answer["reason"]) == (415, "not_json")
