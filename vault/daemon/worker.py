"""The one thread that owns the unlocked vault's connection, and the lock around it.

SQLite connections are not for sharing between threads, and a commit that makes a disclosure durable
costs an fsync. So every request becomes a job queued for one thread. Jobs marked `batch` that queue up
while the thread is busy run together in one transaction, each in its own savepoint, and commit once:
sixteen concurrent presentations cost one fsync, not sixteen. A job's result is released only after that
commit, so a token never leaves the daemon before its ledger entry is on disk. Other jobs run alone.

A batch of several jobs runs on the thread of the event loop that awaits them, lent the connection
between the worker's BEGIN and its COMMIT while the worker waits (_run_on_loop): still one thread at a
time, in queue order, but without taking the GIL back from that loop, busy with the other requests, at
every statement and signature. Measured with scripts/bench_daemon_ab.py against the worker running them
(four runs of 6-10 rounds): 1.18x, 1.12x, 1.02x and 1.09x the requests per second at 16 clients, where
rounds spread by +-15%. A job alone runs here: lending it only adds two wake-ups.

Jobs marked `rerun_safe` (their only effects are on the database, so running one again after a rollback
is as good as running it once) share the transaction without savepoints: under load each statement is a
wait for the GIL, and two of a presentation's six were its savepoint. A job of such a batch that fails
having written nothing is answered with its error; one that fails after writing can only be undone with
everyone's writes, so the whole batch is rolled back and run again, each job in its own savepoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from vault.consent.ledger import let_head_follow
from vault.errors import VaultLocked
from vault.store import Vault
from vault.store.database import savepoint
from vault.store.read_model import ReadModel

T = TypeVar("T")
Clock = Callable[[], int]
MAX_BATCH = 64
LOAN_CHECK_SECONDS = 1.0  # how often a worker waiting for a loop to run its batch checks that it still runs
log = logging.getLogger("vault.daemon")
_RUN_AGAIN, _FAILED = object(), object()  # what _commit returns instead of the outcomes


@dataclass
class _Job:
    run: Callable[[], Any]
    future: asyncio.Future  # of the loop that awaits it: settled there, a batch's all in one callback
    batch: bool = False
    rerun_safe: bool = False


_Outcome = tuple[_Job, BaseException | None, Any]  # the job, its error or None, its result


class VaultWorker:
    def __init__(self, home: Path, *, clock: Clock, vault: Vault | None = None) -> None:
        """`vault`: already unlocked (by `vault serve` at start), or None to start locked."""
        self.home = home
        self._clock = clock
        self._vault = _served(vault) if vault is not None else None
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.busy = False  # running jobs (read by the event loop: prepare)
        self._thread = threading.Thread(target=self._run, name="vault-worker", daemon=True)
        self._thread.start()
        self.last_used = clock()
        self.batches = 0  # how many group commits ran (for tests and the benchmark)
        self.reruns = 0  # how many batches were rolled back to be run again in savepoints (for tests)

    @property
    def locked(self) -> bool:
        return self._vault is None

    async def call(
        self, fn: Callable[[Vault], T], *, batch: bool = False, rerun_safe: bool = False, touch: bool = True
    ) -> T:
        """Runs fn(vault) in the worker's turn: on the worker thread, or a `batch` job on this loop's thread
        while the worker waits (_run_on_loop). Raises VaultLocked when the vault is locked.

        `rerun_safe`: fn changes nothing but the database, so it may be run again after a rollback (the
        result of the run that commits is the one returned). `touch`: this counts as use (status polls and
        background duties do not keep the vault open)."""
        if touch:
            self.last_used = self._clock()
        return await self._submit(lambda: fn(self._open()), batch=batch, rerun_safe=rerun_safe)

    def prepare(self, fn: Callable[[Vault], T | None]) -> T | None:
        """fn(vault) now, on the caller's thread (the event loop), while the worker is busy with earlier
        jobs: for what a job can make ahead of its turn from memory (vault.consent.prepared). fn must not
        use the vault's connection, which the worker may be using. None without calling fn when the vault
        is locked, or when the worker is idle: the job would run at once, so there is nothing to overlap
        (at one client, preparing on the loop measured 0.94x)."""
        vault = self._vault
        if vault is None or not self.busy:
            return None
        return fn(vault)

    async def unlock(self, passphrase: str) -> bool:
        """Opens the vault (Argon2id: about a second, off the event loop). False if it was already open."""

        def open_vault() -> bool:
            if self._vault is not None:
                return False
            self._vault = _served(Vault.open(self.home, passphrase, now=self._clock()))
            return True

        self.last_used = self._clock()
        return await self._submit(open_vault)

    async def lock(self) -> bool:
        """Closes the vault after the jobs queued before this call. False if it was already locked."""
        return await self._submit(self._close)

    def _close(self) -> bool:
        if self._vault is None:
            return False
        vault, self._vault = self._vault, None
        vault.close()
        return True

    async def _submit(self, run: Callable[[], Any], *, batch: bool = False, rerun_safe: bool = False) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._queue.put(_Job(run, future, batch=batch, rerun_safe=rerun_safe))
        return await future

    def stop(self) -> None:
        """Finishes every queued job, closes the vault and ends the thread (graceful shutdown). Not on the
        thread of a running loop with batch jobs queued (use asyncio.to_thread): a batch lent to that loop
        would wait for it."""
        self._queue.put(None)
        self._thread.join()

    # -- the worker thread ---------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            self.busy = not self._queue.empty()
            job = self._queue.get()
            self.busy = True
            if job is None:
                break
            if not job.batch:
                self._run_alone(job)
                continue
            batch, after = [job], None
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                if not more.batch:
                    after = more
                    break
                batch.append(more)
            # A request whose caller went away (cancelled while queued) is not run at all.
            batch = [job for job in batch if not job.future.cancelled()]
            if batch:
                self._run_batch(batch)
            if after is not None:
                self._run_alone(after)
        # Only reached from stop(): everything queued before it has run.
        self._close()

    def _run_alone(self, job: _Job) -> None:
        if job.future.cancelled():
            return
        try:
            result = job.run()
        except BaseException as e:  # handed to the awaiting request, which maps it to a response
            _settle([(job, e, None)])
        else:
            _settle([(job, None, result)])
        finally:
            # The read model serves batches only; a job run alone may have written what it keeps.
            if self._vault is not None and self._vault.reads is not None:
                self._vault.reads.end()

    def _run_batch(self, batch: list[_Job]) -> None:
        try:
            vault = self._open()
        except VaultLocked as e:
            _settle([(job, e, None) for job in batch])
            return
        savepoints = not all(job.rerun_safe for job in batch)
        # One job alone leaves the loop nothing to contend with for the GIL: lending it would only cost
        # two more wake-ups between the threads.
        results = self._commit(vault, batch, savepoints=savepoints, on_loop=len(batch) > 1)
        if results is _RUN_AGAIN:  # rare: run again here, each job in its own savepoint
            self.reruns += 1
            results = self._commit(vault, batch, savepoints=True)
        if not isinstance(results, list):  # the batch failed to commit: every job was answered its error
            return
        self.batches += 1
        _settle(results)

    def _commit(
        self, vault: Vault, batch: list[_Job], *, savepoints: bool, on_loop: bool = False
    ) -> list[_Outcome] | object:
        """Runs the batch in one transaction and commits it. Returns each job's outcome, or _RUN_AGAIN
        (rolled back) when a job without a savepoint failed after writing, or _FAILED (every job's future
        has the error) when the transaction itself failed. `on_loop`: the jobs run on their event loop's
        thread (_run_on_loop); BEGIN and COMMIT stay here, where waiting for another writer or the disk
        holds up nothing else."""
        reads, conn = vault.reads, vault.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            if on_loop:
                results = _run_on_loop(vault, batch, savepoints)
            else:
                results = _run_jobs(vault, batch, savepoints)
            if not isinstance(results, list):
                conn.execute("ROLLBACK")
                return results
            conn.execute("COMMIT")
        except BaseException as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            log.error("a batch of %d requests failed to commit: %s", len(batch), type(e).__name__)
            _settle([(job, e, None) for job in batch])
            return _FAILED
        finally:
            if reads is not None:  # also after a rollback: nothing the batch read or wrote is kept
                reads.end()
        return results

    def _open(self) -> Vault:
        if self._vault is None:
            raise locked()
        return self._vault


def _run_jobs(vault: Vault, batch: list[_Job], savepoints: bool) -> list[_Outcome] | object:
    """Each job of a batch, in the open transaction: its outcome, or _RUN_AGAIN when a job without a
    savepoint failed after writing (the caller rolls everything back). First the read model checks
    whether another connection committed (the caller's BEGIN IMMEDIATE holds the write lock: nobody else
    can commit until we do); on the loop's thread, that is one GIL hand-off fewer for the worker."""
    results: list[_Outcome] = []
    conn = vault.conn
    if vault.reads is not None:
        vault.reads.begin()
    for job in batch:
        # vault.job_savepoint: see Vault.transaction(lets_errors_out=True). Without a savepoint the
        # promise still holds: a job that fails after writing has its writes rolled back (by the caller).
        written_before = conn.total_changes  # an attribute: no statement, no GIL hand-off
        try:
            with savepoint(conn) if savepoints else contextlib.nullcontext():
                vault.job_savepoint = True
                try:
                    results.append((job, None, job.run()))
                finally:
                    vault.job_savepoint = False
        except Exception as e:  # this job's writes are rolled back; the others go on
            if not savepoints and conn.total_changes != written_before:
                return _RUN_AGAIN
            results.append((job, e, None))
    return results


class _Lent:
    """A batch lent to its event loop's thread while the worker waits: whichever side claims it first
    runs it (the loop, or the worker itself when the loop stopped before getting to it)."""

    def __init__(self) -> None:
        self._claim = threading.Lock()
        self.done = threading.Event()
        self.results: list[_Outcome] | object | BaseException = _FAILED

    def run(self, vault: Vault, batch: list[_Job], savepoints: bool) -> None:
        if not self._claim.acquire(blocking=False):
            return
        try:
            self.results = _run_jobs(vault, batch, savepoints)
        except BaseException as e:  # handed back to the worker, which rolls back and answers everyone
            self.results = e
        finally:
            self.done.set()


def _run_on_loop(vault: Vault, batch: list[_Job], savepoints: bool) -> list[_Outcome] | object:
    """Runs the batch's jobs on the thread of the loop that awaits them, while this thread waits.

    Why (issue 17): a presentation's job lets the GIL go twice (signing, its INSERT) and each time must
    take it back from the event loop, busy with the other clients; on the worker those waits were most of
    a request's time under load. On the loop's own thread the job runs between that loop's callbacks, and
    the worker only begins and commits. The connection is still used by one thread at a time: this one
    waits until the loop is done with it."""
    loop = batch[0].future.get_loop()
    if any(job.future.get_loop() is not loop for job in batch):  # several loops (tests): run them here
        return _run_jobs(vault, batch, savepoints)
    lent = _Lent()
    try:
        loop.call_soon_threadsafe(lent.run, vault, batch, savepoints)
    except RuntimeError:  # that loop is closed: nobody waits for these any more
        lent.run(vault, batch, savepoints)
    while not lent.done.wait(LOAN_CHECK_SECONDS):
        if not loop.is_running():  # it stopped before running them: they run here (unless it just began)
            lent.run(vault, batch, savepoints)
    if isinstance(lent.results, BaseException):
        raise lent.results
    return lent.results


def locked() -> VaultLocked:
    return VaultLocked("the vault is locked", "unlock it from the extension or with: vault unlock")


def _settle(outcomes: list[_Outcome]) -> None:
    """Hands the outcomes to the loops that await them: one call_soon_threadsafe per loop (a wake-up of
    the loop, and a moment the worker lets the GIL go), not one per job."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].future.get_loop(), []).append(outcome)
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_set_outcomes, settled)
        except RuntimeError:  # that loop is closed: nobody waits for these any more
            log.debug("%d outcomes for a closed event loop dropped", len(settled))


def _set_outcomes(outcomes: list[_Outcome]) -> None:
    """On the awaiting loop: each future gets its result or error, unless its caller has gone (cancelled)."""
    for job, error, result in outcomes:
        if job.future.done():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)


def _served(vault: Vault) -> Vault:
    """SQLite checkpoints the WAL inside whichever commit crosses 1,000 pages: an fsync of the database
    file in some unlucky request's path. The daemon checkpoints from a background duty instead
    (Daemon.checkpoint_once). The request path's reads are kept in memory (vault.store.read_model), and
    the ledger head follows each appended row by a trigger (one statement per append, not two)."""
    vault.conn.execute("PRAGMA wal_autocheckpoint = 0")
    vault.reads = ReadModel(vault.conn)
    let_head_follow(vault.conn)
    return vault
