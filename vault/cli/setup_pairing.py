"""`vault setup`'s last steps: the report it prints, a daemon for the pairing step, and the pairing itself.

The pairing needs a daemon serving this vault on the socket the native host will use. When the user
service runs one, setup uses it; otherwise setup starts `vault serve` in the background for the pairing
only and stops it afterwards. Approved pairings live beside the vault (paired-clients.json), so they
outlast that daemon.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import msgspec

from vault.cli.daemon import call
from vault.daemon.lockfile import serving_pid
from vault.daemon.paths import admin_token_path
from vault.errors import VaultError

POLL_SECONDS = 0.5
PROGRESS_EVERY = 30  # seconds between "still waiting" lines, so a person sees it is alive
START_TIMEOUT = 30.0
LATER = "open the extension's popup, then run: vault pair approve CODE (vault pair list shows the codes)"


class Report:
    """One line per step for people; with --json one JSON object per line (JSON lines) for scripts."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.steps: dict[str, dict[str, Any]] = {}

    def step(self, step: str, status: str, message: str, **fields: Any) -> None:
        record = {"step": step, "status": status, "message": message, **fields}
        self.steps[step] = record
        if self.as_json:
            sys.stdout.buffer.write(msgspec.json.encode(record) + b"\n")
            sys.stdout.flush()
        else:
            click.echo(message)

    def say(self, message: str) -> None:
        """Extra text for people only (warnings, hints); scripts get the same facts in the step objects."""
        if not self.as_json:
            click.echo(message)

    def ask(self, question: str, **fields: Any) -> bool:
        """A yes/no question; no (the default) on an empty answer or end of input. Never assumes yes."""
        if self.as_json:
            self.step("pairing", "question", question, **fields)
            line = sys.stdin.readline()
            return line.strip().lower() in ("y", "yes")
        try:
            return click.confirm(question, default=False)
        except click.exceptions.Abort:
            click.echo()
            return False


def _wait_for_token(
    socket_path: Path, proc: subprocess.Popen | None, log: Path | None, timeout: float
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if admin_token_path(socket_path).exists() and socket_path.exists():
            return True
        if proc is not None and proc.poll() is not None:
            text = log.read_text(errors="replace").strip() if log else ""
            why = text.splitlines()[-1] if text else f"exit code {proc.returncode}"
            raise VaultError(
                f"the daemon for the pairing step stopped at start: {why}",
                "run `vault serve` yourself to see why, then run `vault setup` again",
            )
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def pairing_daemon(home: Path, socket_path: Path, passphrase: str | None, report: Report) -> Iterator[str]:
    """Yields how the daemon came to be ("running" or "started"); one that setup started is stopped after."""
    if serving_pid(home) is not None:
        if not _wait_for_token(socket_path, None, None, 15.0):
            raise VaultError(
                f"a daemon serves the vault at {home}, but not on {socket_path}",
                "pass that daemon's socket with --socket, or stop it and run `vault setup` again",
            )
        yield "running"
        return
    env = {k: v for k, v in os.environ.items() if k not in ("VAULT_PASSPHRASE", "VAULT_NEW_PASSPHRASE")}
    command = [sys.executable, "-m", "vault", "--vault", str(home), "serve", "--socket", str(socket_path)]
    if passphrase is None:
        command.append("--locked")
    else:
        # Only the child's environment holds it: readable by this user alone, gone when the child stops.
        env["VAULT_PASSPHRASE"] = passphrase
    with tempfile.NamedTemporaryFile(prefix="vault-setup-", suffix=".log") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        try:
            if not _wait_for_token(socket_path, proc, Path(log.name), START_TIMEOUT):
                raise VaultError(f"the daemon for the pairing step did not start in {START_TIMEOUT:.0f} s")
            report.say(
                f"Started the daemon for the pairing step ({'unlocked' if passphrase else 'locked'}); "
                "it stops when setup ends."
            )
            yield "started"
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def pair(socket_path: Path, timeout: int, report: Report) -> dict[str, Any] | None:
    """Waits for a pairing request, asks the person to compare codes, approves on yes. None: none approved."""
    listing = call(socket_path, "GET", "/v1/admin/pairings")
    already = [f"{c['name']} (id {c['id']})" for c in listing["clients"]]
    if already:
        report.say(f"Already paired: {', '.join(already)}. Waiting in case you want to pair another.")
    report.step(
        "pairing",
        "waiting",
        f"Waiting up to {timeout} s for the extension's pairing request: open the extension's popup "
        "(Ctrl-C to stop).",
        timeout=timeout,
        socket=str(socket_path),
        paired_before=len(already),
    )
    asked: set[str] = set()
    start = time.monotonic()
    next_progress = PROGRESS_EVERY
    while (elapsed := time.monotonic() - start) < timeout:
        pending = [
            p for p in call(socket_path, "GET", "/v1/admin/pairings")["pending"] if p["code"] not in asked
        ]
        if pending:
            request = pending[0]
            code = request["code"]
            asked.add(code)
            report.say(f'A pairing request from "{request["name"]}", with the code {code}.')
            question = f"Does the extension's popup show {code}?"
            if report.ask(question, code=code, name=request["name"]):
                client = call(socket_path, "POST", "/v1/admin/pairings/approve", {"code": code})
                report.step(
                    "pairing",
                    "paired",
                    f"Paired {client['name']} (id {client['id']}).",
                    client_id=client["id"],
                    name=client["name"],
                )
                return client
            report.step(
                "pairing",
                "refused",
                f"Not approved: {code} is ignored (it expires in 10 minutes). Waiting for the right one.",
                code=code,
            )
            continue
        if elapsed >= next_progress:
            report.say(f"Still waiting for the pairing request ({timeout - int(elapsed)} s left)...")
            next_progress += PROGRESS_EVERY
        time.sleep(POLL_SECONDS)
    report.step(
        "pairing",
        "timeout",
        f"No pairing request was approved in {timeout} s. To pair later: {LATER}.",
        timeout=timeout,
    )
    return None
