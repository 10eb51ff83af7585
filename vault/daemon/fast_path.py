"""POST /v1/presentations answered without Litestar's request machinery, when Litestar would accept it.

Every page's call comes here, and under load the event loop's thread is the daemon's bottleneck. Measured
in-process (stop 32, ASGI calls with the work itself stubbed): Litestar takes 60-85 us to route the
request, build its Request, decode the body and convert it to the route's Struct, run the pairing hook and
build, encode and send the answer; reading the body, decoding it straight into PresentationRequest and
sending the encoded answer take ~10.

So the daemon's app (vault.daemon.app) hands this one route here, and the answer is Litestar's own in
everything but the time taken:
- the work is the route's (routes.present), and an exception becomes the answer the app's exception
  handlers make of it (errors.error_answer);
- a request that is not plainly acceptable goes to Litestar with its body as received, untouched (the
  messages already read are replayed first): a body over the size limit, or that stopped short, one that
  does not decode into PresentationRequest, strictly, or from a client not paired. Litestar then answers
  it, or refuses it, exactly as it would have. What is accepted here is what Litestar accepts too: the
  Struct's decoder checks the same constraints, and a typed decoder bounds the nesting as the app's
  depth check does.
tests/daemon/test_fast_path.py sends the same requests through both and compares the answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec
from litestar.types import Message, Receive, Scope, Send

from vault.daemon.client import HEADER_ADMIN, HEADER_CLIENT
from vault.daemon.errors import error_answer
from vault.daemon.messages import PresentationRequest
from vault.daemon.routes import present
from vault.daemon.session import paired_or_admin

if TYPE_CHECKING:
    from vault.daemon.state import Daemon

PATH = "/v1/presentations"
_decode = msgspec.json.Decoder(PresentationRequest).decode
_encode = msgspec.json.Encoder().encode
_ADMIN, _CLIENT = HEADER_ADMIN.lower().encode(), HEADER_CLIENT.lower().encode()


def takes(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"


async def answer(
    daemon: Daemon | None,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    max_body: int,
    litestar: Callable[[Receive], Awaitable[None]],
) -> None:
    """`litestar(receive)` answers the request as the app's routes do, reading the body from `receive`."""
    received, body = await _read_body(receive, max_body)
    data = None
    if body is not None and daemon is not None and _paired(daemon, scope["headers"]):
        with contextlib.suppress(msgspec.DecodeError):  # (a ValidationError is one)
            data = _decode(body)
    if data is None:
        await litestar(_replaying(received, receive))
        return
    try:
        status, content = 200, await present(daemon, data)
    except Exception as error:  # as the app's exception handlers see every exception
        status, content = error_answer(error)
    payload = _encode(content)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive, max_body: int) -> tuple[list[Message], bytes | None]:
    """The messages read, and the whole body; None for the body once it is over `max_body` bytes or the
    client went away first (no more is read: Litestar reads the rest, or answers the disconnect)."""
    received: list[Message] = []
    size = 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, None
        size += len(message.get("body", b""))
        if size > max_body:
            return received, None
        if not message.get("more_body", False):
            return received, b"".join(m.get("body", b"") for m in received)


def _replaying(received: list[Message], receive: Receive) -> Receive:
    pending = list(received)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _paired(daemon: Daemon, headers: list[tuple[bytes, bytes]]) -> bool:
    """session.require_paired's test, on the first of each header (as Litestar's headers.get reads it)."""
    admin = client = None
    for name, value in headers:
        if name == _ADMIN and admin is None:
            admin = value.decode("latin-1")
        elif name == _CLIENT and client is None:
            client = value.decode("latin-1")
    return paired_or_admin(daemon, admin, client)
