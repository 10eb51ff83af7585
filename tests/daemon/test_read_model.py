"""The worker's read model (vault.store.read_model): a value kept in memory is never one the vault no longer
holds. Every kind of write is seen by the very next request: through the daemon's own connection (alone or
inside a batch, whatever code path), by another connection or another process on the same vault file,
and a write that was rolled back leaves nothing behind."""

import asyncio
import contextlib
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.consent.test_service import SHARE_3, new_id, shop_manifest
from tests.daemon.support import make_vault
from tests.support import NOW, PASSPHRASE
from vault.consent.contexts import add_context, use_context
from vault.consent.evaluated import evaluated
from vault.consent.prepared import utc_today
from vault.consent.records import add_rule
from vault.consent.revocation import revoke
from vault.consent.service import decide_prompt, request_presentation
from vault.daemon.worker import VaultWorker
from vault.protocol.b64 import b64url_decode
from vault.site import make_nonce
from vault.store import Vault
from vault.store.read_model import MAX_VALUES, ReadModel

pytestmark = pytest.mark.anyio
MANIFEST = shop_manifest()
ORIGIN = MANIFEST.origin
GRANTED = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def worker(vault_home: Path):
    async with consented_worker(vault_home) as worker:
        yield worker


@contextlib.asynccontextmanager
async def consented_worker(vault_home: Path) -> AsyncIterator[VaultWorker]:
    """A worker on a new vault whose first request from the shop was answered "share 3, remember"."""
    make_vault(vault_home)
    worker = VaultWorker(vault_home, clock=lambda: NOW, vault=Vault.open(vault_home, PASSPHRASE, now=NOW))
    first = await present(worker)
    assert first.outcome == "consent_required"
    decided = await worker.call(
        lambda v: decide_prompt(v, first.prompt.id, SHARE_3, now=NOW, new_id=new_id), batch=True
    )
    assert decided.outcome == "granted"
    try:
        yield worker
    finally:
        worker.stop()


def request(now: int = NOW + 10) -> Callable[[Vault], Any]:
    nonce = make_nonce()
    return lambda v: request_presentation(
        v,
        manifest=MANIFEST,
        audience=ORIGIN,
        purpose_id="recommendations",
        nonce=nonce,
        now=now,
        new_id=new_id,
    )


async def present(worker: VaultWorker, now: int = NOW + 10) -> Any:
    return await worker.call(request(now), batch=True)


async def warm(worker: VaultWorker) -> Any:
    """Two requests: the first fills the model, the second must be answered from it alone."""
    await present(worker)
    reads: ReadModel = await worker.call(lambda v: v.reads)
    loads = reads.loads
    outcome = await present(worker)
    assert reads.loads == loads, "the model did not serve a repeated request: these tests would prove nothing"
    assert outcome.outcome == "granted" and outcome.claims == GRANTED
    return outcome


def subject(token: str) -> str:
    return msgspec.json.decode(b64url_decode(token.split(".")[1]))["sub"]


# Each write, and what the next request must show of it.
def new_size(v: Vault) -> None:
    v.set_attribute("sizes.shoe", 43, now=NOW)


def never_share_size(v: Vault) -> None:
    add_rule(v, "never", "sizes.shoe", now=NOW)


def revoked(v: Vault) -> None:
    revoke(v, ORIGIN, purpose_id="recommendations", now=NOW, new_id=new_id)


def another_context(v: Vault) -> None:
    add_context(v, "Work", now=NOW, new_id="work")
    use_context(v, "Work", now=NOW, origin=ORIGIN)


def new_epoch(v: Vault) -> None:
    v.bump_site_epoch(ORIGIN, now=NOW)


WRITES = [new_size, never_share_size, revoked, another_context, new_epoch]


def check_seen(write: Callable[[Vault], None], before: Any, after: Any) -> None:
    if write is new_size:
        assert after.outcome == "granted" and after.claims["sizes.shoe"] == 43
    elif write is never_share_size:  # optional: left out
        assert after.outcome == "granted" and "sizes.shoe" not in after.claims
    elif write is new_epoch:
        assert after.outcome == "granted" and subject(after.token) != subject(before.token)
    else:  # no decision left, a context without decisions
        assert after.outcome != "granted", write.__name__


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
async def test_a_write_through_the_daemon_alone_is_seen_next(worker: VaultWorker, write) -> None:
    before = await warm(worker)
    await worker.call(write)  # as the routes that change settings call it
    check_seen(write, before, await present(worker))


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
async def test_a_write_in_a_batch_is_seen_by_the_next_job_of_that_batch(worker: VaultWorker, write) -> None:
    before = await warm(worker)
    release = threading.Event()
    blocker = asyncio.create_task(worker.call(lambda v: release.wait(10)))
    await asyncio.sleep(0.05)
    jobs = [
        asyncio.create_task(worker.call(job, batch=True)) for job in (request(), write, request(), request())
    ]
    await asyncio.sleep(0.05)
    batches = worker.batches
    release.set()
    await blocker
    first, _, next_one, last = await asyncio.gather(*jobs)
    assert worker.batches == batches + 1  # all four ran in one transaction
    assert first.outcome == "granted" and first.claims == GRANTED
    check_seen(write, before, next_one)
    check_seen(write, before, last)
    check_seen(write, before, await present(worker))


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
async def test_a_write_on_another_connection_is_seen_next(worker: VaultWorker, write) -> None:
    before = await warm(worker)
    other: Vault = await worker.call(lambda v: v.another_connection())
    try:
        write(other)
    finally:
        other.close()
    check_seen(write, before, await present(worker))


CLI_WRITE = """
import sys
from pathlib import Path
from tests.daemon import test_read_model as t
from vault.store import Vault
with Vault.open_with_key(Path(sys.argv[1]), bytes.fromhex(sys.argv[2]), now=t.NOW) as vault:
    getattr(t, sys.argv[3])(vault)
"""


@pytest.mark.parametrize("write", [new_size, never_share_size, revoked], ids=lambda w: w.__name__)
async def test_a_write_by_another_process_is_seen_next(worker: VaultWorker, vault_home: Path, write) -> None:
    """As the command line writes while the daemon runs: opened with the key the daemon hands it."""
    before = await warm(worker)
    key: bytes = await worker.call(lambda v: v.database_key)
    subprocess.run(
        [sys.executable, "-c", CLI_WRITE, str(vault_home), key.hex(), write.__name__],
        check=True,
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    check_seen(write, before, await present(worker))


@pytest.mark.parametrize("batch", [True, False])
async def test_a_rolled_back_write_leaves_nothing_behind(worker: VaultWorker, batch: bool) -> None:
    await warm(worker)

    def writes_reads_then_fails(v: Vault) -> None:
        with v.transaction():
            new_size(v)
            never_share_size(v)
            assert v.attributes()["sizes.shoe"] == 43  # the job sees its own write...
            assert "sizes.shoe" not in request()(v).claims
            raise ValueError("boom")

    with pytest.raises(ValueError):
        await worker.call(writes_reads_then_fails, batch=batch)
    after = await present(worker)  # ...and nobody sees it after the rollback
    assert after.outcome == "granted" and after.claims == GRANTED


async def test_a_timed_choice_ends_on_time_with_the_model_warm(worker: VaultWorker) -> None:
    await worker.call(lambda v: add_context(v, "Work", now=NOW, new_id="work"))
    await worker.call(lambda v: use_context(v, "Work", now=NOW, origin=ORIGIN, seconds=60))
    assert (await present(worker, NOW + 10)).outcome == "consent_required"  # Work has no decisions
    assert (await present(worker, NOW + 59)).outcome == "consent_required"
    assert (await present(worker, NOW + 60)).outcome == "granted"  # back in Everyday
    assert (await present(worker, NOW + 61)).outcome == "granted"


async def test_a_kept_grant_ends_when_the_first_decision_it_rests_on_runs_out(worker: VaultWorker) -> None:
    """The policy's answer is kept with the model (vault.consent.evaluated) only until time alone could
    change it: a remembered decision that runs out is not applied a second later, the model warm."""
    first_end = "SELECT min(expires_at) FROM decisions WHERE revoked_at IS NULL"
    ends = await worker.call(lambda v: v.conn.execute(first_end).fetchone()[0])
    reads: ReadModel = await worker.call(lambda v: v.reads)
    assert (await present(worker, ends - 2)).outcome == "granted"
    loads = reads.loads
    assert (await present(worker, ends - 1)).outcome == "granted"
    assert reads.loads == loads  # answered from the model
    again = await present(worker, ends)
    assert again.outcome == "consent_required"
    assert {q.asked_because for q in again.prompt.questions} == {"expired"}


async def test_kept_grants_hand_out_copies(worker: VaultWorker) -> None:
    await warm(worker)

    def grant(v: Vault) -> Any:
        return evaluated(v, MANIFEST, ORIGIN, "recommendations", None, utc_today(NOW + 10), NOW + 10)[0]

    first = await worker.call(grant, batch=True)
    dropped = dict(first.dropped)
    first.claims["location.country"] = "DE"
    first.dropped["x"] = "y"
    second = await worker.call(grant, batch=True)
    assert second.claims == GRANTED and second.dropped == dropped


async def test_values_handed_out_are_copies(worker: VaultWorker) -> None:
    await warm(worker)

    def mutate(v: Vault) -> None:
        v.attributes()["interests"].append("techno")
        v.attributes()["country"] = "DE"

    await worker.call(mutate, batch=True)
    assert await worker.call(lambda v: v.attributes(), batch=True) == {
        "birthdate": "1990-05-17",
        "country": "NL",
        "sizes.shoe": 42,
        "interests": ["jazz"],
    }


def test_the_model_is_bounded_by_count(vault_home: Path) -> None:
    make_vault(vault_home)
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        reads = ReadModel(vault.conn)
        vault.conn.execute("BEGIN IMMEDIATE")
        reads.begin()
        for n in range(MAX_VALUES * 2 + 10):
            assert reads.get(("site_epoch", f"https://{n}.example"), lambda: 0) == 0
            assert len(reads._values) <= MAX_VALUES
        vault.conn.execute("COMMIT")
        reads.end()
        # Outside a batch the model keeps nothing and serves nothing.
        assert reads.get("x", lambda: 1) == 1 and reads.get("x", lambda: 2) == 2


@pytest.mark.parametrize("rerun_safe", [False, True])
async def test_a_request_failing_after_its_writes_leaves_nothing_in_its_batch(
    worker: VaultWorker, monkeypatch: pytest.MonkeyPatch, rerun_safe: bool
) -> None:
    """request_presentation writes inside the worker's own savepoint for the job (no second one), or, as
    the daemon runs it (rerun_safe), in no savepoint: a failure after its ledger entry and a changed
    stored manifest rolls both back, and only them."""
    from vault.consent import service

    await warm(worker)
    recorded = service.record_disclosure
    # A watched field: stored, and a site_changed entry in the ledger, before the disclosure's own entry.
    changed = msgspec.structs.replace(MANIFEST, revocation_endpoint=f"{ORIGIN}/other-revocations")

    def fails_after_writing(*args: Any, **kwargs: Any) -> int:
        recorded(*args, **kwargs)
        raise RuntimeError("after the ledger entry")

    def failing(v: Vault) -> Any:
        monkeypatch.setattr(service, "record_disclosure", fails_after_writing)
        try:
            return request_presentation(
                v, manifest=changed, audience=ORIGIN, purpose_id="recommendations", nonce=make_nonce(),
                now=NOW + 10, new_id=new_id,
            )  # fmt: skip
        finally:
            monkeypatch.setattr(service, "record_disclosure", recorded)

    def count(v: Vault) -> tuple:
        return v.conn.execute("SELECT count(*) FROM ledger").fetchone(), v.conn.execute(
            "SELECT manifest FROM sites WHERE origin = ?", (ORIGIN,)
        ).fetchone()

    before = await worker.call(count)
    release = threading.Event()
    blocker = asyncio.create_task(worker.call(lambda v: release.wait(10)))
    await asyncio.sleep(0.05)
    jobs = [
        asyncio.create_task(worker.call(job, batch=True, rerun_safe=rerun_safe))
        for job in (request(), failing, request())
    ]
    await asyncio.sleep(0.05)
    release.set()
    await blocker
    first, failed, last = await asyncio.gather(*jobs, return_exceptions=True)
    assert isinstance(failed, RuntimeError)
    assert first.outcome == "granted" and last.outcome == "granted"
    (entries,), manifest = await worker.call(count)
    assert entries == before[0][0] + 2 and manifest == before[1]
    assert (await worker.call(lambda v: v.job_savepoint)) is False
    assert worker.reruns == int(rerun_safe)


async def test_a_changed_manifest_is_seen_with_the_model_warm_which_keeps_only_its_digest(
    worker: VaultWorker,
) -> None:
    """The model keeps the stored manifest's digest (sites send up to 64 KiB), and a manifest that differs
    from it is stored and its watched change recorded, as without the model."""
    await warm(worker)
    reads: ReadModel = await worker.call(lambda v: v.reads)
    assert len(reads._values[("stored_manifest", ORIGIN)]) == 32
    changed = msgspec.structs.replace(MANIFEST, revocation_endpoint=f"{ORIGIN}/other-revocations")

    def ask(manifest: Any) -> Callable[[Vault], Any]:
        return lambda v: request_presentation(
            v, manifest=manifest, audience=ORIGIN, purpose_id="recommendations", nonce=make_nonce(),
            now=NOW + 10, new_id=new_id,
        )  # fmt: skip

    def changes(v: Vault) -> list[str]:
        rows = v.conn.execute("SELECT body FROM ledger WHERE kind = 'site_changed' ORDER BY seq")
        return [msgspec.json.decode(body)["after"] for (body,) in rows]

    assert (await worker.call(ask(changed), batch=True)).outcome == "granted"
    assert (await worker.call(ask(changed), batch=True)).outcome == "granted"  # stored once, not again
    assert (await worker.call(ask(MANIFEST), batch=True)).outcome == "granted"
    assert await worker.call(changes) == [changed.revocation_endpoint, MANIFEST.revocation_endpoint]
