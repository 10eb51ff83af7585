"""The inbox's routes: a site's message forwarded by the extension (`personalVault.notify`), the messages
listed, marked read, deleted (hidden), a site muted, a proposal accepted. Same conventions as routes.py:
paired clients only, a Struct in, one consent-layer call on the vault worker, a Struct out.

What a page learns of any of this is the extension's business: it answers `notify` before it forwards the
token, so the answers here (kept, muted, refused and why) go to the extension only."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta

from vault.consent.inbox import (
    MAX_ROWS,
    Accepted,
    Inbox,
    Received,
    accept_proposal,
    delete_messages,
    inbox,
    mark_read,
    receive,
    set_muted,
)
from vault.daemon.errors import ERROR_RESPONSES
from vault.daemon.messages import ErrorBody
from vault.daemon.routes import checked_origin
from vault.daemon.session import paired_only
from vault.daemon.state import DaemonDep
from vault.protocol.jws import MAX_TOKEN_LENGTH
from vault.protocol.presentation import JTI_PATTERN

Origin = Annotated[str, Meta(min_length=1, max_length=300)]
MessageId = Annotated[str, Meta(pattern=JTI_PATTERN)]
MAX_NAMED = 100  # message ids in one request
MessageIds = Annotated[list[MessageId], Meta(min_length=1, max_length=MAX_NAMED)]

RECEIVE_RESPONSES = ERROR_RESPONSES | {
    400: ResponseSpec(ErrorBody, description="The message does not verify: `error` is the reason"),
    403: ResponseSpec(ErrorBody, description="Not paired, or `unknown_site`: the vault never dealt with it"),
    409: ResponseSpec(ErrorBody, description="`replayed`, or `inbox_full`; nothing was changed"),
    429: ResponseSpec(ErrorBody, description="`rate_limited`: the site sent too many messages"),
}


class _In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    pass


class MessageIn(_In):
    origin: Origin
    # Longer than a message may be, so that an oversized one is refused by the verifier, as `too_large`.
    token: Annotated[str, Meta(min_length=1, max_length=2 * MAX_TOKEN_LENGTH)]


class ReadRequest(_In):
    """Either the messages named, or every message of one site."""

    jtis: MessageIds | None = None
    origin: Origin | None = None


class ReadAnswer(msgspec.Struct, kw_only=True):
    read: int  # how many were unread


class DeleteRequest(_In):
    jtis: MessageIds


class DeleteAnswer(msgspec.Struct, kw_only=True):
    deleted: int


class MuteRequest(_In):
    origin: Origin
    muted: bool


class MuteAnswer(msgspec.Struct, kw_only=True):
    origin: str
    muted: bool


class AcceptRequest(_In):
    jti: MessageId


@post(
    "/messages",
    responses=RECEIVE_RESPONSES,
    status_code=200,
    summary="A site's signed message (forwarded by the extension): kept, or dropped because it is muted",
)
async def receive_message(data: JSONBody[MessageIn], daemon: DaemonDep) -> Received:
    origin, now = checked_origin(data.origin), daemon.clock()
    return await daemon.worker.call(lambda v: receive(v, origin, data.token, via="page", now=now))


@get(
    "/messages",
    responses=ERROR_RESPONSES,
    summary=f"The inbox, newest first (at most {MAX_ROWS}), with unread counts and the muted sites",
)
async def list_messages(
    daemon: DaemonDep, origin: Annotated[str | None, QueryParameter(max_length=300)] = None
) -> Inbox:
    origin = checked_origin(origin) if origin else None
    return await daemon.worker.call(lambda v: inbox(v, origin))


@post("/messages/read", responses=ERROR_RESPONSES, status_code=200, summary="Mark messages read")
async def read_messages(data: JSONBody[ReadRequest], daemon: DaemonDep) -> ReadAnswer:
    origin = checked_origin(data.origin) if data.origin is not None else None
    now = daemon.clock()
    read = await daemon.worker.call(lambda v: mark_read(v, now=now, jtis=data.jtis or (), origin=origin))
    return ReadAnswer(read=read)


@post(
    "/messages/delete",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Delete (hide) messages; each is kept as a replay guard until it expires",
)
async def delete_inbox_messages(data: JSONBody[DeleteRequest], daemon: DaemonDep) -> DeleteAnswer:
    now = daemon.clock()
    return DeleteAnswer(deleted=await daemon.worker.call(lambda v: delete_messages(v, data.jtis, now=now)))


@post(
    "/messages/mute",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Mute or unmute a site: its proposals and change notices are dropped while it is muted",
)
async def mute_site(data: JSONBody[MuteRequest], daemon: DaemonDep) -> MuteAnswer:
    origin, now = checked_origin(data.origin), daemon.clock()
    await daemon.worker.call(lambda v: set_muted(v, origin, data.muted, now=now))
    return MuteAnswer(origin=origin, muted=data.muted)


@post(
    "/messages/accept",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Accept a proposal: returns the site's page to open, whose request brings the normal prompt; "
    "shares nothing",
)
async def accept_message(data: JSONBody[AcceptRequest], daemon: DaemonDep) -> Accepted:
    now = daemon.clock()
    return await daemon.worker.call(lambda v: accept_proposal(v, data.jti, now=now))


inbox_router = Router(
    path="/",
    guards=[paired_only],
    route_handlers=[
        receive_message,
        list_messages,
        read_messages,
        delete_inbox_messages,
        mute_site,
        accept_message,
    ],
)
