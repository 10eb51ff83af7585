"""The daemon's API in-process (AsyncTestClient) around a real SQLCipher vault: pairing, locking, the
consent flow, what a page may learn, bounds and errors."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient

from tests import example
from tests.daemon.support import make_vault, new_client_token
from tests.support import NOW, PASSPHRASE
from vault.consent import ledger
from vault.daemon import routes
from vault.daemon.app import create_app
from vault.daemon.session import require_paired
from vault.daemon.state import Daemon, Settings
from vault.daemon.worker import VaultWorker
from vault.errors import VaultLocked
from vault.site import (
    InMemoryReplayStore,
    acknowledge_presentation,
    make_nonce,
    manifest_json,
    verify_presentation,
)
from vault.store import Vault

pytestmark = pytest.mark.anyio
ADMIN = "admin-" + "a" * 40
MANIFEST = manifest_json(example.manifest()).decode()
ORIGIN = example.ORIGIN


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def build(home: Path, clock: Clock, *, unlocked: bool = True, **settings) -> tuple[Daemon, AsyncTestClient]:
    ids = (f"id{n:022d}" for n in itertools.count())
    vault = Vault.open(home, PASSPHRASE, now=NOW) if unlocked else None
    config = Settings(home=home, admin_token=ADMIN, **settings)
    daemon = Daemon(
        config, worker=VaultWorker(home, clock=clock, vault=vault), clock=clock, new_id=lambda: next(ids)
    )
    return daemon, AsyncTestClient(create_app(config, daemon=daemon, background=False))


@pytest.fixture
async def api(vault_home: Path, clock: Clock) -> AsyncIterator[AsyncTestClient]:
    make_vault(vault_home)
    _, client = build(vault_home, clock)
    async with client:
        client.headers["x-vault-client"] = await pair(client)
        yield client


async def pair(client: AsyncTestClient) -> str:
    token = new_client_token()
    asked = await client.post("/v1/pairing", json={"name": "Chromium"}, headers={"x-vault-client": token})
    assert asked.status_code == 200 and asked.json()["state"] == "pending"
    approved = await client.post(
        "/v1/admin/pairings/approve", json={"code": asked.json()["code"]}, headers={"x-vault-admin": ADMIN}
    )
    assert approved.status_code == 200, approved.text
    return token


def presentation(nonce: str | None = None, **changes) -> dict:
    return {
        "origin": ORIGIN,
        "manifest": MANIFEST,
        "purpose": "recommendations",
        "nonce": nonce or make_nonce(),
    } | changes


async def test_pairing_from_request_to_approval(vault_home: Path, clock: Clock) -> None:
    make_vault(vault_home)
    _, client = build(vault_home, clock)
    token = new_client_token()
    async with client:
        assert (await client.get("/v1/status", headers={"x-vault-client": token})).json()[
            "client"
        ] == "unpaired"
        refused = await client.get("/v1/attributes", headers={"x-vault-client": token})
        assert refused.status_code == 403 and refused.json()["error"] == "not_paired"
        first = (await client.post("/v1/pairing", json={}, headers={"x-vault-client": token})).json()
        again = (await client.post("/v1/pairing", json={}, headers={"x-vault-client": token})).json()
        assert first["code"] == again["code"] and len(first["code"]) == 9  # XXXX-XXXX
        status = (await client.get("/v1/status", headers={"x-vault-client": token})).json()
        assert status["client"] == "pending" and status["pairing_code"] == first["code"]
        # A client cannot approve itself: approval is on the admin channel only.
        selfie = await client.post(
            "/v1/admin/pairings/approve", json={"code": first["code"]}, headers={"x-vault-client": token}
        )
        assert selfie.status_code == 403 and selfie.json()["error"] == "admin_only"
        wrong = await client.post(
            "/v1/admin/pairings/approve", json={"code": "AAAA-AAAA"}, headers={"x-vault-admin": ADMIN}
        )
        assert wrong.status_code == 400
        ok = await client.post(
            "/v1/admin/pairings/approve",
            json={"code": first["code"].lower()},
            headers={"x-vault-admin": ADMIN},
        )
        assert ok.status_code == 200
        assert (await client.get("/v1/attributes", headers={"x-vault-client": token})).status_code == 200
        # The pairing survives a restart of the daemon (it is kept beside the vault, hashed).
        assert token not in (vault_home / "paired-clients.json").read_text()
    _, restarted = build(vault_home, clock)
    async with restarted:
        listed = (await restarted.get("/v1/admin/pairings", headers={"x-vault-admin": ADMIN})).json()
        assert [c["name"] for c in listed["clients"]] == ["browser extension"]
        assert (await restarted.get("/v1/attributes", headers={"x-vault-client": token})).status_code == 200
        removed = await restarted.delete(
            f"/v1/admin/pairings/{listed['clients'][0]['id']}", headers={"x-vault-admin": ADMIN}
        )
        assert removed.status_code == 200
        assert (await restarted.get("/v1/attributes", headers={"x-vault-client": token})).status_code == 403


async def test_wrong_admin_token_and_bad_client_tokens_are_refused(api: AsyncTestClient) -> None:
    for headers in ({"x-vault-admin": ADMIN[:-1] + "b"}, {"x-vault-admin": ""}, {}):
        response = await api.get("/v1/admin/pairings", headers=headers)
        assert response.status_code == 403
    short = await api.post("/v1/pairing", json={}, headers={"x-vault-client": "too-short"})
    assert short.status_code == 400 and short.json()["error"] == "invalid_input"


async def test_remembered_consent_then_acknowledgement(api: AsyncTestClient) -> None:
    nonce = make_nonce()
    first = (await api.post("/v1/presentations", json=presentation(nonce))).json()
    assert first["outcome"] == "consent_required"
    prompt = first["prompt"]
    values = {q["claim"]: q["value"] for q in prompt["questions"]}
    assert values == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42, "interests": ["jazz"]}
    assert [p["id"] for p in (await api.get("/v1/prompts")).json()] == [prompt["id"]]
    assert (await api.get("/v1/status")).json()["pending_prompts"] == 1
    shared = ["age_over_18", "location.country", "sizes.shoe"]  # the user unticks interests
    decided = await api.post(
        f"/v1/prompts/{prompt['id']}/decision", json={"share": True, "claims": shared, "remember": True}
    )
    granted = decided.json()
    assert decided.status_code == 200 and granted["outcome"] == "granted", decided.text
    assert (await api.get("/v1/status")).json()["pending_prompts"] == 0
    verified = verify_presentation(
        granted["token"], manifest=example.manifest(), nonce=nonce, now=NOW, replay=InMemoryReplayStore()
    )
    assert sorted(verified.claims) == sorted(shared)
    ack = acknowledge_presentation(example.site_key(), verified, manifest=example.manifest(), now=NOW)
    stored = await api.post("/v1/acknowledgements", json={"token": ack})
    assert stored.status_code == 200 and stored.json()["presentation"] == granted["jti"]
    tampered = await api.post("/v1/acknowledgements", json={"token": ack[:-4] + "AAAA"})
    assert tampered.status_code == 400 and tampered.json()["error"] == "acknowledgement_invalid"
    # Second visit: remembered, no prompt.
    second = (await api.post("/v1/presentations", json=presentation())).json()
    assert second["outcome"] == "granted" and sorted(second["claims"]) == sorted(shared)
    report = (await api.get("/v1/sites/report", params={"origin": ORIGIN})).json()
    assert [d["acknowledged"] for d in report["disclosures"]] == [True, False]
    # Each disclosure names its context; the report says which one is in force there, and whether GPC is sent.
    assert {d["context_name"] for d in report["disclosures"]} == {"Everyday"}
    assert report["active"]["context"]["name"] == "Everyday" and report["gpc"]["sent"] is True
    assert (await api.get("/v1/ledger/verify")).json()["ok"] is True


async def test_a_page_learns_only_coarse_reasons(api: AsyncTestClient) -> None:
    assert (await api.delete("/v1/attributes/country")).json()["removed"] is True
    denied = (await api.post("/v1/presentations", json=presentation())).json()
    # The user sees why; the page only sees that it was not shared, not which attribute is missing.
    assert denied["outcome"] == "denied" and denied["reason"] == "denied"
    assert denied["message"] == "the user did not share this"
    assert "country" in denied["detail"] and "country" not in denied["message"]
    wrong_site = (
        await api.post("/v1/presentations", json=presentation(origin="https://evil.example"))
    ).json()
    assert wrong_site["outcome"] == "denied" and wrong_site["reason"] == "bad_request"


async def test_a_prompt_by_id_and_its_outcome_read_without_answering(api: AsyncTestClient) -> None:
    # The extension asks for the prompt's id only: its window reads the view itself.
    asked = (await api.post("/v1/presentations", json=presentation(prompt_detail="id"))).json()
    assert set(asked) == {"outcome", "prompt"} and set(asked["prompt"]) == {"id"}
    prompt_id = asked["prompt"]["id"]
    assert (await api.get(f"/v1/prompts/{prompt_id}")).json()["state"] == "pending"
    pending = await api.get(f"/v1/prompts/{prompt_id}/outcome")
    assert pending.status_code == 409 and pending.json()["error"] == "prompt_pending"
    decision = {"share": True, "claims": ["age_over_18", "location.country", "sizes.shoe"]}
    granted = (await api.post(f"/v1/prompts/{prompt_id}/decision", json=decision)).json()
    assert granted["outcome"] == "granted"
    read = await api.get(f"/v1/prompts/{prompt_id}/outcome")
    assert read.status_code == 200 and read.json() == granted
    assert (await api.get(f"/v1/prompts/{prompt_id}/outcome")).json() == granted  # reading decides nothing
    gone = await api.get("/v1/prompts/no-such-prompt/outcome")
    assert gone.status_code == 400 and gone.json()["error"] == "invalid_input"


async def test_an_expired_prompts_outcome_is_expired(api: AsyncTestClient, clock: Clock) -> None:
    asked = (await api.post("/v1/presentations", json=presentation(prompt_detail="id"))).json()
    clock.now += 600
    expired = (await api.get(f"/v1/prompts/{asked['prompt']['id']}/outcome")).json()
    assert expired == {
        "outcome": "denied",
        "reason": "expired",
        "message": "the request waited too long; ask again",
        "detail": "this request waited too long; the site must ask again",
    }


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"nonce": "short"}, 400, "invalid_input"),
        ({"manifest": "{}"}, 400, "manifest_invalid"),
        ({"manifest": "not json"}, 400, "manifest_invalid"),
        ({"origin": "https://shop.example/"}, 400, "invalid_input"),
        ({"extra": 1}, 400, "bad_request"),
        ({"claims": ["x"] * 65}, 400, "bad_request"),
        ({"manifest": "x" * 70_000}, 400, "bad_request"),
    ],
)
async def test_bad_requests_are_refused_clearly(api: AsyncTestClient, changes, status, error) -> None:
    response = await api.post("/v1/presentations", json=presentation(**changes))
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert (await api.get("/v1/ledger")).json() == []


async def test_body_size_is_bounded(api: AsyncTestClient) -> None:
    response = await api.post("/v1/presentations", content=b'{"x": "' + b"a" * 300_000 + b'"}')
    assert response.status_code == 413 and response.json()["error"] == "too_large"


async def test_profile_edits_are_validated(api: AsyncTestClient) -> None:
    ok = await api.put("/v1/attributes/sizes.shoe", json={"value": "43"})
    assert ok.status_code == 200 and ok.json()["value"] == 43
    bad = await api.put("/v1/attributes/birthdate", json={"value": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_input"
    unknown = await api.put("/v1/attributes/religion", json={"value": "x"})
    assert unknown.status_code == 400
    assert (await api.get("/v1/attributes")).json()["values"]["sizes.shoe"] == 43


async def test_locked_vault_refuses_until_unlocked(vault_home: Path, clock: Clock) -> None:
    make_vault(vault_home)
    _, client = build(vault_home, clock, unlocked=False)
    async with client:
        client.headers["x-vault-client"] = await pair(client)
        assert (await client.get("/v1/status")).json()["locked"] is True
        locked = await client.post("/v1/presentations", json=presentation())
        assert locked.status_code == 423 and locked.json()["error"] == "vault_locked"
        wrong = await client.post("/v1/unlock", json={"passphrase": "not it"})
        assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_passphrase"
        # Guessing is slowed down: the next attempt within the back-off is refused without trying.
        hurried = await client.post("/v1/unlock", json={"passphrase": PASSPHRASE})
        assert hurried.status_code == 429
        clock.now += 2
        assert (await client.post("/v1/unlock", json={"passphrase": PASSPHRASE})).json() == {
            "locked": False,
            "changed": True,
        }
        assert (await client.post("/v1/presentations", json=presentation())).status_code == 200
        assert (await client.post("/v1/lock")).json() == {"locked": True, "changed": True}
        assert (await client.post("/v1/presentations", json=presentation())).status_code == 423


async def test_idle_vault_locks_itself(vault_home: Path, clock: Clock) -> None:
    make_vault(vault_home)
    daemon, client = build(vault_home, clock, idle_lock_seconds=600)
    async with client:
        client.headers["x-vault-client"] = await pair(client)
        await client.get("/v1/attributes")
        clock.now += 599
        await client.get("/v1/status")  # a status poll is not use
        assert await daemon.lock_if_idle() is False
        clock.now += 1
        assert await daemon.lock_if_idle() is True
        assert (await client.get("/v1/status")).json()["locked"] is True


async def test_revocation_is_queued_and_visible(api: AsyncTestClient) -> None:
    first = (await api.post("/v1/presentations", json=presentation())).json()
    granted = (
        await api.post(
            f"/v1/prompts/{first['prompt']['id']}/decision",
            json={"share": True, "claims": ["age_over_18", "location.country"], "remember": True},
        )
    ).json()
    revoked = (await api.post("/v1/revocations", json={"origin": ORIGIN, "erase": True})).json()
    assert revoked["withdrawn"] == 1 and revoked["erasure"] is True and len(revoked["notices"]) == 1
    outbox = (await api.get("/v1/outbox")).json()
    assert [item["jti"] for item in outbox] == revoked["notices"] and outbox[0]["delivered_at"] is None
    assert (await api.get("/v1/consents")).json() == []
    again = (await api.post("/v1/presentations", json=presentation())).json()
    assert again["outcome"] == "consent_required"
    export = (await api.get("/v1/export")).json()
    assert export["format"] == "personal-vault-export"
    assert granted["jti"] in msgspec.json.encode(export).decode()


async def test_tcp_mode_refuses_rebinding_browsers_and_missing_tokens(vault_home: Path, clock: Clock) -> None:
    make_vault(vault_home)
    hosts = frozenset({"127.0.0.1:8765", "localhost:8765"})
    _, client = build(vault_home, clock, tcp_token="t" * 43, allowed_hosts=hosts, socket_path="/nowhere")
    good = {"host": "127.0.0.1:8765", "authorization": "Bearer " + "t" * 43}
    async with client:
        assert (await client.get("/v1/status", headers=good)).status_code == 200
        cases = [
            ({**good, "host": "evil.example:8765"}, 403, "bad_host"),
            ({**good, "origin": "https://evil.example"}, 403, "browser_request"),
            ({**good, "sec-fetch-site": "cross-site"}, 403, "browser_request"),
            ({"host": "127.0.0.1:8765"}, 401, "unauthorized"),
            ({**good, "authorization": "Bearer " + "u" * 43}, 401, "unauthorized"),
        ]
        for headers, status, error in cases:
            response = await client.get("/v1/status", headers=headers)
            assert (response.status_code, response.json()["error"]) == (status, error), headers


async def test_openapi_document_is_served(api: AsyncTestClient) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    assert "/v1/presentations" in schema["paths"] and "/v1/admin/pairings/approve" in schema["paths"]


async def test_the_wal_is_checkpointed_off_the_request_path(vault_home: Path, clock: Clock) -> None:
    make_vault(vault_home)
    daemon, client = build(vault_home, clock)
    database = vault_home / "vault.db"
    async with client:
        client.headers["x-vault-client"] = await pair(client)
        setting = await daemon.worker.call(lambda v: v.conn.execute("PRAGMA wal_autocheckpoint").fetchone())
        assert setting == (0,)  # SQLite's own checkpoints would land inside some request's commit
        await daemon.checkpoint_once(min_wal_bytes=0)
        before = database.read_bytes()
        for n in range(20):
            await client.put("/v1/attributes/custom.note", json={"value": f"note {n}"})
        # No request paid for a checkpoint: every change is still only in the WAL...
        assert database.read_bytes() == before
        assert await daemon.checkpoint_once() is False  # ...which is below the threshold
        assert await daemon.checkpoint_once(min_wal_bytes=0) is True
        assert database.read_bytes() != before  # the background duty copied it into the database


@pytest.mark.parametrize("route", [routes.ledger_verify, routes.export], ids=["ledger verify", "export"])
async def test_reading_the_whole_vault_does_not_hold_up_requests(
    vault_home: Path, clock: Clock, route: HTTPRouteHandler
) -> None:
    """These read every ledger entry (seconds at a million), on their own connection: a request asked for
    after one began is answered while it runs, where on the worker it waited for all of it."""
    make_vault(vault_home)
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault, vault.transaction() as conn:
        for n in range(10_000):
            ledger.append(conn, at=NOW, kind="consent", body={"n": n})
    daemon, _ = build(vault_home, clock)
    try:
        clock.now += 60
        answered: list[str] = []
        reading = asyncio.ensure_future(route.fn(daemon=daemon))
        reading.add_done_callback(lambda _: answered.append("whole vault"))
        await asyncio.sleep(0)  # the route has asked the worker for what it needs first
        await daemon.worker.call(lambda vault: vault.attributes(), touch=False)  # (as a status poll)
        answered.append("request")
        result = await reading
        assert answered == ["request", "whole vault"]
        verification = result.ledger_verification if route is routes.export else result
        assert verification.ok and verification.entries == 10_000
        assert daemon.worker.last_used == NOW + 60  # a person's read counts as use (the idle lock waits)
        await daemon.worker.lock()
        with pytest.raises(VaultLocked):
            await route.fn(daemon=daemon)
    finally:
        daemon.worker.stop()


async def test_whole_vault_reads_take_turns(vault_home: Path, clock: Clock) -> None:
    """An export holds the vault's content in memory until it is sent: a paired client asking for many at
    once gets them one after another, as on the worker, not all in memory together."""
    make_vault(vault_home)
    daemon, _ = build(vault_home, clock)
    reading, most = [0], [0]
    lock = threading.Lock()

    def read(vault: Vault) -> int:
        with lock:
            reading[0] += 1
            most[0] = max(most[0], reading[0])
        time.sleep(0.05)  # long enough for the others to start, were they let
        with lock:
            reading[0] -= 1
        return vault.schema_version

    try:
        assert len(await asyncio.gather(*(daemon.read_apart(read) for _ in range(4)))) == 4
        assert most[0] == 1
    finally:
        daemon.worker.stop()


def test_every_route_of_the_vault_router_requires_a_paired_client(vault_home: Path, clock: Clock) -> None:
    """The router checks pairing in a before_request hook (no per-request copy of the handler, as a guard
    costs); a hook of a nearer layer would replace it, so each of its routes must still resolve to it."""
    make_vault(vault_home)
    _, client = build(vault_home, clock)
    handlers = [
        handler
        for route in client.app.routes
        for handler in getattr(route, "route_handlers", ())
        if getattr(handler.fn, "__module__", None) == routes.__name__
    ]
    assert len(handlers) >= 17
    for handler in handlers:
        hook = handler.resolve_before_request()
        assert hook is require_paired, handler
