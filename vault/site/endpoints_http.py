"""The plain-ASGI plumbing of the vault endpoints: bounded JSON bodies in, JSON answers out, cookies.

No framework: `vault.site` must stay importable with cryptography, msgspec and rfc8785 alone.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, TypeVar

import msgspec

from vault.protocol.errors import Reason

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_TIMEOUT = 10.0  # seconds a client may take to send a body of a few KiB
SESSION_COOKIE = "vault_session"
_SESSION_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 random bytes, base64url
_ANSWER_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]

T = TypeVar("T")


_EXPLAINED = {
    Reason.EXPIRED: "the presentation has expired: ask the vault again",
    Reason.REPLAYED: "this presentation was already used once",
    Reason.WRONG_NONCE: "the nonce was not given to this session, or is too old: fetch a new one",
    Reason.WRONG_AUDIENCE: "the presentation was made for another site",
    Reason.BAD_SIGNATURE: "the signature does not verify",
    Reason.REPLAY_CHECK_FAILED: "we cannot check for replays right now: try again later",
}


class Refusal(Exception):
    """A request the endpoints refuse: answered as {"error", "reason", "message"} with `status`."""

    def __init__(
        self, status: int, error: str, reason: str, message: str, headers: Iterable[tuple[bytes, bytes]] = ()
    ) -> None:
        super().__init__(message)
        self.status, self.headers = status, list(headers)
        self.body = error_body(error, reason, message)


def refused(error: str, reason: Reason, what: str) -> Refusal:
    """A token refused for `reason`: 400, or 503 when our replay store is down (not the client's doing)."""
    status = 503 if reason is Reason.REPLAY_CHECK_FAILED else 400
    message = _EXPLAINED.get(reason, f"the {what} was refused ({reason.value})")
    return Refusal(status, error, reason.value, message)


def error_body(error: str, reason: str, message: str) -> dict[str, str]:
    return {"error": error, "reason": reason, "message": message}


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case), or None."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def is_json(scope: Scope) -> bool:
    value = header(scope, b"content-type") or b""
    return value.split(b";", 1)[0].strip().lower() == b"application/json"


async def read_body(scope: Scope, receive: Receive, limit: int, timeout: float = BODY_TIMEOUT) -> bytes:
    """The request body, refused (413) as soon as it passes `limit` bytes, so a client can make us hold
    no more than that; and refused (408) when it takes longer than `timeout` seconds to arrive."""
    too_large = Refusal(413, "bad_request", "too_large", f"the request body is larger than {limit} bytes")
    declared = header(scope, b"content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refusal(400, "bad_request", "bad_body", "the Content-Length header is not a number")
        if int(declared) > limit:
            raise too_large
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise Refusal(400, "bad_request", "disconnected", "the client went away")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise Refusal(408, "bad_request", "too_slow", "the request body took too long to arrive") from None


async def read_json(
    scope: Scope, receive: Receive, kind: type[T], limit: int, timeout: float = BODY_TIMEOUT
) -> T:
    """The body decoded strictly into `kind` (a Struct that forbids unknown fields)."""
    if not is_json(scope):
        raise Refusal(415, "bad_request", "not_json", "send the body as application/json")
    body = await read_body(scope, receive, limit, timeout)
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as error:  # names the field, never its value
        raise Refusal(
            400, "bad_request", "bad_body", f"the body is not what this endpoint takes: {error}"
        ) from None
    except msgspec.DecodeError:
        raise Refusal(400, "bad_request", "bad_body", "the body is not valid JSON") from None


async def send_json(
    send: Send, status: int, body: object, headers: Iterable[tuple[bytes, bytes]] = (), *, head: bool = False
) -> None:
    await send_bytes(send, status, msgspec.json.encode(body), [*_ANSWER_HEADERS, *headers], head=head)


async def send_bytes(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], *, head: bool = False
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def session_cookie(scope: Scope) -> str | None:
    """The `vault_session` cookie's value when it has the form we give it (else None: a new one is made)."""
    for key, value in scope.get("headers", ()):
        if key.lower() != b"cookie":
            continue
        for pair in value.split(b";"):
            name, _, content = pair.strip().partition(b"=")
            if name == SESSION_COOKIE.encode():
                text = content.decode("latin-1")
                return text if _SESSION_VALUE.fullmatch(text) else None
    return None


def set_session_cookie(value: str, *, secure: bool) -> tuple[bytes, bytes]:
    attributes = "; HttpOnly; SameSite=Lax; Path=/" + ("; Secure" if secure else "")
    return (b"set-cookie", f"{SESSION_COOKIE}={value}{attributes}".encode())


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Answer the server's lifespan events when no site app is wrapped (nothing to start or stop)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
