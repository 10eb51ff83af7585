"""Demo Analytics B.V.: the demo shop's analytics partner, a separate HTTP service on its own port.

It is the third party `demo-analytics` of the shop's manifest: it receives, from the shop alone, the
claims of a presentation the user allowed it to receive, and erases them when the user withdraws them
from it (the shop forwards the vault's notice). The calls and their bounds are in
vault.demo.partner_api; here is the service:

    POST /api/receive    the shop passes claims on        (shop only: the shared secret)
    POST /api/withdraw   the shop forwards a withdrawal   (shop only)
    GET  /api/held       everything it holds, for the demo and the tests (shop's secret only)
    GET  /  /privacy     its privacy notice, with how many records it holds (no values: public)

The secret is made when the demo starts and read from a file (`--secret-file`, never the command line);
a call without it is refused (401) before its body is read, compared in constant time. It keeps only
the claims it declared it receives (`PARTNER_CLAIMS`), each of its type, no longer than the shop
promised the vault, and at most MAX_RECORDS records: when full it refuses (the shop then passes
nothing, and tells the vault so) rather than dropping what it holds. Everything is in memory.

    python -m vault.demo.partner --port 8001 --secret-file SECRET   # http://127.0.0.1:8001
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import html
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import ResponseHeader

from vault.demo.partner_api import (
    HELD_PATH,
    MAX_REQUEST,
    RECEIVE_PATH,
    WITHDRAW_PATH,
    Delivery,
    Withdrawal,
    WithdrawalAnswer,
)
from vault.protocol.claim_types import claim_values_ok

PARTNER_ID = "demo-analytics"
PARTNER_NAME = "Demo Analytics B.V."
PARTNER_CLAIMS = ("sizes.shoe", "interests")  # what the shop's manifest says it passes to us
MAX_RECORDS = 10_000
MAX_REMEMBERED_WITHDRAWALS = 10_000
MIN_SECRET = 32
Clock = Callable[[], int]
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Record(msgspec.Struct, kw_only=True):
    subject: str
    presentation: str
    purpose: str
    claims: dict[str, Any]
    received_at: int
    keep_until: int


class Full(Exception):
    pass


class PartnerStore:
    """What the partner holds, by (pairwise subject, presentation jti), and the withdrawals it acted on
    (so that a forwarded notice delivered twice gets the same answer twice)."""

    def __init__(self, accepts: tuple[str, ...] = PARTNER_CLAIMS, capacity: int = MAX_RECORDS) -> None:
        self.accepts, self.capacity = frozenset(accepts), capacity
        self._records: dict[tuple[str, str], Record] = {}
        self._answered: OrderedDict[tuple[str, str], WithdrawalAnswer] = OrderedDict()

    def acceptable(self, delivery: Delivery) -> bool:
        """Only the claims we said we receive, each of its type."""
        return delivery.claims.keys() <= self.accepts and claim_values_ok(delivery.claims)

    def receive(self, delivery: Delivery, now: int) -> None:
        key = (delivery.subject, delivery.presentation)
        self.current(now)
        if key not in self._records and len(self._records) >= self.capacity:
            raise Full
        self._records[key] = Record(
            subject=delivery.subject,
            presentation=delivery.presentation,
            purpose=delivery.purpose,
            claims=dict(delivery.claims),
            received_at=now,
            keep_until=delivery.keep_until,
        )

    def withdraw(self, withdrawal: Withdrawal, now: int) -> WithdrawalAnswer:
        """Erase what `withdrawal` names, of its subject only: the claims named (all if none) of the
        presentations named (of every presentation of that subject, for an erasure)."""
        key = (withdrawal.subject, withdrawal.notice)
        if (repeat := self._answered.get(key)) is not None:
            return repeat
        named = set(withdrawal.presentations)
        deleted = 0
        for record_key, record in list(self._records.items()):
            if record.subject != withdrawal.subject or not (
                withdrawal.erasure or record.presentation in named
            ):
                continue
            gone = [c for c in record.claims if not withdrawal.claims or c in withdrawal.claims]
            for claim in gone:
                del record.claims[claim]
            deleted += len(gone)
            if not record.claims:
                del self._records[record_key]
        answer = WithdrawalAnswer(outcome="erased" if deleted else "not_held", at=now, deleted=deleted)
        self._answered[key] = answer
        while len(self._answered) > MAX_REMEMBERED_WITHDRAWALS:
            self._answered.popitem(last=False)
        return answer

    def current(self, now: int) -> list[Record]:
        """What we hold now; anything past the date the shop promised is erased first."""
        for key in [key for key, record in self._records.items() if record.keep_until <= now]:
            del self._records[key]
        return sorted(self._records.values(), key=lambda r: (r.received_at, r.subject, r.presentation))


def _json(body: Any, status: int = 200) -> Response[bytes]:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def _error(status: int, error: str, message: str) -> Response[bytes]:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = msgspec.json.encode({"error": error, "message": message})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _privacy_page(held: list[Record]) -> str:
    subjects = len({r.subject for r in held})
    claims = ", ".join(PARTNER_CLAIMS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{PARTNER_NAME}: privacy</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; line-height: 1.5">
<h1>{PARTNER_NAME}</h1>
<p>We count which shoe recommendations are used at Demo Shoes. Demo Shoes passes us {html.escape(claims)}
of a visitor only when that visitor's personal vault allowed us to receive them, under the pseudonym the
vault made for Demo Shoes. We keep them no longer than Demo Shoes promised the vault, and erase them as
soon as the visitor withdraws them from us; Demo Shoes forwards us each withdrawal.</p>
<p id="holding">We hold <strong>{len(held)}</strong> {"record" if len(held) == 1 else "records"} about
<strong>{subjects}</strong> {"visitor" if subjects == 1 else "visitors"} right now.</p>
</body></html>
"""


def create_partner(*, secret: str, clock: Clock | None = None, store: PartnerStore | None = None) -> Litestar:
    """The partner's app. `secret` is what the shop sends as `Authorization: Bearer <secret>`."""
    if len(secret) < MIN_SECRET or not secret.isascii():
        raise ValueError(f"the shared secret must be at least {MIN_SECRET} ASCII characters")
    expected = f"Bearer {secret}".encode()
    now: Clock = clock or (lambda: int(time.time()))
    held = store or PartnerStore()

    def authorised(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return given.isascii() and hmac.compare_digest(given.encode(), expected)

    async def body_of(request: Request, kind: type[Any]) -> Any:
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise ValueError("send application/json")
        return msgspec.json.decode(await request.body(), type=kind)

    @post(RECEIVE_PATH, status_code=200)
    async def receive(request: Request) -> Response[bytes]:
        if not authorised(request):
            return _error(401, "unauthorised", "only Demo Shoes may pass us claims")
        try:
            delivery: Delivery = await body_of(request, Delivery)
        except (ValueError, msgspec.DecodeError) as error:
            return _error(400, "bad_request", str(error))
        if not held.acceptable(delivery):
            return _error(422, "not_ours", f"we receive only {', '.join(PARTNER_CLAIMS)}, each of its type")
        try:
            held.receive(delivery, now())
        except Full:
            return _error(503, "full", "we hold as much as we may: nothing was stored")
        return _json({"stored": sorted(delivery.claims)})

    @post(WITHDRAW_PATH, status_code=200)
    async def withdraw(request: Request) -> Response[bytes]:
        if not authorised(request):
            return _error(401, "unauthorised", "only Demo Shoes may forward withdrawals")
        try:
            withdrawal: Withdrawal = await body_of(request, Withdrawal)
        except (ValueError, msgspec.DecodeError) as error:
            return _error(400, "bad_request", str(error))
        return _json(held.withdraw(withdrawal, now()))

    @get(HELD_PATH)
    async def held_json(request: Request) -> Response[bytes]:
        if not authorised(request):
            return _error(401, "unauthorised", "what we hold is shown to Demo Shoes only")
        return _json({"records": held.current(now())})

    @get(["/", "/privacy"])
    async def privacy() -> Response[str]:
        return Response(_privacy_page(held.current(now())), media_type="text/html; charset=utf-8")

    app = Litestar(
        route_handlers=[receive, withdraw, held_json, privacy],
        request_max_body_size=MAX_REQUEST,
        response_headers=[ResponseHeader(name=k, value=v) for k, v in SECURITY_HEADERS.items()],
        openapi_config=None,
    )
    app.state.store = held
    return app


def read_secret(path: Path) -> str:
    """The shared secret, from a file only its owner can read."""
    if path.stat().st_mode & 0o077:
        raise SystemExit(f"{path}: the secret file must not be readable by others (chmod 600)")
    return path.read_text().strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vault.demo.partner", description="Run Demo Analytics.")
    parser.add_argument("--port", type=int, default=8001, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--secret-file", type=Path, required=True, help="file with the shop's secret (0600)")
    args = parser.parse_args(argv)
    from vault.demo.server import bind_loopback, uvicorn_server

    try:
        app = create_partner(secret=read_secret(args.secret_file))
    except ValueError as error:
        raise SystemExit(f"{args.secret_file}: {error}") from None
    sock = bind_loopback(args.port)
    print(f"{PARTNER_NAME} on http://127.0.0.1:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    try:
        asyncio.run(uvicorn_server(app).serve(sockets=[sock]))
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
