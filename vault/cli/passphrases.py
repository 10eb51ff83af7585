"""Where passphrases come from: a file, the environment (for automation; less safe), or the terminal."""

import os
import sys
from pathlib import Path

import click

from vault.errors import InvalidInput

MAX_FILE_BYTES = 4096


def read_passphrase_file(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise InvalidInput(
            f"cannot read passphrase file {path}: {e.strerror}", "check the path and its permissions"
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput(f"passphrase file {path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"passphrase file {path} is not UTF-8 text") from None
    # Only the one line ending an editor adds: other whitespace may be part of the passphrase.
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            text = text[: -len(ending)]
            break
    if not text:
        raise InvalidInput(f"passphrase file {path} is empty")
    return text


def _from_terminal(prompt: str, confirm: bool) -> str:
    if not sys.stdin.isatty():
        raise InvalidInput(
            "a passphrase is needed and there is no terminal to ask on",
            "use --passphrase-file FILE, or set VAULT_PASSPHRASE",
        )
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def get_passphrase(file: Path | None, *, env: str, prompt: str, confirm: bool = False) -> str:
    if file is not None:
        return read_passphrase_file(file)
    if os.environ.get(env):
        return os.environ[env]
    return _from_terminal(prompt, confirm)
