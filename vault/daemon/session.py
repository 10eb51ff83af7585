"""Who is calling, and the routes that do not need a paired client: status, pairing, lock and unlock,
and the admin routes the command line uses (with the token only it can read)."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

from litestar import Request, Router, delete, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody, PathParameter

from vault.consent.prompt_view import count_pending_prompts
from vault.daemon.client import HEADER_ADMIN, HEADER_CLIENT
from vault.daemon.errors import ERROR_RESPONSES, Refused
from vault.daemon.messages import (
    ApproveRequest,
    LockState,
    PairedClient,
    PairingList,
    PairingRequest,
    PairingState,
    PendingPairing,
    Status,
    UnlockRequest,
)
from vault.daemon.pairing import Client, Pending, format_code
from vault.daemon.state import Daemon, DaemonDep
from vault.errors import VaultLocked

VERSION = version("personal-vault")  # read once: importlib.metadata costs a millisecond per call


def daemon_of(connection: ASGIConnection) -> Daemon:
    return connection.app.state.daemon


def is_admin(connection: ASGIConnection) -> bool:
    return daemon_of(connection).is_admin(connection.headers.get(HEADER_ADMIN))


async def paired_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    await require_paired(connection)


async def require_paired(connection: ASGIConnection) -> None:
    """paired_only as a `before_request` hook, for the routes every presentation takes: Litestar copies the
    route handler (about 20 us) for each guard it runs, and a hook runs without the copy. A hook is not
    cumulative as guards are (the closest layer's wins), so tests/daemon/test_api.py checks that every
    route of the router that uses it resolves to it."""
    headers = connection.headers
    if paired_or_admin(daemon_of(connection), headers.get(HEADER_ADMIN), headers.get(HEADER_CLIENT)):
        return
    raise Refused(
        "not_paired",
        "this client is not paired with the vault",
        "open the extension's popup to see its pairing code, then run: vault pair approve CODE",
    )


def paired_or_admin(daemon: Daemon, admin_token: str | None, client_token: str | None) -> bool:
    """Who may use the vault's routes: the admin, or a paired client (require_paired, and
    vault.daemon.fast_path, which reads the two headers itself)."""
    return daemon.is_admin(admin_token) or daemon.pairings.identify(client_token) is not None


async def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not is_admin(connection):
        raise Refused("admin_only", "only the vault's owner can do this", "use the vault command")


@get("/status", responses=ERROR_RESPONSES, summary="Is the vault locked, and is this client paired?")
async def status(request: Request, daemon: DaemonDep) -> Status:
    token = request.headers.get(HEADER_CLIENT)
    client, code = "unpaired", None
    if is_admin(request):
        client = "admin"
    elif daemon.pairings.identify(token) is not None:
        client = "paired"
    elif (pending := daemon.pairings.pending_for(token)) is not None:
        client, code = "pending", format_code(pending.code)
    prompts = None
    if client in ("paired", "admin") and not daemon.worker.locked:
        try:
            now = daemon.clock()
            prompts = await daemon.worker.call(lambda v: count_pending_prompts(v, now=now), touch=False)
        except VaultLocked:
            pass
    return Status(
        version=VERSION,
        locked=daemon.worker.locked,
        client=client,
        pairing_code=code,
        idle_lock_seconds=daemon.settings.idle_lock_seconds,
        pending_prompts=prompts,
    )


@post(
    "/pairing",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Ask to pair this client; returns a code for the user",
)
async def request_pairing(
    request: Request, data: JSONBody[PairingRequest], daemon: DaemonDep
) -> PairingState:
    result = daemon.pairings.request(request.headers.get(HEADER_CLIENT, ""), data.name)
    if isinstance(result, Pending):
        return PairingState(state="pending", code=format_code(result.code), expires_at=result.expires_at)
    return PairingState(state="paired", client_id=result.id)


@post(
    "/unlock",
    responses=ERROR_RESPONSES,
    status_code=200,
    guards=[paired_only],
    summary="Unlock the vault with its passphrase",
)
async def unlock(data: JSONBody[UnlockRequest], daemon: DaemonDep) -> LockState:
    changed = await daemon.unlock(data.passphrase)
    return LockState(locked=False, changed=changed)


@post("/lock", responses=ERROR_RESPONSES, status_code=200, guards=[paired_only], summary="Lock the vault now")
async def lock(daemon: DaemonDep) -> LockState:
    return LockState(locked=True, changed=await daemon.worker.lock())


@get("/pairings", responses=ERROR_RESPONSES, summary="Paired clients and pending pairing requests")
async def list_pairings(daemon: DaemonDep) -> PairingList:
    return PairingList(
        clients=[_shown(c) for c in daemon.pairings.clients()],
        pending=[
            PendingPairing(
                code=format_code(p.code), name=p.name, requested_at=p.requested_at, expires_at=p.expires_at
            )
            for p in daemon.pairings.pending()
        ],
    )


@post(
    "/pairings/approve",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Approve the client showing this code",
)
async def approve_pairing(data: JSONBody[ApproveRequest], daemon: DaemonDep) -> PairedClient:
    return _shown(daemon.pairings.approve(data.code))


@delete("/pairings/{client_id:str}", responses=ERROR_RESPONSES, status_code=200, summary="Unpair a client")
async def remove_pairing(
    client_id: Annotated[str, PathParameter(max_length=64)], daemon: DaemonDep
) -> PairedClient:
    return _shown(daemon.pairings.remove(client_id))


def _shown(client: Client) -> PairedClient:
    """A paired client as the admin sees it: never the hash of its token."""
    return PairedClient(id=client.id, name=client.name, paired_at=client.paired_at)


session_routes = [status, request_pairing, unlock, lock]
admin_router = Router(
    path="/admin",
    guards=[admin_only],
    route_handlers=[list_pairings, approve_pairing, remove_pairing, unlock, lock],
    tags=["admin"],
)
