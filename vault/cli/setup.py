"""`vault setup`: the first run in one guided command, safe to run again.

Each step reuses what the single commands do (init, backup, install-browser, install-service, pair) and
says what it did; a rerun leaves an existing vault untouched and rewrites only what setup itself writes
(host manifests, launcher, unit file), so it finishes whatever an earlier run did not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click

from vault.cli.app import kdf_options, kdf_params
from vault.cli.context import CliState, pass_state
from vault.cli.install import config_home
from vault.cli.passphrases import read_passphrase_file
from vault.cli.setup_pairing import LATER, Report, pair, pairing_daemon
from vault.daemon import install
from vault.daemon.lockfile import serving_pid
from vault.daemon.paths import default_socket_path
from vault.errors import InvalidInput
from vault.store import DEFAULT_KDF, Vault, VaultPaths
from vault.store.backup import backup as backup_vault
from vault.store.kdf import check_new_passphrase

TRIES = 3
SERVICE_START = 15  # seconds for the service to hold the vault
# A browser counts as present when one of its programs is on PATH or its per-user config dir exists
# (a browser run once has one even when started from a desktop entry outside PATH).
DETECT = {
    "chromium": (("chromium", "chromium-browser"), ("{config}/chromium",)),
    "chrome": (("google-chrome", "google-chrome-stable"), ("{config}/google-chrome",)),
    "firefox": (("firefox", "firefox-esr"), ("{home}/.mozilla/firefox",)),
}
LOST = (
    "Warning: nobody can recover or reset a lost passphrase, not even the vault's makers: without it "
    "everything in the vault is gone. Write it down somewhere safe."
)


def detect_browsers() -> list[str]:
    config = config_home() or Path.home() / ".config"
    found = []
    for browser, (programs, dirs) in DETECT.items():
        on_path = any(shutil.which(p) for p in programs)
        has_dir = any(Path(d.format(config=config, home=Path.home())).is_dir() for d in dirs)
        if on_path or has_dir:
            found.append(browser)
    return found


def _given_passphrase(state: CliState) -> str | None:
    """The passphrase from --passphrase-file or VAULT_PASSPHRASE, if either was given (no prompt)."""
    if state.passphrase_file is not None:
        return read_passphrase_file(state.passphrase_file)
    return os.environ.get("VAULT_PASSPHRASE") or None


def _new_passphrase(state: CliState, report: Report) -> str:
    given = _given_passphrase(state)
    if given is not None:
        check_new_passphrase(given)  # no second chance: a script gets "Error: ..." and nothing is created
        return given
    if not sys.stdin.isatty():
        raise InvalidInput(
            "a new passphrase is needed and there is no terminal to ask on",
            "use --passphrase-file FILE, or set VAULT_PASSPHRASE",
        )
    reason = ""
    for _ in range(TRIES):
        first = click.prompt("New passphrase", hide_input=True, err=report.as_json)
        again = click.prompt("The same passphrase again", hide_input=True, err=report.as_json)
        if first != again:
            reason = "the two passphrases did not match"
        else:
            try:
                check_new_passphrase(first)
                return first
            except InvalidInput as e:
                reason = str(e)
        click.echo(f"Not accepted: {reason}. Please try again.", err=report.as_json)
    raise InvalidInput(f"no passphrase set after {TRIES} tries ({reason})", "run `vault setup` again")


def step_vault(state: CliState, report: Report, kdf) -> tuple[bool, str | None]:
    """(created now?, the passphrase when setup knows it)."""
    paths = VaultPaths(state.home)
    if paths.exists():
        passphrase = _given_passphrase(state)
        if passphrase is not None:
            Vault.open(state.home, passphrase, now=state.now()).close()  # a wrong one fails here, early
        report.step(
            "vault",
            "exists",
            f"A vault already exists at {paths.home}; left as it is.",
            path=str(paths.home),
            passphrase_checked=passphrase is not None,
        )
        return False, passphrase
    report.say(LOST)
    passphrase = _new_passphrase(state, report)
    Vault.create(state.home, passphrase, now=state.now(), kdf=kdf).close()
    report.step("vault", "created", f"Created a vault at {paths.home}.", path=str(paths.home), warning=LOST)
    return True, passphrase


def step_backup(state: CliState, report: Report, file: Path | None, created: bool, passphrase) -> None:
    how = "vault backup FILE (an encrypted copy; keep it off this machine)"
    if file is None and created and not report.as_json and sys.stdin.isatty():
        report.say(f"A backup protects against a lost disk; make one any time with: {how}.")
        if click.confirm("Make a backup now?", default=False):
            file = click.prompt("Backup file", type=click.Path(dir_okay=False, path_type=Path))
    if file is None:
        report.step(
            "backup", "skipped", f"No backup made; make one with: {how}.", command="vault backup FILE"
        )
        return
    if passphrase is None:
        passphrase = state.passphrase()
    with Vault.open(state.home, passphrase, now=state.now()) as vault:
        info = backup_vault(vault, file, now=state.now())
    report.step(
        "backup", "done", f"Backed up to {file} ({info.database_bytes} bytes, encrypted).", path=str(file)
    )


def step_browsers(report: Report, chosen: tuple[str, ...], socket_path: Path | None) -> list[str]:
    browsers = list(dict.fromkeys(chosen)) or detect_browsers()
    if not browsers:
        report.step(
            "browsers",
            "none",
            "Found no supported browser (Chromium, Chrome, Firefox); once one is installed, run: "
            "vault install-browser --browser chromium|chrome|firefox",
            browsers=[],
        )
        return []
    written = []
    for browser in browsers:
        result = install.install_browser(
            browser, profile=None, socket_path=socket_path, home=Path.home(), config_home=config_home()
        )
        written.append(
            {"browser": browser, "manifest": str(result.manifest), "launcher": str(result.launcher)}
        )
    how = "chosen" if chosen else "found"
    report.step(
        "browsers",
        "done",
        f"Registered the native host for the browsers {how}: {', '.join(browsers)} "
        "(restart a running browser to pick it up).",
        browsers=written,
    )
    for item in written:
        report.say(f"  {item['browser']}: {item['manifest']}")
    return browsers


def _systemctl(*args: str) -> subprocess.CompletedProcess | None:
    if shutil.which("systemctl") is None:
        return None
    try:
        return subprocess.run(
            ["systemctl", "--user", *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def step_service(state: CliState, report: Report, socket_path: Path | None, wanted: bool) -> bool:
    """Writes the unit and starts it where systemd user sessions work; True when it was started."""
    if not wanted:
        report.step("service", "skipped", "Left the user service alone (--no-service).")
        return False
    unit = install.install_service(
        home=Path.home(), vault_home=state.home, socket_path=socket_path, config_home=config_home()
    )
    locked = (
        "it starts locked at every login, since no passphrase is stored: the extension asks for it "
        "(or run: vault unlock)"
    )
    probe = _systemctl("show-environment")
    if probe is None or probe.returncode != 0:
        report.step(
            "service",
            "written",
            f"Wrote {unit}, but systemd user sessions are not available here, so it was not started. "
            "Start the daemon yourself when you use the browser: vault serve",
            unit=str(unit),
            started=False,
        )
        return False
    steps = [("daemon-reload",), ("enable", "--now", install.SERVICE_NAME)]
    for args in steps:
        done = _systemctl(*args)
        if done is None or done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["no answer"])[-1] if done else "no answer"
            report.step(
                "service",
                "failed",
                f"Wrote {unit}, but `systemctl --user {' '.join(args)}` failed ({why}); "
                f"see: journalctl --user -u {install.SERVICE_NAME}",
                unit=str(unit),
                started=False,
            )
            return False
    if not _wait_serving(state.home, SERVICE_START):
        report.step(
            "service",
            "failed",
            f"Enabled {install.SERVICE_NAME} ({unit}), but it did not start serving the vault in "
            f"{SERVICE_START} s; see: journalctl --user -u {install.SERVICE_NAME}",
            unit=str(unit),
            started=False,
        )
        return False
    report.step(
        "service",
        "started",
        f"Enabled and started {install.SERVICE_NAME} ({unit}); {locked}.",
        unit=str(unit),
        started=True,
    )
    return True


def _wait_serving(home: Path, timeout: float) -> bool:
    # systemd returns once the process is forked: the pairing step must not start a second daemon.
    deadline = time.monotonic() + timeout
    while serving_pid(home) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def step_pairing(state: CliState, report: Report, socket_path: Path, passphrase, timeout: int) -> bool:
    with pairing_daemon(state.home, socket_path, passphrase, report):
        return pair(socket_path, timeout, report) is not None


@click.command()
@click.option(
    "--browser",
    "browsers",
    multiple=True,
    type=click.Choice(install.BROWSERS),
    help="Register the native host for this browser (repeatable) [default: every one found].",
)
@click.option(
    "--backup",
    "backup_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write an encrypted backup of the new vault to this file, without asking.",
)
@click.option("--no-service", is_flag=True, help="Do not write or start the systemd user service.")
@click.option("--no-pair", is_flag=True, help="Skip waiting for the extension's pairing request.")
@click.option(
    "--pair-timeout",
    type=click.IntRange(1, 3600),
    default=300,
    show_default=True,
    help="How many seconds to wait for the pairing request.",
)
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The daemon's socket [default: $VAULT_SOCKET, else vault.sock in the user's runtime dir].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per step (JSON lines).")
@kdf_options
@pass_state
def setup(
    state: CliState,
    browsers: tuple[str, ...],
    backup_file: Path | None,
    no_service: bool,
    no_pair: bool,
    pair_timeout: int,
    socket_path: Path | None,
    as_json: bool,
    kdf_time: int | None,
    kdf_memory_mib: int | None,
) -> None:
    """Set everything up on this machine, step by step; safe to run again.

    \b
    1. Vault: creates one (asks for a new passphrase twice, up to 3 tries on a terminal; a lost
       passphrase cannot be recovered) and offers a backup (--backup FILE makes one). An existing
       vault is left untouched; a given passphrase is checked against it.
    2. Browsers: registers the native host for every supported browser found (a chromium,
       chromium-browser, google-chrome(-stable), firefox or firefox-esr program on PATH, or its
       config dir: ~/.config/chromium, ~/.config/google-chrome, ~/.mozilla/firefox), or those
       chosen with --browser.
    3. Service: writes the systemd user unit and, where `systemctl --user` works, enables and starts
       it. It starts locked (no passphrase is stored); the extension or `vault unlock` unlocks it.
    4. Pairing: waits for the extension's pairing request (open its popup) and asks whether the
       popup shows the same code; only "yes" pairs it. Without a running service, setup runs a
       daemon just for this step. --no-pair skips it; `vault pair approve CODE` does it later.
    5. A summary of what is ready and what to do next.

    \b
    The passphrase comes from --passphrase-file, VAULT_PASSPHRASE or the terminal; from a file or
    the environment a bad one is an error, with nothing created. With --json each step prints one
    JSON object per line; the pairing question is a {"step": "pairing", "status": "question",
    "code": ...} line, answered by a line "yes" or "no" on stdin.
    """
    report = Report(as_json)
    # Bad input is refused before anything is written, so a failed run leaves nothing half-done.
    if backup_file is not None and backup_file.exists():
        raise InvalidInput(f"{backup_file} already exists", "name a new file for --backup")
    if backup_file is not None and not backup_file.absolute().parent.is_dir():
        raise InvalidInput(f"the directory of {backup_file} does not exist", "create it, or name another")
    # Given explicitly, the manifests and the unit name the socket; else they use the default at run time.
    given_socket = install.check_socket(socket_path)  # a too-long path is an error before any write
    socket_path = given_socket or default_socket_path().absolute()
    created, passphrase = step_vault(state, report, kdf_params(DEFAULT_KDF, kdf_time, kdf_memory_mib))
    step_backup(state, report, backup_file, created, passphrase)
    found = step_browsers(report, browsers, given_socket)
    started = step_service(state, report, given_socket, not no_service)
    paired = False
    if no_pair:
        report.step("pairing", "skipped", f"Skipped pairing (--no-pair). To pair later: {LATER}.")
    else:
        paired = step_pairing(state, report, socket_path, passphrase, pair_timeout)
    summary(report, state, found, started, paired)


def summary(report: Report, state: CliState, browsers: list[str], started: bool, paired: bool) -> None:
    ready = [f"the vault at {VaultPaths(state.home).home}"]
    if browsers:
        ready.append(f"the native host for {', '.join(browsers)}")
    if started:
        ready.append("the user service")
    if paired:
        ready.append("the paired extension")
    todo = []
    if not browsers:
        todo.append("install a browser, then: vault install-browser --browser NAME")
    if not started and serving_pid(state.home) is None:
        todo.append("start the daemon when you use the browser: vault serve")
    if not paired:
        todo.append(f"pair the extension: {LATER}")
    todo.append("fill in your profile: vault profile set NAME VALUE (or the extension's options page)")
    report.say("")
    report.step(
        "summary",
        "done",
        f"Ready: {', '.join(ready)}.\nNext:\n" + "\n".join(f"  - {item}" for item in todo),
        ready=ready,
        next=todo,
        paired=paired,
        service_started=started,
        browsers=browsers,
    )


COMMANDS = [setup]
