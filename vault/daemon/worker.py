"""The one thread that touches the unlocked vault, and the lock around it.

SQLite connections are not for sharing between threads, and a commit that makes a disclosure durable
costs an fsync. So every request becomes a job on one thread. Jobs marked `batch` that queue up while the
thread is busy run together in one transaction, each in its own savepoint, and commit once: sixteen
concurrent presentations cost one fsync, not sixteen. A job's result is released only after that commit,
so a token never leaves the daemon before its ledger entry is on disk. Other jobs run alone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vault.errors import VaultLocked
from vault.store import Vault
from vault.store.database import savepoint
from vault.store.read_model import ReadModel

T = TypeVar("T")
Clock = Callable[[], int]
MAX_BATCH = 64
log = logging.getLogger("vault.daemon")


@dataclass
class _Job:
    run: Callable[[], Any]
    batch: bool = False
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


class VaultWorker:
    def __init__(self, home: Path, *, clock: Clock, vault: Vault | None = None) -> None:
        """`vault`: already unlocked (by `vault serve` at start), or None to start locked."""
        self.home = home
        self._clock = clock
        self._vault = _served(vault) if vault is not None else None
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="vault-worker", daemon=True)
        self._thread.start()
        self.last_used = clock()
        self.batches = 0  # how many group commits ran (for tests and the benchmark)

    @property
    def locked(self) -> bool:
        return self._vault is None

    async def call(self, fn: Callable[[Vault], T], *, batch: bool = False, touch: bool = True) -> T:
        """Runs fn(vault) on the worker thread. Raises VaultLocked when the vault is locked.

        `touch`: this counts as use (status polls and background duties do not keep the vault open)."""
        if touch:
            self.last_used = self._clock()
        return await self._submit(_Job(lambda: fn(self._open()), batch=batch))

    async def unlock(self, passphrase: str) -> bool:
        """Opens the vault (Argon2id: about a second, off the event loop). False if it was already open."""

        def open_vault() -> bool:
            if self._vault is not None:
                return False
            self._vault = _served(Vault.open(self.home, passphrase, now=self._clock()))
            return True

        self.last_used = self._clock()
        return await self._submit(_Job(open_vault))

    async def lock(self) -> bool:
        """Closes the vault after the jobs queued before this call. False if it was already locked."""
        return await self._submit(_Job(self._close))

    def _close(self) -> bool:
        if self._vault is None:
            return False
        vault, self._vault = self._vault, None
        vault.close()
        return True

    async def _submit(self, job: _Job) -> Any:
        self._queue.put(job)
        return await asyncio.wrap_future(job.future)

    def stop(self) -> None:
        """Finishes every queued job, closes the vault and ends the thread (graceful shutdown)."""
        self._queue.put(None)
        self._thread.join()

    # -- the worker thread ---------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            job = self._queue.get()
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
            batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
            if batch:
                self._run_batch(batch)
            if after is not None:
                self._run_alone(after)
        # Only reached from stop(): everything queued before it has run.
        self._close()

    def _run_alone(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            result = job.run()
        except BaseException as e:  # handed to the awaiting request, which maps it to a response
            job.future.set_exception(e)
        else:
            job.future.set_result(result)
        finally:
            # The read model serves batches only; a job run alone may have written what it keeps.
            if self._vault is not None and self._vault.reads is not None:
                self._vault.reads.end()

    def _run_batch(self, batch: list[_Job]) -> None:
        try:
            vault = self._open()
        except VaultLocked as e:
            for job in batch:
                job.future.set_exception(e)
            return
        results: list[tuple[_Job, BaseException | None, Any]] = []
        reads = vault.reads
        try:
            vault.conn.execute("BEGIN IMMEDIATE")
            if reads is not None:  # the write lock is held: nobody else can commit until we do
                reads.begin()
            for job in batch:
                try:
                    with savepoint(vault.conn):
                        vault.job_savepoint = True  # see Vault.transaction(lets_errors_out=True)
                        try:
                            results.append((job, None, job.run()))
                        finally:
                            vault.job_savepoint = False
                except Exception as e:  # this job's writes are rolled back; the others go on
                    results.append((job, e, None))
            vault.conn.execute("COMMIT")
        except BaseException as e:
            if vault.conn.in_transaction:
                vault.conn.execute("ROLLBACK")
            log.error("a batch of %d requests failed to commit: %s", len(batch), type(e).__name__)
            for job in batch:
                job.future.set_exception(e)
            return
        finally:
            if reads is not None:
                reads.end()
        self.batches += 1
        for job, error, result in results:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)

    def _open(self) -> Vault:
        if self._vault is None:
            raise VaultLocked("the vault is locked", "unlock it from the extension or with: vault unlock")
        return self._vault


def _served(vault: Vault) -> Vault:
    """SQLite checkpoints the WAL inside whichever commit crosses 1,000 pages: an fsync of the database
    file in some unlucky request's path. The daemon checkpoints from a background duty instead
    (Daemon.checkpoint_once). The request path's reads are kept in memory (vault.store.read_model)."""
    vault.conn.execute("PRAGMA wal_autocheckpoint = 0")
    vault.reads = ReadModel(vault.conn)
    return vault
