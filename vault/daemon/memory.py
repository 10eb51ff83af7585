"""Giving memory back to the system once the daemon is idle after load.

Measured on `vault serve` (issue 17 §3; /proc/PID/smaps, mallinfo2, sqlite3_db_status): what a burst of
presentations leaves behind is almost all SQLite's page cache on the worker's connection. SQLCipher's
default cache is 8,000 KiB, and an append-only ledger fills it with pages no later request needs: 2.6 MiB
after 1,000 presentations, 7.7 MiB after 3,000 (the daemon at 70 MiB, against 60 after unlock). The
cache lives in the worker thread's own malloc arena, where freeing it leaves whole free pages that glibc
keeps until asked to give them back. Python's objects (obmalloc) grow by a fraction of a MiB, and are
packed (no reclaimable fragmentation); forcing every thread into one arena (M_ARENA_MAX=1) gives back
less, not more, because the freed cache then sits between live allocations of the event loop.

So when the vault has not been used for RELEASE_AFTER_IDLE seconds, once per idle period, the worker runs
release_memory: `PRAGMA shrink_memory` on its own connection (a connection is used from its own thread
only), then malloc_trim(0), which returns every arena's free pages. Both run on the worker thread with
the GIL released (SQLite's step and a ctypes call), about a millisecond together; a request arriving
meanwhile waits at most that long behind it, and the request path itself does nothing new. The pages a
later request reads again are decrypted again, once, when it first needs them.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import Callable

from vault.daemon.worker import VaultWorker
from vault.errors import VaultLocked
from vault.store import Vault

log = logging.getLogger("vault.daemon")
RELEASE_AFTER_IDLE = 2  # seconds without use (the daemon's clock counts whole seconds)


def _find_malloc_trim() -> Callable[[], object] | None:
    """glibc's malloc_trim(0), or None where there is none (musl, macOS): then only SQLite's cache is
    shrunk. ctypes.CDLL releases the GIL for the call."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


MALLOC_TRIM = _find_malloc_trim()


def release_memory(vault: Vault | None, trim: Callable[[], object] | None = MALLOC_TRIM) -> None:
    """SQLite's unused cache pages on `vault`'s connection, then the allocator's free pages, back to the
    system. Runs on the thread that owns the connection, between jobs (never inside a transaction)."""
    if vault is not None:
        vault.conn.execute("PRAGMA shrink_memory")
    if trim is not None:
        trim()


class IdleRelease:
    """Runs release_memory on the worker once the vault has been idle RELEASE_AFTER_IDLE seconds, then not
    again until it has been used. Called from the daemon's background duty (every TICK), never from a
    request."""

    def __init__(self, worker: VaultWorker, clock: Callable[[], int], *, trim=MALLOC_TRIM) -> None:
        self.worker = worker
        self.clock = clock
        self.trim = trim
        # The last use (and whether the vault was locked) that a release has followed: locking closes the
        # connection, which frees its cache into the allocator, so that is worth a release of its own.
        self.released_after: tuple[int, bool] | None = None
        self.releases = 0  # how many ran (for tests)

    async def release_if_idle(self) -> bool:
        after = (self.worker.last_used, self.worker.locked)
        if after == self.released_after or self.clock() - after[0] < RELEASE_AFTER_IDLE:
            return False
        self.released_after = after
        try:
            await self.worker.call(lambda vault: release_memory(vault, self.trim), touch=False)
        except VaultLocked:  # the connection is closed, its cache freed: the allocator may still hold it
            await asyncio.to_thread(release_memory, None, self.trim)
        self.releases += 1
        return True
