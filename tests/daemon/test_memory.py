"""The daemon gives memory back once idle after load (vault.daemon.memory): SQLite's page cache on the
worker's connection cut to its hot pages (on the worker thread) and the allocator's free pages, once per
idle period, never while the vault is in use; and a real `vault serve` process is seen to shrink after a
burst."""

from __future__ import annotations

import ctypes
import threading
import time
from pathlib import Path

import pytest
import sqlcipher3._sqlite3

from tests.daemon.support import EXAMPLE_MANIFEST, DaemonProcess, ask, make_vault, remember_consent
from tests.support import NOW, PASSPHRASE
from vault.daemon import memory
from vault.daemon.memory import MALLOC_TRIM, RELEASE_AFTER_IDLE, IdleRelease, shrink_cache
from vault.daemon.worker import VaultWorker
from vault.site import make_nonce
from vault.store import Vault

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


class RecordingTrim:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def __call__(self) -> None:
        self.threads.append(threading.current_thread().name)


def sqlite_memory_used() -> int:
    """Bytes SQLite holds in this process, all connections together (its own counter)."""
    used = ctypes.CDLL(sqlcipher3._sqlite3.__file__).sqlite3_memory_used
    used.restype = ctypes.c_int64
    return used()


def test_shrink_cache_keeps_only_the_hot_pages(vault_home: Path) -> None:
    make_vault(vault_home)
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        size = vault.conn.execute("PRAGMA cache_size").fetchone()[0]
        vault.conn.execute("CREATE TABLE scratch (data BLOB)")
        vault.conn.executemany("INSERT INTO scratch VALUES (?)", [(bytes(1000),)] * 3000)
        vault.conn.execute("SELECT sum(length(data)) FROM scratch").fetchone()  # ~3 MB of pages cached
        before = sqlite_memory_used()
        shrink_cache(vault, keep_kib=256)
        after = sqlite_memory_used()
        assert before - after > 2_000_000, (before, after)
        assert vault.conn.execute("PRAGMA cache_size").fetchone()[0] == size  # the load may fill it again
        assert vault.conn.execute("SELECT count(*) FROM scratch").fetchone() == (3000,)  # still served


def test_malloc_trim_is_found_on_glibc_and_runs() -> None:
    if not Path("/lib/x86_64-linux-gnu/libc.so.6").exists() and not Path("/lib64/libc.so.6").exists():
        pytest.skip("not a glibc system: there is nothing to trim with, and nothing is tried")
    assert MALLOC_TRIM is not None
    MALLOC_TRIM()


class RecordingShrink:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def __call__(self, vault: Vault) -> None:
        self.threads.append(threading.current_thread().name)
        shrink_cache(vault)


async def test_released_once_per_idle_period(vault_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_vault(vault_home)
    clock, trim, shrink = Clock(), RecordingTrim(), RecordingShrink()
    monkeypatch.setattr(memory, "shrink_cache", shrink)
    worker = VaultWorker(vault_home, clock=clock, vault=Vault.open(vault_home, PASSPHRASE, now=NOW))
    idle = IdleRelease(worker, clock, trim=trim)
    try:
        assert await idle.release_if_idle() is False  # just used (started)
        clock.now += RELEASE_AFTER_IDLE - 1
        assert await idle.release_if_idle() is False  # not idle long enough
        clock.now += 1
        assert await idle.release_if_idle() is True
        assert shrink.threads == ["vault-worker"]  # the connection's own thread, between jobs
        assert len(trim.threads) == 1 and trim.threads[0] != "vault-worker"  # requests need not wait
        clock.now += 600
        assert await idle.release_if_idle() is False  # nothing used since: nothing to give back
        await worker.call(lambda vault: vault.conn.execute("SELECT 1").fetchone())  # a request: use
        assert await idle.release_if_idle() is False  # in use: never during load
        clock.now += RELEASE_AFTER_IDLE
        assert await idle.release_if_idle() is True
        await worker.call(lambda vault: None, touch=False)  # a status poll or a duty is not use
        assert await idle.release_if_idle() is False
        assert worker.last_used == clock.now - RELEASE_AFTER_IDLE  # and the release was not use either
        assert idle.releases == 2 and len(shrink.threads) == 2 and len(trim.threads) == 2
    finally:
        worker.stop()


async def test_locking_frees_the_connection_and_is_followed_by_a_trim(vault_home: Path) -> None:
    make_vault(vault_home)
    clock, trim = Clock(), RecordingTrim()
    worker = VaultWorker(vault_home, clock=clock, vault=Vault.open(vault_home, PASSPHRASE, now=NOW))
    idle = IdleRelease(worker, clock, trim=trim)
    try:
        clock.now += RELEASE_AFTER_IDLE
        assert await idle.release_if_idle() is True
        assert await worker.lock() is True
        assert await idle.release_if_idle() is True  # locked: no connection to cut, still a trim
        assert len(trim.threads) == 2
        assert await idle.release_if_idle() is False
    finally:
        worker.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the daemon's RSS from /proc")
def test_a_real_daemon_gives_its_cache_back_when_idle_after_load(vault_home: Path) -> None:
    """2,000 presentations fill the worker's page cache with the ledger's new pages (~2.4 MiB); idle, the
    daemon gives most of it back (without the release its resident memory stays where the load left it)."""
    make_vault(vault_home)
    manifest = EXAMPLE_MANIFEST.read_text()
    with DaemonProcess(vault_home) as daemon, daemon.paired_client() as client:
        assert daemon.proc is not None
        remember_consent(client, manifest, make_nonce())
        for _ in range(2000):
            status, body = ask(client, manifest, make_nonce())
            assert status == 200 and body["outcome"] == "granted", body
        loaded = rss_kib(daemon.proc.pid)  # the release needs RELEASE_AFTER_IDLE s: it cannot have run
        deadline = time.monotonic() + 20
        while (idle := rss_kib(daemon.proc.pid)) > loaded - 1024 and time.monotonic() < deadline:
            time.sleep(0.25)
        assert loaded - idle > 1024, f"resident {loaded} KiB after the load, still {idle} KiB idle"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the daemon's RSS from /proc")
def test_a_second_unlock_does_not_keep_the_key_derivations_memory(vault_home: Path) -> None:
    """Argon2id takes 19 MiB with the KDF of these vaults. Unlocking again after a lock ran it on the
    worker, and glibc's raised thresholds kept those 19 MiB in the worker's arena (the daemon's RSS up by
    that much for good); with fixed thresholds they are unmapped when freed."""
    make_vault(vault_home)
    with DaemonProcess(vault_home) as daemon, daemon.paired_client() as client:
        assert daemon.proc is not None
        time.sleep(RELEASE_AFTER_IDLE + 3)  # idle: past the first release
        before = rss_kib(daemon.proc.pid)
        for _ in range(2):
            assert client.request_json("POST", "/v1/lock")[0] == 200
            status, body = client.request_json("POST", "/v1/unlock", {"passphrase": PASSPHRASE})
            assert status == 200 and body["locked"] is False, body
        time.sleep(0.5)
        after = rss_kib(daemon.proc.pid)
        assert after - before < 8 * 1024, f"resident {before} KiB before, {after} KiB after unlocking again"
