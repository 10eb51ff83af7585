"""`vault serve`: the app on a private Unix socket (and, only when asked, on loopback TCP for development).

Defences, outermost first: the socket's directory is 0700 and ours, the socket is created 0600, each
connection's peer uid (SO_PEERCRED) must be ours, and one daemon per vault holds an exclusive lock.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vault.daemon.memory import fix_allocator_thresholds
from vault.daemon.paths import MAX_SOCKET_PATH, UnsafeDirectory, admin_token_path, ensure_private_dir
from vault.errors import InvalidInput, VaultError
from vault.store.files import write_private_file

log = logging.getLogger("vault.daemon")


# Where each request's scope carries the peer's credentials (ASGI lets a server add its own extensions).
PEER_EXTENSION = "vault.peer"


def peer_credentials(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end of a Unix socket, from the kernel (SO_PEERCRED)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", creds)
    return pid, uid


def peer_uid(sock: socket.socket) -> int:
    return peer_credentials(sock)[1]


def peer_checked(expected_uid: int) -> type[HttpToolsProtocol]:
    """The HTTP protocol, refusing Unix-socket peers whose uid is not `expected_uid` (the test seam).

    Each request on an accepted Unix-socket connection carries the peer's credentials in its scope
    (scope["extensions"][PEER_EXTENSION]), so a route can insist on them: a request that came over TCP,
    or through any other server, has none."""

    class PeerChecked(HttpToolsProtocol):
        peer: dict[str, int] | None = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family == socket.AF_UNIX:
                pid, uid = peer_credentials(sock)
                if uid != expected_uid:
                    log.warning(
                        "refused a connection from uid %d (only uid %d may connect)", uid, expected_uid
                    )
                    transport.close()
                    return
                self.peer = {"pid": pid, "uid": uid}

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self.peer is not None:
                self.scope.setdefault("extensions", {})[PEER_EXTENSION] = dict(self.peer)  # type: ignore[typeddict-item]

    return PeerChecked


def bind_unix(path: Path) -> socket.socket:
    """Binds the socket 0600 in a private directory, replacing a stale socket but never a live one."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise InvalidInput(
            f"the socket path {path} is longer than {MAX_SOCKET_PATH} bytes", "choose a shorter one"
        )
    try:
        ensure_private_dir(path.parent)
    except UnsafeDirectory as e:
        raise VaultError(
            f"refusing to put the socket there: {e}", "fix the directory, or pass --socket"
        ) from None
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # nobody answers: left over from a daemon that died
        else:
            raise VaultError(f"a daemon is already listening on {path}", "stop it, or pass another --socket")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # created 0600: there is no moment when others could connect
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    sock.listen(128)
    return sock


@dataclass(frozen=True)
class TcpAddress:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> TcpAddress:
        host, _, port = text.rpartition(":")
        host = host.strip("[]")
        try:
            address = ipaddress.ip_address(host)
            number = int(port)
        except ValueError:
            raise InvalidInput(
                f"--tcp {text!r} is not HOST:PORT", "for example: --tcp 127.0.0.1:8765"
            ) from None
        if not address.is_loopback:
            raise InvalidInput(
                f"--tcp {host} is not a loopback address", "development mode listens on loopback only"
            )
        if not 0 < number < 65536:
            raise InvalidInput(f"--tcp port {port} is out of range")
        return cls(str(address), number)

    def allowed_hosts(self) -> frozenset[str]:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        names = {shown, "localhost"}
        return frozenset(f"{name}:{self.port}" for name in names)


def bind_tcp(address: TcpAddress) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address.host, address.port))
    sock.listen(128)
    return sock


def write_admin_token(socket_path: Path, token: str) -> Path:
    path = admin_token_path(socket_path)
    write_private_file(path, token.encode() + b"\n")
    return path


def run(
    app, sockets: list[socket.socket], *, expected_uid: int | None = None, log_level: str = "info"
) -> None:
    """Serves until SIGTERM or SIGINT, then finishes in-flight requests and closes the vault.

    uvicorn's own messages: warnings and errors (never access lines), only errors at `log_level` error."""
    fix_allocator_thresholds()  # a freed unlock's Argon2id memory goes back at once (vault.daemon.memory)
    config = uvicorn.Config(
        app,
        http=peer_checked(os.getuid() if expected_uid is None else expected_uid),
        loop="uvloop" if "uvloop" in sys.modules or _has_uvloop() else "asyncio",
        lifespan="on",
        ws="none",  # no route is a websocket; "auto" would import a websockets library if one is installed
        log_level="error" if log_level == "error" else "warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # nothing sits in front of us; do not trust forwarded headers
        date_header=False,
        timeout_keep_alive=3600,  # our clients are local and few; the native host keeps one connection
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)

    # uvicorn shuts down gracefully on the first signal, then raises it again so the default action can
    # run; that would kill us before our cleanup. This handler turns the repeat into a normal return.
    def stopped(signum: int, frame: object) -> None:
        raise _Stopped

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run(sockets=sockets)
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Stopped(Exception):
    pass


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True
