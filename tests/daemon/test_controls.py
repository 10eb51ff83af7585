"""The fine controls' routes in-process, around a real SQLCipher vault: the standing rules and their
vocabulary, one remembered decision changed (allow <-> deny, forget, restore), the purposes' titles, and
the history filtered and searched. Every change is in the ledger, and the ledger still verifies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from tests.daemon.support import make_vault
from tests.daemon.test_api import ORIGIN, Clock, build, pair, presentation

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(vault_home: Path) -> AsyncIterator[AsyncTestClient]:
    make_vault(vault_home)
    _, client = build(vault_home, Clock())
    async with client:
        client.headers["x-vault-client"] = await pair(client)
        yield client


async def remembered(api: AsyncTestClient, claims: list[str]) -> dict:
    """A prompt for the example shop's recommendations answered "share these, remember"."""
    asked = (await api.post("/v1/presentations", json=presentation())).json()
    assert asked["outcome"] == "consent_required", asked
    body = {"share": True, "claims": claims, "remember": True}
    # Of the third parties, only the required one (stock) is allowed.
    body["recipients"] = [t["id"] for t in asked["prompt"]["third_parties"] if t["required"]]
    decided = await api.post(f"/v1/prompts/{asked['prompt']['id']}/decision", json=body)
    assert decided.json()["outcome"] == "granted", decided.text
    return decided.json()


async def claim_decisions(api: AsyncTestClient) -> dict[str, str]:
    rows = (await api.get("/v1/consents")).json()
    return {row["claim"]: row["effect"] for row in rows if row.get("claim")}


async def verified(api: AsyncTestClient) -> bool:
    return (await api.get("/v1/ledger/verify")).json()["ok"]


# A fresh vault's Everyday context refuses what Global Privacy Control speaks for (privacy by default).
FRESH_RULES = [
    {"kind": "deny_concept", "target": "dpv:SellDataToThirdParties"},
    {"kind": "deny_concept", "target": "dpv:TargetedAdvertising"},
]


async def test_rules_are_listed_with_their_vocabulary_added_and_removed(api: AsyncTestClient) -> None:
    book = (await api.get("/v1/rules")).json()
    assert book["rules"] == FRESH_RULES
    assert (book["context"], book["context_name"]) == ("everyday", "Everyday")
    claims = {c["name"]: c for c in book["claims"]}
    assert claims["email"]["sensitivity"] == "high" and "email" in claims["email"]["reveals"]
    assert book["concepts"] == []  # no site known yet
    added = await api.post("/v1/rules", json={"kind": "never", "target": "email"})
    assert added.status_code == 200 and added.json()["changed"] is True
    again = await api.post("/v1/rules", json={"kind": "never", "target": "email"})
    assert again.json()["changed"] is False
    deny = await api.post("/v1/rules", json={"kind": "deny_concept", "target": "dpv:Marketing"})
    assert deny.json()["changed"] is True
    assert (await api.get("/v1/rules")).json()["rules"] == [
        {"kind": "never", "target": "email"},
        {"kind": "deny_concept", "target": "dpv:Marketing"},
        *FRESH_RULES,
    ]
    removed = await api.delete("/v1/rules", params={"kind": "never", "target": "email"})
    assert removed.status_code == 200 and removed.json()["changed"] is True
    gone = await api.delete("/v1/rules", params={"kind": "never", "target": "email"})
    assert gone.json()["changed"] is False
    kinds = [e["body"]["action"] for e in (await api.get("/v1/history", params={"kind": "consent"})).json()]
    assert kinds == ["rule_added", "rule_added", "rule_removed"]
    assert await verified(api)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kind": "never", "target": "shoe_size"}, "unknown claim 'shoe_size'"),
        ({"kind": "deny_concept", "target": "TargetedAdvertising"}, "not a DPV concept"),
        ({"kind": "deny_concept", "target": "dpv:<script>"}, "not a DPV concept"),
        ({"kind": "sometimes", "target": "email"}, "kind"),
        ({"kind": "never", "target": "email", "extra": 1}, "extra"),
        ({"kind": "never", "target": "x" * 129}, "length <= 128"),
    ],
)
async def test_a_bad_rule_is_refused_clearly_and_changes_nothing(
    api: AsyncTestClient, body: dict, words: str
) -> None:
    refused = await api.post("/v1/rules", json=body)
    assert refused.status_code == 400, refused.text
    assert words in refused.json()["message"], refused.json()
    assert (await api.get("/v1/rules")).json()["rules"] == FRESH_RULES


async def test_a_remembered_decision_changes_effect_is_forgotten_and_restored(api: AsyncTestClient) -> None:
    await remembered(api, ["age_over_18", "location.country", "sizes.shoe"])
    before = await claim_decisions(api)
    assert before["sizes.shoe"] == "allow" and before["interests"] == "deny"
    change = {"origin": ORIGIN, "purpose": "recommendations", "claim": "sizes.shoe"}
    denied = (await api.post("/v1/consents/change", json=change | {"change": "deny"})).json()
    assert (denied["effect"], denied["before"]) == ("deny", "allow")
    assert (await claim_decisions(api))["sizes.shoe"] == "deny"
    # The next request is still answered without a prompt, now without the shoe size.
    again = (await api.post("/v1/presentations", json=presentation())).json()
    assert again["outcome"] == "granted" and "sizes.shoe" not in again["claims"]

    forgotten = (await api.post("/v1/consents/change", json=change | {"change": "forget"})).json()
    assert forgotten["effect"] is None and forgotten["before"] == "deny"
    assert "sizes.shoe" not in await claim_decisions(api)
    asked = (await api.post("/v1/presentations", json=presentation())).json()
    assert asked["outcome"] == "consent_required"  # asked again about the shoe size alone
    assert [q["claim"] for q in asked["prompt"]["questions"]] == ["sizes.shoe"]

    restored = (await api.post("/v1/consents/change", json=change | {"change": "restore"})).json()
    assert restored["effect"] == "deny"
    assert (await claim_decisions(api))["sizes.shoe"] == "deny"
    twice = await api.post("/v1/consents/change", json=change | {"change": "restore"})
    assert twice.status_code == 400 and "no forgotten decision" in twice.json()["message"]

    changes = [
        e["body"]
        for e in (await api.get("/v1/history", params={"kind": "consent"})).json()
        if e["body"]["action"] == "changed"
    ]
    assert [(c["action"], c["effect"]) for c in changes] == [
        ("changed", "deny"),
        ("changed", "forgotten"),
        ("changed", "deny"),
    ]
    assert await verified(api)


async def test_a_forget_cannot_be_restored_after_the_site_was_revoked(api: AsyncTestClient) -> None:
    await remembered(api, ["age_over_18", "location.country"])
    change = {"origin": ORIGIN, "purpose": "recommendations", "claim": "age_over_18"}
    assert (await api.post("/v1/consents/change", json=change | {"change": "forget"})).status_code == 200
    assert (await api.post("/v1/revocations", json={"origin": ORIGIN})).status_code == 200
    refused = await api.post("/v1/consents/change", json=change | {"change": "restore"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_input"
    assert await claim_decisions(api) == {}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"purpose": "recommendations", "claim": "email", "change": "allow"}, 400, "no remembered decision"),
        ({"purpose": "recommendations", "change": "allow"}, 400, "either a claim or a recipient"),
        (
            {"purpose": "recommendations", "claim": "email", "recipient": "stock", "change": "deny"},
            400,
            "either a claim or a recipient",
        ),
        ({"purpose": "recommendations", "claim": "email", "change": "maybe"}, 400, "change"),
        (
            {"origin": "javascript:alert(1)", "purpose": "p", "claim": "email", "change": "deny"},
            400,
            "origin",
        ),
    ],
)
async def test_a_bad_change_is_refused_clearly(
    api: AsyncTestClient, body: dict, status: int, words: str
) -> None:
    await remembered(api, ["age_over_18", "location.country"])
    before = await claim_decisions(api)
    refused = await api.post("/v1/consents/change", json={"origin": ORIGIN} | body)
    assert refused.status_code == status, refused.text
    assert words in refused.json()["message"], refused.json()
    assert await claim_decisions(api) == before


async def test_purposes_have_titles_and_the_history_is_filtered_and_searched(api: AsyncTestClient) -> None:
    await remembered(api, ["age_over_18", "location.country", "sizes.shoe"])
    purposes = (await api.get("/v1/purposes")).json()
    assert purposes[ORIGIN]["recommendations"] == {
        "title": "Shoe recommendations",
        "concept": "dpv:ProvidePersonalisedRecommendations",
        "third_parties": {"stock": "Example Stock Check Ltd.", "analytics": "Example Analytics B.V."},
    }
    assert (await api.get("/v1/rules")).json()["concepts"] == sorted(
        {p["concept"] for p in purposes[ORIGIN].values()}
    )
    everything = (await api.get("/v1/history")).json()
    assert {e["kind"] for e in everything} >= {"consent", "disclosure"}
    disclosures = (await api.get("/v1/history", params={"kind": "disclosure", "origin": ORIGIN})).json()
    assert [e["kind"] for e in disclosures] == ["disclosure"]
    assert (await api.get("/v1/history", params={"origin": "https://other.example"})).json() == []
    # Search: values, claim names and purpose titles, case-insensitive; never base64 inside tokens.
    shoe = (await api.get("/v1/history", params={"q": "SIZES.SHOE"})).json()
    assert shoe and all("sizes.shoe" in str(e["body"]) for e in shoe)
    titled = (await api.get("/v1/history", params={"q": "shoe recommendations", "kind": "disclosure"})).json()
    assert len(titled) == 1
    assert (await api.get("/v1/history", params={"q": "no such words"})).json() == []
    # A third party by its name, though entries name it by id.
    named = (await api.get("/v1/history", params={"q": "Example Stock", "kind": "disclosure"})).json()
    assert len(named) == 1 and "stock" in named[0]["body"]["recipients"]
    newest = (await api.get("/v1/history", params={"limit": 2})).json()
    assert [e["seq"] for e in newest] == [e["seq"] for e in everything[-2:]]


@pytest.mark.parametrize(
    "params",
    [{"kind": "gossip"}, {"limit": 0}, {"limit": 1001}, {"q": "x" * 101}, {"origin": "shop.example"}],
)
async def test_bad_history_parameters_are_refused_clearly(api: AsyncTestClient, params: dict) -> None:
    refused = await api.get("/v1/history", params=params)
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"]


async def test_the_controls_need_a_paired_client(api: AsyncTestClient) -> None:
    del api.headers["x-vault-client"]
    for method, path in [("GET", "/v1/rules"), ("GET", "/v1/history"), ("GET", "/v1/purposes")]:
        answer = await api.request(method, path)
        assert answer.status_code == 403 and answer.json()["error"] == "not_paired"
    refused = await api.post(
        "/v1/consents/change", json={"origin": ORIGIN, "purpose": "p", "change": "forget"}
    )
    assert refused.status_code == 403


async def test_a_remembered_third_party_decision_changes_and_is_forgotten(api: AsyncTestClient) -> None:
    await remembered(api, ["age_over_18", "location.country", "sizes.shoe", "interests"])
    rows = (await api.get("/v1/consents")).json()
    assert {r["recipient"]: r["effect"] for r in rows if r.get("recipient")} == {
        "analytics": "deny",
        "stock": "allow",
    }
    change = {"origin": ORIGIN, "purpose": "recommendations", "recipient": "analytics"}
    allowed = (await api.post("/v1/consents/change", json=change | {"change": "allow"})).json()
    assert (allowed["effect"], allowed["before"], allowed["claim"]) == ("allow", "deny", None)
    granted = (await api.post("/v1/presentations", json=presentation())).json()
    assert granted["outcome"] == "granted" and sorted(granted["recipients"]) == ["analytics", "stock"]
    assert (await api.post("/v1/consents/change", json=change | {"change": "forget"})).status_code == 200
    asked = (await api.post("/v1/presentations", json=presentation())).json()
    assert asked["outcome"] == "consent_required"
    assert [t["id"] for t in asked["prompt"]["third_parties"] if t["asked"]] == ["analytics"]
    restored = (await api.post("/v1/consents/change", json=change | {"change": "restore"})).json()
    assert (restored["effect"], restored["recipient"]) == ("allow", "analytics")
    again = (await api.post("/v1/presentations", json=presentation())).json()
    assert again["outcome"] == "granted" and sorted(again["recipients"]) == ["analytics", "stock"]
    assert await verified(api)
