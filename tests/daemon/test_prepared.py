"""Presentations signed ahead of their turn (vault.consent.prepared): the token the job issues is the
prepared one only when nothing changed since it was made; after any write the read model would have seen
(through the daemon, alone or in the same batch, by another connection, by another process) the job
works the request out again, and what it answers is what it would have answered without preparing."""

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.consent.test_service import new_id
from tests.daemon.test_read_model import (
    CLI_WRITE,
    GRANTED,
    MANIFEST,
    ORIGIN,
    WRITES,
    check_seen,
    consented_worker,
    new_size,
    revoked,
    warm,
)
from tests.support import NOW
from vault.consent import ledger
from vault.consent.prepared import Prepared, prepare_presentation
from vault.consent.service import request_presentation
from vault.daemon.worker import VaultWorker
from vault.site import make_nonce
from vault.store import Vault

pytestmark = pytest.mark.anyio
WHEN = NOW + 10


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def worker(vault_home: Path):
    async with consented_worker(vault_home) as worker:
        yield worker


def prepare(vault: Vault, nonce: str) -> Prepared | None:
    """As the daemon's event loop prepares a request: on this thread, from memory."""
    return prepare_presentation(
        vault,
        manifest=MANIFEST,
        audience=ORIGIN,
        purpose_id="recommendations",
        nonce=nonce,
        now=WHEN,
        jti="prepared-" + "j" * 16,
    )


def request(nonce: str, prepared: Prepared | None) -> Callable[[Vault], Any]:
    return lambda v: request_presentation(
        v,
        prepared=prepared,
        manifest=MANIFEST,
        audience=ORIGIN,
        purpose_id="recommendations",
        nonce=nonce,
        now=WHEN,
        new_id=new_id,
    )


async def prepared_now(worker: VaultWorker) -> tuple[str, Prepared]:
    """A nonce and its request prepared with the model warm (no job runs meanwhile)."""
    vault: Vault = await worker.call(lambda v: v)
    nonce = make_nonce()
    prepared = prepare(vault, nonce)
    assert prepared is not None
    return nonce, prepared


def check_dropped(write: Callable[[Vault], None], before: Any, after: Any, prepared: Prepared) -> None:
    """After `write`, the answer is what it would have been without preparing, and not the prepared one."""
    check_seen(write, before, after)
    assert getattr(after, "jti", None) != prepared.issued.jti


async def test_the_prepared_token_is_the_one_recorded_and_issued_when_nothing_changed(
    worker: VaultWorker,
) -> None:
    before = await warm(worker)
    nonce, prepared = await prepared_now(worker)
    outcome = await worker.call(request(nonce, prepared), batch=True)
    assert outcome.outcome == "granted" and outcome.claims == GRANTED
    assert (outcome.jti, outcome.token) == (prepared.issued.jti, prepared.issued.token)
    assert outcome.token.split(".")[1] != before.token.split(".")[1]
    last = await worker.call(lambda v: list(ledger.entries(v, kinds=("disclosure",), newest=1)))
    assert last[0].ref == prepared.issued.jti  # recorded before it was returned, in the same batch


async def test_another_request_does_not_take_a_prepared_token(worker: VaultWorker) -> None:
    await warm(worker)
    _, prepared = await prepared_now(worker)
    outcome = await worker.call(request(make_nonce(), prepared), batch=True)
    assert outcome.outcome == "granted" and outcome.jti != prepared.issued.jti


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
async def test_a_write_through_the_daemon_drops_what_was_prepared(worker: VaultWorker, write) -> None:
    before = await warm(worker)
    nonce, prepared = await prepared_now(worker)
    await worker.call(write)
    after = await worker.call(request(nonce, prepared), batch=True)
    check_dropped(write, before, after, prepared)


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
async def test_a_write_earlier_in_the_batch_drops_what_was_prepared(worker: VaultWorker, write) -> None:
    before = await warm(worker)
    nonce, prepared = await prepared_now(worker)
    release = threading.Event()
    blocker = asyncio.create_task(worker.call(lambda v: release.wait(10)))
    await asyncio.sleep(0.05)
    jobs = [asyncio.create_task(worker.call(job, batch=True)) for job in (write, request(nonce, prepared))]
    await asyncio.sleep(0.05)
    batches = worker.batches
    release.set()
    await blocker
    _, after = await asyncio.gather(*jobs)
    assert worker.batches == batches + 1  # both in one transaction
    check_dropped(write, before, after, prepared)


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
async def test_a_commit_by_another_connection_drops_what_was_prepared(worker: VaultWorker, write) -> None:
    before = await warm(worker)
    nonce, prepared = await prepared_now(worker)
    other: Vault = await worker.call(lambda v: v.another_connection())
    try:
        write(other)
    finally:
        other.close()
    after = await worker.call(request(nonce, prepared), batch=True)
    check_dropped(write, before, after, prepared)


@pytest.mark.parametrize("write", [new_size, revoked], ids=lambda w: w.__name__)
async def test_a_commit_by_another_process_drops_what_was_prepared(
    worker: VaultWorker, vault_home: Path, write
) -> None:
    before = await warm(worker)
    nonce, prepared = await prepared_now(worker)
    key: bytes = await worker.call(lambda v: v.database_key)
    subprocess.run(
        [sys.executable, "-c", CLI_WRITE, str(vault_home), key.hex(), write.__name__],
        check=True,
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    after = await worker.call(request(nonce, prepared), batch=True)
    check_dropped(write, before, after, prepared)


class NoConnection:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a prepared presentation used the connection ({name})")


async def test_preparing_reads_memory_alone_and_gives_up_without_the_grant(worker: VaultWorker) -> None:
    vault: Vault = await worker.call(lambda v: v)
    # A write (of the same value): the model forgot everything, so there is nothing to prepare from.
    await worker.call(lambda v: v.set_attribute("sizes.shoe", 42, now=NOW))
    assert prepare(vault, make_nonce()) is None
    await warm(worker)
    connection, vault.conn = vault.conn, NoConnection()  # the worker is idle: nobody else uses it now
    try:
        assert prepare(vault, make_nonce()) is not None
        assert prepare(vault, "too-short") is None  # the job refuses it, in its turn
    finally:
        vault.conn = connection


async def test_the_worker_prepares_only_while_busy_and_unlocked(worker: VaultWorker) -> None:
    assert worker.prepare(lambda v: "made") is None  # idle: the job would run at once
    release = threading.Event()
    blocker = asyncio.create_task(worker.call(lambda v: release.wait(10)))
    await asyncio.sleep(0.05)
    assert worker.prepare(lambda v: "made") == "made"
    release.set()
    await blocker
    await worker.lock()
    release.clear()
    blocker = asyncio.create_task(worker.call(lambda v: release.wait(10)))
    await asyncio.sleep(0.05)
    assert worker.prepare(lambda v: "made") is None  # locked
    release.set()
    with pytest.raises(Exception, match="locked"):
        await blocker
