"""The demo shop: the reference integration of `vault.site`, as a small Litestar app.

Everything a site does with the vault is here, in the order it happens:

    GET  /.well-known/vault-manifest.json  1. publish what we ask, why, for how long, and who else sees it
    GET  /api/nonce                        2. a fresh nonce for the page, bound to its session cookie
    POST /api/verify {purpose, token}      3. verify the presentation, personalise from its verified claims
                                              only, keep them, pass each third party the user allowed
                                              its claims (and no other), and sign an acknowledgement
                                              naming those we passed them to
    POST /.well-known/vault-revocation     4. the vault withdraws: forward it to the third parties it
                                              names, delete our copy if it withdraws from us too, then
                                              answer with a signed receipt giving each one's outcome
    POST /vault/access {request}           5. the vault asks what we hold about its user: answer with a
                                              signed statement built from our own records of them
    GET  /api/proposal                     6. after a visitor shared something, the page hands their
                                              vault our proposal (personalVault.notify); accepting it
    GET  /offers/interests                    opens this page, whose request brings the normal prompt
    GET  /  /held  /privacy  /api/held     the shop page, "what we hold about you", the privacy notice
    GET  /.well-known/gpc.json             we honour Global Privacy Control: a visitor whose browser sends
                                              `Sec-GPC: 1` is told so on the shop page (read from that
                                              request alone, never stored)

The change notice we owe every visitor (our partner moves) rides on their first acknowledgement; what we
write and answer after the first exchange is vault.demo.correspondence.

What the shop holds lives in memory, keyed by presentation (`jti`) with its pseudonymous `subject`; it is
deleted when the vault withdraws it and forgotten when its retention ends. Its third party, Demo
Analytics, is another service (vault.demo.partner) that the shop reaches with a `PartnerLink`. Time and
randomness are injected (`clock`, `rng`), so tests control both.

This module is the web app; what the shop does with each token and notice is `Shop`, in
vault.demo.integration. The manifest is in vault.demo.manifest, nonces and holdings in vault.demo.store,
the pages in vault.demo.pages, and running it with uvicorn in vault.demo.server:

    python -m vault.demo.shop --port 8000     # http://127.0.0.1:8000 (plain http: loopback only)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import Cookie, ResponseHeader
from litestar.static_files import create_static_files_router

from vault.demo import pages
from vault.demo.correspondence import OFFER_PATH, answer_access
from vault.demo.integration import Refused, Shop, wall_clock
from vault.demo.manifest import ACCESS_PATH, REVOCATION_PATH, shop_manifest
from vault.demo.partner import PARTNER_ID
from vault.demo.partner_api import PartnerLink
from vault.demo.store import COOKIE, Clock, Rng
from vault.site import (
    MANIFEST_PATH,
    AccessRequestInvalid,
    InMemoryReplayStore,
    NoticeInvalid,
    Reason,
    ReplayStore,
    SigningKey,
    generate_site_key,
)

__all__ = ["ACCESS_PATH", "OFFER_PATH", "REVOCATION_PATH", "Refused", "Shop", "create_shop", "shop_manifest"]

STATIC_DIR = Path(__file__).parent / "shop_static"
MAX_BODY = 64 * 1024
MAX_ACCESS_BODY = 16 * 1024  # {"request": token}: a token is at most 8192 characters
RETRY_INTERVAL = 30.0  # seconds between attempts to tell a partner that did not answer
GPC_PATH = "/.well-known/gpc.json"
# Our declaration that we honour Global Privacy Control (the GPC specification's well-known resource). The
# date is fixed: it is when our policy last changed, not when the file was served.
GPC_DECLARATION = {"gpc": True, "lastUpdate": "2026-01-01"}


# -- the web app ----------------------------------------------------------------------------------------


NOT_JSON = {"error": "bad_request", "reason": "not_json", "message": "send application/json"}


class VerifyRequest(msgspec.Struct, forbid_unknown_fields=True):
    purpose: str
    token: str


class NoticeRequest(msgspec.Struct, forbid_unknown_fields=True):
    notice: str


class AccessBody(msgspec.Struct, forbid_unknown_fields=True):
    request: str


def _json(body: Any, status: int = 200) -> Response[bytes]:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def _html(text: str) -> Response[str]:
    return Response(text, media_type="text/html; charset=utf-8")


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower() == "application/json"


def create_shop(
    *,
    origin: str,
    site_key: SigningKey | None = None,
    clock: Clock = wall_clock,
    replay: ReplayStore | None = None,
    rng: Rng = secrets.token_bytes,
    revocation_path: str = REVOCATION_PATH,
    partners: Sequence[PartnerLink] = (),
) -> Litestar:
    """The shop on `origin` (https, or http on loopback), passing claims on to `partners` (the third
    parties of its manifest it can reach). `app.state.shop` is the Shop behind it."""
    shop = Shop(
        origin=origin,
        site_key=site_key or generate_site_key(rng),
        clock=clock,
        replay=replay if replay is not None else InMemoryReplayStore(),
        rng=rng,
        revocation_path=revocation_path,
        partners=partners,
    )

    @contextlib.asynccontextmanager
    async def keep_telling_partners(app: Litestar) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(RETRY_INTERVAL)
                await shop.retry_forwards()

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @get(MANIFEST_PATH, include_in_schema=False)
    async def manifest() -> Response[bytes]:
        headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}  # public, by design
        return Response(shop.manifest_bytes, media_type="application/json", headers=headers)

    @get("/api/nonce")
    async def nonce(request: Request) -> Response[bytes]:
        session = shop.nonces.session(request.cookies.get(COOKIE))
        value, expires_at = shop.nonces.issue(session)
        response = _json({"nonce": value, "expires_at": expires_at})
        response.cookies.append(Cookie(key=COOKIE, value=session, httponly=True, samesite="strict", path="/"))
        return response

    @post("/api/verify", status_code=200)
    async def verify(request: Request) -> Response[bytes]:
        if not _is_json(request):
            return _json(NOT_JSON, 415)
        try:
            data = msgspec.json.decode(await request.body(), type=VerifyRequest)
        except msgspec.DecodeError as error:
            return _json({"error": "bad_request", "reason": "bad_body", "message": str(error)}, 400)
        try:
            seen = shop.verify(request.cookies.get(COOKIE), data.purpose, data.token)
        except Refused as refused:
            return _json(refused.body, refused.status)
        return _json(shop.answer(seen, await shop.pass_on(seen)))

    @post(revocation_path, status_code=200)
    async def revocation(request: Request) -> Response[bytes]:
        try:
            data = msgspec.json.decode(await request.body(), type=NoticeRequest)
        except msgspec.DecodeError as error:
            return _json({"error": "bad_request", "reason": "bad_body", "message": str(error)}, 400)
        try:
            return _json({"acknowledgement": await shop.receive_notice(data.notice)})
        except NoticeInvalid as refused:
            reason = refused.reason.value
            return _json(
                {"error": "notice_invalid", "reason": reason, "message": f"notice refused ({reason})"}, 400
            )

    @post(ACCESS_PATH, status_code=200, request_max_body_size=MAX_ACCESS_BODY)
    async def access(request: Request) -> Response[bytes]:
        if not _is_json(request):
            return _json(NOT_JSON, 415)
        try:
            data = msgspec.json.decode(await request.body(), type=AccessBody)
        except msgspec.DecodeError as error:
            return _json({"error": "bad_request", "reason": "bad_body", "message": str(error)}, 400)
        try:
            return _json({"statement": answer_access(shop, data.request)})
        except AccessRequestInvalid as refused:
            reason = refused.reason.value
            status = 503 if refused.reason is Reason.REPLAY_CHECK_FAILED else 400
            message = f"access request refused ({reason})"
            return _json({"error": "access_request_invalid", "reason": reason, "message": message}, status)
        except ValueError as error:  # more than a statement may say: not the vault's fault, and rare
            return _json({"error": "too_much", "reason": "statement_too_large", "message": str(error)}, 503)

    @get("/api/proposal")
    async def proposal(request: Request) -> Response[bytes]:
        # Only for the visitor of this session, who shared something here: the page already has what
        # the token says (the pseudonym the vault gave us, and what we offer).
        return _json({"message": shop.letters.proposal_for(request.cookies.get(COOKIE))})

    @get(OFFER_PATH)
    async def offer() -> Response[str]:
        return _html(pages.offer_page(shop.manifest))

    @get("/api/held")
    async def held_json() -> Response[bytes]:
        presentations = shop.held.current(shop.clock())
        return _json({"presentations": presentations, "notices": shop.held.notices})

    @get(GPC_PATH, include_in_schema=False)
    async def gpc_declaration() -> Response[bytes]:
        headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}  # public, as the manifest
        return Response(msgspec.json.encode(GPC_DECLARATION), media_type="application/json", headers=headers)

    @get("/")
    async def index(request: Request) -> Response[str]:
        # The signal is one header of this request: honoured for this page, kept nowhere.
        gpc = request.headers.get("sec-gpc", "").strip() == "1"
        response = _html(pages.shop_page(shop.manifest, gpc=gpc))
        response.headers["Vary"] = "Sec-GPC"
        return response

    @get("/held")
    async def held_page() -> Response[str]:
        return _html(pages.held_page(shop.held.current(shop.clock()), shop.held.notices, list(shop.answered)))

    @get("/privacy")
    async def privacy() -> Response[str]:
        return _html(pages.privacy_page(shop.manifest))

    app = Litestar(
        route_handlers=[
            manifest,
            nonce,
            verify,
            revocation,
            access,
            proposal,
            offer,
            held_json,
            gpc_declaration,
            index,
            held_page,
            privacy,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        request_max_body_size=MAX_BODY,
        response_headers=[ResponseHeader(name=k, value=v) for k, v in pages.SECURITY_HEADERS.items()],
        openapi_config=None,
        lifespan=[keep_telling_partners],
    )
    app.state.shop = shop
    return app


# -- running it ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vault.demo.shop", description="Run the demo shop.")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--origin", help="the shop's origin (default: http://127.0.0.1:PORT)")
    parser.add_argument("--site-key-file", type=Path, help="file with the site key's seed (64 hex digits)")
    parser.add_argument("--partner-url", help="where Demo Analytics runs (python -m vault.demo.partner)")
    parser.add_argument("--partner-secret-file", type=Path, help="the secret shared with Demo Analytics")
    args = parser.parse_args(argv)
    if (args.partner_url is None) != (args.partner_secret_file is None):
        parser.error("give --partner-url and --partner-secret-file together")
    key = (
        SigningKey.from_seed(bytes.fromhex(args.site_key_file.read_text().strip()))
        if args.site_key_file
        else None
    )
    from vault.demo.partner import read_secret
    from vault.demo.server import serve_shop

    partners = ()
    if args.partner_url:
        partners = (PartnerLink(PARTNER_ID, args.partner_url, read_secret(args.partner_secret_file)),)
    try:
        serve_shop(port=args.port, origin=args.origin, site_key=key, partners=partners)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
