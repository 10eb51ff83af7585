"""Everything `vault demo` sets up in one throw-away directory, and takes down again.

    <workdir>/vault/            the demo vault (a sample profile), unlocked by the daemon
    <workdir>/passphrase        its passphrase (random; printed with --keep)
    <workdir>/run/vault.sock    the daemon's socket (and its admin token beside it)
    <workdir>/chromium/         a fresh browser profile, with the native host installed into it
    <workdir>/partner-secret    the secret the shop and its analytics partner share (0600)
    <workdir>/*.log             what the daemon, the partner and the native host said

Processes (the daemon, the shop's analytics partner, a native host, Chromium) are started in their own
sessions and stopped by their own ids; `close()` stops them in reverse order and removes the directory
unless asked to keep it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vault.claims.attributes import lookup
from vault.claims.types import Context
from vault.daemon.client import HEADER_ADMIN, DaemonClient
from vault.daemon.install import InstallResult, install_browser
from vault.daemon.paths import admin_token_path
from vault.demo.chromium import extension_flags
from vault.demo.server import PartnerProcess, ShopThread, child_env, stop_process
from vault.errors import VaultError
from vault.store import Vault

SAMPLE_PROFILE = {
    "given_name": "Ada",
    "family_name": "Lovelace",
    "email": "ada@example.org",
    "birthdate": "1990-12-10",
    "country": "NL",
    "region": "Noord-Holland",
    "city": "Amsterdam",
    "postal_code": "1017 CT",
    "languages": "en-GB, nl",
    "interests": "trail running, jazz, board games",
    "sizes.shoe": "39.5",
    "sizes.clothing": "S",
    "diet": "vegetarian",
    "accessibility": "reduced-motion",
}
Progress = Callable[[str], None]


def _workdir() -> Path:
    # A Unix socket path must stay under 108 bytes: use /tmp when the usual temp dir is deep.
    base = tempfile.gettempdir()
    if len(base) > 40:
        base = "/tmp"  # noqa: S108
    return Path(tempfile.mkdtemp(prefix="vault-demo-", dir=base))


class DemoEnvironment:
    def __init__(self, progress: Progress, *, keep: bool = False) -> None:
        self.progress = progress
        self.keep = keep
        self.workdir = _workdir()
        self.home = self.workdir / "vault"
        self.passphrase = "demo-" + secrets.token_urlsafe(12)
        self.passphrase_file = self.workdir / "passphrase"
        self.socket = self.workdir / "run" / "vault.sock"
        self.profile_dir = self.workdir / "chromium"
        self.daemon: subprocess.Popen | None = None
        self.shop: ShopThread | None = None
        self.partner: PartnerProcess | None = None
        self._children: list[tuple[subprocess.Popen, bool]] = []  # (process, stop its whole group)
        self._approver_stop = threading.Event()

    # -- the vault and the daemon ---------------------------------------------------------------------

    def make_vault(self, now: int, context: Context) -> dict[str, Any]:
        fd = os.open(self.passphrase_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.passphrase + "\n")
        with Vault.create(self.home, self.passphrase, now=now) as vault:
            for name, text in SAMPLE_PROFILE.items():
                vault.set_attribute(name, lookup(name).from_text(text, context), now=now)
            profile = vault.attributes()
        self.progress(f"created a throw-away vault with a sample profile in {self.home}")
        return profile

    def start_daemon(self, timeout: float = 60.0) -> None:
        log = self.workdir / "daemon.log"
        command = [sys.executable, "-m", "vault", "--vault", str(self.home)]
        command += ["--passphrase-file", str(self.passphrase_file), "serve", "--socket", str(self.socket)]
        command += ["--allow-loopback-http", "--idle-lock", "0"]
        with log.open("ab") as out:
            self.daemon = self.spawn(command, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while "vault: serving" not in log.read_text(errors="replace"):
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise VaultError(f"the demo daemon did not start:\n{tail}", "see the log above")
            time.sleep(0.05)
        self.progress(f"started the daemon (pid {self.daemon.pid}) on {self.socket}")

    def admin(self) -> DaemonClient:
        token = admin_token_path(self.socket).read_text().strip()
        return DaemonClient(self.socket, headers={HEADER_ADMIN: token})

    def approve(self, code: str) -> dict[str, Any]:
        """Pair a client through the admin channel, as `vault pair approve CODE` does."""
        with self.admin() as admin:
            status, body = admin.request_json("POST", "/v1/admin/pairings/approve", {"code": code})
        if status != 200:
            raise VaultError(f"could not approve the demo pairing: {body}")
        return body

    def approve_pairings_automatically(self, interval: float = 0.5) -> None:
        """Browser mode: approve whatever asks to pair (the demo vault is throw-away, so this is safe
        here and nowhere else)."""

        def loop() -> None:
            while not self._approver_stop.wait(interval):
                with contextlib.suppress(Exception), self.admin() as admin:
                    _, pairings = admin.request_json("GET", "/v1/admin/pairings")
                    for pending in pairings["pending"]:
                        self.approve(pending["code"])
                        self.progress(f"paired {pending['name']!r} automatically (throw-away demo vault)")

        threading.Thread(target=loop, name="demo-pairing", daemon=True).start()

    # -- the shop, the native host, the browser ------------------------------------------------------

    def start_partner(self) -> PartnerProcess:
        """The shop's analytics partner, Demo Analytics: a process of its own, on its own port."""
        self.partner = PartnerProcess(self.workdir, self.spawn).start()
        assert self.partner.proc is not None
        pid, url = self.partner.proc.pid, self.partner.url
        self.progress(f"started the shop's analytics partner, Demo Analytics (pid {pid}), on {url}")
        return self.partner

    def start_shop(self) -> ShopThread:
        """The shop, passing claims on to the partner when it runs (start_partner() first)."""
        partners = (self.partner.link,) if self.partner is not None else ()
        self.shop = ShopThread(partners=partners)  # kept before it starts: close() stops it whatever happens
        self.shop.start()
        self.progress(f"started the demo shop on {self.shop.url}")
        return self.shop

    def install_native_host(self) -> InstallResult:
        installed = install_browser(
            "chromium", profile=self.profile_dir, socket_path=self.socket, home=self.workdir / "home"
        )
        self.progress(f"installed the native host for a fresh browser profile: {installed.manifest}")
        return installed

    def open_browser(self, chromium: str, extension: Path, url: str) -> subprocess.Popen:
        command = [
            chromium,
            f"--user-data-dir={self.profile_dir}",
            *extension_flags(extension),
            "--disable-features=DisableLoadExtensionCommandLineSwitch",
            "--no-first-run",
            "--no-default-browser-check",
        ]
        if os.geteuid() == 0:
            command.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        command.append(url)
        with (self.workdir / "chromium.log").open("ab") as out:
            proc = self.spawn(command, stdout=out, stderr=out, group=True)
        self.progress(f"opened Chromium (pid {proc.pid}) with the extension on {url}")
        return proc

    def spawn(self, command: list[str], *, group: bool = False, **options: Any) -> subprocess.Popen:
        """Start a child in its own session (Ctrl-C reaches us, and we stop it in order)."""
        proc = subprocess.Popen(
            command, stdin=options.pop("stdin", subprocess.DEVNULL), env=child_env(), start_new_session=True,
            **options,
        )  # fmt: skip
        self._children.append((proc, group))
        return proc

    def log_tail(self, name: str, lines: int = 3) -> str:
        try:
            text = (self.workdir / name).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " / ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    # -- taking it down ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every child and the shop, and remove the directory (unless kept). Safe to call twice."""
        self._approver_stop.set()
        for proc, group in reversed(self._children):
            with contextlib.suppress(Exception):
                stop_process(proc, group=group)
        self._children.clear()
        if self.shop is not None:
            self.shop.stop()
            self.shop = None
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> DemoEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
