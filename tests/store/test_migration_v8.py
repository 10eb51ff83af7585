"""Schema v8: the token copies kept for acknowledgements (recent_tokens) are keyed by the ledger entry that
records their disclosure, no longer by their random jti; the copies a vault held are kept."""

from pathlib import Path

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.store import Vault


def disclosed() -> dict:
    return {"claims": {"age_over_18": True}, "expires_at": NOW + 300, "keep_until": NOW + 3600}


def test_the_token_copies_are_kept_under_their_ledger_entry(vault_home: Path) -> None:
    old = Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF, schema_version=7)
    with old, old.transaction() as conn:
        for n, jti in enumerate(("jti-a", "jti-b")):
            seq = ledger.append_disclosure(
                conn,
                origin="https://shop.example",
                purpose_id="p",
                jti=jti,
                at=NOW + n,
                body=disclosed(),
            )
            conn.execute(
                "INSERT INTO recent_tokens (jti, token, keep_until) VALUES (?, ?, ?)",
                (jti, f"token of {jti} at {seq}", NOW + 86400),
            )
        # A copy whose entry is not in the ledger has nothing to be kept under.
        conn.execute("INSERT INTO recent_tokens (jti, token, keep_until) VALUES ('stray', 't', 0)")
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        assert vault.schema_version == 8
        rows = vault.conn.execute("SELECT seq, token, keep_until FROM recent_tokens ORDER BY seq").fetchall()
        assert rows == [(1, "token of jti-a at 1", NOW + 86400), (2, "token of jti-b at 2", NOW + 86400)]
        plan = " ".join(
            str(row)
            for row in vault.conn.execute("EXPLAIN QUERY PLAN DELETE FROM recent_tokens WHERE keep_until < 1")
        )
        assert "recent_tokens_expiry" in plan  # the background sweep reads only what it drops
        assert ledger.verify(vault).ok
