"""The demo shop: the reference integration of `vault.site`, as a small Litestar app.

Everything a site does with the vault is here, in the order it happens:

    GET  /.well-known/vault-manifest.json  1. publish what we ask, why, for how long, and who else sees it
    GET  /api/nonce                        2. a fresh nonce for the page, bound to its session cookie
    POST /api/verify {purpose, token}      3. verify the presentation, personalise from its verified claims
                                              only, keep them, and sign an acknowledgement for the vault
    POST /.well-known/vault-revocation     4. the vault withdraws: delete, then answer with a signed receipt
    GET  /  /held  /privacy  /api/held     the shop page, "what we hold about you", the privacy notice

What the shop holds lives in memory, keyed by presentation (`jti`) with its pseudonymous `subject`; it is
deleted when the vault withdraws it and forgotten when its retention ends. Time and randomness are
injected (`clock`, `rng`), so tests control both.

Nonces and holdings are in vault.demo.store, the pages in vault.demo.pages, and running it with uvicorn
in vault.demo.server:

    python -m vault.demo.shop --port 8000     # http://127.0.0.1:8000 (plain http: loopback only)
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import Cookie, ResponseHeader
from litestar.static_files import create_static_files_router

from vault.demo import pages
from vault.demo.products import personalise
from vault.demo.store import (
    COOKIE,
    Clock,
    HeldPresentation,
    Holdings,
    NonceBook,
    NonceProblem,
    ReceivedNotice,
    Rng,
)
from vault.protocol.manifest import retention_seconds
from vault.site import (
    MANIFEST_PATH,
    ClaimRequest,
    Controller,
    InMemoryReplayStore,
    Manifest,
    NoticeInvalid,
    PresentationInvalid,
    Purpose,
    Reason,
    ReplayStore,
    SigningKey,
    ThirdParty,
    acknowledge_presentation,
    acknowledge_revocation,
    build_manifest,
    generate_site_key,
    manifest_json,
    verify_presentation,
    verify_revocation,
)

STATIC_DIR = Path(__file__).parent / "shop_static"
REVOCATION_PATH = "/.well-known/vault-revocation"
MAX_BODY = 64 * 1024


def wall_clock() -> int:
    return int(time.time())


# -- 1. the manifest -------------------------------------------------------------------------------------


def shop_manifest(
    origin: str,
    site_key: SigningKey,
    revocation_path: str = REVOCATION_PATH,
    purposes: Sequence[Purpose] | None = None,
) -> Manifest:
    """Demo Shoes' manifest: the example of vault/protocol/examples/manifest.json, on this origin (or
    with other `purposes`)."""
    age = ClaimRequest(
        name="age_over_18", required=True, why="Some of our products may only be sold to adults."
    )
    return build_manifest(
        origin=origin,
        controller=Controller(
            name="Demo Shoes", contact="privacy@demo-shoes.example", privacy_policy=f"{origin}/privacy"
        ),
        site_key=site_key,
        revocation_endpoint=origin + revocation_path,
        purposes=purposes
        or [
            Purpose(
                id="recommendations",
                title="Shoe recommendations",
                description="We suggest shoes in your size that suit your interests, and hide products "
                "we cannot deliver to you or may not sell to you.",
                benefit="You see shoes that fit and that you like first, without creating an account.",
                concept="dpv:ProvidePersonalisedRecommendations",
                claims=(
                    age,
                    ClaimRequest(
                        name="location.country",
                        required=True,
                        why="We only show shoes we can deliver to you.",
                    ),
                    ClaimRequest(name="sizes.shoe", required=False, why="To show shoes in your size first."),
                    ClaimRequest(
                        name="interests", required=False, why="To order the shoes by what you like."
                    ),
                ),
                retention="P30D",
                third_parties=(
                    ThirdParty(name="Demo Analytics B.V.", why="Counts which recommendations are used."),
                ),
            ),
            Purpose(
                id="age-check",
                title="Age confirmation at checkout",
                description="Before you buy an age-restricted product, your vault states on your behalf "
                "that you are 18 or older. It is your own statement: nobody else has checked it.",
                benefit="You confirm your age in one step, and we never see your birth date.",
                concept="dpv:AgeVerification",
                claims=(
                    ClaimRequest(
                        name="age_over_18", required=True, why="We may only sell these products to adults."
                    ),
                ),
                retention="P1D",
                third_parties=(),
            ),
        ],
    )


# -- 2. the shop: the three things a site does with a token ----------------------------------------------


class Refused(Exception):
    def __init__(self, status: int, error: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": error, "reason": reason, "message": message}


class VerifyRequest(msgspec.Struct, forbid_unknown_fields=True):
    purpose: str
    token: str


class NoticeRequest(msgspec.Struct, forbid_unknown_fields=True):
    notice: str


_EXPLAINED = {
    Reason.EXPIRED: "the presentation has expired: ask the vault again",
    Reason.REPLAYED: "this presentation was already used once",
    Reason.WRONG_NONCE: "the presentation was made for another page (its nonce is not this page's)",
    Reason.WRONG_AUDIENCE: "the presentation was made for another site",
    Reason.BAD_SIGNATURE: "the presentation's signature does not verify",
    Reason.REPLAY_CHECK_FAILED: "we cannot check for replays right now: try again later",
}


class Shop:
    def __init__(
        self, *, origin: str, site_key: SigningKey, clock: Clock, replay: ReplayStore, rng: Rng,
        revocation_path: str,
    ) -> None:  # fmt: skip
        self.origin, self.site_key, self.clock, self.replay = origin, site_key, clock, replay
        self.revocation_path = revocation_path
        self.change_purposes(None)
        self.nonces = NonceBook(clock, rng)
        self.held = Holdings()

    def change_purposes(self, purposes: Sequence[Purpose] | None) -> None:
        """Publish a manifest with these purposes from now on (None: the shop's own)."""
        self.manifest = shop_manifest(self.origin, self.site_key, self.revocation_path, purposes)
        self.manifest_bytes = manifest_json(self.manifest)

    def verify(self, session: str | None, purpose: str, token: str) -> dict[str, Any]:
        """Verify `token` with this session's nonce; keep and personalise from what it proves."""
        try:
            nonce = self.nonces.spend(session, purpose)
        except NonceProblem as problem:
            raise Refused(400, "nonce_invalid", problem.reason, problem.message) from None
        now = self.clock()
        try:
            seen = verify_presentation(
                token, manifest=self.manifest, nonce=nonce, now=now, replay=self.replay
            )
        except PresentationInvalid as refused:
            reason = refused.reason
            status = 503 if reason is Reason.REPLAY_CHECK_FAILED else 400
            message = _EXPLAINED.get(reason, f"the presentation was refused ({reason.value})")
            raise Refused(status, "presentation_invalid", reason.value, message) from None
        if seen.purpose != purpose:
            message = f"the presentation is for {seen.purpose!r}, not {purpose!r}"
            raise Refused(400, "presentation_invalid", "wrong_purpose", message)
        keep_until = seen.issued_at + retention_seconds(seen.retention)
        self.held.keep(
            HeldPresentation(
                subject=seen.subject,
                jti=seen.jti,
                purpose=seen.purpose,
                claims=dict(seen.claims),
                received_at=now,
                keep_until=keep_until,
            )
        )
        acknowledgement = acknowledge_presentation(
            self.site_key, seen, manifest=self.manifest, now=now, keep_until=keep_until
        )
        declared = next(p for p in self.manifest.purposes if p.id == seen.purpose).claims
        result = personalise(seen.claims)  # from the verified claims, and nothing else
        return {
            "purpose": seen.purpose,
            "subject": seen.subject,
            "jti": seen.jti,
            "claims": seen.claims,
            "not_shared": [c.name for c in declared if c.name not in seen.claims],
            "retention": seen.retention,
            "keep_until": keep_until,
            "acknowledgement": acknowledgement,
            "used": msgspec.to_builtins(result.used),
            "products": msgspec.to_builtins(result.products),
            "hidden": msgspec.to_builtins(result.hidden),
        }

    def receive_notice(self, token: str) -> str:
        """Verify a revocation notice, delete what it withdraws (everything of that visitor for an
        erasure), and return our signed acknowledgement. Raises NoticeInvalid."""
        now = self.clock()
        notice = verify_revocation(
            token, manifest=self.manifest, now=now, stored_subject=self.held.subject_of
        )
        deleted = self.held.withdraw(notice.presentations)
        if notice.erasure:
            deleted += self.held.erase(notice.subject)
        self.held.notices.append(
            ReceivedNotice(
                jti=notice.jti,
                subject=notice.subject,
                purpose=notice.purpose,
                presentations=len(notice.presentations),
                erasure=notice.erasure,
                deleted=deleted,
                received_at=now,
            )
        )
        # We keep nothing a notice withdraws, so we can always say "erased".
        return acknowledge_revocation(self.site_key, notice, manifest=self.manifest, now=now, erased=True)


# -- 3. the web app --------------------------------------------------------------------------------------


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
) -> Litestar:
    """The shop on `origin` (https, or http on loopback). `app.state.shop` is the Shop behind it."""
    shop = Shop(
        origin=origin,
        site_key=site_key or generate_site_key(rng),
        clock=clock,
        replay=replay if replay is not None else InMemoryReplayStore(),
        rng=rng,
        revocation_path=revocation_path,
    )

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
            return _json(
                {"error": "bad_request", "reason": "not_json", "message": "send application/json"}, 415
            )
        try:
            data = msgspec.json.decode(await request.body(), type=VerifyRequest)
        except msgspec.DecodeError as error:
            return _json({"error": "bad_request", "reason": "bad_body", "message": str(error)}, 400)
        try:
            return _json(shop.verify(request.cookies.get(COOKIE), data.purpose, data.token))
        except Refused as refused:
            return _json(refused.body, refused.status)

    @post(revocation_path, status_code=200)
    async def revocation(request: Request) -> Response[bytes]:
        try:
            data = msgspec.json.decode(await request.body(), type=NoticeRequest)
        except msgspec.DecodeError as error:
            return _json({"error": "bad_request", "reason": "bad_body", "message": str(error)}, 400)
        try:
            return _json({"acknowledgement": shop.receive_notice(data.notice)})
        except NoticeInvalid as refused:
            reason = refused.reason.value
            return _json(
                {"error": "notice_invalid", "reason": reason, "message": f"notice refused ({reason})"}, 400
            )

    @get("/api/held")
    async def held_json() -> Response[bytes]:
        presentations = shop.held.current(shop.clock())
        return _json({"presentations": presentations, "notices": shop.held.notices})

    @get("/")
    async def index() -> Response[str]:
        return _html(pages.shop_page(shop.manifest))

    @get("/held")
    async def held_page() -> Response[str]:
        return _html(pages.held_page(shop.held.current(shop.clock()), shop.held.notices))

    @get("/privacy")
    async def privacy() -> Response[str]:
        return _html(pages.privacy_page(shop.manifest))

    app = Litestar(
        route_handlers=[
            manifest,
            nonce,
            verify,
            revocation,
            held_json,
            index,
            held_page,
            privacy,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        request_max_body_size=MAX_BODY,
        response_headers=[ResponseHeader(name=k, value=v) for k, v in pages.SECURITY_HEADERS.items()],
        openapi_config=None,
    )
    app.state.shop = shop
    return app


# -- running it ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vault.demo.shop", description="Run the demo shop.")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--origin", help="the shop's origin (default: http://127.0.0.1:PORT)")
    parser.add_argument("--site-key-file", type=Path, help="file with the site key's seed (64 hex digits)")
    args = parser.parse_args(argv)
    key = (
        SigningKey.from_seed(bytes.fromhex(args.site_key_file.read_text().strip()))
        if args.site_key_file
        else None
    )
    from vault.demo.server import serve_shop

    try:
        serve_shop(port=args.port, origin=args.origin, site_key=key)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
