"""The ledger's hash chain: any change made directly in the database is found and named."""

from pathlib import Path

import pytest

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.store import Vault


@pytest.fixture
def vault(vault_home: Path):
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        with vault.transaction() as conn:
            for n in range(1, 6):
                ledger.append_disclosure(
                    conn, origin="https://shop.example", purpose_id="recommendations", jti=f"jti-{n:016d}",
                    at=NOW + n, body={"claims": {"age_over_18": True}, "expires_at": NOW, "keep_until": NOW},
                )  # fmt: skip
        yield vault


def tamper(vault: Vault, sql: str, *args: object) -> None:
    """As someone editing the file around the program would: the append-only triggers go first."""
    vault.conn.execute("DROP TRIGGER IF EXISTS ledger_no_update")
    vault.conn.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
    vault.conn.execute(sql, args)


def test_intact_chain(vault: Vault) -> None:
    assert ledger.verify(vault) == ledger.Verification(True, 5)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", NOW + 99),
        ("kind", "consent"),
        ("origin", "https://other.example"),
        ("purpose_id", "ads"),
        ("ref", "jti-9999999999999999"),
        ("body", '{"claims":{"age_over_18":false},"expires_at":0,"keep_until":0}'),
        ("hash", b"\0" * 32),
    ],
)
def test_changing_any_column_of_a_row_is_named(vault: Vault, column: str, value: object) -> None:
    tamper(vault, f"UPDATE ledger SET {column} = ? WHERE seq = 3", value)  # noqa: S608 - fixed column names
    result = ledger.verify(vault)
    assert not result.ok and result.bad_seq == 3 and "entry 3" in result.problem


def test_deleting_a_row_in_the_middle(vault: Vault) -> None:
    tamper(vault, "DELETE FROM ledger WHERE seq = 2")
    result = ledger.verify(vault)
    assert not result.ok and result.bad_seq == 2 and "missing" in result.problem


def test_cutting_off_the_tail(vault: Vault) -> None:
    tamper(vault, "DELETE FROM ledger WHERE seq >= 4")
    result = ledger.verify(vault)
    assert not result.ok and "head records entry 5" in result.problem


def test_editing_the_by_site_copy_of_disclosures_is_found(vault: Vault) -> None:
    vault.conn.execute("""UPDATE disclosures SET claims = '{"age_over_18":false}' WHERE seq = 2""")
    result = ledger.verify(vault)
    assert not result.ok and "by-site copy" in result.problem
    vault.conn.execute("""UPDATE disclosures SET claims = '{"age_over_18":true}' WHERE seq = 2""")
    assert ledger.verify(vault).ok
    vault.conn.execute("DELETE FROM disclosures WHERE seq = 5")
    assert not ledger.verify(vault).ok


def test_disclosures_only_through_append_disclosure(vault: Vault) -> None:
    with pytest.raises(ValueError, match="append_disclosure"):
        ledger.append(vault.conn, at=NOW, kind="disclosure", body={})


def test_the_ledger_refuses_updates_and_deletes_through_sql(vault: Vault) -> None:
    import sqlcipher3

    with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
        vault.conn.execute("UPDATE ledger SET at = 0 WHERE seq = 1")
    with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
        vault.conn.execute("DELETE FROM ledger WHERE seq = 1")


def test_rows_from_another_vault_do_not_fit(vault: Vault, tmp_path: Path) -> None:
    with Vault.create(tmp_path / "other", PASSPHRASE, now=NOW, kdf=FAST_KDF) as other:
        with other.transaction() as conn:
            ledger.append(conn, at=NOW, kind="consent", body={"action": "x"})
        row = other.conn.execute(
            "SELECT seq, at, kind, origin, purpose_id, ref, body, hash FROM ledger"
        ).fetchone()
    tamper(vault, "DELETE FROM ledger")
    vault.conn.execute("INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    result = ledger.verify(vault)
    assert not result.ok and result.bad_seq == 1


def test_cli_ledger_verify_names_the_entry(run_vault, vault: Vault) -> None:
    result = run_vault("ledger", "verify")
    assert result.code == 0 and "5 entries" in result.out
    tamper(vault, "UPDATE ledger SET body = '{}' WHERE seq = 4")
    result = run_vault("ledger", "verify")
    assert result.code == 1 and "entry 4" in result.err
    assert '"bad_entry": 4' in run_vault("ledger", "verify", "--json").out


@pytest.mark.parametrize("followers", ["none", "mine", "both"])
def test_the_head_kept_in_memory_is_never_trusted(vault: Vault, followers: str) -> None:
    """An append reuses the head its connection last wrote, but only where the vault still holds it: an
    append by another connection, a rolled-back append (savepoint or whole transaction) and a head from a
    closed connection whose id was reused all leave an intact chain. The same where a connection's head
    follows its rows by trigger (let_head_follow, as the daemon's), one of them or both."""
    other = vault.another_connection()
    if followers != "none":
        ledger.let_head_follow(vault.conn)
    if followers == "both":
        ledger.let_head_follow(other.conn)
    try:
        for n in range(3):
            with vault.transaction() as conn:
                ledger.append(conn, at=NOW, kind="consent", body={"n": f"mine {n}"})
            with other.transaction() as conn:
                ledger.append(conn, at=NOW, kind="consent", body={"n": f"other {n}"})
        with vault.transaction() as conn:
            ledger.append(conn, at=NOW, kind="consent", body={"n": "kept"})
            with pytest.raises(ValueError), vault.transaction():
                ledger.append(conn, at=NOW, kind="consent", body={"n": "rolled back"})
                raise ValueError("savepoint")
            ledger.append(conn, at=NOW, kind="consent", body={"n": "after the savepoint"})
        with pytest.raises(ValueError), vault.transaction() as conn:
            ledger.append(conn, at=NOW, kind="consent", body={"n": "rolled back too"})
            raise ValueError("transaction")
        with vault.transaction() as conn:
            ledger.append(conn, at=NOW, kind="consent", body={"n": "last"})
    finally:
        other.close()
    reused = vault.another_connection()  # may take the closed connection's id
    with reused, reused.transaction() as conn:
        ledger.append(conn, at=NOW, kind="consent", body={"n": "reused"})
    names = [e.body["n"] for e in ledger.entries(vault, kinds=("consent",))]
    assert names == [
        *(f"{who} {n}" for n in range(3) for who in ("mine", "other")),
        "kept",
        "after the savepoint",
        "last",
        "reused",
    ]
    assert ledger.verify(vault).ok and ledger.verify(vault).entries == 5 + len(names)


def disclosures_written(home: Path, *, follows: bool) -> tuple[list, list, list[str]]:
    """The same appends (another connection's append between) on a vault whose connection lets the head
    follow, or not: what the ledger and the by-site copies hold."""
    statements: list[str] = []
    with Vault.create(home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        if follows:
            ledger.let_head_follow(vault.conn)
        vault.conn.set_trace_callback(statements.append)
        for n in range(4):
            with vault.transaction() as conn:
                ledger.append_disclosure(
                    conn, origin="https://shop.example", purpose_id="p", jti=f"jti-{n:016d}", at=NOW + n,
                    body={"claims": {"n": n, "é": "ü"}, "expires_at": NOW + 9, "keep_until": NOW + 99,
                          "recipients": {"r": ["n"]}, "context": "c", "identity": None},
                )  # fmt: skip
            if n == 2:
                with vault.another_connection() as other, other.transaction() as conn:
                    ledger.append(conn, at=NOW, kind="consent", body={"n": "other"})
        assert ledger.verify(vault).ok and ledger.verify(vault).entries == 5
        read = vault.conn.execute
        return (
            read("SELECT seq, at, kind, origin, purpose_id, ref, body FROM ledger ORDER BY seq").fetchall(),
            read("SELECT * FROM disclosures ORDER BY seq").fetchall(),
            statements,
        )


def test_a_follower_writes_a_disclosure_as_one_statement_and_the_same_rows(tmp_path: Path) -> None:
    *followed, statements = disclosures_written(tmp_path / "follows", follows=True)
    *plain, _ = disclosures_written(tmp_path / "plain", follows=False)
    assert followed == plain and len(plain[1]) == 4
    # Each append whose head was known (all but the first, and the one after the other connection's) is
    # one statement (the trace repeats its text for each statement its triggers run).
    appends: list[list[str]] = []
    for text in statements:
        if text.startswith("BEGIN IMMEDIATE"):
            appends.append([])
        elif appends and not text.startswith("COMMIT"):
            appends[-1].append(text)
    one = [
        {text.split(" (")[0] for text in append} == {"INSERT INTO temp.disclosure_rows"} for append in appends
    ]
    assert one == [False, True, True, False]
