"""The error every expected failure ends in, so the CLI and the daemon can report it without a traceback.

Each subclass carries a process exit code (documented in the README) and a hint saying what to do.
"""


class VaultError(Exception):
    """An expected failure: the message says what is wrong, `hint` what to do about it."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidInput(VaultError):
    """A value, name or argument that is not acceptable; nothing was changed."""


class WrongPassphrase(VaultError):
    exit_code = 3


class VaultMissing(VaultError):
    exit_code = 4


class VaultDamaged(VaultError):
    """The header or the database is unreadable or not a vault; nothing was changed."""

    exit_code = 4


class VaultExists(VaultError):
    exit_code = 5


class VaultLocked(VaultError):
    """The daemon holds the vault locked: nothing can be read or signed until the user unlocks it."""

    exit_code = 6
