"""The vault worker: one thread, group commit, and a failing request that takes nothing else down."""

import asyncio
import contextlib
import threading
from pathlib import Path

import pytest

from tests.daemon.support import make_vault
from tests.support import NOW, PASSPHRASE
from vault.consent import ledger
from vault.daemon.worker import VaultWorker
from vault.errors import VaultLocked
from vault.store import Vault

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def worker(vault_home: Path):
    make_vault(vault_home)
    worker = VaultWorker(vault_home, clock=lambda: NOW, vault=Vault.open(vault_home, PASSPHRASE, now=NOW))
    yield worker
    worker.stop()


def record(n: int):
    def job(vault: Vault) -> int:
        with vault.transaction() as conn:
            return ledger.append(conn, at=NOW, kind="consent", body={"n": n})

    return job


async def test_concurrent_jobs_commit_together(worker: VaultWorker, vault_home: Path) -> None:
    seqs = await asyncio.gather(*(worker.call(record(n), batch=True) for n in range(64)))
    assert sorted(seqs) == list(range(1, 65))
    assert worker.batches < 64  # jobs that queued while a commit ran shared the next one
    await worker.lock()
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        assert ledger.verify(vault).ok and ledger.verify(vault).entries == 64


async def test_a_failing_job_rolls_back_alone(worker: VaultWorker) -> None:
    def fails(vault: Vault) -> None:
        ledger.append(vault.conn, at=NOW, kind="consent", body={"n": "lost"})
        raise ValueError("boom")

    jobs = [worker.call(record(n), batch=True) for n in range(10)]
    jobs.insert(5, worker.call(fails, batch=True))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert [type(r) for r in results].count(ValueError) == 1
    entries = await worker.call(lambda v: [e.body["n"] for e in ledger.entries(v)])
    assert sorted(entries) == list(range(10))


async def test_locked_worker_refuses_and_lock_waits_for_queued_jobs(worker: VaultWorker) -> None:
    queued = [asyncio.create_task(worker.call(record(n), batch=True)) for n in range(5)]
    await asyncio.sleep(0)  # the tasks run up to their first await: all five are queued
    assert await worker.lock() is True
    assert len(await asyncio.gather(*queued)) == 5
    with pytest.raises(VaultLocked):
        await worker.call(lambda v: v.attributes())
    assert await worker.lock() is False
    assert await worker.unlock(PASSPHRASE) is True
    assert (await worker.call(lambda v: v.attributes()))["country"] == "NL"


async def test_a_request_cancelled_while_queued_is_skipped(worker: VaultWorker) -> None:
    started = asyncio.Event()
    release = threading.Event()

    def slow(vault: Vault) -> None:
        started_loop.call_soon_threadsafe(started.set)
        release.wait(10)

    started_loop = asyncio.get_running_loop()
    blocker = asyncio.create_task(worker.call(slow))
    await started.wait()
    doomed = asyncio.create_task(worker.call(record(99), batch=True))
    await asyncio.sleep(0)
    doomed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await doomed
    await asyncio.sleep(0)  # the cancellation reaches the worker's own future
    release.set()
    await blocker
    # The worker is still alive, and the cancelled job never wrote anything.
    entries = await asyncio.wait_for(worker.call(lambda v: [e.body["n"] for e in ledger.entries(v)]), 10)
    assert entries == []
