"""What every command shares: where the vault is, how to unlock it, the clock, and how to print."""

import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import msgspec

from vault.claims.types import Context
from vault.cli.passphrases import get_passphrase
from vault.store import Vault


@dataclass
class CliState:
    home: Path
    passphrase_file: Path | None
    _passphrase: str | None = field(default=None, repr=False)

    def now(self) -> int:
        return int(time.time())

    def validation_context(self) -> Context:
        return Context(today=dt.date.today())

    def passphrase(self) -> str:
        if self._passphrase is None:
            self._passphrase = get_passphrase(
                self.passphrase_file, env="VAULT_PASSPHRASE", prompt=f"Passphrase for {self.home}"
            )
        return self._passphrase

    def open_vault(self) -> Vault:
        # Check the vault exists before asking for a passphrase it cannot use.
        Vault.check_present(self.home)
        return Vault.open(self.home, self.passphrase(), now=self.now())


pass_state = click.make_pass_decorator(CliState)


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
