"""Walking the whole ledger (vault/consent/ledger.py's verify): one streaming pass over the chain in seq
order, one over the by-site copy of disclosures, holding one row at a time.

At a million entries the walk is mostly reading: SQLCipher decrypts every page once, and each row becomes a
Python tuple. The work per row is kept to what the checks need (measured in scripts/bench_ledger.py):
- the body is read as the bytes that were hashed (no text decoding and re-encoding);
- a disclosure's body is decoded only as far as its copy needs, with its claims and recipients kept as the
  exact JSON text written (msgspec.Raw) instead of built into objects and encoded again;
- the copy is compared as a multiset (a sum of SHA-256 digests, mod 2**256), so each table is read once in
  its own order, and each copy row is encoded by SQLite (json_array) rather than column by column in Python.
  Should the sums differ, both sides are computed again as they were before (in Python, the ledger's
  claims decoded and re-encoded), so a value spelled otherwise is never taken for a changed copy.
"""

import hashlib
from typing import Any

import msgspec

from vault.consent.ledger import (
    _COPY_COLUMNS,
    Verification,
    _genesis,
    _head,
    encode_claims,
    encode_recipients,
)
from vault.consent.ledger_records import KINDS
from vault.store import Vault
from vault.store.database import Connection


class _CopyFields(msgspec.Struct):
    """The members of a disclosure's body that its by-site copy repeats; the rest are not decoded."""

    claims: msgspec.Raw
    expires_at: Any
    keep_until: Any
    recipients: msgspec.Raw = msgspec.Raw(b"{}")
    context: Any = None
    identity: Any = None


_copy_fields = msgspec.json.Decoder(_CopyFields)
_ROWS = "SELECT seq, at, kind, origin, purpose_id, ref, CAST(body AS BLOB), hash FROM ledger ORDER BY seq"
_MODULUS = 2**256


def verify(vault: Vault) -> Verification:
    """Walks the whole chain. Reports the first entry that does not match, and what is wrong with it."""
    conn = vault.conn
    previous, expected_seq, count = _genesis(conn), 1, 0
    # The by-site copy of disclosures must hold exactly the ledger's disclosures: compared as multisets
    # (a sum of row hashes), so each table is read once in its own order.
    expected_copy = 0
    from vault.consent.ledger_evidence import SIGNED_KINDS, SignedAnswers  # it reads sites, which use us

    evidence = SignedAnswers(vault)
    sha256, encode, from_bytes, decode_fields = (
        hashlib.sha256,
        msgspec.json.encode,
        int.from_bytes,
        _copy_fields.decode,
    )
    for seq, at, kind, origin, purpose_id, ref, body, stored in conn.execute(_ROWS):
        if seq != expected_seq:
            return Verification(False, count, expected_seq, f"entry {expected_seq} is missing")
        if kind not in KINDS:
            return Verification(False, count, seq, f"entry {seq} has an unknown kind")
        # ledger._row_hash, inline: the body as the bytes stored, the other columns as a JSON array.
        if sha256(previous + encode((seq, at, kind, origin, purpose_id, ref)) + b"\n" + body).digest() != (
            stored
        ):
            return Verification(False, count, seq, f"entry {seq} was changed (its hash does not match)")
        if kind == "disclosure":
            try:
                fields = decode_fields(body)
                # ledger._disclosure_digest, inline, with the claims and recipients as the text written.
                # The copy says under which context and identity it was made, as the entry does: a
                # copy edited to another identity would sign later notices with the wrong key.
                row = (
                    origin,
                    seq,
                    ref,
                    purpose_id,
                    bytes(fields.claims).decode(),
                    at,
                    fields.expires_at,
                    fields.keep_until,
                    bytes(fields.recipients).decode(),
                    fields.context,
                    fields.identity,
                )
            except (msgspec.DecodeError, UnicodeDecodeError):
                return Verification(False, count, seq, f"entry {seq} is not a well-formed disclosure")
            expected_copy += from_bytes(sha256(encode(row)).digest(), "big")
        elif kind in SIGNED_KINDS:
            problem = evidence.problem(kind, origin, ref, body.decode())
            if problem is not None:
                return Verification(False, count, seq, f"entry {seq}: {problem}")
        previous, expected_seq, count = stored, seq + 1, count + 1
    head = _head(conn)
    if head is None and count:
        return Verification(False, count, None, "the ledger head is missing")
    if head is not None and (head[0] != count or head[1] != previous):
        return Verification(
            False,
            count,
            count + 1 if head[0] > count else head[0],
            f"the ledger ends at entry {count} but its head records entry {head[0]}",
        )
    expected_copy %= _MODULUS
    if _copy_sum(conn, in_sql=True) != expected_copy and not _copy_matches_slowly(conn, expected_copy):
        return Verification(False, count, None, "the by-site copy of disclosures does not match the ledger")
    return Verification(True, count)


def _copy_sum(conn: Connection, *, in_sql: bool) -> int:
    """The by-site copy's side. `in_sql`: each row encoded by SQLite's json_array, which spells text and
    integers (every column the copy holds) as msgspec does, without a Python object per column; a value
    it spells otherwise (a float) only makes the sum differ, and it is computed again with `in_sql` off."""
    sha256, encode, from_bytes, total = hashlib.sha256, msgspec.json.encode, int.from_bytes, 0
    if in_sql:
        rows = f"SELECT CAST(json_array({_COPY_COLUMNS}) AS BLOB) FROM disclosures"  # noqa: S608 - a constant
        for (text,) in conn.execute(rows):
            total += from_bytes(sha256(text).digest(), "big")
    else:
        for row in conn.execute(f"SELECT {_COPY_COLUMNS} FROM disclosures"):  # noqa: S608 - a constant
            total += from_bytes(sha256(encode(row)).digest(), "big")
    return total % _MODULUS


def _copy_matches_slowly(conn: Connection, expected: int) -> bool:
    """When the quick sums differ: each side again as verification always computed it, so a value one
    encoder spells otherwise is never taken for a changed copy."""
    copy = _copy_sum(conn, in_sql=False)
    return copy == expected or copy == _reencoded_sum(conn)


def _reencoded_sum(conn: Connection) -> int | None:
    """The ledger's side of the copy as verification always computed it: each disclosure's claims and
    recipients decoded and encoded again. Only when the quick sum differs (the chain is intact by then)."""
    total = 0
    for seq, at, origin, purpose_id, ref, body in conn.execute(
        "SELECT seq, at, origin, purpose_id, ref, body FROM ledger WHERE kind = 'disclosure' ORDER BY seq"
    ):
        try:
            decoded = msgspec.json.decode(body)
            row = [
                origin,
                seq,
                ref,
                purpose_id,
                encode_claims(decoded["claims"]),
                at,
                decoded["expires_at"],
                decoded["keep_until"],
                encode_recipients(decoded.get("recipients", {})),
                decoded.get("context"),
                decoded.get("identity"),
            ]
        except (msgspec.DecodeError, KeyError, TypeError, AttributeError):
            return None
        total += int.from_bytes(hashlib.sha256(msgspec.json.encode(row)).digest(), "big")
    return total % _MODULUS
