"""One daemon per vault: an exclusive flock on a file in the vault's directory, held while it serves.

The kernel releases it when the daemon dies, however it dies. Commands that must not run under a daemon
(restore) check it. Standard library only.
"""

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from vault.errors import VaultError

LOCK_NAME = "daemon.lock"


@contextlib.contextmanager
def daemon_lock(vault_home: Path) -> Iterator[Path]:
    """One daemon per vault; `restore` checks the same lock. Released by the kernel if we die."""
    path = Path(vault_home) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VaultError(
                f"a daemon (pid {_holder(fd) or 'unknown'}) is already serving the vault at {vault_home}",
                "stop it first",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)


def serving_pid(vault_home: Path) -> int | None:
    """The pid of the daemon holding the vault open, or None when no daemon does."""
    path = Path(vault_home) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        return int(holder) if holder.isdigit() else -1  # held, by a daemon that has not written its pid yet
    finally:
        os.close(fd)
    return None


def daemon_running(vault_home: Path) -> bool:
    """Whether a daemon holds the vault open (for commands that must not run under it)."""
    return serving_pid(vault_home) is not None


def _holder(fd: int) -> str:
    """What the daemon holding the lock wrote in the file: its pid (or nothing yet)."""
    return os.pread(fd, 32, 0).decode(errors="replace").strip()
