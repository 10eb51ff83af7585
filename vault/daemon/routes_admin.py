"""The admin routes that let the command line go through a running daemon: what it serves and whether it
is unlocked, and the vault's database key, so a command need not run Argon2id (nor ask for the
passphrase) while the daemon holds the vault open.

Handing over the key is guarded three times: the admin token (readable only by the user, 0600 in a 0700
directory), the request must have arrived on our Unix socket, and the kernel's word on the connecting
process (SO_PEERCRED, recorded per connection by vault.daemon.server.peer_checked) must name our own uid.
The TCP development listener never has those credentials, so the key never leaves over TCP. The key goes
into the answer's body only: never to a file, never to the log.
"""

from __future__ import annotations

import logging
import os

import msgspec
from litestar import Request, Router, get, post

from vault.daemon.errors import ERROR_RESPONSES, Refused
from vault.daemon.server import PEER_EXTENSION
from vault.daemon.session import VERSION, admin_only
from vault.daemon.state import DaemonDep

log = logging.getLogger("vault.daemon")


class Serving(msgspec.Struct, kw_only=True):
    """What the daemon serves, for `vault status` and for a command deciding whether to go through it."""

    home: str  # the vault's directory, absolute
    pid: int
    version: str
    locked: bool
    idle_lock_seconds: int


class VaultKey(msgspec.Struct, kw_only=True):
    home: str  # the vault this key opens: a command uses it for that vault only
    key: bytes  # the raw 256-bit SQLCipher key (base64 in JSON)


def served_home(daemon_home: os.PathLike[str] | str) -> str:
    return os.path.abspath(daemon_home)


@get(
    "/serving", responses=ERROR_RESPONSES, summary="Which vault this daemon serves, and whether it is locked"
)
async def serving(daemon: DaemonDep) -> Serving:
    return Serving(
        home=served_home(daemon.settings.home),
        pid=os.getpid(),
        version=VERSION,
        locked=daemon.worker.locked,
        idle_lock_seconds=daemon.settings.idle_lock_seconds,
    )


@post(
    "/vault-key",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="The unlocked vault's key, for a command line of the same user on the Unix socket (423 locked)",
)
async def vault_key(request: Request, daemon: DaemonDep) -> VaultKey:
    peer = request.scope.get("extensions", {}).get(PEER_EXTENSION)  # type: ignore[union-attr]
    server = request.scope.get("server")
    on_our_socket = bool(server) and server[1] is None and server[0] == daemon.settings.socket_path
    if not on_our_socket or peer is None or peer.get("uid") != os.getuid():
        raise Refused(
            "unix_socket_only",
            "the vault's key is handed only to a process of the same user on the daemon's Unix socket",
            "run the command on this machine, as the user running the daemon",
        )
    # Counts as use: a person is running a command on the vault.
    key = await daemon.worker.call(lambda v: v.database_key)
    log.info("the vault's key went to a command line (pid %d)", peer.get("pid", 0))
    return VaultKey(home=served_home(daemon.settings.home), key=key)


cli_router = Router(path="/admin", guards=[admin_only], route_handlers=[serving, vault_key], tags=["admin"])
