"""`vault export`, `vault backup`, `vault restore`."""

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click

from vault.cli.context import CliState, iso_when, pass_state
from vault.cli.passphrases import get_passphrase
from vault.consent.export import write_export
from vault.daemon.lockfile import daemon_running
from vault.errors import InvalidInput, VaultError, VaultExists
from vault.store import VaultPaths
from vault.store.backup import backup as backup_vault
from vault.store.backup import restore as restore_vault
from vault.store.files import fsync_dir

NOT_ENCRYPTED = (
    "warning: the export is NOT encrypted: it holds your profile and everything you disclosed. "
    "Keep it somewhere safe, or use `vault backup` for an encrypted copy."
)


@contextlib.contextmanager
def _private_output(path: Path, force: bool) -> Iterator[IO[bytes]]:
    """A 0600 file written under a temporary name and renamed into place only when complete."""
    if path.exists() and not force:
        raise InvalidInput(f"{path} already exists", "use --force to overwrite it")
    if path.is_dir() or not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: not a file in an existing directory")
    try:
        # mkstemp: a fresh name, created 0600 with O_EXCL.
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise InvalidInput(f"cannot write {path}: {e.strerror}") from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (mode 0600, replaced only when complete) instead of standard output.",
)
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@pass_state
def export(state: CliState, output: Path | None, force: bool) -> None:
    """Write everything in the vault as JSON: profile, sites, consent records (shaped after ISO/IEC TS
    27560), disclosures, the whole ledger with its verification, and the outbox.

    The export is NOT encrypted. Its JSON Schema is vault/consent/export-schema.json. Secrets (the
    seed of your pairwise keys, recently issued tokens) are left out.
    """
    if output is not None and output.exists() and not force:
        raise InvalidInput(f"{output} already exists", "use --force to overwrite it")
    with state.open_vault() as vault:
        click.echo(NOT_ENCRYPTED, err=True)
        if output is None:
            try:
                write_export(vault, sys.stdout.buffer, now=state.now())
                sys.stdout.flush()
            except BrokenPipeError:
                # The reader went away (`vault export | head`): stop quietly, and keep Python's own
                # flush at exit from failing again.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise click.exceptions.Exit(1) from None
            return
        with _private_output(output, force) as out:
            write_export(vault, out, now=state.now())
    click.echo(f"Exported to {output}", err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@pass_state
def backup(state: CliState, file: Path, force: bool) -> None:
    """Write an encrypted backup of the vault to FILE (one tar file, mode 0600).

    The backup is a consistent snapshot, still encrypted with your vault's key: restoring it needs the
    passphrase that was in effect when it was made.
    """
    if file.exists() and not force:
        raise InvalidInput(f"{file} already exists", "use --force to overwrite it")
    with state.open_vault() as vault:
        info = backup_vault(vault, file, now=state.now(), force=force)
    click.echo(f"Backed up to {file} ({info.database_bytes} bytes of encrypted database)")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace the existing vault (everything in it since FILE is lost)."
)
@pass_state
def restore(state: CliState, file: Path, force: bool) -> None:
    """Restore the vault from the backup FILE (asks for the backup's passphrase).

    \b
    The backup is checked completely (its digests, the passphrase, the database) before anything is
    changed. An existing vault is replaced only with --force. Stop the daemon first.
    """
    if not file.is_file():
        raise InvalidInput(f"no backup file at {file}")
    if VaultPaths(state.home).exists() and not force:
        raise VaultExists(f"a vault already exists at {state.home}", "use --force to replace it")
    if daemon_running(state.home):
        raise VaultError(f"a daemon is serving the vault at {state.home}", "stop it first (vault serve)")
    passphrase = get_passphrase(
        state.passphrase_file, env="VAULT_PASSPHRASE", prompt=f"Passphrase for {file}"
    )
    info = restore_vault(file, state.home, passphrase, now=state.now(), force=force)
    click.echo(f"Restored the vault at {state.home} from {file} (made {iso_when(info.created_at)})")


COMMANDS = [export, backup, restore]
