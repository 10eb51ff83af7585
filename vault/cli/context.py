"""What every command shares: where the vault is, how to unlock it, the clock, and how to print."""

import base64
import binascii
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import msgspec

from vault.claims.types import Context
from vault.cli.passphrases import get_passphrase
from vault.daemon.client import HEADER_ADMIN, DaemonClient, DaemonError
from vault.daemon.paths import admin_token_path, default_socket_path
from vault.errors import InvalidInput, WrongPassphrase
from vault.store import Vault

# How long a command waits for a daemon before it asks for the passphrase instead.
DAEMON_WAIT = 10.0


@dataclass
class CliState:
    home: Path
    passphrase_file: Path | None
    _passphrase: str | None = field(default=None, repr=False)
    _daemon_locked: bool = field(default=False, repr=False)  # a daemon serves this vault, locked

    def now(self) -> int:
        return int(time.time())

    def validation_context(self) -> Context:
        return Context(today=dt.date.today())

    def passphrase(self) -> str:
        if self._passphrase is None:
            try:
                self._passphrase = get_passphrase(
                    self.passphrase_file, env="VAULT_PASSPHRASE", prompt=f"Passphrase for {self.home}"
                )
            except InvalidInput as e:
                if not self._daemon_locked:
                    raise
                raise InvalidInput(
                    f"{e.message}, and the daemon serving this vault is locked",
                    f"{e.hint}, or unlock the daemon (vault unlock)",
                ) from None
        return self._passphrase

    def open_vault(self) -> Vault:
        """The vault, opened with the key of a daemon that serves it unlocked (no Argon2id, no passphrase),
        else with the passphrase. A daemon that is locked, gone or serving another vault is no error."""
        # Check the vault exists before asking for a passphrase it cannot use.
        Vault.check_present(self.home)
        key = self._key_from_daemon()
        if key is not None:
            try:
                return Vault.open_with_key(self.home, key, now=self.now())
            except WrongPassphrase:
                pass  # the daemon's key is stale (the vault was re-keyed or replaced): ask as before
        return self.open_with_passphrase()

    def open_with_passphrase(self) -> Vault:
        """For the commands that must prove the passphrase (passwd) or are the daemon (serve)."""
        Vault.check_present(self.home)
        return Vault.open(self.home, self.passphrase(), now=self.now())

    def serving(self, socket_path: Path | None = None) -> dict[str, Any] | None:
        """What the daemon on the socket says it serves ({home, pid, locked, ...}) if it serves this
        vault; None when there is no daemon, it cannot be asked, or it serves another vault."""
        answer = _ask_daemon(socket_path, "GET", "/v1/admin/serving")
        if not isinstance(answer, dict) or not _same_home(answer.get("home"), self.home):
            return None
        return answer

    def _key_from_daemon(self) -> bytes | None:
        serving = self.serving()
        if serving is None:
            return None
        if serving.get("locked") is not False:
            self._daemon_locked = True
            return None
        answer = _ask_daemon(None, "POST", "/v1/admin/vault-key")
        # The answer names the vault again: the daemon may have been replaced between the two questions.
        if not isinstance(answer, dict) or not _same_home(answer.get("home"), self.home):
            return None
        try:
            key = base64.b64decode(answer.get("key", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            return None
        return key if len(key) == 32 else None


pass_state = click.make_pass_decorator(CliState)


def _ask_daemon(socket_path: Path | None, method: str, route: str) -> Any:
    """One admin request to the daemon on the socket ($VAULT_SOCKET, else the default), with the token
    beside it; None when there is none, it cannot be read, or the daemon refuses or does not answer."""
    path = socket_path or default_socket_path()
    try:
        token = admin_token_path(path).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        with DaemonClient(path, timeout=DAEMON_WAIT, headers={HEADER_ADMIN: token}) as client:
            status, body = client.request_json(method, route)
    except DaemonError:
        return None
    return body if status == 200 else None


def _same_home(served: object, home: Path) -> bool:
    if not isinstance(served, str):
        return False
    try:
        return os.path.samefile(served, home)
    except OSError:
        return False


def print_json(value: Any) -> None:
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n")
    sys.stdout.flush()


def when(timestamp: int | None) -> str:
    """Local time for people; --json output keeps Unix seconds."""
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def iso_when(stamp: str) -> str:
    """An ISO 8601 time from a file header (`2026-11-30T22:13:07Z`) in the format `when` shows."""
    try:
        return when(int(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()))
    except ValueError:
        return stamp


def print_table(headers: list[str], rows: list[list[Any]], empty: str) -> None:
    if not rows:
        click.echo(empty)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    # Wrap to a terminal's width; piped output keeps whole lines for grep and friends.
    Console(highlight=False, width=None if sys.stdout.isatty() else 1000).print(table)
