"""A site's vault endpoints as one plain ASGI application: `VaultEndpoints`.

    GET  /.well-known/vault-manifest.json  the manifest
    GET  /vault/nonce                      {"nonce"}: bound to the visitor's session (nonces.py)
    POST /vault/presentation               {"purpose", "token"} -> {"acknowledgement", "result"}
    POST <revocation_endpoint's path>      {"notice"} -> {"acknowledgement"}
    POST <access_endpoint's path>          {"request"} -> {"statement"}

Every other request goes to the site's own ASGI app when one is wrapped (`app=`), else 404. The site
supplies what only it can do as callbacks, each a plain function or a coroutine function. A plain one runs
on the event loop, one at a time (so an in-memory dict needs no lock); one that blocks (a database call)
should be a coroutine function instead.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec

from vault.protocol.b64 import b64url_encode
from vault.protocol.errors import (
    AccessRequestInvalid,
    NoticeInvalid,
    PresentationInvalid,
    Reason,
    TokenInvalid,
)
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import MAX_PURPOSE_ID, Manifest
from vault.protocol.presentation import open_presentation
from vault.site.access import VerifiedAccessRequest, answer_access_request, verify_access_request
from vault.site.acknowledge import acknowledge_presentation, check_site_key
from vault.site.endpoints_callbacks import (
    Accepted,
    SiteFailed,
    as_accepted,
    as_session,
    as_subject,
    as_withdrawn,
    held_records,
    run_callback,
    site_bug,
)
from vault.site.endpoints_http import (
    BODY_TIMEOUT,
    AsgiApp,
    Receive,
    Refusal,
    Scope,
    Send,
    error_body,
    read_json,
    refused,
    send_bytes,
    send_json,
    serve_lifespan,
    session_cookie,
    set_session_cookie,
)
from vault.site.manifest import MANIFEST_PATH, manifest_json
from vault.site.nonces import NONCE_TTL, SessionNonces, nonce_key
from vault.site.replay import ReplayStore
from vault.site.revocation import (
    VerifiedNotice,
    acknowledge_revocation,
    recipients_to_tell,
    verify_revocation,
)
from vault.site.verify import DEFAULT_MAX_SKEW, VerifiedPresentation, verify_opened_presentation

NONCE_PATH = "/vault/nonce"
PRESENTATION_PATH = "/vault/presentation"
MAX_PRESENTATION_BODY = 16 * 1024  # {"purpose", "token"}: a token is at most 8192 characters
MAX_NOTICE_BODY = 64 * 1024
MAX_ACCESS_BODY = 16 * 1024

logger = logging.getLogger("vault.site.endpoints")


class PresentationBody(msgspec.Struct, forbid_unknown_fields=True):
    purpose: Annotated[str, msgspec.Meta(max_length=MAX_PURPOSE_ID)]
    token: str  # bounded by the body limit; the verifier refuses one over 8192 characters (`too_large`)


class NoticeBody(msgspec.Struct, forbid_unknown_fields=True):
    notice: str


class AccessBody(msgspec.Struct, forbid_unknown_fields=True):
    request: str


def wall_clock() -> int:
    return int(time.time())


def _path_of(url: str) -> str:
    return urlsplit(url).path or "/"


class VaultEndpoints:
    """The ASGI app serving a site's vault endpoints (see the module's docstring), around `app`.

    Callbacks (plain or async):
      on_presentation(seen: VerifiedPresentation, session: str) -> Accepted | dict | None
          keep what was verified (with seen.subject and seen.jti: notices and access requests use them)
      stored_subject(jti: str) -> str | None      the `subject` kept with that presentation
      on_notice(notice: VerifiedNotice) -> Withdrawn | None
          stop using, and when `notice.erasure` erase, what it withdraws (`notice.site`); tell each of
          `recipients_to_tell(notice, manifest)`
      held(request: VerifiedAccessRequest) -> Iterable[HeldRecord]     only when the manifest has an
          access_endpoint: every record kept under `request.subject` (`held_record(seen)` makes one;
          `show_values=True` puts the values held in the statement, not only the claim names)
      session(scope) -> str | None                the visitor's session id in the site's own sessions
          (default: a `vault_session` cookie set with the first nonce)

    `replay` is shared by every process of the site (RedisReplayStore for many): it keeps presentations,
    nonces and access requests single-use. A body must arrive within `body_timeout` seconds (408
    otherwise). `clock` and `rng` are passed in for tests.
    """

    def __init__(
        self,
        *,
        manifest: Manifest,
        site_key: SigningKey,
        replay: ReplayStore,
        on_presentation: Callable[..., Any],
        stored_subject: Callable[[str], Any],
        on_notice: Callable[[VerifiedNotice], Any],
        held: Callable[[VerifiedAccessRequest], Any] | None = None,
        app: AsgiApp | None = None,
        session: Callable[[Scope], Any] | None = None,
        show_values: bool = False,
        clock: Callable[[], int] = wall_clock,
        rng: Callable[[int], bytes] = secrets.token_bytes,
        nonce_ttl: int = NONCE_TTL,
        max_skew: int = DEFAULT_MAX_SKEW,
        body_timeout: float = BODY_TIMEOUT,
    ) -> None:
        check_site_key(site_key, manifest)
        if (held is None) != (manifest.access_endpoint is None):
            raise ValueError("give `held` exactly when the manifest has an access_endpoint")
        self.manifest, self.site_key, self.replay, self.app = manifest, site_key, replay, app
        self.on_presentation, self.stored_subject, self.on_notice = on_presentation, stored_subject, on_notice
        self.held, self.session, self.show_values = held, session, show_values
        self.clock, self.rng, self.max_skew, self.body_timeout = clock, rng, max_skew, body_timeout
        self.nonces = SessionNonces(nonce_key(site_key), ttl=nonce_ttl, max_skew=max_skew)
        self._manifest_bytes = manifest_json(manifest)
        self._secure_cookie = manifest.origin.startswith("https://")
        self._routes: dict[str, tuple[str, Callable[..., Any]]] = {
            MANIFEST_PATH: ("GET", self._manifest),
            NONCE_PATH: ("GET", self._nonce),
            PRESENTATION_PATH: ("POST", self._presentation),
        }
        self._routes[_path_of(manifest.revocation_endpoint)] = ("POST", self._revocation)
        if manifest.access_endpoint is not None:
            self._routes[_path_of(manifest.access_endpoint)] = ("POST", self._access)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope) if scope["type"] == "http" else None
        if route is None:
            if self.app is not None:
                await self.app(scope, receive, send)
            elif scope["type"] == "lifespan":
                await serve_lifespan(receive, send)
            elif scope["type"] == "http":
                await send_json(send, 404, error_body("not_found", "unknown_path", "there is nothing here"))
            return  # a websocket with no app to take it: closed unanswered
        method, handler = route
        asked = scope.get("method", "GET")
        head = asked == "HEAD" and method == "GET"
        try:
            if asked != method and not head:
                allowed = "GET, HEAD" if method == "GET" else method
                raise Refusal(
                    405, "method_not_allowed", "wrong_method", f"use {method}", [(b"allow", allowed.encode())]
                )
            await handler(scope, receive, send, head)
        except Refusal as refusal:
            await send_json(send, refusal.status, refusal.body, refusal.headers, head=head)
        except Exception as error:  # the site's bug or ours, never the client's: say nothing about it
            if not isinstance(error, SiteFailed):
                logger.error("vault endpoint %s failed: %s", scope.get("path"), type(error).__name__)
            await send_json(
                send, 500, error_body("site_error", "site_error", "the site could not handle this")
            )

    def _route(self, scope: Scope) -> tuple[str, Callable[..., Any]] | None:
        # A framework that mounts us may rewrite `path` (Litestar's mount at "/" makes "/vault/nonce"
        # "vault/nonce/"); `raw_path` is what the client sent, and our paths are absolute on the origin.
        raw = scope.get("raw_path")
        if isinstance(raw, bytes):
            route = self._routes.get(raw.split(b"?", 1)[0].decode("latin-1"))
            if route is not None:
                return route
        return self._routes.get(scope.get("path", ""))

    # -- the endpoints ---------------------------------------------------------------------------------

    async def _manifest(self, scope: Scope, receive: Receive, send: Send, head: bool) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-cache"),
            (b"access-control-allow-origin", b"*"),  # public, by design
        ]
        await send_bytes(send, 200, self._manifest_bytes, headers, head=head)

    async def _session_of(self, scope: Scope) -> str | None:
        if self.session is None:
            return session_cookie(scope)
        return as_session(await run_callback("session", self.session, scope))

    async def _nonce(self, scope: Scope, receive: Receive, send: Send, head: bool) -> None:
        session, headers = await self._session_of(scope), []
        if session is None:
            if self.session is not None:
                raise Refusal(403, "no_session", "no_session", "a nonce is given only within a session")
            session = b64url_encode(self.rng(32))
            headers.append(set_session_cookie(session, secure=self._secure_cookie))
        nonce = self.nonces.issue(session, now=self.clock(), rng=self.rng)
        await send_json(send, 200, {"nonce": nonce}, headers)

    async def _presentation(self, scope: Scope, receive: Receive, send: Send, head: bool) -> None:
        body = await read_json(scope, receive, PresentationBody, MAX_PRESENTATION_BODY, self.body_timeout)
        session = await self._session_of(scope)
        now = self.clock()
        try:
            header, payload = open_presentation(body.token)  # the only signature check
        except TokenInvalid as error:
            raise refused("presentation_invalid", error.reason, "presentation") from None
        checked = self.nonces.check(payload.nonce, session, now=now)
        if checked is None:  # not ours, not this session's, or too old: the spec's wrong_nonce
            raise refused("presentation_invalid", Reason.WRONG_NONCE, "presentation")
        try:
            seen = verify_opened_presentation(
                header, payload, manifest=self.manifest, nonce=checked.nonce, now=now, replay=self.replay,
                max_skew=self.max_skew,
            )  # fmt: skip
        except PresentationInvalid as error:
            raise refused("presentation_invalid", error.reason, "presentation") from None
        if seen.purpose != body.purpose:  # checked after the spec's checks, so that their reasons come first
            message = "the presentation is for another purpose than the one named beside it"
            raise Refusal(400, "presentation_invalid", "wrong_purpose", message)
        try:
            fresh = self.nonces.spend(self.replay, checked, seen.purpose, now=now)
        except Exception:
            raise refused("presentation_invalid", Reason.REPLAY_CHECK_FAILED, "presentation") from None
        if not fresh:
            message = "this nonce was already used for this purpose: fetch a new one"
            raise Refusal(400, "nonce_invalid", "nonce_used", message)
        accepted = as_accepted(await run_callback("on_presentation", self.on_presentation, seen, session))
        answer = {"acknowledgement": self._acknowledge(seen, accepted, now), "result": accepted.result}
        try:
            await send_json(send, 200, answer)
        except TypeError:  # encoding comes first, so nothing was sent yet
            raise site_bug("on_presentation result is not JSON") from None

    def _acknowledge(self, seen: VerifiedPresentation, accepted: Accepted, now: int) -> str:
        try:
            return acknowledge_presentation(
                self.site_key, seen, manifest=self.manifest, now=now, keep_until=accepted.keep_until,
                recipients=accepted.recipients, messages=accepted.messages,
            )  # fmt: skip
        except (ValueError, TypeError) as error:
            raise site_bug(f"acknowledgement could not be signed ({type(error).__name__})") from None

    async def _revocation(self, scope: Scope, receive: Receive, send: Send, head: bool) -> None:
        body = await read_json(scope, receive, NoticeBody, MAX_NOTICE_BODY, self.body_timeout)
        now = self.clock()
        try:
            # Every check but the subjects first, so the site is asked about a notice's presentations
            # only once the notice is signed, addressed to it and current; then with what the site kept.
            opened = verify_revocation(
                body.notice, manifest=self.manifest, now=now, stored_subject=_no_subject,
                max_skew=self.max_skew,
            )  # fmt: skip
            subjects: dict[str, str | None] = {}
            for jti in opened.presentations:
                subjects[jti] = as_subject(await run_callback("stored_subject", self.stored_subject, jti))
            notice = verify_revocation(
                body.notice, manifest=self.manifest, now=now, stored_subject=subjects.get,
                max_skew=self.max_skew,
            )  # fmt: skip
        except NoticeInvalid as error:
            raise refused("notice_invalid", error.reason, "notice") from None
        withdrawn = as_withdrawn(await run_callback("on_notice", self.on_notice, notice), site=notice.site)
        outcomes = dict(withdrawn.recipients)
        declared = {party.id for party in recipients_to_tell(notice, self.manifest)}
        for recipient in notice.recipients:
            if recipient not in outcomes:
                if recipient in declared:
                    raise site_bug("on_notice gave no outcome for a third party the notice names")
                # Not a third party of this purpose in the manifest we serve: we pass nothing to it.
                outcomes[recipient] = ("not_held", now)
        try:
            acknowledgement = acknowledge_revocation(
                self.site_key, notice, manifest=self.manifest, now=now, erased=withdrawn.erased,
                recipients=outcomes,
            )  # fmt: skip
        except (ValueError, TypeError) as error:
            raise site_bug(f"revocation answer could not be signed ({type(error).__name__})") from None
        await send_json(send, 200, {"acknowledgement": acknowledgement})

    async def _access(self, scope: Scope, receive: Receive, send: Send, head: bool) -> None:
        body = await read_json(scope, receive, AccessBody, MAX_ACCESS_BODY, self.body_timeout)
        now = self.clock()
        try:
            request = verify_access_request(
                body.request, manifest=self.manifest, now=now, replay=self.replay, max_skew=self.max_skew
            )
        except AccessRequestInvalid as error:
            raise refused("access_request_invalid", error.reason, "access request") from None
        assert self.held is not None  # the route exists only with it
        records = await run_callback("held", self.held, request)
        try:
            statement = answer_access_request(
                self.site_key, request, manifest=self.manifest, now=now, held=held_records(records),
                show_values=self.show_values,
            )  # fmt: skip
        except (ValueError, TypeError) as error:
            raise site_bug(f"access statement could not be signed ({type(error).__name__})") from None
        await send_json(send, 200, {"statement": statement})


def _no_subject(jti: str) -> None:
    return None
