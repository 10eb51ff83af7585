"""Which extension instances may use the daemon.

The extension's id is public, so the id alone proves nothing. Each extension instance makes a random
secret (its client token) and asks to pair; the daemon shows a short code to that instance, and the user
approves the code from the command line, a channel no web page and no extension has. Paired clients are
kept beside the vault (hashes of their tokens only) in a file readable while the vault is locked, so a
paired extension can still ask to unlock it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import msgspec

from vault.errors import InvalidInput, VaultDamaged
from vault.store.files import write_private_file

FILE_NAME = "paired-clients.json"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed without doubt
CODE_LENGTH = 8
PAIRING_TTL = 600
MAX_PENDING = 16  # an unpaired caller cannot grow memory without bound
MAX_CLIENTS = 64
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43,128}")  # at least 256 bits of base64url
MAX_NAME = 80


class Client(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    name: str
    token_sha256: str
    paired_at: int


class Pending(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    token_sha256: str
    requested_at: int
    expires_at: int


class _File(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: int = 1
    clients: list[Client] = []


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def valid_token(token: object) -> bool:
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


class Pairings:
    def __init__(self, vault_home: Path, *, clock: Callable[[], int], random_choice=secrets.choice) -> None:
        self.path = Path(vault_home) / FILE_NAME
        self._clock = clock
        self._choice = random_choice
        self._pending: dict[str, Pending] = {}
        self._clients = self._load()

    def _load(self) -> dict[str, Client]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            stored = msgspec.json.decode(data, type=_File)
        except msgspec.DecodeError as e:
            raise VaultDamaged(
                f"{self.path} is not a list of paired clients ({e})", "delete it and pair again"
            ) from None
        return {client.token_sha256: client for client in stored.clients}

    def _save(self) -> None:
        body = _File(clients=sorted(self._clients.values(), key=lambda c: c.paired_at))
        write_private_file(self.path, msgspec.json.format(msgspec.json.encode(body), indent=2) + b"\n")

    def identify(self, token: str | None) -> Client | None:
        if not valid_token(token):
            return None
        return self._clients.get(_hash(token))

    def pending_for(self, token: str | None) -> Pending | None:
        if not valid_token(token):
            return None
        self._expire()
        return next((p for p in self._pending.values() if p.token_sha256 == _hash(token)), None)

    def request(self, token: str, name: str) -> Client | Pending:
        """Asking again while pending returns the same code; a paired client gets its record."""
        if not valid_token(token):
            raise InvalidInput("the client token must be 43 to 128 base64url characters (256+ bits)")
        if self.identify(token) is not None:
            return self.identify(token)
        existing = self.pending_for(token)
        if existing is not None:
            return existing
        if len(self._pending) >= MAX_PENDING:
            oldest = min(self._pending.values(), key=lambda p: p.requested_at)
            del self._pending[oldest.code]
        now = self._clock()
        code = self._new_code()
        pending = Pending(
            code=code,
            name=_clean_name(name),
            token_sha256=_hash(token),
            requested_at=now,
            expires_at=now + PAIRING_TTL,
        )
        self._pending[code] = pending
        return pending

    def _new_code(self) -> str:
        while True:
            code = "".join(self._choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self._pending:
                return code

    def approve(self, code: str) -> Client:
        self._expire()
        pending = self._pending.pop(normalise_code(code), None)
        if pending is None:
            raise InvalidInput(
                f"no pairing request with code {code!r}",
                "codes expire after 10 minutes; open the extension's popup to get a new one",
            )
        if len(self._clients) >= MAX_CLIENTS:
            raise InvalidInput(
                f"already {MAX_CLIENTS} paired clients", "remove one with: vault pair remove ID"
            )
        client = Client(
            id=pending.token_sha256[:12],
            name=pending.name,
            token_sha256=pending.token_sha256,
            paired_at=self._clock(),
        )
        self._clients[client.token_sha256] = client
        self._save()
        return client

    def remove(self, client_id: str) -> Client:
        match = [c for c in self._clients.values() if c.id == client_id]
        if not match:
            raise InvalidInput(f"no paired client {client_id!r}", "list them with: vault pair list")
        del self._clients[match[0].token_sha256]
        self._save()
        return match[0]

    def clients(self) -> list[Client]:
        return sorted(self._clients.values(), key=lambda c: c.paired_at)

    def pending(self) -> list[Pending]:
        self._expire()
        return sorted(self._pending.values(), key=lambda p: p.requested_at)

    def _expire(self) -> None:
        now = self._clock()
        for code in [code for code, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[code]


def _clean_name(name: str) -> str:
    cleaned = "".join(ch for ch in str(name) if ch.isprintable())[:MAX_NAME].strip()
    return cleaned or "unnamed extension"


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"
