"""`vault serve` and the commands that talk to a running daemon: lock, unlock, pair."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from vault.cli.context import CliState, pass_state, print_json, print_table, when
from vault.cli.passphrases import get_passphrase
from vault.daemon.client import HEADER_ADMIN, DaemonClient, DaemonError
from vault.daemon.paths import admin_token_path, default_socket_path
from vault.errors import InvalidInput, VaultError, VaultLocked

socket_option = click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default="$VAULT_SOCKET, else $XDG_RUNTIME_DIR/vault/vault.sock",
    help="The daemon's Unix socket.",
)


@click.command()
@socket_option
@click.option("--tcp", metavar="HOST:PORT", help="Development only: also listen on this loopback address.")
@click.option("--locked", is_flag=True, help="Start locked without asking (unlock later from the extension).")
@click.option(
    "--idle-lock",
    type=click.IntRange(0, 24 * 60),
    default=15,
    show_default=True,
    help="Lock the vault after this many minutes without use (0: never).",
)
@click.option(
    "--idle-lock-seconds",
    type=click.IntRange(1, 24 * 3600),
    default=None,
    hidden=True,
    help="Tests: --idle-lock in seconds.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="What goes to the log (stderr). Site origins appear only at debug.",
)
@click.option(
    "--allow-loopback-http", is_flag=True, hidden=True, help="Test mode: deliver notices over http."
)
@pass_state
def serve(
    state: CliState,
    socket_path: Path | None,
    tcp: str | None,
    locked: bool,
    idle_lock: int,
    idle_lock_seconds: int | None,
    log_level: str,
    allow_loopback_http: bool,
) -> None:
    """Run the daemon: the vault's API for the browser extension, on a private Unix socket.

    Unlocks at start with --passphrase-file, VAULT_PASSPHRASE or a prompt on the terminal; with none of
    those (or --locked) it starts locked. Stops cleanly on Ctrl-C or SIGTERM.
    """
    from vault.daemon.app import create_app
    from vault.daemon.lockfile import daemon_lock
    from vault.daemon.server import TcpAddress, bind_tcp, bind_unix, run, write_admin_token
    from vault.daemon.state import Daemon, Settings, new_token
    from vault.daemon.worker import VaultWorker
    from vault.store import Vault

    logging.basicConfig(
        level=getattr(logging, log_level.upper()), format="%(asctime)s vault: %(message)s", stream=sys.stderr
    )
    address = TcpAddress.parse(tcp) if tcp else None
    Vault.check_present(state.home)
    path = (socket_path or default_socket_path()).absolute()
    with daemon_lock(state.home):
        vault = None
        if not locked and (state.passphrase_file or os.environ.get("VAULT_PASSPHRASE") or sys.stdin.isatty()):
            vault = state.open_with_passphrase()  # the daemon itself: never another daemon's key
        sockets = [bind_unix(path)]
        try:
            settings = Settings(
                home=state.home,
                admin_token=new_token(),
                idle_lock_seconds=idle_lock * 60 if idle_lock_seconds is None else idle_lock_seconds,
                tcp_token=new_token() if address else None,
                allowed_hosts=address.allowed_hosts() if address else frozenset(),
                socket_path=str(path),
                allow_loopback_http=allow_loopback_http,
            )
            write_admin_token(path, settings.admin_token)
            if address:
                sockets.append(bind_tcp(address))
            daemon = Daemon(settings, worker=VaultWorker(state.home, clock=state.now, vault=vault))
            click.echo(
                f"vault: serving {state.home} on {path} ({'unlocked' if vault else 'locked'})", err=True
            )
            if address:
                click.echo(
                    f"vault: DEVELOPMENT MODE also on http://{sorted(address.allowed_hosts())[0]}\n"
                    f"vault: bearer token {settings.tcp_token}",
                    err=True,
                )
            run(create_app(settings, daemon=daemon), sockets, log_level=log_level)
        finally:
            for sock in sockets:
                sock.close()
            path.unlink(missing_ok=True)
            admin_token_path(path).unlink(missing_ok=True)
    click.echo("vault: stopped", err=True)


def admin_client(socket_path: Path | None) -> DaemonClient:
    path = socket_path or default_socket_path()
    try:
        token = admin_token_path(path).read_text().strip()
    except FileNotFoundError:
        raise VaultError(f"no daemon is running on {path}", "start it with: vault serve") from None
    except OSError as e:
        raise VaultError(f"cannot read the daemon's admin token: {e.strerror}") from None
    return DaemonClient(path, headers={HEADER_ADMIN: token})


def call(socket_path: Path | None, method: str, route: str, payload: Any = None) -> Any:
    """One admin request; an error answer becomes the matching VaultError (so exit codes stay right)."""
    with admin_client(socket_path) as client:
        try:
            status, body = client.request_json(method, route, payload)
        except DaemonError as e:
            raise VaultError(e.message, e.hint) from None
    if status >= 400:
        body = body if isinstance(body, dict) else {}
        error_class = VaultLocked if status == 423 else InvalidInput if status < 500 else VaultError
        raise error_class(body.get("message", f"the daemon answered {status}"), body.get("hint", ""))
    return body


@click.command()
@socket_option
@pass_state
def lock(state: CliState, socket_path: Path | None) -> None:
    """Lock the running daemon's vault now (it forgets the key until unlocked again)."""
    result = call(socket_path, "POST", "/v1/admin/lock")
    click.echo("Locked." if result["changed"] else "It was already locked.")


@click.command()
@socket_option
@pass_state
def unlock(state: CliState, socket_path: Path | None) -> None:
    """Unlock the running daemon's vault (the passphrase comes as for every command)."""
    passphrase = get_passphrase(state.passphrase_file, env="VAULT_PASSPHRASE", prompt="Passphrase")
    result = call(socket_path, "POST", "/v1/admin/unlock", {"passphrase": passphrase})
    click.echo("Unlocked." if result["changed"] else "It was already unlocked.")


@click.group()
def pair() -> None:
    """Which browser extensions may use the vault: approve the code an extension shows you."""


@pair.command("list")
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def pair_list(socket_path: Path | None, as_json: bool) -> None:
    """Paired extensions, and those waiting for approval."""
    result = call(socket_path, "GET", "/v1/admin/pairings")
    if as_json:
        print_json(result)
        return
    rows = [[c["id"], c["name"], "paired", when(c["paired_at"])] for c in result["clients"]]
    rows += [
        [p["code"], p["name"], "waiting for approval", when(p["requested_at"])] for p in result["pending"]
    ]
    print_table(["id / code", "name", "state", "since"], rows, "Nothing is paired, and nothing is waiting.")


@pair.command("approve")
@click.argument("code")
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def pair_approve(code: str, socket_path: Path | None, as_json: bool) -> None:
    """Approve the extension that shows CODE in its popup."""
    client = call(socket_path, "POST", "/v1/admin/pairings/approve", {"code": code})
    if as_json:
        print_json(client)
    else:
        click.echo(f"Paired {client['name']} (id {client['id']}).")


@pair.command("remove")
@click.argument("client_id", metavar="ID")
@socket_option
def pair_remove(client_id: str, socket_path: Path | None) -> None:
    """Unpair the extension with this id (see: vault pair list)."""
    client = call(socket_path, "DELETE", f"/v1/admin/pairings/{quote(client_id, safe='')}")
    click.echo(f"Unpaired {client['name']} (id {client['id']}).")


COMMANDS = [serve, lock, unlock, pair]
