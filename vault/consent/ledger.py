"""The ledger: every disclosure, acknowledgement, consent change, revocation and delivery, append-only
and hash-chained.

Each row's hash is SHA-256 over the previous row's hash and the row's own columns, so changing,
inserting or deleting any row breaks the chain from there on; meta.ledger_head holds the last
(seq, hash), so cutting rows off the end is noticed too. The chain is keyed to the vault's id, so rows
cannot be spliced in from another vault. It proves integrity against edits made without this program,
not against someone who holds the passphrase and recomputes every hash (nothing local can).

What each kind's body holds, and how that format may evolve, is in vault/consent/ledger_records.py.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from vault.consent.ledger_records import (
    KINDS,
    Disclosed,
    Kind,
    LedgerRecord,
    Record,
    decode_record,
    encode_record,
)
from vault.store import Vault
from vault.store.database import Connection

# The head each connection last wrote, by id(connection) (SQLite connections take no weak references), so
# an append need not read it back first. Never trusted: the append replaces meta.ledger_head only where it
# still holds exactly this value (compare and swap), so a head another connection moved, a rolled-back
# append, or a reused id are all caught there, and the head is then read from the vault as before.
_LAST_HEADS: dict[int, bytes] = {}
_MAX_LAST_HEADS = 16
# Connections whose meta.ledger_head follows each ledger row they insert (a TEMP trigger: let_head_follow),
# each kept by id with the connection itself, so a reused id is never mistaken for one of them.
_HEAD_FOLLOWERS: dict[int, Connection] = {}
_HEAD_IS = "(SELECT value FROM meta WHERE key = 'ledger_head') = ?"
_DISCLOSURE_ROW = (
    "seq, at, origin, purpose_id, jti, body, hash, claims, expires_at, keep_until, recipients, context, "
    "identity"
)


def let_head_follow(conn: Connection) -> None:
    """On this connection, every row inserted into the ledger moves meta.ledger_head to it (in the same
    statement), so an append is one statement, not two (in the daemon, each statement lets the GIL go and
    must take it back)."""
    conn.execute(
        "CREATE TEMP TRIGGER IF NOT EXISTS ledger_head_follows AFTER INSERT ON main.ledger BEGIN "
        "UPDATE main.meta SET value = unhex(printf('%016x', NEW.seq) || hex(NEW.hash)) "
        "WHERE key = 'ledger_head'; END"
    )
    # A disclosure's entry and by-site copy as one row of a view that writes both (_write_copy's).
    nulls = ", ".join(["NULL"] * (_DISCLOSURE_ROW.count(",") + 1))
    conn.execute(f"CREATE TEMP VIEW IF NOT EXISTS disclosure_rows ({_DISCLOSURE_ROW}) AS SELECT {nulls}")
    conn.execute(_DISCLOSURE_ROWS_WRITTEN)
    if len(_HEAD_FOLLOWERS) >= _MAX_LAST_HEADS:
        _HEAD_FOLLOWERS.clear()  # they only append the slower way until made followers again
    _HEAD_FOLLOWERS[id(conn)] = conn


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: int
    kind: str
    origin: str | None
    purpose_id: str | None
    ref: str | None
    body: dict[str, Any]  # plain JSON values, as GET /v1/ledger and `vault ledger --json` show them

    @property
    def record(self) -> Record:
        """The body as its typed record (ledger_records); RecordInvalid if it is not one."""
        return decode_record(self.kind, self.body)


def _row_hash(
    previous: bytes,
    seq: int,
    at: int,
    kind: str,
    origin: str | None,
    purpose_id: str | None,
    ref: str | None,
    body: str,
) -> bytes:
    # JSON arrays of scalars have one encoding; the body is hashed as the exact text stored.
    columns = msgspec.json.encode([seq, at, kind, origin, purpose_id, ref])
    return hashlib.sha256(previous + columns + b"\n" + body.encode()).digest()


_COPY_COLUMNS = (
    "origin, seq, jti, purpose_id, claims, disclosed_at, expires_at, keep_until, recipients, "
    "context, identity"
)
_DISCLOSURE_ROWS_WRITTEN = (
    "CREATE TEMP TRIGGER IF NOT EXISTS disclosure_rows_written "  # noqa: S608 - constants
    "INSTEAD OF INSERT ON disclosure_rows "
    "BEGIN INSERT INTO main.ledger (seq, at, kind, origin, purpose_id, ref, body, hash) VALUES "
    "(NEW.seq, NEW.at, 'disclosure', NEW.origin, NEW.purpose_id, NEW.jti, NEW.body, NEW.hash); "
    f"INSERT INTO main.disclosures ({_COPY_COLUMNS}) VALUES (NEW.origin, NEW.seq, NEW.jti, "
    "NEW.purpose_id, NEW.claims, NEW.at, NEW.expires_at, NEW.keep_until, NEW.recipients, NEW.context, "
    "NEW.identity); END"
)


def encode_claims(claims: dict[str, Any]) -> str:
    return msgspec.json.encode(claims).decode()


def encode_recipients(recipients: Any) -> str:
    return msgspec.json.encode(recipients).decode()


def _genesis(conn: Connection) -> bytes:
    vault_id = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()[0]
    return hashlib.sha256(b"personal-vault ledger v1\n" + str(vault_id).encode()).digest()


def _head(conn: Connection) -> tuple[int, bytes] | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'ledger_head'").fetchone()
    if row is None:
        return None
    head = bytes(row[0])
    return int.from_bytes(head[:8], "big"), head[8:]


def append(
    conn: Connection,
    *,
    at: int,
    body: Record | dict[str, Any],
    kind: Kind | None = None,
    origin: str | None = None,
    purpose_id: str | None = None,
    ref: str | None = None,
) -> int:
    """Appends one entry; call inside the transaction that makes the change it records. Returns its seq.

    `body` is the entry's record, and its kind the record's. A plain dict with a `kind` is written as it
    is, unchecked: only for tests and tools that exercise the chain itself, never for the product's rows."""
    if isinstance(body, LedgerRecord):
        if kind is not None and kind != body.kind:
            raise ValueError(f"a {type(body).__name__} record is a {body.kind!r} entry, not {kind!r}")
        kind = body.kind  # type: ignore[assignment]
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    if kind == "disclosure":
        raise ValueError("disclosures are written with append_disclosure, which keeps the by-site copy")
    return _append(conn, at=at, kind=kind, body=body, origin=origin, purpose_id=purpose_id, ref=ref)


def append_disclosure(
    conn: Connection,
    *,
    origin: str,
    purpose_id: str,
    jti: str,
    at: int,
    body: Disclosed | dict[str, Any],
) -> int:
    """The one writer of disclosures: the ledger entry and its by-site copy, in the caller's transaction.
    `body` is record_disclosure's record (claims, expires_at and keep_until are copied); a dict in its
    format is written unchecked (for tests and benchmarks)."""
    fields = body if isinstance(body, dict) else None
    if isinstance(body, Disclosed):
        fields = {
            "claims": body.claims,
            "expires_at": body.expires_at,
            "keep_until": body.keep_until,
            "recipients": body.recipients,
            "context": body.context,
            "identity": body.identity,
        }
    assert fields is not None
    copy = (
        encode_claims(fields["claims"]),
        fields["expires_at"],
        fields["keep_until"],
        encode_recipients(fields.get("recipients", {})),
        fields.get("context"),
        fields.get("identity"),
    )
    return _append(
        conn, at=at, kind="disclosure", body=body, origin=origin, purpose_id=purpose_id, ref=jti, copy=copy
    )


def _write_copy(
    conn: Connection, seq: int, origin: str, purpose_id: str, jti: str, at: int, copy: tuple
) -> None:
    claims, expires_at, keep_until, recipients, context, identity = copy
    conn.execute(
        f"INSERT INTO disclosures ({_COPY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 - a constant
        (origin, seq, jti, purpose_id, claims, at, expires_at, keep_until, recipients, context, identity),
    )


def _append(
    conn: Connection,
    *,
    at: int,
    kind: str,
    body: Record | dict[str, Any],
    origin: str | None,
    purpose_id: str | None,
    ref: str | None,
    copy: tuple | None = None,
) -> int:
    """`copy`: a disclosure's by-site copy (append_disclosure), written with its entry."""
    # A record's encoding is the canonical one (ledger_records); a dict is encoded as it always was.
    text = encode_record(body) if isinstance(body, LedgerRecord) else msgspec.json.encode(body).decode()
    known = _LAST_HEADS.pop(id(conn), None)
    inserted = False
    if known is not None:
        seq = int.from_bytes(known[:8], "big") + 1
        digest = _row_hash(known[8:], seq, at, kind, origin, purpose_id, ref, text)
        new_head = seq.to_bytes(8, "big") + digest
        if _HEAD_FOLLOWERS.get(id(conn)) is conn:
            # One statement instead of two (or four for a disclosure): the row goes in only where the head
            # still is `known` (the same compare and swap); the connection's TEMP triggers move the head to
            # it and write a disclosure's copy.
            written_before = conn.total_changes
            if copy is None:
                conn.execute(
                    "INSERT INTO ledger (seq, at, kind, origin, purpose_id, ref, body, hash) "
                    f"SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE {_HEAD_IS}",
                    (seq, at, kind, origin, purpose_id, ref, text, digest, known),
                )
            else:
                conn.execute(
                    f"INSERT INTO temp.disclosure_rows ({_DISCLOSURE_ROW}) "
                    f"SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE {_HEAD_IS}",
                    (seq, at, origin, purpose_id, ref, text, digest, *copy, known),
                )
            inserted = swapped = conn.total_changes != written_before
        else:
            swapped = conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'ledger_head' AND value = ?", (new_head, known)
            ).rowcount
    if known is None or not swapped:
        head = _head(conn)
        seq, previous = (1, _genesis(conn)) if head is None else (head[0] + 1, head[1])
        digest = _row_hash(previous, seq, at, kind, origin, purpose_id, ref, text)
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('ledger_head', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (new_head := seq.to_bytes(8, "big") + digest,),
        )
    if not inserted:  # (on a connection whose head follows, the trigger writes the same head again)
        conn.execute(
            "INSERT INTO ledger (seq, at, kind, origin, purpose_id, ref, body, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at, kind, origin, purpose_id, ref, text, digest),
        )
        if copy is not None:
            _write_copy(conn, seq, origin, purpose_id, ref, at, copy)  # type: ignore[arg-type]
    if len(_LAST_HEADS) >= _MAX_LAST_HEADS:
        _LAST_HEADS.clear()
    _LAST_HEADS[id(conn)] = new_head
    return seq


def entries(
    vault: Vault,
    *,
    origin: str | None = None,
    kinds: tuple[str, ...] = (),
    ref: str | None = None,
    newest: int | None = None,
    newest_first: bool = False,
) -> Iterator[Entry]:
    """Entries in order; with `newest`, only the last that many (read from the end, not the whole ledger);
    with `newest_first`, all of them from the end backwards (for a caller that stops early)."""
    where, args = ["1"], []
    if origin is not None:
        where.append("origin = ?")
        args.append(origin)
    if ref is not None:
        where.append("ref = ?")
        args.append(ref)
    if kinds:
        where.append(f"kind IN ({', '.join('?' * len(kinds))})")
        args.extend(kinds)
    # Only fixed column names and placeholders are joined in; every value is a bound parameter.
    columns = "seq, at, kind, origin, purpose_id, ref, body"
    sql = f"SELECT {columns} FROM ledger WHERE {' AND '.join(where)} ORDER BY seq"  # noqa: S608
    if newest is not None:
        sql = f"SELECT * FROM ({sql} DESC LIMIT {int(newest)}) ORDER BY seq"  # noqa: S608
    elif newest_first:
        sql += " DESC"
    for seq, at, kind, origin_, purpose_id, ref_, body in vault.conn.execute(sql, args):
        yield Entry(
            seq=seq,
            at=at,
            kind=kind,
            origin=origin_,
            purpose_id=purpose_id,
            ref=ref_,
            body=msgspec.json.decode(body),
        )


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    bad_seq: int | None = None
    problem: str = ""


def verify(vault: Vault) -> Verification:
    """Walks the whole chain. Reports the first entry that does not match, and what is wrong with it.
    (The walk is in vault/consent/ledger_verify.py.)"""
    from vault.consent.ledger_verify import verify as walk  # it uses this module's helpers

    return walk(vault)
