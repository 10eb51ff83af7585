"""Revocation notices from a real `vault serve` to real site processes on loopback (test mode): a site
that never answers holds up neither another site's notices nor the daemon's own duties (the idle
auto-lock closes every connection to the vault on time), and the log names no site unless asked to."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from tests.consent import revocation_site
from tests.consent.test_revocation import SITE_KEY, Site, disclose, jti, make_vault, manifest_for
from tests.daemon.support import DaemonProcess
from tests.support import PASSPHRASE
from vault.protocol.manifest import Manifest

pytestmark = pytest.mark.slow
IDLE_LOCK = 4  # seconds


class SiteProcess:
    """tests/consent/revocation_site.py on its own port, with its own log of what it received."""

    def __init__(self, directory: Path, site: Site, *, silent: bool = False) -> None:
        directory.mkdir()
        self.directory = directory
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.origin = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.manifest: Manifest = manifest_for(self.origin)
        self.site = site
        self.silent = silent
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        d = self.directory
        (d / "manifest.json").write_bytes(msgspec.json.encode(self.manifest))
        (d / "site-key").write_text(SITE_KEY.seed().hex())
        (d / "subjects.json").write_text(json.dumps(self.site.subjects))
        self.process = revocation_site.start(
            self.listener,
            d,
            *("--manifest", str(d / "manifest.json"), "--site-key-file", str(d / "site-key")),
            *("--subjects", str(d / "subjects.json"), "--log", str(d / "received.jsonl")),
            *(["--silent"] if self.silent else []),
        )

    def received(self) -> list[dict]:
        log = self.directory / "received.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
        self.listener.close()


@pytest.fixture
def sites(tmp_path: Path, vault_home: Path) -> Iterator[dict[str, SiteProcess]]:
    """A good site and a silent one, each holding presentations from the vault (the silent one two, for
    two purposes: two notices)."""
    made = {
        name: SiteProcess(tmp_path / name, Site(), silent=name == "silent") for name in ("good", "silent")
    }
    now = int(time.time())
    with make_vault(vault_home, now) as vault:
        disclose(vault, made["silent"].manifest, "recommendations", jti(1), site=made["silent"].site, now=now)
        disclose(vault, made["silent"].manifest, "age-check", jti(2), site=made["silent"].site, now=now)
        disclose(vault, made["good"].manifest, "recommendations", jti(3), site=made["good"].site, now=now)
    for site in made.values():
        site.start()
    yield made
    for site in made.values():
        site.stop()


def wait_for(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def vault_files_open(pid: int, home: Path) -> list[str]:
    """The daemon's open file descriptors on the vault's database (each connection holds some)."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(home / "vault.db")):
            found.append(target)
    return found


def test_a_silent_site_holds_up_neither_other_sites_nor_the_auto_lock(
    vault_home: Path, sites: dict[str, SiteProcess]
) -> None:
    good, silent = sites["good"], sites["silent"]
    args = ("--allow-loopback-http", "--idle-lock-seconds", str(IDLE_LOCK))
    with DaemonProcess(vault_home, args=args) as daemon, daemon.admin() as admin:
        status, revoked = admin.request_json("POST", "/v1/revocations", {"origin": silent.origin})
        assert status == 200 and len(revoked["notices"]) == 2
        wait_for(lambda: silent.received(), 10, "the silent site gets its first notice")
        hanging_since = time.monotonic()
        status, revoked = admin.request_json("POST", "/v1/revocations", {"origin": good.origin})
        assert status == 200 and len(revoked["notices"]) == 1
        last_use = time.monotonic()
        took = wait_for(lambda: good.received(), 8, "the good site's notice")
        assert good.received()[0]["outcome"] == "acknowledged"
        print(f"good site acknowledged {took:.2f} s after its revocation, while the silent one hangs")
        assert took < 3

        locked = lambda: admin.request_json("GET", "/v1/status")[1]["locked"]  # noqa: E731 (not use)
        wait_for(locked, IDLE_LOCK + 6, "the idle auto-lock")
        locked_after = time.monotonic() - last_use
        print(f"auto-locked {locked_after:.2f} s after the last use (idle lock {IDLE_LOCK} s)")
        assert IDLE_LOCK - 0.5 <= locked_after <= IDLE_LOCK + 3  # a duty runs every 2 s
        # Locked while the silent site still holds the notice (its POST would time out at 10 s) ...
        assert time.monotonic() - hanging_since < 10
        assert [r["outcome"] for r in silent.received()] == ["held"]
        # ... and the pass's own connection to the vault closes with the lock: no key stays open.
        closed = wait_for(lambda: not vault_files_open(daemon.proc.pid, vault_home), 2, "vault files closed")
        print(f"no vault file open {closed:.2f} s after the lock was seen")

        status, _ = admin.request_json("POST", "/v1/admin/unlock", {"passphrase": PASSPHRASE})
        assert status == 200
        status, outbox = admin.request_json("GET", "/v1/outbox")
        states = {(item["origin"], item["delivered_at"] is not None) for item in outbox}
        assert states == {(good.origin, True), (silent.origin, False)}, outbox


@pytest.mark.parametrize("level", ["info", "debug"])
def test_origins_appear_in_the_log_only_at_debug(
    vault_home: Path, sites: dict[str, SiteProcess], level: str
) -> None:
    good = sites["good"]
    args = ("--allow-loopback-http", *(["--log-level", "debug"] if level == "debug" else []))
    with DaemonProcess(vault_home, args=args) as daemon, daemon.admin() as admin:
        status, revoked = admin.request_json("POST", "/v1/revocations", {"origin": good.origin})
        assert status == 200
        (notice,) = revoked["notices"]
        wait_for(lambda: f"revocation notice {notice}: delivered" in daemon.log(), 10, "the delivery logged")
    log = daemon.log()
    assert notice in log
    host = good.origin.removeprefix("http://")
    assert (host in log) is (level == "debug"), log
