"""Where the daemon's socket and admin token live. Standard library only: the native host imports this.

The socket sits in a private directory (0700, owned by us) in the user's runtime dir. When
XDG_RUNTIME_DIR is unset (root, CI, some containers) the fallback is a per-uid directory in the temp dir,
which anyone could have created first: it is used only if it is a real directory, ours, and 0700.
"""

import contextlib
import os
import stat
import tempfile
from pathlib import Path

SOCKET_NAME = "vault.sock"
ADMIN_TOKEN_NAME = "admin-token"  # noqa: S105 - a file name, not a secret
# sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH = 107
SOCKET_ENV = "VAULT_SOCKET"


class UnsafeDirectory(Exception):
    """The runtime directory exists but is not private to us; the message says why."""


def check_private_dir(directory: Path) -> None:
    """Refuses a directory that another user could enter or swap: a symlink, not ours, or not 0700."""
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeDirectory(f"{directory} is not a directory (or is a symlink)")
    if info.st_uid != os.getuid():
        raise UnsafeDirectory(f"{directory} belongs to uid {info.st_uid}, not to you (uid {os.getuid()})")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise UnsafeDirectory(f"{directory} has mode {stat.S_IMODE(info.st_mode):o}; it must be 700")


def ensure_private_dir(directory: Path) -> Path:
    """Creates the directory 0700 if missing, then checks it (never loosens or adopts someone else's)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    check_private_dir(directory)
    return directory


def runtime_dir() -> Path:
    """The directory that holds the socket: $XDG_RUNTIME_DIR/vault, else <tmp>/vault-<uid>."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isabs(base) and os.path.isdir(base):
        return Path(base) / "vault"
    return Path(tempfile.gettempdir()) / f"vault-{os.getuid()}"


def default_socket_path() -> Path:
    """$VAULT_SOCKET if set, else the socket in runtime_dir(). Nothing is created here."""
    configured = os.environ.get(SOCKET_ENV)
    return Path(configured) if configured else runtime_dir() / SOCKET_NAME


def admin_token_path(socket_path: Path) -> Path:
    """The admin token lives beside the socket, in the same private directory."""
    return socket_path.parent / ADMIN_TOKEN_NAME
