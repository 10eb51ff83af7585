"""Contexts through the daemon: switching with POST /v1/contexts/use changes what the next presentation
request gets, a timed switch ends by itself (the daemon's clock), the prompt says its context, and the
rules and remembered decisions are read and changed per context (`context`, a name or id; without it,
the context in force for the whole browser). In-process around a real SQLCipher vault, and once through
a real `vault serve` process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from tests.daemon.support import EXAMPLE_MANIFEST, DaemonProcess, ask, make_vault, remember_consent
from tests.daemon.test_api import Clock, build, pair, presentation
from vault.protocol.presentation import open_presentation
from vault.site import make_nonce

pytestmark = pytest.mark.anyio
HOUR = 3600


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api(vault_home: Path, clock: Clock) -> AsyncIterator[AsyncTestClient]:
    make_vault(vault_home)
    _, client = build(vault_home, clock)
    async with client:
        client.headers["x-vault-client"] = await pair(client)
        yield client


async def request(api: AsyncTestClient) -> dict:
    answer = await api.post("/v1/presentations", json=presentation())
    assert answer.status_code == 200, answer.text
    return answer.json()


async def remembered(api: AsyncTestClient) -> dict:
    """A request that prompts, answered "share, remember": the granted answer."""
    asked = await request(api)
    assert asked["outcome"] == "consent_required", asked
    prompt = asked["prompt"]
    body = {"share": True, "claims": [q["claim"] for q in prompt["questions"]], "remember": True}
    body["recipients"] = [t["id"] for t in prompt["third_parties"] if t["required"]]
    decided = await api.post(f"/v1/prompts/{prompt['id']}/decision", json=body)
    assert decided.json()["outcome"] == "granted", decided.text
    return decided.json()


async def new_context(api: AsyncTestClient, name: str, **options: str) -> dict:
    made = await api.post("/v1/contexts", json={"name": name, **options})
    assert made.status_code in (200, 201), made.text
    return made.json()


async def use(api: AsyncTestClient, name: str, **options: object) -> dict:
    used = await api.post("/v1/contexts/use", json={"context": name, **options})
    assert used.status_code in (200, 201), used.text
    return used.json()


async def test_switching_changes_what_the_next_request_gets(api: AsyncTestClient) -> None:
    await remembered(api)
    work = await new_context(api, "Work")
    assert (await request(api))["outcome"] == "granted"
    await use(api, "work")
    asked = await request(api)
    assert asked["outcome"] == "consent_required"
    assert asked["prompt"]["context"] == {"id": work["id"], "name": "Work"}
    shown = (await api.get(f"/v1/prompts/{asked['prompt']['id']}")).json()
    assert shown["context"] == {"id": work["id"], "name": "Work"}
    refused = await api.post(
        f"/v1/prompts/{asked['prompt']['id']}/decision", json={"share": False, "remember": True}
    )
    assert refused.json()["outcome"] == "denied"
    assert (await request(api))["outcome"] == "denied"
    # GET /v1/consents shows the context in force for the browser (Work), or the one asked for.
    in_work = (await api.get("/v1/consents")).json()
    assert {(d["context"], d["context_name"], d["effect"]) for d in in_work} == {(work["id"], "Work", "deny")}
    everyday = (await api.get("/v1/consents", params={"context": "EVERYDAY"})).json()
    assert {(d["context"], d["context_name"]) for d in everyday} == {("everyday", "Everyday")}
    assert "allow" in {d["effect"] for d in everyday}
    await use(api, "Everyday")
    assert (await request(api))["outcome"] == "granted"
    assert (await api.get("/v1/ledger/verify")).json()["ok"]


async def test_a_timed_context_ends_by_itself(api: AsyncTestClient, clock: Clock) -> None:
    await remembered(api)
    await new_context(api, "Urgent")
    active = await use(api, "Urgent", minutes=60)
    assert active["until"] == clock.now + HOUR and active["source"] == "timed"
    start = clock.now
    clock.now = start + HOUR - 1
    last = await request(api)
    assert last["outcome"] == "consent_required" and last["prompt"]["context"]["name"] == "Urgent"
    clock.now = start + HOUR
    assert (await request(api))["outcome"] == "granted"


async def test_a_site_of_its_own_context_and_removing_it(api: AsyncTestClient) -> None:
    await remembered(api)
    await new_context(api, "Work")
    await use(api, "Work", origin="https://shop.example")
    assert (await request(api))["outcome"] == "consent_required"
    await remembered(api)  # remembered in Work
    assert (await request(api))["outcome"] == "granted"
    assert len((await api.get("/v1/consents", params={"context": "Work"})).json()) > 0
    removed = await api.post("/v1/contexts/remove", json={"context": "Work"})
    assert removed.status_code in (200, 201), removed.text
    # Work's decisions are gone with it; the shop falls back to Everyday, which still remembers.
    assert (await request(api))["outcome"] == "granted"
    refused = await api.get("/v1/consents", params={"context": "Work"})
    assert refused.status_code == 400 and "no context called 'Work'" in refused.json()["message"]


async def test_rules_and_decision_changes_per_context(api: AsyncTestClient) -> None:
    await remembered(api)
    work = await new_context(api, "Work", copy_from="Everyday")
    added = await api.post("/v1/rules", json={"kind": "never", "target": "sizes.shoe", "context": "Work"})
    assert (
        added.status_code == 200 and added.json()["changed"] is True and added.json()["context"] == work["id"]
    )
    in_work = (await api.get("/v1/rules", params={"context": work["id"]})).json()
    assert {"kind": "never", "target": "sizes.shoe"} in in_work["rules"] and in_work["context_name"] == "Work"
    everyday = (await api.get("/v1/rules")).json()
    assert {"kind": "never", "target": "sizes.shoe"} not in everyday["rules"] and everyday[
        "context"
    ] == "everyday"
    # The copy remembered Everyday's answers; Work's rule now keeps the shoe size out there only.
    await use(api, "Work")
    assert "sizes.shoe" not in (await request(api))["claims"]
    await use(api, "Everyday")
    assert (await request(api))["claims"]["sizes.shoe"] == 42
    change = {"origin": "https://shop.example", "purpose": "recommendations", "claim": "interests"}
    changed = await api.post("/v1/consents/change", json=change | {"change": "deny", "context": "work"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["context"], changed.json()["effect"]) == (work["id"], "deny")
    everyday_interests = [d for d in (await api.get("/v1/consents")).json() if d["claim"] == "interests"]
    assert [d["effect"] for d in everyday_interests] == ["allow"]
    gone = await api.delete("/v1/rules", params={"kind": "never", "target": "sizes.shoe", "context": "Work"})
    assert gone.json() == {"kind": "never", "target": "sizes.shoe", "changed": True, "context": work["id"]}
    unknown = await api.post("/v1/rules", json={"kind": "never", "target": "email", "context": "Holiday"})
    assert unknown.status_code == 400 and "no context called 'Holiday'" in unknown.json()["message"]
    assert (await api.get("/v1/ledger/verify")).json()["ok"]


async def test_a_separate_identity_signs_with_another_subject(api: AsyncTestClient) -> None:
    everyday = await remembered(api)
    await new_context(api, "Private", separate_identity="on")
    await use(api, "Private")
    private = await remembered(api)
    subjects = {open_presentation(t["token"])[1].sub for t in (everyday, private)}
    assert len(subjects) == 2
    ledger = (await api.get("/v1/ledger", params={"limit": 1000})).json()
    disclosed = [
        (e["body"].get("context"), e["body"].get("identity")) for e in ledger if e["kind"] == "disclosure"
    ]
    assert disclosed[0] == ("everyday", None) and disclosed[1][0] == disclosed[1][1] != None  # noqa: E711
    assert (await api.get("/v1/ledger/verify")).json()["ok"]


def test_switching_through_a_real_daemon(vault_home: Path) -> None:
    make_vault(vault_home)
    manifest = EXAMPLE_MANIFEST.read_text()
    with DaemonProcess(vault_home) as daemon, daemon.paired_client() as client:
        remember_consent(client, manifest, make_nonce())
        status, work = client.request_json("POST", "/v1/contexts", {"name": "Work"})
        assert status in (200, 201), work
        status, active = client.request_json("POST", "/v1/contexts/use", {"context": "Work"})
        assert status in (200, 201) and active["context"]["name"] == "Work", active
        status, asked = ask(client, manifest, make_nonce())
        assert status == 200 and asked["outcome"] == "consent_required", asked
        assert asked["prompt"]["context"] == {"id": work["id"], "name": "Work"}
        client.request_json("POST", "/v1/contexts/use", {"context": "Everyday"})
        status, again = ask(client, manifest, make_nonce())
        assert status == 200 and again["outcome"] == "granted", again
        status, consents = client.request_json("GET", "/v1/consents?context=Work")
        assert status == 200 and consents == []
