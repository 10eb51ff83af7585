"""Schema v7 (contexts) on vaults written before it, from the committed fixtures (copied first: opening
migrates them), and on a fresh vault: what existed before contexts belongs to Everyday, an upgraded vault's
rules are kept exactly (nothing added behind the user's back), a fresh one refuses selling data and
targeted advertising from the start, and the ledger still verifies."""

import shutil
from pathlib import Path

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.contexts import list_contexts
from vault.consent.gpc import GPC_CONCEPTS, gpc_state
from vault.consent.records import load_rules
from vault.store import Vault

FIXTURES = Path(__file__).parents[1] / "fixtures"
OPENED_AT = NOW + 300


def test_an_upgraded_vault_keeps_its_rules_and_decisions_in_everyday(vault_home: Path) -> None:
    shutil.copytree(FIXTURES / "vault-ledger-v1", vault_home)
    with Vault.open(vault_home, PASSPHRASE, now=OPENED_AT) as vault:
        assert [c.id for c in list_contexts(vault)] == ["everyday"]
        contexts_of_decisions = vault.conn.execute("SELECT context, count(*) FROM decisions GROUP BY 1")
        assert [row[0] for row in contexts_of_decisions] == ["everyday"]
        assert vault.conn.execute(
            "SELECT count(*) FROM disclosures WHERE context IS NOT NULL OR identity IS NOT NULL"
        ).fetchone() == (0,)
        # Not a fresh vault (its ledger has a story, ending with its one rule removed): nothing added.
        assert vault.conn.execute("SELECT count(*) FROM rules").fetchone() == (0,)
        assert gpc_state(vault, now=OPENED_AT).sent is False
        assert ledger.verify(vault).ok


def test_a_fresh_vault_refuses_what_gpc_speaks_for_and_sends_it(tmp_path: Path) -> None:
    with Vault.create(tmp_path / "v", PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        assert load_rules(vault, "everyday").deny_concepts == frozenset(GPC_CONCEPTS)
        assert gpc_state(vault, now=NOW).sent is True
        assert ledger.verify(vault).ok


def test_a_profile_only_vault_from_before_contexts_is_not_seeded(vault_home: Path) -> None:
    # vault-v1 has no ledger entries: it looks fresh, and is treated as fresh (it refuses more, never less).
    shutil.copytree(FIXTURES / "vault-v1", vault_home)
    with Vault.open(vault_home, "fixture passphrase v1", now=OPENED_AT) as vault:
        assert load_rules(vault, "everyday").deny_concepts == frozenset(GPC_CONCEPTS)
        assert vault.attributes()["country"] == "NL"
