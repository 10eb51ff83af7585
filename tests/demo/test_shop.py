"""The demo shop against a real vault: presentations made by the consent service (real SQLCipher file,
real pairwise keys), verified and personalised from; its manifest, nonces and pages. Acknowledgements
and revocation: test_shop_revocation.py; its analytics partner: test_partner.py."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar.testing import TestClient

from tests.demo.shop_support import ORIGIN, SITE_KEY, Clock, nonce, present, shop_of, verify
from tests.support import NOW
from vault.demo.products import PRODUCTS, personalise
from vault.demo.shop import ACCESS_PATH, REVOCATION_PATH, create_shop
from vault.demo.store import COOKIE, NONCE_TTL, HeldPresentation
from vault.site import MANIFEST_PATH, InMemoryReplayStore, decode_manifest, verify_presentation
from vault.store import Vault

# -- the manifest and nonces ------------------------------------------------------------------------------


def test_the_manifest_is_served_valid_and_mirrors_the_example(client: TestClient) -> None:
    response = client.get(MANIFEST_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    manifest = decode_manifest(response.content)  # exactly as the vault validates it
    assert manifest == shop_of(client).manifest
    assert manifest.origin == ORIGIN and manifest.controller.name == "Demo Shoes"
    assert manifest.revocation_endpoint == ORIGIN + REVOCATION_PATH
    assert manifest.access_endpoint == ORIGIN + ACCESS_PATH  # "what do you hold about me?"
    assert manifest.site_key.x == SITE_KEY.public_jwk["x"]
    recommendations, age_check, suggestions = manifest.purposes
    assert recommendations.id == "recommendations" and recommendations.retention == "P30D"
    assert [(c.name, c.required) for c in recommendations.claims] == [
        ("age_over_18", True),
        ("location.country", True),
        ("sizes.shoe", False),
        ("interests", False),
    ]
    assert recommendations.concept == "dpv:ProvidePersonalisedRecommendations"
    [analytics] = recommendations.third_parties  # optional: the user decides (tests/demo/test_partner.py)
    assert (analytics.id, analytics.name) == ("demo-analytics", "Demo Analytics B.V.")
    assert analytics.required is False
    assert analytics.claims == ("sizes.shoe", "interests")
    assert age_check.id == "age-check" and [c.name for c in age_check.claims] == ["age_over_18"]
    # What the shop's proposal offers (tests/demo/test_shop_correspondence.py).
    assert suggestions.id == "suggestions" and [c.name for c in suggestions.claims] == ["interests"]
    assert suggestions.third_parties == ()
    assert response.headers["access-control-allow-origin"] == "*"


def test_nonces_are_fresh_and_bound_to_a_session_cookie(client: TestClient) -> None:
    first, second = nonce(client), nonce(client)
    assert first != second and len(first) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", first)
    cookie = client.get("/api/nonce").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    # A cookie that is not one of ours is never stored: a new session replaces it.
    client.cookies.set(COOKIE, "x" * 4000)
    fresh = client.get("/api/nonce").headers["set-cookie"]
    assert re.match(rf"{COOKIE}=[A-Za-z0-9_-]{{43}};", fresh), fresh
    stranger = TestClient(client.app)  # no session cookie
    refused = stranger.post("/api/verify", json={"purpose": "recommendations", "token": "a.b.c"})
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "nonce_invalid",
        "reason": "no_nonce",
        "message": "this page has no nonce: get one from /api/nonce first",
    }


def test_a_nonce_verifies_each_purpose_once(vault: Vault, client: TestClient) -> None:
    value = nonce(client)
    assert verify(client, present(vault, client, value).token).status_code == 200
    # A second presentation with the same nonce and purpose (the vault grants it: remembered).
    again = verify(client, present(vault, client, value).token)
    assert again.status_code == 400 and again.json()["reason"] == "nonce_used"
    # One request to the vault may ask for several purposes with one nonce: each verifies once.
    age = verify(client, present(vault, client, value, purpose="age-check").token, "age-check")
    assert age.status_code == 200 and age.json()["claims"] == {"age_over_18": True}


def test_an_expired_nonce_is_refused(vault: Vault, client: TestClient, clock: Clock) -> None:
    value = nonce(client)
    token = present(vault, client, value).token
    clock.now += NONCE_TTL
    refused = verify(client, token)
    assert refused.status_code == 400 and refused.json()["reason"] == "nonce_expired"
    assert shop_of(client).held.current(clock.now) == []


# -- verifying and personalising --------------------------------------------------------------------------


def test_verify_personalises_from_exactly_the_verified_claims(vault: Vault, client: TestClient) -> None:
    granted = present(vault, client, nonce(client), share=("age_over_18", "location.country", "sizes.shoe"))
    response = verify(client, granted.token)
    assert response.status_code == 200, response.text
    body = response.json()
    claims = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 39.5}
    assert body["claims"] == claims == granted.claims
    assert body["not_shared"] == ["interests"]
    assert body["purpose"] == "recommendations" and body["jti"] == granted.jti
    assert body["keep_until"] == NOW + 30 * 86400
    # The page is a function of the verified claims and nothing else...
    expected = msgspec.to_builtins(personalise(claims))
    assert (body["products"], body["hidden"], body["used"]) == (
        expected["products"],
        expected["hidden"],
        expected["used"],
    )
    # ...and says what each claim did; the interests the user kept back play no part.
    assert [use["claim"] for use in body["used"]] == list(claims)
    assert not any("you like" in why for p in body["products"] for why in p["why"])
    assert body["hidden"] == [{"id": "prairie", "name": "Prairie boots", "why": "not delivered to NL"}]
    in_size = [p["name"] for p in body["products"] if "made in your size (39.5)" in p["why"]]
    assert in_size and body["products"][0]["name"] in in_size
    # What the shop keeps is that presentation, under its pseudonymous subject.
    [held] = client.get("/api/held").json()["presentations"]
    assert held["claims"] == claims and held["jti"] == granted.jti and held["subject"] == body["subject"]
    assert held["keep_until"] == body["keep_until"]


def test_interests_reorder_the_catalogue_when_shared(vault: Vault, client: TestClient) -> None:
    body = verify(client, present(vault, client, nonce(client)).token).json()
    first = body["products"][0]
    assert first["name"] == "Trailblazer GTX"
    assert "you like trail running" in first["why"]
    assert any("you like jazz" in why for p in body["products"] for why in p["why"])


def test_personalise_is_a_pure_function_of_the_claims() -> None:
    nothing = personalise({})
    assert [p.id for p in nothing.products] == [p.id for p in PRODUCTS]
    assert nothing.hidden == [] and nothing.used == [] and all(p.why == [] for p in nothing.products)
    minor = personalise({"age_over_18": False, "location.country": "US"})
    hidden = {h.id: h.why for h in minor.hidden}
    assert hidden["after-dark"] == "not delivered to US" and hidden["blue-note"] == "not delivered to US"
    assert "prairie" not in hidden
    adult = {h.id: h.why for h in personalise({"age_over_18": False, "location.country": "NL"}).hidden}
    assert adult == {"after-dark": "sold to adults only", "prairie": "not delivered to NL"}
    assert [u.claim for u in minor.used] == ["age_over_18", "location.country"]


def test_refusals_name_the_reason_and_keep_nothing(
    vault: Vault, client: TestClient, clock: Clock, replay: InMemoryReplayStore
) -> None:
    def refused(token: Any, purpose: str = "recommendations") -> tuple[int, str]:
        response = verify(client, token, purpose)
        assert response.json()["error"] in ("presentation_invalid", "nonce_invalid", "bad_request")
        return response.status_code, response.json()["reason"]

    # Expired: the shop's clock is past exp plus the allowed skew.
    value = nonce(client)
    token = present(vault, client, value).token
    clock.now = NOW + 300 + 60
    assert refused(token) == (400, "expired")
    clock.now = NOW

    # Tampered: one character of the signature changed.
    value = nonce(client)
    token = present(vault, client, value).token
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert refused(forged)[1] in ("bad_signature", "malformed")

    # Replayed: another process of this site (sharing the replay store) already accepted it.
    value = nonce(client)
    token = present(vault, client, value).token
    verify_presentation(token, manifest=shop_of(client).manifest, nonce=value, now=NOW, replay=replay)
    assert refused(token) == (400, "replayed")

    # Made for another page's nonce, or presented for a purpose it is not for.
    other = present(vault, client, "n" * 22).token
    nonce(client)
    assert refused(other) == (400, "wrong_nonce")
    value = nonce(client)
    assert refused(present(vault, client, value).token, "age-check") == (400, "wrong_purpose")

    # Not a token at all, not JSON, unknown fields.
    nonce(client)
    assert refused("not a token") == (400, "malformed")
    response = client.post("/api/verify", content=b"token", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and response.json()["reason"] == "not_json"
    response = client.post("/api/verify", json={"purpose": "recommendations", "token": "x", "extra": 1})
    assert response.status_code == 400 and response.json()["reason"] == "bad_body"
    assert shop_of(client).held.current(NOW) == []


def test_a_failing_replay_store_refuses_with_503(vault: Vault, clock: Clock) -> None:
    class Broken:
        def remember(self, key: str, expires_at: int, now: int) -> bool:
            raise ConnectionError("redis is down")

    with TestClient(create_shop(origin=ORIGIN, site_key=SITE_KEY, clock=clock, replay=Broken())) as c:
        response = verify(c, present(vault, c, nonce(c)).token)
        assert response.status_code == 503 and response.json()["reason"] == "replay_check_failed"


# -- the pages ---------------------------------------------------------------------------------------------


def test_the_shop_page_works_without_the_extension_and_loads_nothing_external(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert all(product.name in html for product in PRODUCTS)
    assert '<script type="module" src="/static/shop.js"></script>' in html
    assert 'id="vault-status"' in html and "<noscript>" in html and 'lang="en"' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    scripts = [client.get(f"/static/{name}") for name in ("shop.js", "page.js")]  # the page and its helpers
    assert all(s.status_code == 200 and "javascript" in s.headers["content-type"] for s in scripts)
    text = "".join(s.text for s in scripts)
    for needle in ("personalvault:ready", "personalVault", "/api/nonce", "/api/verify", ".acknowledge("):
        assert needle in text
    assert ".notify(" in text and "/api/proposal" in text  # our proposal, once the visitor shared
    assert "http" not in re.sub(r"//.*", "", text)  # no URLs outside comments
    assert client.get("/static/shop.css").status_code == 200
    privacy = client.get("/privacy").text
    assert "Shoe recommendations" in privacy and "30 days" in privacy and "Demo Analytics B.V." in privacy


def test_the_held_page_escapes_what_it_shows(client: TestClient) -> None:
    shop_of(client).held.keep(
        HeldPresentation(
            subject="urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + "x" * 43,
            jti="j" * 22,
            purpose="recommendations",
            claims={"interests": ["<script>alert(1)</script>"], "age_over_18": True},
            received_at=NOW,
            keep_until=NOW + 100,
        )
    )
    page = client.get("/held").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<dt>age_over_18</dt><dd>yes</dd>" in page
