"""Giving memory back to the system once the daemon is idle after load.

Measured on `vault serve` (issue 17 §3; /proc/PID/smaps, mallinfo2, sqlite3_db_status): what a burst of
presentations leaves behind is almost all SQLite's page cache on the worker's connection. SQLCipher's
default cache is 8,000 KiB, and an append-only ledger fills it with pages no later request needs (7.7 MiB
after 3,000 presentations: the daemon at 70 MiB, against 60 after unlock). The cache lives in the worker
thread's own malloc arena, where freeing it leaves whole free pages that glibc keeps until asked to give
them back. Python's objects (obmalloc) grow by a fraction of a MiB and are packed (nothing to reclaim);
forcing every thread into one arena (M_ARENA_MAX=1) gives back less, not more, because the freed cache
then sits between the event loop's live allocations.

So when the vault has not been used for RELEASE_AFTER_IDLE seconds, once per idle period (and again after
it locks), the cache is cut to its KEEP_CACHE_KIB most recently used pages, on the worker thread (a
connection is used by one thread at a time) between jobs, and then malloc_trim(0), off the worker,
returns every arena's free pages. The pages kept are the ones the next request reads (the ledger's last
leaves, the indexes' upper levels): emptying the cache instead (PRAGMA shrink_memory) made that request
~0.4 ms slower, reading and decrypting them again; keeping them costs it nothing measurable
(scripts/bench_memory_release.py). Both steps let the GIL go (SQLite and ctypes calls).

At start, `vault serve` fixes glibc's mmap and trim thresholds (fix_allocator_thresholds), which glibc
otherwise raises after the unlock's Argon2id run, so that a later unlock's key derivation is not kept.

What stays after all that (idle after 1,000 presentations: ~2 MiB over idle after unlock) is what the
first request brings in for good: the code pages of the signing library it runs (~1 MiB of RssFile), the
modules and route models built on first use, and allocations left scattered in the worker's arena. Most
of it is there after 50 presentations (+1.7 MiB; scripts/bench_startup.py prints the parts). Measured, left:
a 1 MiB cache on the worker's connection (no change: the arena holds ~660 KB of live allocations, the
cache kept is ~250 KB of it); cutting the cache to nothing (0.35 MiB less, the next request 0.4 ms
slower); running the daemon with -OO (docstrings: 1.8 MiB less in a bare import, but it strips every
library's asserts and needs optimized bytecode compiled for every install). The daemon's libraries imported
by an interpreter that does nothing else already hold 49.4 MiB; five modules they import and the daemon
never uses are left unimported (vault.daemon.deferred: 1.8 MiB less, idle after unlock and after load).

After concurrent load, whose batches run on the event loop's thread, the daemon idles higher: 62.6 MiB in
bench_daemon's runs (stop 30). In one probe, a 5 s burst of 16 clients against 1,000 presentations one at
a time: 62.3 against 61.6 MiB; the main heap kept 0.9 MiB more resident (0.4 MB more in use, the rest free
space between live blocks, which malloc_trim cannot return), the worker's arena 0.6 MiB less.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from vault.errors import VaultLocked

if TYPE_CHECKING:  # vault.daemon.server imports this module: it stays light
    from vault.daemon.worker import VaultWorker
    from vault.store import Vault

log = logging.getLogger("vault.daemon")
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)
MMAP_THRESHOLD = 1024 * 1024
RELEASE_AFTER_IDLE = 2  # seconds without use (the daemon's clock counts whole seconds)
KEEP_CACHE_KIB = 256  # of the page cache, the most recently used pages: what a presentation reads again


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


def fix_allocator_thresholds() -> bool:
    """Blocks of MMAP_THRESHOLD or more are mapped on their own and unmapped when freed, always; at daemon
    start. glibc otherwise raises that threshold to the size of any mapped block freed (up to 32 MiB), and
    the trim threshold to twice it: after the Argon2id run of an unlock (19 MiB with the minimum KDF) the
    next unlock's 19 MiB came from the worker's arena and stayed there (the daemon at 80 MiB after a lock
    and an unlock, and malloc_trim does not touch a thread arena's top). Nothing on the request path
    allocates a MiB at once. False where there is no glibc (nothing is changed)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # A fixed trim threshold too (glibc's default ratio): the main heap's top goes back past 2 MiB free.
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(
        mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD)
    )


def shrink_cache(vault: Vault, keep_kib: int = KEEP_CACHE_KIB) -> None:
    """Cuts the connection's page cache to its `keep_kib` most recently used pages (lowering cache_size
    evicts from the least recently used end), then sets the size back. On the connection's own thread,
    between jobs (never inside a transaction)."""
    size = vault.conn.execute("PRAGMA cache_size").fetchone()[0]
    vault.conn.execute(f"PRAGMA cache_size = {-keep_kib}")
    vault.conn.execute(f"PRAGMA cache_size = {int(size)}")


def trim_allocator(trim: Callable[[], object] | None = MALLOC_TRIM) -> None:
    if trim is not None:
        trim()


def _seconds(fn: Callable[..., object], *args: object) -> float:
    began = time.perf_counter()
    fn(*args)
    return time.perf_counter() - began


class IdleRelease:
    """Cuts the worker's page cache and trims the allocator once the vault has been idle
    RELEASE_AFTER_IDLE seconds, then not again until it has been used. Called from the daemon's background
    duty (every TICK), never from a request."""

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
        shrink = 0.0  # locked: the connection is closed, its cache already freed
        with contextlib.suppress(VaultLocked):
            shrink = await self.worker.call(lambda vault: _seconds(shrink_cache, vault), touch=False)
        # Not on the worker: a request that arrives meanwhile need not wait for it.
        trim = await asyncio.to_thread(_seconds, trim_allocator, self.trim)
        log.debug("idle: page cache cut in %.2f ms, allocator trimmed in %.2f ms", shrink * 1e3, trim * 1e3)
        self.releases += 1
        return True
