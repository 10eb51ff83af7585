"""Walking the whole ledger (vault/consent/ledger.py's verify): one streaming pass over the chain in seq
order, one over the by-site copy of disclosures, holding one row at a time.

At a million entries the walk is mostly reading: SQLCipher decrypts every page once, and each row becomes a
Python tuple. The work per row is kept to what the checks need (measured in scripts/bench_ledger.py):
- the body is read as the bytes that were hashed (no text decoding and re-encoding);
- a disclosure's body is decoded only as far as its copy needs, with its claims and recipients kept as the
  exact JSON text written (msgspec.Raw) instead of built into objects and encoded again;
- the copy is compared site by site: one running SHA-256 per site over its disclosures in seq order (the
  ledger's, as they pass; the copy's, read in its own (origin, seq) order), so each table is read once in
  its own order with one hash update per row, and the memory is one hash per site, not per entry. Each
  copy row is encoded by SQLite (json_array) rather than column by column in Python.
  Should the digests differ, both sides are computed again as verification always computed them (a sum of
  row hashes, in Python, the ledger's claims decoded and re-encoded), so a value spelled otherwise (SQLite
  writes 1e300 as 1.0e+300) is never taken for a changed copy.

At 1,000,000 entries the walk takes ~5.8 s and the copy's pass ~2.0 s. Reading the copy on a second
connection in a thread, beside the walk, made the whole 1.4x slower, not faster: each row either thread
reads lets the GIL go and takes it back, and the two threads then wait on each other row by row.
"""

import hashlib
from collections import defaultdict
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
    """Walks the whole chain. Reports the first entry that does not match, and what is wrong with it.

    In one read transaction: the chain, its head and the copy are read from one snapshot, so an entry
    another process (the daemon) appends meanwhile is not taken for a mismatch."""
    conn = vault.conn
    if conn.in_transaction:
        return _walk(vault)
    conn.execute("BEGIN")
    try:
        return _walk(vault)
    finally:
        if conn.in_transaction:  # (an error may have ended it already)
            conn.execute("COMMIT")  # it only read


def _walk(vault: Vault) -> Verification:
    conn = vault.conn
    previous, expected_seq, count = _genesis(conn), 1, 0
    # The by-site copy of disclosures must hold exactly the ledger's disclosures, site by site in seq order.
    by_site: defaultdict[str | None, Any] = defaultdict(hashlib.sha256)
    from vault.consent.ledger_evidence import SIGNED_KINDS, SignedAnswers  # it reads sites, which use us

    evidence = SignedAnswers(vault)
    sha256, encode, decode_fields = hashlib.sha256, msgspec.json.encode, _copy_fields.decode
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
                claims, recipients = fields.claims, fields.recipients
                # The copy's row as it should read (_copy_by_site), with the claims and recipients as the
                # text written. The copy says under which context and identity it was made, as the entry
                # does: a copy edited to another identity would sign later notices with the wrong key.
                columns = (
                    origin,
                    seq,
                    ref,
                    purpose_id,
                    len(claims),
                    at,
                    fields.expires_at,
                    fields.keep_until,
                    len(recipients),
                    fields.context,
                    fields.identity,
                )
            except msgspec.DecodeError:
                return Verification(False, count, seq, f"entry {seq} is not a well-formed disclosure")
            by_site[origin].update(encode(columns) + claims + recipients)
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
    expected = {origin: hasher.digest() for origin, hasher in by_site.items()}
    if _copy_by_site(conn) != expected and not _copy_matches_slowly(conn):
        return Verification(False, count, None, "the by-site copy of disclosures does not match the ledger")
    return Verification(True, count)


# A copy row as one text: its columns as a JSON array, with the claims and the recipients as their byte
# lengths, then the claims and the recipients as written. The array's end is where its brackets close and
# the lengths say where the rest ends, so rows one after another read back one way only. A length is -1
# where a column is not text (the ledger's side never is): that row cannot match, and the slow path decides.
_COPY_ROW = (
    "CAST(json_array(origin, seq, jti, purpose_id, "
    "iif(typeof(claims) = 'text', length(CAST(claims AS BLOB)), -1), disclosed_at, expires_at, keep_until, "
    "iif(typeof(recipients) = 'text', length(CAST(recipients AS BLOB)), -1), context, identity) "
    "|| claims || recipients AS BLOB)"
)


def _copy_by_site(conn: Connection) -> dict[str | None, bytes]:
    """The copy's digest per site, its rows (_COPY_ROW) in (origin, seq) order. SQLite's json_array spells
    text and integers (every column the copy holds) as msgspec does, with no Python object per column. A
    value it spells otherwise (a float) only makes a digest differ: then the slow path decides."""
    digests: dict[str | None, bytes] = {}
    encoded = _COPY_ROW
    rows = f"SELECT origin, {encoded} FROM disclosures ORDER BY origin, seq"  # noqa: S608 - a constant
    current, hasher = None, None
    for origin, text in conn.execute(rows):
        if hasher is None or origin != current:
            if hasher is not None:
                digests[current] = hasher.digest()
            current, hasher = origin, hashlib.sha256()
        hasher.update(text)
    if hasher is not None:
        digests[current] = hasher.digest()
    return digests


def _copy_sum(conn: Connection) -> int:
    total = 0
    for row in conn.execute(f"SELECT {_COPY_COLUMNS} FROM disclosures"):  # noqa: S608 - a constant
        total += int.from_bytes(hashlib.sha256(msgspec.json.encode(row)).digest(), "big")
    return total % _MODULUS


def _copy_matches_slowly(conn: Connection) -> bool:
    """When the quick digests differ: both sides again as verification always computed them (multisets, as
    sums of row hashes), so a value one encoder spells otherwise is never taken for a changed copy."""
    return _copy_sum(conn) == _reencoded_sum(conn)


def _reencoded_sum(conn: Connection) -> int | None:
    """The ledger's side of the copy as verification always computed it: each disclosure's claims and
    recipients decoded and encoded again. Only when the quick digests differ (the chain is intact by then).
    None if a disclosure's body is not one (the walk has already named such an entry)."""
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
