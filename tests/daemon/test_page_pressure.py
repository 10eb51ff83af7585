"""What a hostile page can make the daemon hold: a real `vault serve`, requests as the extension relays
them, and the daemon's resident memory and the vault's rows measured before and after.

A page can loop `personalVault.request()` with no user interaction; each loop reaches the daemon with a
manifest of up to 64 KiB that the page's own site chose. Whatever it sends, the daemon must stay flat."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.daemon.support import EXAMPLE_MANIFEST, DaemonProcess, make_vault
from tests.support import NOW, PASSPHRASE
from vault.daemon.client import DaemonClient
from vault.site import make_nonce
from vault.store import Vault

pytestmark = pytest.mark.slow
ORIGIN = "https://shop.example"
CLIENTS = 4  # calls in flight, as a page keeps them


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def invalid_manifest(size: int = 60_000) -> str:
    """The right origin, about `size` bytes, and invalid (a member the spec does not define)."""
    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    manifest["padding"] = "x" * size
    return json.dumps(manifest)


def distinct_manifest(i: int, size: int = 58_000) -> str:
    """Valid, about `size` bytes (extra purposes with long descriptions), and different every time."""
    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    template = manifest["purposes"][0]
    while len(json.dumps(manifest)) < size - 2500:
        n = len(manifest["purposes"])
        filler = {"id": f"filler-{n}", "description": f"{i} " + "y" * 1990}
        manifest["purposes"].append({**template, **filler})
    return json.dumps(manifest)


def hammer(clients: list[DaemonClient], manifests, count: int) -> list[int]:
    """`count` requests, one thread per client (a client is one connection, used by one thread)."""

    def run(client: DaemonClient, numbers: range) -> list[int]:
        statuses = []
        for i in numbers:
            request = {"origin": ORIGIN, "manifest": manifests(i), "purpose": "recommendations"}
            status, _ = client.request_json("POST", "/v1/presentations", {**request, "nonce": make_nonce()})
            statuses.append(status)
        return statuses

    with ThreadPoolExecutor(len(clients)) as pool:
        done = [pool.submit(run, c, range(n, count, len(clients))) for n, c in enumerate(clients)]
        return [status for future in done for status in future.result()]


@pytest.fixture
def daemon(vault_home: Path):
    with DaemonProcess(make_vault(vault_home)) as daemon:
        yield daemon


@pytest.fixture
def clients(daemon: DaemonProcess):
    token_client = daemon.paired_client()
    token = token_client.headers
    made = [DaemonClient(daemon.socket, headers=token) for _ in range(CLIENTS)]
    yield made
    for client in [*made, token_client]:
        client.close()


def test_one_invalid_manifest_repeated_leaves_memory_flat(daemon, clients) -> None:
    text = invalid_manifest()
    assert set(hammer(clients, lambda i: text, 100)) == {400}  # warm-up: caches, allocator
    before = rss_bytes(daemon.proc.pid)
    assert set(hammer(clients, lambda i: text, 1000)) == {400}
    grown = rss_bytes(daemon.proc.pid) - before
    print(f"RSS before {before / 2**20:.1f} MiB, grew {grown / 2**20:.1f} MiB over 1,000 requests")
    # The leak kept every request's body and frames (60 KB and more each: over 60 MiB here).
    assert grown < 12 * 2**20


def test_distinct_manifests_are_bounded_by_the_caches(daemon, clients) -> None:
    """A site (or many) serving a new 60 KB manifest every time: the daemon's caches hold a bounded
    number of them, and the vault stores none of them until the user is involved."""
    assert set(hammer(clients, lambda i: distinct_manifest(i), 300)) == {200}
    before = rss_bytes(daemon.proc.pid)
    assert set(hammer(clients, lambda i: distinct_manifest(10_000 + i), 1000)) == {200}
    grown = rss_bytes(daemon.proc.pid) - before
    print(f"RSS before {before / 2**20:.1f} MiB, grew {grown / 2**20:.1f} MiB over 1,000 new manifests")
    assert grown < 24 * 2**20
    daemon.stop()
    with Vault.open(daemon.home, PASSPHRASE, now=NOW) as vault:
        pending = vault.conn.execute("SELECT count(*) FROM prompts WHERE state = 'pending'").fetchone()[0]
        total = vault.conn.execute("SELECT count(*) FROM prompts").fetchone()[0]
        sites = vault.conn.execute("SELECT count(*) FROM sites").fetchone()[0]
    print(f"prompts kept: {total} ({pending} pending); sites stored: {sites}")
    assert pending <= 8 and total <= 8  # each asked for a prompt; only the newest few are kept
    assert sites == 0  # nobody answered: nothing about this site is remembered
