"""The ledger walk's shortcuts (vault/consent/ledger_verify.py) find what the plain walk found, and never
take a value spelled otherwise for tampering."""

from pathlib import Path

import msgspec
import pytest

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.store import Vault

ORIGIN = "https://shop.example"


def body(n: int, **extra: object) -> dict:
    return {"claims": {"age_over_18": True, "n": n}, "expires_at": NOW + n, "keep_until": NOW + n, **extra}


@pytest.fixture
def vault(vault_home: Path):
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        with vault.transaction() as conn:
            for n in range(1, 7):
                extra = {"recipients": {"partner": ["age_over_18"]}, "context": "c1"} if n % 2 else {}
                ledger.append_disclosure(
                    conn, origin=ORIGIN, purpose_id="ads", jti=f"jti-{n}", at=NOW + n, body=body(n, **extra)
                )
            ledger.append(conn, at=NOW + 7, kind="consent", body={"action": "x"})
        yield vault


def tamper(vault: Vault, sql: str, *args: object) -> None:
    vault.conn.execute("DROP TRIGGER IF EXISTS ledger_no_update")
    vault.conn.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
    vault.conn.execute(sql, args)


def rewrite(vault: Vault, seq: int, text: str) -> None:
    """Replaces an entry's body and recomputes the chain from it (as a writer with its own JSON spelling
    would have written it), so only what the body says is in question, not the chain."""
    rows = vault.conn.execute(
        "SELECT seq, at, kind, origin, purpose_id, ref, body FROM ledger WHERE seq >= ? ORDER BY seq", (seq,)
    ).fetchall()
    previous = (
        ledger._genesis(vault.conn)
        if seq == 1
        else vault.conn.execute("SELECT hash FROM ledger WHERE seq = ?", (seq - 1,)).fetchone()[0]
    )
    for n, at, kind, origin, purpose_id, ref, stored in rows:
        stored = text if n == seq else stored
        previous = ledger._row_hash(previous, n, at, kind, origin, purpose_id, ref, stored)
        tamper(vault, "UPDATE ledger SET body = ?, hash = ? WHERE seq = ?", stored, previous, n)
    head = rows[-1][0].to_bytes(8, "big") + previous
    vault.conn.execute("UPDATE meta SET value = ? WHERE key = 'ledger_head'", (head,))


def test_intact(vault: Vault) -> None:
    assert ledger.verify(vault) == ledger.Verification(True, 7)


def test_two_rows_swapped_are_found_at_the_first(vault: Vault) -> None:
    rows = vault.conn.execute("SELECT seq, at, ref, body, hash FROM ledger WHERE seq IN (2, 3)").fetchall()
    for (seq, *_), (_, at, ref, text, digest) in zip(rows, reversed(rows), strict=True):
        tamper(
            vault,
            "UPDATE ledger SET at = ?, ref = ?, body = ?, hash = ? WHERE seq = ?",
            at,
            ref,
            text,
            digest,
            seq,
        )
    result = ledger.verify(vault)
    assert not result.ok and result.bad_seq == 2 and "entry 2 was changed" in result.problem


def test_a_disclosure_that_is_not_one_is_named(vault: Vault) -> None:
    rewrite(vault, 4, '{"expires_at":0,"keep_until":0}')
    result = ledger.verify(vault)
    assert not result.ok and result.bad_seq == 4 and "not a well-formed disclosure" in result.problem
    rewrite(vault, 4, "[1, 2]")
    assert ledger.verify(vault).bad_seq == 4


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("origin", "https://other.example"),
        ("jti", "jti-x"),
        ("purpose_id", "recommendations"),
        ("claims", '{"age_over_18":false,"n":3}'),
        ("disclosed_at", NOW),
        ("expires_at", NOW),
        ("keep_until", NOW),
        ("recipients", "{}"),
        ("context", None),
        ("identity", "someone"),
    ],
)
def test_any_column_of_the_copy_changed_is_found(vault: Vault, column: str, value: object) -> None:
    vault.conn.execute(f"UPDATE disclosures SET {column} = ? WHERE seq = 3", (value,))  # noqa: S608
    result = ledger.verify(vault)
    assert not result.ok and "by-site copy" in result.problem


def test_a_copy_row_missing_or_doubled_is_found(vault: Vault) -> None:
    vault.conn.execute(
        "INSERT INTO disclosures SELECT origin || '/', seq, jti, purpose_id, claims, disclosed_at, "
        "expires_at, keep_until, recipients, context, identity, retention_checked_at FROM disclosures "
        "WHERE seq = 2"
    )
    assert "by-site copy" in ledger.verify(vault).problem
    vault.conn.execute("DELETE FROM disclosures WHERE seq = 2")
    assert "by-site copy" in ledger.verify(vault).problem


def test_a_body_in_another_json_spelling_still_matches_its_copy(vault: Vault) -> None:
    # Spaces and another key order: the copy holds the claims as encode_claims writes them.
    decoded = msgspec.json.decode(vault.conn.execute("SELECT body FROM ledger WHERE seq = 3").fetchone()[0])
    keep, expires = decoded["keep_until"], decoded["expires_at"]
    spelled = (
        f'{{"keep_until": {keep}, "claims": {{"age_over_18": true, "n": 3}}, "expires_at": {expires}, '
        '"recipients": {"partner": [ "age_over_18" ]}, "context": "c1"}'
    )
    rewrite(vault, 3, spelled)
    assert ledger.verify(vault) == ledger.Verification(True, 7)
    vault.conn.execute("""UPDATE disclosures SET claims = '{"age_over_18":false,"n":3}' WHERE seq = 3""")
    assert "by-site copy" in ledger.verify(vault).problem


def test_a_float_in_the_copy_is_not_taken_for_tampering(vault: Vault) -> None:
    # SQLite spells 1e300 as 1.0e+300: the quick sum differs, and the plain one decides.
    with vault.transaction() as conn:
        ledger.append_disclosure(
            conn, origin=ORIGIN, purpose_id="ads", jti="jti-f", at=NOW, body=body(9) | {"expires_at": 1e300}
        )
    assert ledger.verify(vault) == ledger.Verification(True, 8)


def test_an_intact_copy_matches_without_the_slow_path(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.consent import ledger_verify

    def slow(conn: object) -> bool:
        raise AssertionError("the quick digests should have matched")

    monkeypatch.setattr(ledger_verify, "_copy_matches_slowly", slow)
    assert ledger.verify(vault) == ledger.Verification(True, 7)


def test_claims_in_the_copy_that_are_not_text_are_found(vault: Vault) -> None:
    vault.conn.execute("UPDATE disclosures SET claims = CAST(claims AS BLOB) WHERE seq = 3")
    assert "by-site copy" in ledger.verify(vault).problem


def test_an_entry_appended_during_the_walk_is_not_a_mismatch(
    vault: Vault, vault_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another connection (the daemon, while `vault ledger verify` runs) appends after the chain was read
    # and before its head is: the walk reads one snapshot, so the head and the copy are the chain's.
    from vault.consent import ledger_verify

    with Vault.open(vault_home, PASSPHRASE, now=NOW) as other:
        head = ledger_verify._head

        def append_then_read(conn):
            with other.transaction() as writer:
                ledger.append_disclosure(
                    writer, origin=ORIGIN, purpose_id="ads", jti="jti-new", at=NOW, body=body(8)
                )
            return head(conn)

        monkeypatch.setattr(ledger_verify, "_head", append_then_read)
        assert ledger.verify(vault) == ledger.Verification(True, 7)
        monkeypatch.setattr(ledger_verify, "_head", head)
    assert not vault.conn.in_transaction
    assert ledger.verify(vault) == ledger.Verification(True, 8)
