"""The consent layer's reading of standing decisions: one function for `vault consents` and GET /consents."""

from pathlib import Path

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent.policy import Question
from vault.consent.records import RememberedDecision, remembered_decisions, store_decisions
from vault.store import Vault

DAY = 86400


def question(claim: str) -> Question:
    return Question(
        claim=claim,
        value=True,
        required=True,
        why="why",
        reveals="what",
        sensitivity="low",
        digest="d-" + claim,
        asked_because="new",
    )


def decide(vault: Vault, origin: str, claims: dict[str, str], *, remember: bool, now: int) -> None:
    with vault.transaction() as conn:
        store_decisions(
            conn,
            origin=origin,
            purpose_id="recommendations",
            decisions=tuple((question(claim), effect) for claim, effect in claims.items()),
            controller="c",
            remember=remember,
            now=now,
            expires_at=now + 30 * DAY,
            prompt_id="p",
        )


def test_remembered_decisions_lists_what_stands_by_site_purpose_and_claim(tmp_path: Path) -> None:
    with Vault.create(tmp_path / "v", PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        assert remembered_decisions(vault) == []
        decide(
            vault,
            "https://b.example",
            {"sizes.shoe": "allow", "age_over_18": "allow"},
            remember=True,
            now=NOW,
        )
        decide(vault, "https://a.example", {"interests": "deny"}, remember=True, now=NOW)
        decide(vault, "https://b.example", {"sizes.shoe": "deny"}, remember=True, now=NOW + 1)  # replaces
        decide(
            vault, "https://a.example", {"age_over_18": "allow"}, remember=False, now=NOW
        )  # once: not kept

        decisions = remembered_decisions(vault)

    assert decisions == [
        RememberedDecision(
            origin="https://a.example",
            purpose="recommendations",
            claim="interests",
            effect="deny",
            decided_at=NOW,
            expires_at=NOW + 30 * DAY,
        ),
        RememberedDecision(
            origin="https://b.example",
            purpose="recommendations",
            claim="age_over_18",
            effect="allow",
            decided_at=NOW,
            expires_at=NOW + 30 * DAY,
        ),
        RememberedDecision(
            origin="https://b.example",
            purpose="recommendations",
            claim="sizes.shoe",
            effect="deny",
            decided_at=NOW + 1,
            expires_at=NOW + 1 + 30 * DAY,
        ),
    ]
