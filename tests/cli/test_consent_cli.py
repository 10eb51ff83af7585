"""`vault sites`, `site`, `consents`, `rules`, `ledger` through the real command."""

import json

import pytest

from tests.cli.conftest import ORIGIN
from vault.site import make_nonce


@pytest.fixture
def shared(profile, present) -> None:
    result = present(make_nonce(), "--decide", "allow", "--remember")
    assert result.code == 0, result.err


def test_sites_and_site(run_vault, shared) -> None:
    sites = json.loads(run_vault("sites", "--json").out)
    assert [(s["origin"], s["controller"], s["current_disclosures"]) for s in sites] == [
        (ORIGIN, "Example Shoes B.V.", 1)
    ]
    assert "Example Shoes B.V." in run_vault("sites").out
    report = json.loads(run_vault("site", ORIGIN, "--json").out)
    [disclosure] = report["disclosures"]
    assert disclosure["claims"] == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42}
    assert disclosure["purpose"] == "recommendations" and disclosure["acknowledged"] is False
    assert disclosure["keep_until"] - disclosure["disclosed_at"] == 30 * 86400
    human = run_vault("site", ORIGIN + "/").out
    assert "sizes.shoe = 42" in human and "recommendations" in human
    assert "holds nothing" in run_vault("site", "https://other.example").out
    result = run_vault("site", "shop.example")
    assert result.code == 1 and "not a site origin" in result.err


def test_consents(run_vault, shared) -> None:
    decisions = json.loads(run_vault("consents", "--json").out)
    assert {(d["claim"] or d["recipient"], d["effect"]) for d in decisions} == {
        ("age_over_18", "allow"),
        ("location.country", "allow"),
        ("sizes.shoe", "allow"),
        ("stock", "allow"),  # required: on with the purpose
        ("analytics", "deny"),  # optional: off unless switched on
    }
    listed = run_vault("consents").out
    assert "sizes.shoe" in listed and "third party: Example Analytics B.V." in listed


def test_rules(run_vault, shared, present) -> None:
    assert run_vault("rules", "add", "never", "sizes.shoe").code == 0
    assert "already" in run_vault("rules", "add", "never", "sizes.shoe").out
    # A fresh vault refuses what Global Privacy Control speaks for (privacy by default).
    assert "already" in run_vault("rules", "add", "deny_concept", "dpv:TargetedAdvertising").out
    listed = json.loads(run_vault("rules", "--json").out)
    assert listed["never"] == ["sizes.shoe"]
    assert listed["deny_concept"] == ["dpv:SellDataToThirdParties", "dpv:TargetedAdvertising"]
    assert (listed["context"], listed["context_name"]) == ("everyday", "Everyday")
    assert listed["remember_days"] == {"default": 180, "max": 365}
    result = present(make_nonce(), "--json")
    body = json.loads(result.out)
    assert body["outcome"] == "granted" and "sizes.shoe" not in body["claims"]
    assert body["dropped"]["sizes.shoe"] == "you never share sizes.shoe"
    for bad in (("never", "shoe"), ("deny_concept", "TargetedAdvertising")):
        result = run_vault("rules", "add", *bad)
        assert result.code == 1 and result.err.startswith("Error:")
    assert run_vault("rules", "add", "sometimes", "x").code == 2
    assert "removed in Everyday" in run_vault("rules", "remove", "never", "sizes.shoe").out
    assert run_vault("rules", "remember-days", "30", "--max", "90").code == 0
    assert json.loads(run_vault("rules", "--json").out)["remember_days"] == {"default": 30, "max": 90}
    result = run_vault("rules", "remember-days", "100", "--max", "90")
    assert result.code == 1


def test_ledger_listing(run_vault, shared) -> None:
    entries = json.loads(run_vault("ledger", "--json").out)
    assert [e["kind"] for e in entries] == ["consent"] * 5 + ["disclosure"]  # 3 claims, 2 third parties
    assert json.loads(run_vault("ledger", "--site", "https://other.example", "--json").out) == []
    assert "Shared whether you are 18 or older: yes" in run_vault("ledger").out
    newest = json.loads(run_vault("ledger", "--limit", "1", "--json").out)
    assert [e["seq"] for e in newest] == [entries[-1]["seq"]] and newest[0]["kind"] == "disclosure"
