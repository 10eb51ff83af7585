"""`vault setup` on a fresh HOME, run as a person or a script would: a real subprocess, a real daemon, and
the pairing request sent through the native host launcher that setup wrote, as the browser would start it.

The machine is made deterministic with a PATH holding only stand-ins: `chromium` and `firefox` programs
(setup detects browsers by their programs) and a `systemctl` that fails as it does in a container.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon.native_support import ORIGIN, Host
from tests.daemon.support import DaemonProcess, new_client_token, short_dir
from tests.support import PASSPHRASE
from vault.daemon.browser import EXTENSION_ID, GECKO_ID
from vault.daemon.client import HEADER_CLIENT, DaemonClient
from vault.daemon.lockfile import serving_pid
from vault.store import Vault

FAST = ("--kdf-time", "2", "--kdf-memory-mib", "19")


@dataclass
class Machine:
    root: Path
    env: dict[str, str]
    passphrase_file: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def vault(self) -> Path:
        return self.home / ".local" / "share" / "personal-vault"

    @property
    def chromium_manifest(self) -> Path:
        return self.home / ".config" / "chromium" / "NativeMessagingHosts" / "org.personal_vault.json"

    @property
    def firefox_manifest(self) -> Path:
        return self.home / ".mozilla" / "native-messaging-hosts" / "org.personal_vault.json"

    @property
    def unit(self) -> Path:
        return self.home / ".config" / "systemd" / "user" / "personal-vault.service"

    @property
    def socket(self) -> Path:
        return self.root / "run" / "vault" / "vault.sock"

    def command(self, *args: str, passphrase_file: bool = True) -> list[str]:
        given = ["--passphrase-file", str(self.passphrase_file)] if passphrase_file else []
        return [sys.executable, "-m", "vault", *given, "setup", *args]

    def run(self, *args: str, stdin: str = "", passphrase_file: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            self.command(*args, passphrase_file=passphrase_file),
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc


def fake_program(directory: Path, name: str, code: int) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\nexit {code}\n")
    path.chmod(0o755)


@pytest.fixture
def machine() -> Iterator[Machine]:
    root = short_dir()  # the socket lives under it: it must stay short
    try:
        (root / "bin").mkdir()
        (root / "home").mkdir()
        (root / "run").mkdir(mode=0o700)
        for name, code in (("chromium", 0), ("firefox", 0), ("systemctl", 1)):
            fake_program(root / "bin", name, code)
        passphrase_file = root / "passphrase"
        passphrase_file.write_text(PASSPHRASE + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "XDG_"))}
        env |= {
            "PATH": str(root / "bin"),
            "HOME": str(root / "home"),
            "XDG_CONFIG_HOME": str(root / "home" / ".config"),
            "XDG_RUNTIME_DIR": str(root / "run"),
        }
        yield Machine(root, env, passphrase_file)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def vault_fingerprint(home: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.iterdir()) if p.is_file()}


class Steps:
    """setup's JSON lines, read as they come (with a deadline, so a hang fails instead of blocking)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.seen: list[dict] = []

    def next(self, timeout: float = 60) -> dict:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no step in {timeout} s after {self.seen}"
        line = self.proc.stdout.readline()
        assert line, f"setup ended (code {self.proc.poll()}) after {self.seen}"
        self.seen.append(json.loads(line))
        return self.seen[-1]

    def until(self, step: str, status: str) -> dict:
        while True:
            record = self.next()
            if record["step"] == step and record["status"] == status:
                return record


def ask_to_pair(machine: Machine, token: str, name: str) -> dict:
    """What the extension does: through the launcher named in the host manifest, POST /v1/pairing."""
    launcher = json.loads(machine.chromium_manifest.read_text())["path"]
    host = Host([launcher, ORIGIN], machine.env, machine.root / f"host-{name}.err")
    try:
        reply = host.ask(
            {"id": 1, "method": "POST", "path": "/v1/pairing", "body": {"name": name}, "client": token}
        )
    finally:
        host.finish()
    assert reply["status"] == 200 and reply["body"]["state"] == "pending", reply
    return reply["body"]


def follow_setup(machine: Machine, proc: subprocess.Popen, service: str) -> tuple[str, str]:
    """Reads setup's steps, acts as the extension twice and answers as the person; the two client tokens."""
    steps = Steps(proc)
    created = steps.until("vault", "created")
    assert created["path"] == str(machine.vault) and "recover" in created["warning"]
    assert steps.next()["step"] == "backup"
    browsers = steps.next()
    assert [b["browser"] for b in browsers["browsers"]] == ["chromium", "firefox"]
    step = steps.next()
    assert step["step"] == "service" and step["status"] == service, step
    assert step["started"] is (service == "started")
    assert ("not available" if service == "written" else "starts locked") in step["message"]
    steps.until("pairing", "waiting")

    # A request the person does not recognise: "no" leaves it unpaired and setup keeps waiting.
    stranger, person = new_client_token(), new_client_token()
    wrong = ask_to_pair(machine, stranger, "someone else")
    question = steps.until("pairing", "question")
    assert question["code"] == wrong["code"] and wrong["code"] in question["message"]
    proc.stdin.write("no\n")
    proc.stdin.flush()
    assert steps.next()["status"] == "refused"

    right = ask_to_pair(machine, person, "Chromium on this laptop")
    question = steps.until("pairing", "question")
    assert question["code"] == right["code"]
    proc.stdin.write("yes\n")
    proc.stdin.flush()
    paired = steps.until("pairing", "paired")
    assert paired["name"] == "Chromium on this laptop"
    summary = steps.until("summary", "done")
    assert summary["paired"] is True and summary["browsers"] == ["chromium", "firefox"]
    assert summary["service_started"] is (service == "started")
    assert proc.wait(30) == 0
    return person, stranger


def run_setup_and_pair(machine: Machine, service: str) -> tuple[str, str]:
    with (
        (machine.root / "setup.err").open("w") as err,
        subprocess.Popen(
            machine.command("--json", "--pair-timeout", "120", *FAST),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=machine.env,
        ) as proc,
    ):
        try:
            tokens = follow_setup(machine, proc, service)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert "Traceback" not in (machine.root / "setup.err").read_text()
    return tokens


def test_first_run_creates_registers_and_pairs_what_the_person_confirms(machine: Machine) -> None:
    person, stranger = run_setup_and_pair(machine, "written")

    # The daemon setup ran for the pairing is gone; the vault opens with the passphrase.
    assert serving_pid(machine.vault) is None and not machine.socket.exists()
    Vault.open(machine.vault, PASSPHRASE, now=int(time.time())).close()

    chromium = json.loads(machine.chromium_manifest.read_text())
    firefox = json.loads(machine.firefox_manifest.read_text())
    assert chromium["allowed_origins"] == [f"chrome-extension://{EXTENSION_ID}/"]
    assert firefox["allowed_extensions"] == [GECKO_ID]
    for manifest, content in ((machine.chromium_manifest, chromium), (machine.firefox_manifest, firefox)):
        launcher = Path(content["path"])
        assert launcher.parent == manifest.parent and os.access(launcher, os.X_OK)
        assert sys.executable in launcher.read_text()

    exec_start = next(line for line in machine.unit.read_text().splitlines() if line.startswith("ExecStart="))
    assert f'"--vault" "{machine.vault}" "serve"' in exec_start

    # The pairing outlives setup's daemon: a new daemon for this vault knows the client, not the stranger.
    with DaemonProcess(machine.vault) as daemon:
        for token, expected in ((person, "paired"), (stranger, "unpaired")):
            with daemon.client(token) as client:
                status, body = client.request_json("GET", "/v1/status")
            assert status == 200 and body["client"] == expected


SYSTEMCTL = """#!/bin/sh
# A stand-in for a systemd user manager: `enable --now` runs the unit's ExecStart in the background.
# Shell builtins only: PATH holds nothing but the stand-ins.
[ "$1" = --user ] || exit 1
case "$2" in
  show-environment|daemon-reload) exit 0 ;;
  enable)
    while read -r line; do
      case "$line" in ExecStart=*) eval "set -- ${line#ExecStart=}"; break ;; esac
    done <"$XDG_CONFIG_HOME/systemd/user/$4"
    "$@" </dev/null >>{log} 2>&1 &
    echo $! >{pid}
    exit 0 ;;
esac
exit 1
"""


def test_where_systemd_runs_the_service_serves_the_pairing_and_keeps_running(machine: Machine) -> None:
    pid_file, log = machine.root / "service.pid", machine.root / "service.log"
    systemctl = machine.root / "bin" / "systemctl"
    systemctl.write_text(SYSTEMCTL.replace("{log}", str(log)).replace("{pid}", str(pid_file)))
    try:
        try:
            person, _ = run_setup_and_pair(machine, "started")
        except AssertionError as e:
            raise AssertionError(
                f"{e}\nthe service's log:\n{log.read_text() if log.exists() else ''}"
            ) from None
        # The service started from the unit's ExecStart serves on: locked (no passphrase is stored), paired.
        assert serving_pid(machine.vault) == int(pid_file.read_text())
        with DaemonClient(machine.socket, headers={HEADER_CLIENT: person}) as client:
            status, body = client.request_json("GET", "/v1/status")
        assert status == 200 and body["client"] == "paired" and body["locked"] is True, body
    finally:
        if pid_file.exists():
            pid = int(pid_file.read_text())
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while serving_pid(machine.vault) is not None and time.monotonic() < deadline:
                time.sleep(0.1)
    assert "Traceback" not in log.read_text(), log.read_text()


def test_rerun_leaves_the_vault_alone_and_checks_the_passphrase(machine: Machine) -> None:
    first = machine.run("--no-pair", *FAST)
    assert first.returncode == 0, first.stderr
    assert "Created a vault" in first.stdout and "recover" in first.stdout
    before = vault_fingerprint(machine.vault)

    again = machine.run("--json", "--no-pair", *FAST)
    assert again.returncode == 0, again.stderr
    steps = {s["step"]: s for s in json_lines(again.stdout)}
    assert steps["vault"]["status"] == "exists" and steps["vault"]["passphrase_checked"] is True
    assert "already exists" in steps["vault"]["message"]
    assert steps["pairing"]["status"] == "skipped" and steps["summary"]["paired"] is False
    assert vault_fingerprint(machine.vault) == before

    machine.passphrase_file.write_text("not the passphrase at all\n")
    wrong = machine.run("--no-pair")
    assert wrong.returncode == 3 and wrong.stderr.startswith("Error: "), wrong.stderr
    assert vault_fingerprint(machine.vault) == before


def test_a_bad_passphrase_from_a_file_is_an_error_and_creates_nothing(machine: Machine) -> None:
    machine.passphrase_file.write_text("short\n")
    result = machine.run("--no-pair", *FAST)
    assert result.returncode == 1 and result.stderr.startswith("Error: "), result.stderr
    assert not machine.vault.exists()
    assert not (machine.home / ".config").exists() and not (machine.home / ".mozilla").exists()


def test_no_terminal_and_no_passphrase_is_an_error_and_creates_nothing(machine: Machine) -> None:
    result = machine.run("--no-pair", *FAST, stdin="a passphrase\na passphrase\n", passphrase_file=False)
    assert result.returncode == 1 and result.stderr.startswith("Error: "), result.stderr
    assert "no terminal" in result.stderr and not machine.vault.exists()


def test_chosen_browser_backup_and_no_pair(machine: Machine) -> None:
    backup = machine.root / "backup.tar"
    result = machine.run("--json", "--no-pair", "--browser", "firefox", "--backup", str(backup), *FAST)
    assert result.returncode == 0, result.stderr
    steps = {s["step"]: s for s in json_lines(result.stdout)}
    assert steps["backup"]["status"] == "done" and backup.is_file()
    assert [b["browser"] for b in steps["browsers"]["browsers"]] == ["firefox"]
    assert machine.firefox_manifest.is_file() and not machine.chromium_manifest.exists()
    assert steps["pairing"]["status"] == "skipped" and serving_pid(machine.vault) is None

    taken = machine.run("--no-pair", "--backup", str(backup))
    assert taken.returncode == 1 and taken.stderr.startswith("Error: ") and "already exists" in taken.stderr


def test_no_browser_found_says_how_to_register_later(machine: Machine) -> None:
    for name in ("chromium", "firefox"):
        (machine.root / "bin" / name).unlink()
    result = machine.run("--json", "--no-pair", *FAST)
    assert result.returncode == 0, result.stderr
    browsers = next(s for s in json_lines(result.stdout) if s["step"] == "browsers")
    assert browsers["status"] == "none" and "vault install-browser --browser" in browsers["message"]


class Terminal:
    """setup on a real pseudo-terminal (its controlling terminal), so the passphrase prompts are the
    ones a person sees; answers are typed only once their prompt is shown."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()

        def controlling_terminal() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=controlling_terminal,  # before exec: makes the pty the controlling terminal
        )
        os.close(slave)
        self.output = ""  # what came since the last prompt answered
        self.transcript = ""  # and everything before it

    def expect(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} in {self.output!r}"
            if select.select([self.master], [], [], remaining)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the other side closed
                    chunk = b""
                assert chunk, f"setup ended before {text!r}: {self.output!r}"
                self.output += chunk.decode(errors="replace")

    def type(self, prompt: str, line: str) -> None:
        self.expect(prompt)
        seen, self.output = self.output.split(prompt, 1)
        self.transcript += seen + prompt
        os.write(self.master, line.encode() + b"\n")

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    self.output += os.read(self.master, 4096).decode(errors="replace")
                except OSError:
                    break
        code = self.proc.wait(10)
        os.close(self.master)
        self.transcript += self.output
        return code


def test_terminal_asks_again_after_a_mismatch_or_a_short_passphrase(machine: Machine) -> None:
    terminal = Terminal(machine.command("--no-pair", *FAST, passphrase_file=False), machine.env)
    terminal.expect("recover")
    terminal.type("New passphrase:", PASSPHRASE)
    terminal.type("again:", PASSPHRASE + "!")
    terminal.expect("did not match")
    terminal.type("New passphrase:", "short")
    terminal.type("again:", "short")
    terminal.expect("Not accepted")
    terminal.type("New passphrase:", PASSPHRASE)
    terminal.type("again:", PASSPHRASE)
    terminal.type("Make a backup now? [y/N]:", "")
    assert terminal.finish() == 0, terminal.transcript
    assert "Created a vault" in terminal.transcript and "No backup made" in terminal.transcript
    Vault.open(machine.vault, PASSPHRASE, now=int(time.time())).close()


def test_terminal_gives_up_after_three_mismatches_and_creates_nothing(machine: Machine) -> None:
    terminal = Terminal(machine.command("--no-pair", *FAST, passphrase_file=False), machine.env)
    for attempt in range(3):
        terminal.type("New passphrase:", f"{PASSPHRASE} {attempt}")
        terminal.type("again:", f"{PASSPHRASE} other")
    assert terminal.finish() == 1, terminal.transcript
    assert "Error: no passphrase set after 3 tries (the two passphrases did not match)" in terminal.transcript
    assert not machine.vault.exists() and not (machine.home / ".mozilla").exists()
