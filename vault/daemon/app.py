"""create_app: the daemon's Litestar application, built around a Daemon (settings, vault worker, clock).

Routes live under /v1. The OpenAPI document is at /schema/openapi.json, built on its first request (never
at start: building it costs about 100 ms and 3 MiB that an idle daemon would otherwise hold).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Litestar, Request, Router
from litestar.di import Provide
from litestar.exceptions import ClientException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins import PluginProtocol
from litestar.plugins.core import MsgspecDIPlugin
from litestar.types import ASGIApp, Receive, Scope, Send

from vault.daemon import fast_path
from vault.daemon.errors import EXCEPTION_HANDLERS
from vault.daemon.messages import ErrorBody
from vault.daemon.routes import vault_router
from vault.daemon.routes_access import access_router
from vault.daemon.routes_admin import cli_router
from vault.daemon.routes_contexts import contexts_router
from vault.daemon.routes_controls import controls_router
from vault.daemon.routes_inbox import inbox_router
from vault.daemon.routes_profile import profile_router
from vault.daemon.session import admin_router, session_routes
from vault.daemon.state import Daemon, Settings

API_PREFIX = "/v1"
# Far deeper than any message we define (a profile value is a list of strings), far shallower than the
# recursion limit msgspec and our validators would otherwise hit (a RecursionError, a 500, near 1,000).
MAX_JSON_DEPTH = 32


def create_app(settings: Settings, *, daemon: Daemon | None = None, background: bool = True) -> Litestar:
    """`daemon` carries the injectable parts (clock, ids, worker); by default one is built from settings.

    `background`: run auto-lock and notice delivery while the app runs (tests of single requests turn
    it off and call those duties themselves)."""
    holder: dict[str, Daemon] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        current = daemon or Daemon(settings)
        holder["daemon"] = app.state.daemon = current
        task = asyncio.create_task(current.run_background()) if background else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # Every request already queued still runs and commits; then the vault is closed.
            await asyncio.to_thread(current.worker.stop)

    def provide_daemon() -> Daemon:
        return holder["daemon"]

    middleware = []
    if settings.tcp_token is not None:
        middleware.append(lambda app: TcpGuard(app, settings))
    app = _DaemonLitestar(
        route_handlers=[
            _ApiRouter(
                path=API_PREFIX,
                route_handlers=[
                    *session_routes,
                    admin_router,
                    cli_router,
                    vault_router,
                    profile_router,
                    controls_router,
                    inbox_router,
                    access_router,
                    contexts_router,
                ],
            )
        ],
        dependencies={"daemon": Provide(provide_daemon, sync_to_thread=False)},
        request_class=BoundedJsonRequest,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        middleware=middleware,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="personal-vault daemon",
            version="",  # the package's, read when the document is built (finished_document)
            description="The local API the browser extension (through the native host) and the CLI use.",
            render_plugins=[AnyOfJsonPlugin()],
        ),
        logging_config=None,
        debug=False,
    )
    # Not in --tcp mode: there TcpGuard, a Litestar middleware, must see every request first.
    app.fast_presentations = settings.tcp_token is None
    return app


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The OpenAPI document `app` serves at /schema/openapi.json, built now."""
    return finished_document(app.openapi_schema.to_schema())


def finished_document(document: dict[str, Any]) -> dict[str, Any]:
    """Litestar's document as we serve it: unions as anyOf, and the package's version (read here, not at
    start: reading the package metadata costs ~1.5 ms and ~0.2 MiB)."""
    from importlib.metadata import version

    document["info"]["version"] = version("personal-vault")
    return unions_as_any_of(document)


class _DaemonLitestar(Litestar):
    """Litestar, with two changes for the daemon.

    It answers POST /v1/presentations itself when it plainly can, as the route would (vault.daemon.fast_path),
    and leaves everything else to Litestar.

    Litestar adds its pydantic and attrs plugins whenever those libraries can be imported, and imports
    them to do so: attrs is there in many environments (other packages bring it), and cost the daemon 0.8
    MiB and 13-19 ms at start. Every model the daemon has is a msgspec Struct, which needs only the msgspec
    plugin. (If Litestar renames this hook, the plugins come back: tests/daemon/test_startup.py sees it.)"""

    fast_presentations = False  # POST /v1/presentations answered by vault.daemon.fast_path

    @staticmethod
    def _get_default_plugins(plugins: list[PluginProtocol]) -> list[PluginProtocol]:
        return [*plugins, MsgspecDIPlugin()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.fast_presentations and fast_path.takes(scope)):
            await super().__call__(scope, receive, send)
            return
        await fast_path.answer(
            getattr(self.state, "daemon", None),
            scope,
            receive,
            send,
            max_body=self.request_max_body_size or 0,  # (the daemon always sets one)
            litestar=lambda replayed: super(_DaemonLitestar, self).__call__(scope, replayed, send),
        )


class _ApiRouter(Router):
    """The /v1 router, made for one app: Litestar deep-copies every router it registers (so one can be
    registered in several places), which for this one would copy every route a second time and keep both
    copies (~0.4 MiB, ~10 ms). The routers inside it are still copied, once per app."""

    def __deepcopy__(self, memo: dict[int, object]) -> _ApiRouter:
        return self


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether decoded JSON nests arrays and objects more than `limit` deep, level by level (no recursion:
    the value may be as deep as the decoder allows)."""
    level = [value]
    for _ in range(limit):
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return any(isinstance(node, dict | list) for node in level)


class BoundedJsonRequest(Request):
    """Every JSON body a route receives is decoded here, and its nesting bounded before any route or
    validator sees it. Checked on the decoded value, not by scanning the bytes first: msgspec bounds its
    own recursion (RecursionError near 1,000 levels), and counting brackets in the bytes cost each
    presentation ~5 us (its ~3 KB body carries the manifest)."""

    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:
            value = None
        else:
            if not nested_deeper_than(value, MAX_JSON_DEPTH):
                return value
        raise ClientException(f"the JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels)")


def unions_as_any_of(node: Any) -> Any:
    """Litestar writes unions as oneOf, which rejects a value matching two branches: a claim value of 42 is
    both an integer and a number. The unions we write are meant as anyOf. Changes the document in place
    (again is harmless) and returns it."""
    if isinstance(node, dict):
        if isinstance(node.get("oneOf"), list):
            node["anyOf"] = node.pop("oneOf")
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for field_schema in value.values():  # field names are left alone, even one named oneOf
                    unions_as_any_of(field_schema)
            else:
                unions_as_any_of(value)
    elif isinstance(node, list):
        for value in node:
            unions_as_any_of(value)
    return node


class AnyOfJsonPlugin(JsonRenderPlugin):
    """/schema/openapi.json as finished_document() makes it (Litestar builds and keeps it on first use)."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, finished_document(openapi_schema))


class TcpGuard:
    """--tcp development mode: every request that did not arrive on our Unix socket must carry the bearer
    token, name an allowed Host (against DNS rebinding), and not come from a browser (no Origin header:
    a web page can reach 127.0.0.1, and only a browser sends Origin)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.expected = f"Bearer {settings.tcp_token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._on_unix_socket(scope):
            refusal = self._refusal(dict(scope["headers"]))
            if refusal is not None:
                await _send_error(send, *refusal)
                return
        await self.app(scope, receive, send)

    def _on_unix_socket(self, scope: Scope) -> bool:
        server = scope.get("server")
        return bool(server) and server[1] is None and server[0] == self.settings.socket_path

    def _refusal(self, headers: dict[bytes, bytes]) -> tuple[int, ErrorBody] | None:
        if headers.get(b"host", b"").decode("latin-1") not in self.settings.allowed_hosts:
            return 403, ErrorBody(error="bad_host", message="this Host is not allowed (DNS rebinding guard)")
        if b"origin" in headers or headers.get(b"sec-fetch-site", b"none") not in (b"none", b"same-origin"):
            return 403, ErrorBody(error="browser_request", message="requests from web pages are refused")
        if not hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
            return 401, ErrorBody(
                error="unauthorized", message="a bearer token is required", hint="it was printed at start"
            )
        return None


async def _send_error(send: Send, status: int, body: ErrorBody) -> None:
    payload = msgspec.json.encode(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
