"""What the demo shop's tests share: a fixed site key and origin, a settable clock, and the extension's
side of a visit played with the real consent service (`present`)."""

from __future__ import annotations

import itertools
from typing import Any

from litestar.testing import TestClient

from tests.support import NOW
from vault.consent.outbox import Response
from vault.consent.policy import Answer
from vault.consent.service import Outcome, decide_prompt, request_presentation
from vault.demo.shop import REVOCATION_PATH
from vault.site import MANIFEST_PATH, SigningKey, decode_manifest
from vault.store import Vault

ORIGIN = "http://127.0.0.1:8765"
SITE_KEY = SigningKey.from_seed(bytes(range(32)))
PROFILE = {
    "birthdate": "1990-12-10",
    "country": "NL",
    "sizes.shoe": 39.5,
    "interests": ["trail running", "jazz"],
}
ALL = ("age_over_18", "location.country", "sizes.shoe", "interests")


class Clock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def shop_of(client: TestClient):
    return client.app.state.shop


_ids = (f"id-{n:016d}" for n in itertools.count())


def new_id() -> str:
    return next(_ids)


def present(
    vault: Vault,
    client: Any,
    nonce: str,
    *,
    purpose: str = "recommendations",
    share: tuple[str, ...] = ALL,
    now: int = NOW,
) -> Outcome:
    """What the extension and the popup do: fetch the manifest and ask; if the vault prompts, share
    `share` and remember."""
    manifest = decode_manifest(client.get(MANIFEST_PATH).content)
    outcome = request_presentation(
        vault,
        manifest=manifest,
        audience=manifest.origin,
        purpose_id=purpose,
        nonce=nonce,
        now=now,
        new_id=new_id,
    )
    if outcome.outcome == "consent_required":
        asked = {q.claim for q in outcome.prompt.questions}
        answer = Answer(share=True, claims=frozenset(asked & set(share)), remember=True)
        outcome = decide_prompt(vault, outcome.prompt.id, answer, now=now, new_id=new_id)
    assert outcome.outcome == "granted", outcome
    return outcome


def nonce(client: Any) -> str:
    response = client.get("/api/nonce")
    assert response.status_code == 200
    return response.json()["nonce"]


def verify(client: Any, token: str, purpose: str = "recommendations") -> Any:
    return client.post("/api/verify", json={"purpose": purpose, "token": token})


def shop_post(client: TestClient):
    """The outbox's transport, pointed at the shop in this process."""

    def post(url: str, body: bytes, timeout: float) -> Response:
        assert url == ORIGIN + REVOCATION_PATH
        answer = client.post(REVOCATION_PATH, content=body, headers={"Content-Type": "application/json"})
        return Response(answer.status_code, answer.headers["content-type"], answer.content)

    return post
