"""The vault worker: one thread, group commit, and a failing request that takes nothing else down."""

import asyncio
import contextlib
import threading
import time
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


@pytest.mark.parametrize("rerun_safe", [False, True])
async def test_a_failing_job_rolls_back_alone(worker: VaultWorker, rerun_safe: bool) -> None:
    def fails(vault: Vault) -> None:
        ledger.append(vault.conn, at=NOW, kind="consent", body={"n": "lost"})
        raise ValueError("boom")

    jobs = [worker.call(record(n), batch=True, rerun_safe=rerun_safe) for n in range(10)]
    jobs.insert(5, worker.call(fails, batch=True, rerun_safe=rerun_safe))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert [type(r) for r in results].count(ValueError) == 1
    entries = await worker.call(lambda v: [e.body["n"] for e in ledger.entries(v)])
    assert sorted(entries) == list(range(10))
    # Each job's answer is the one of the run that committed (a rerun gives the others other seqs).
    assert sorted(r for r in results if isinstance(r, int)) == list(range(1, 11))


def append(n: int):
    """A job writing through the worker's connection directly (record's own savepoint would be traced)."""

    def job(vault: Vault) -> int:
        return ledger.append(vault.conn, at=NOW, kind="consent", body={"n": n})

    return job


async def queued_together(worker: VaultWorker, jobs: list, *, rerun_safe: bool | list[bool]) -> list:
    """Runs the jobs as one batch: queued while the worker is held by a job run alone."""
    flags = rerun_safe if isinstance(rerun_safe, list) else [rerun_safe] * len(jobs)
    release = threading.Event()
    blocker = asyncio.create_task(worker.call(lambda v: release.wait(10)))
    await asyncio.sleep(0.05)
    tasks = [
        asyncio.create_task(worker.call(job, batch=True, rerun_safe=flag))
        for job, flag in zip(jobs, flags, strict=True)
    ]
    await asyncio.sleep(0.05)
    release.set()
    await blocker
    return await asyncio.gather(*tasks, return_exceptions=True)


def traced(worker: VaultWorker, statements: list[str]) -> None:
    def trace(vault: Vault) -> None:
        vault.conn.set_trace_callback(statements.append)

    return worker.call(trace)


async def test_rerun_safe_jobs_share_the_transaction_without_savepoints(worker: VaultWorker) -> None:
    """A job failing before it writes is answered its error; the batch commits once, with no savepoint."""

    def fails_before_writing(vault: Vault) -> None:
        vault.conn.execute("SELECT count(*) FROM ledger").fetchone()
        raise ValueError("nothing written")

    statements: list[str] = []
    await traced(worker, statements)
    batches = worker.batches
    results = await queued_together(worker, [append(1), fails_before_writing, append(2)], rerun_safe=True)
    assert isinstance(results[1], ValueError) and results[0] == 1 and results[2] == 2
    assert worker.batches == batches + 1 and worker.reruns == 0
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]


async def test_a_rerun_safe_job_failing_after_writing_runs_the_batch_again_in_savepoints(
    worker: VaultWorker,
) -> None:
    runs: list[int] = []

    def counted(n: int):
        def job(vault: Vault) -> int:
            runs.append(n)
            return append(n)(vault)

        return job

    def fails_after_writing(vault: Vault) -> None:
        ledger.append(vault.conn, at=NOW, kind="consent", body={"n": "lost"})
        raise ValueError("after writing")

    statements: list[str] = []
    await traced(worker, statements)
    results = await queued_together(worker, [counted(1), fails_after_writing, counted(2)], rerun_safe=True)
    assert isinstance(results[1], ValueError) and results[0] == 1 and results[2] == 2
    assert worker.reruns == 1 and runs == [1, 1, 2]  # the first job ran again after the rollback
    assert [s for s in statements if s.upper().startswith("SAVEPOINT")]
    entries = await worker.call(lambda v: [e.body["n"] for e in ledger.entries(v)])
    assert entries == [1, 2]
    assert (await worker.call(lambda v: v.job_savepoint)) is False


async def test_a_batch_with_a_job_not_rerun_safe_keeps_its_savepoints(worker: VaultWorker) -> None:
    statements: list[str] = []
    await traced(worker, statements)
    batches = worker.batches
    assert await queued_together(worker, [append(1), append(2)], rerun_safe=[True, False]) == [1, 2]
    assert worker.batches == batches + 1
    assert len([s for s in statements if s.upper().startswith("SAVEPOINT")]) == 2


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


async def test_a_batch_is_answered_in_one_wake_up_of_the_loop(
    worker: VaultWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker hands a batch's outcomes, errors among them, to the awaiting loop in one callback."""
    loop = asyncio.get_running_loop()
    handed = 0
    call_soon_threadsafe = loop.call_soon_threadsafe

    def counted(*args: object) -> object:
        nonlocal handed
        handed += 1
        return call_soon_threadsafe(*args)

    def fails(vault: Vault) -> None:
        raise ValueError("nothing written")

    monkeypatch.setattr(loop, "call_soon_threadsafe", counted)
    batches = worker.batches
    jobs = [append(n) for n in range(1, 4)] + [fails] + [append(n) for n in range(4, 8)]
    results = await queued_together(worker, jobs, rerun_safe=True)
    assert results[:3] == [1, 2, 3] and isinstance(results[3], ValueError) and results[4:] == [4, 5, 6, 7]
    assert worker.batches == batches + 1
    # The job run alone that held the worker; then the batch: lent to the loop, and its answers.
    assert handed == 3


async def test_a_batch_runs_on_its_loops_thread_between_begin_and_commit(worker: VaultWorker) -> None:
    """The jobs of a batch run on the awaiting loop's thread (no GIL to take back from it), inside the
    transaction the worker began; a job queued behind the batch starts only after the batch committed."""
    statements: list[str] = []
    await traced(worker, statements)
    seen: list[tuple[str, int, bool]] = []

    def job(n: int):
        def run(vault: Vault) -> int:
            seen.append(("batch", threading.get_ident(), vault.conn.in_transaction))
            return append(n)(vault)

        return run

    def alone(vault: Vault) -> None:
        seen.append(("alone", threading.get_ident(), vault.conn.in_transaction))

    release = threading.Event()
    blocker = asyncio.create_task(worker.call(lambda v: release.wait(10)))
    await asyncio.sleep(0.05)
    batch = [asyncio.create_task(worker.call(job(n), batch=True, rerun_safe=True)) for n in (1, 2)]
    after = asyncio.create_task(worker.call(alone))
    await asyncio.sleep(0.05)
    release.set()
    assert await asyncio.gather(*batch) == [1, 2]
    await after
    await blocker
    loop_thread = threading.get_ident()
    assert seen[:2] == [("batch", loop_thread, True)] * 2
    assert seen[2][0] == "alone" and seen[2][1] != loop_thread and seen[2][2] is False
    assert [s for s in statements if s in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]


async def test_a_batch_waits_for_another_writer_on_the_worker_not_on_the_loop(
    worker: VaultWorker, vault_home: Path
) -> None:
    """Another connection (the CLI, a background duty) holds the write lock: the loop does not wait for
    it (this test's own loop must go on to let it go); the worker does, and the batch then commits."""
    other = Vault.open(vault_home, PASSPHRASE, now=NOW)
    try:
        other.conn.execute("BEGIN IMMEDIATE")
        job = asyncio.create_task(worker.call(append(1), batch=True, rerun_safe=True))
        started = time.monotonic()
        await asyncio.sleep(0.2)
        assert time.monotonic() - started < 2  # not blocked for the busy timeout (5 s)
        assert not job.done()
        other.conn.execute("COMMIT")
        assert await asyncio.wait_for(job, 10) == 1
    finally:
        other.close()


def test_a_batch_whose_loop_stopped_before_running_it_runs_on_the_worker(vault_home: Path) -> None:
    """No deadlock when the loop goes away with a batch lent to it: the worker runs and commits it."""
    make_vault(vault_home)
    worker = VaultWorker(vault_home, clock=lambda: NOW, vault=Vault.open(vault_home, PASSPHRASE, now=NOW))
    release = threading.Event()
    loop = asyncio.new_event_loop()

    async def queue_and_stop() -> list[asyncio.Future]:
        blocker = asyncio.ensure_future(worker.call(lambda v: release.wait(10)))
        await asyncio.sleep(0.05)
        batch = [asyncio.ensure_future(worker.call(append(n), batch=True, rerun_safe=True)) for n in (7, 8)]
        await asyncio.sleep(0.05)  # queued behind the blocker; the loop stops without awaiting them
        return [blocker, *batch]

    try:
        left_behind = loop.run_until_complete(queue_and_stop())
        release.set()
        worker.stop()  # returns once the batch ran (here, after LOAN_CHECK_SECONDS) and the vault closed
    finally:
        loop.close()
    assert not any(future.done() for future in left_behind)  # nobody ran the loop again
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        assert [e.body["n"] for e in ledger.entries(vault)] == [7, 8]
