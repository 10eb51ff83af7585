"""Schema v9: the vault keeps no copies of the tokens it issued (recent_tokens, until v8 kept a day for the
site's acknowledgement, which is now checked against the disclosure's ledger entry). A vault of v7 or v8
loses its copies on opening; its ledger and disclosures are as they were."""

from pathlib import Path

import pytest

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.store import Vault


def disclosed() -> dict:
    return {"claims": {"age_over_18": True}, "expires_at": NOW + 300, "keep_until": NOW + 3600}


def tables(vault: Vault) -> set[str]:
    return {name for (name,) in vault.conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}


@pytest.mark.parametrize("version", [7, 8])
def test_the_token_copies_are_dropped_and_the_ledger_kept(vault_home: Path, version: int) -> None:
    old = Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF, schema_version=version)
    with old, old.transaction() as conn:
        for n, jti in enumerate(("jti-a", "jti-b")):
            seq = ledger.append_disclosure(
                conn, origin="https://shop.example", purpose_id="p", jti=jti, at=NOW + n, body=disclosed()
            )
            key = ("jti", jti) if version == 7 else ("seq", seq)
            conn.execute(
                f"INSERT INTO recent_tokens ({key[0]}, token, keep_until) VALUES (?, ?, ?)",  # noqa: S608
                (key[1], f"token of {jti}", NOW + 86400),
            )
        assert "recent_tokens" in tables(old)
        disclosures = conn.execute("SELECT * FROM disclosures ORDER BY seq").fetchall()
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        assert vault.schema_version == 9
        assert "recent_tokens" not in tables(vault)
        assert vault.conn.execute("SELECT * FROM disclosures ORDER BY seq").fetchall() == disclosures
        assert [e.ref for e in ledger.entries(vault, kinds=("disclosure",))] == ["jti-a", "jti-b"]
        assert ledger.verify(vault).ok
