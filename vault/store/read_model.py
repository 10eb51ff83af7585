"""What the daemon's request path reads again and again (attributes, context choices, remembered decisions,
rules, site epochs, stored manifests), kept in memory between requests on the worker's connection.

A stale value here would be a privacy bug (a revoked decision or a changed rule still applied), so
forgetting is not left to the code that writes:

- TEMP triggers on every table the model reads call `vault_read_model_written()` on any insert, update or
  delete made through this connection, whatever code path made it. From then until the end of the job
  or batch, nothing is served from memory and nothing is stored, and at its end everything is forgotten:
  a write that was rolled back never leaves a value behind, and no uncommitted value is ever kept.
- Another connection (the command line, or a second connection of the daemon) that committed is seen by
  `PRAGMA data_version`, read at the start of each job or batch once the write lock is held (so nothing
  can commit between the check and the reads that trust it).

The model is used only between `begin()` and `end()` (the worker's batches); anywhere else every read
goes to the database as before. One exception, read-only: the daemon's event loop may read a
`snapshot()` ahead of a job's turn (vault.consent.prepared), and the job uses what was made from it only
if `unchanged_since(snapshot)` holds in its batch. Forgetting replaces the mapping rather than emptying
it, so a snapshot's identity says whether anything was forgotten since (a write, another connection's
commit, or the bound).

Values handed out are immutable (frozen records, tuples, frozensets, ints, text); the caller copies what
it must change. Time-dependent filters (expiry) stay with the callers and run on every request. Every key
comes from a page's request (origins, purposes), so the model is bounded by count: it starts over when
full.
"""

import hashlib
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from vault.store.database import Connection

T = TypeVar("T")
MAX_VALUES = 4096
# The tables the model reads, and for `meta`, which keys do not count: the ledger head changes with every
# disclosure and the model never reads it.
_WATCHED = ("attributes", "contexts", "site_contexts", "decisions", "recipient_decisions", "rules", "sites")
_MARK = "vault_read_model_written"
_GIL_KEPT_BELOW = 2047


class ReadModel:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._values: dict[Hashable, Any] = {}
        self._active = False
        self._written = False
        self._data_version: int | None = None
        self.loads = 0  # how many values were read from the database (for tests and profiles)
        conn.create_function(_MARK, 0, self._mark_written)
        for table in (*_WATCHED, "meta"):
            for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                when = f" WHEN {row}.key != 'ledger_head'" if table == "meta" else ""
                conn.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS read_model_{table}_{event.lower()} "
                    f"AFTER {event} ON main.{table}{when} BEGIN SELECT {_MARK}(); END"
                )

    def _mark_written(self) -> None:
        self._written = True
        self._values = {}

    def begin(self) -> None:
        """At the start of a job or batch, inside its transaction (after BEGIN IMMEDIATE): forgets
        everything if another connection committed since the last check."""
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._values = {}
            self._data_version = version
        self._active = True

    def end(self) -> None:
        """After the job's or batch's COMMIT or ROLLBACK: forgets everything if it wrote a watched table."""
        self._active = False
        if self._written:
            self._values = {}
            self._written = False

    def snapshot(self) -> Mapping[Hashable, Any]:
        """What the model holds now, to read on another thread without the connection: possibly stale
        (another connection's commit is seen only at the next begin()), so whatever is made from it is
        used only where unchanged_since(snapshot) holds."""
        return self._values

    def unchanged_since(self, snapshot: Mapping[Hashable, Any]) -> bool:
        """Inside a job or batch (after begin()): nothing was forgotten since `snapshot` was taken (a write
        in this batch too replaces the mapping). Then every value in the snapshot is still the vault's."""
        return self._active and self._values is snapshot

    def get(self, key: Hashable, load: Callable[[], T], valid: Callable[[T], bool] | None = None) -> T:
        """The value under `key`, from memory when the model may serve it, else `load()` (stored for the
        next request only when nothing watched was written in this job or batch). `valid`: whether a kept
        value still holds (for values that end with time); one that does not is loaded again."""
        if not self._active or self._written:
            return load()
        try:
            value = self._values[key]
        except KeyError:
            pass
        else:
            if valid is None or valid(value):
                return value
        value = load()
        self.loads += 1
        if not self._written:  # load() may itself have written (it must not, but then keep nothing)
            if len(self._values) >= MAX_VALUES:
                self._values = {}
            self._values[key] = value
        return value


def cached(
    reads: ReadModel | None, key: Hashable, load: Callable[[], T], valid: Callable[[T], bool] | None = None
) -> T:
    """`load()` through the model when there is one (the daemon's worker), else straight from the
    database (the command line, tests, every other reader)."""
    return load() if reads is None else reads.get(key, load, valid)


def digest_keeping_the_gil(raw: bytes) -> bytes:
    """What the model keeps of a large text (a manifest, ~3 KB; up to 64 KiB from a site): its digest, so
    memory stays small whatever sites send. hashlib lets the GIL go for inputs of 2 KiB or more; with the
    worker and the event loop both busy, taking it back cost ~300 us per request under load for ~5 us of
    hashing. In chunks below that size it hashes without letting go. SHA-256: where the CPU computes it
    (SHA-NI, ARMv8), OpenSSL's is about twice as fast as BLAKE2b here (a 3 KB manifest: 3 us against 6 us)."""
    digest, view = hashlib.sha256(), memoryview(raw)
    for start in range(0, len(raw), _GIL_KEPT_BELOW):
        digest.update(view[start : start + _GIL_KEPT_BELOW])
    return digest.digest()
