"""The one place where failures become HTTP answers. Every error body is an ErrorBody; nothing else leaks.

Unexpected exceptions become a bare 500: their text may hold values from the vault, so it goes to the log
by type only and never to the client.
"""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec

from vault.consent.inbox import MessageRefused
from vault.daemon.messages import ErrorBody, Problem
from vault.errors import (
    InvalidInput,
    VaultDamaged,
    VaultError,
    VaultExists,
    VaultLocked,
    VaultMissing,
    WrongPassphrase,
)
from vault.protocol.errors import AcknowledgementInvalid, ManifestInvalid

log = logging.getLogger("vault.daemon")


class Refused(VaultError):
    """The caller may not do this: not paired, not the admin, or a request the transport refuses."""

    def __init__(self, code: str, message: str, hint: str = "", status: int = 403) -> None:
        super().__init__(message, hint)
        self.code = code
        self.status = status


class ChangesRefused(InvalidInput):
    """Some entries of a request that names several were refused; `problems` says which, and why."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


# (status, code) per expected failure; the most specific class first.
_VAULT_ERRORS: list[tuple[type[VaultError], int, str]] = [
    (InvalidInput, 400, "invalid_input"),
    (WrongPassphrase, 403, "wrong_passphrase"),
    (VaultLocked, 423, "vault_locked"),
    (VaultMissing, 503, "vault_missing"),
    (VaultDamaged, 503, "vault_damaged"),
    (VaultExists, 409, "vault_exists"),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def _json(status: int, body: ErrorBody) -> Response[ErrorBody]:
    return Response(body, status_code=status, media_type=MediaType.JSON)


def vault_error(_: Request | None, error: VaultError) -> Response[ErrorBody]:
    if isinstance(error, Refused):
        return _json(error.status, ErrorBody(error=error.code, message=error.message, hint=error.hint))
    status, code = next(((s, c) for cls, s, c in _VAULT_ERRORS if isinstance(error, cls)), (400, "failed"))
    problems = error.problems if isinstance(error, ChangesRefused) else None
    return _json(status, ErrorBody(error=code, message=error.message, hint=error.hint, problems=problems))


# A refused site message: a token that does not verify is a 400; the inbox's own refusals say more.
_MESSAGE_STATUS = {"replayed": 409, "inbox_full": 409, "rate_limited": 429, "unknown_site": 403}


def message_refused(_: Request | None, error: MessageRefused) -> Response[ErrorBody]:
    # `error` is the code itself (the token's reason or the inbox's), as the extension's contract says.
    return _json(_MESSAGE_STATUS.get(error.code, 400), ErrorBody(error=error.code, message=error.message))


def acknowledgement_invalid(_: Request | None, error: AcknowledgementInvalid) -> Response[ErrorBody]:
    return _json(
        400,
        ErrorBody(
            error="acknowledgement_invalid",
            message=f"the acknowledgement was refused: {error.reason.value.replace('_', ' ')}",
            reason=error.reason.value,
        ),
    )


def manifest_invalid(_: Request | None, error: ManifestInvalid) -> Response[ErrorBody]:
    # Manifests are public documents, so naming the faulty field leaks nothing.
    return _json(400, ErrorBody(error="manifest_invalid", message=f"the site's manifest is invalid: {error}"))


def http_error(_: Request | None, error: HTTPException) -> Response[ErrorBody]:
    status = error.status_code
    if status >= 500:
        return internal_error(_, error)
    code = _HTTP_CODES.get(status, "bad_request")
    message = str(error.detail) if error.detail else code.replace("_", " ")
    extra = getattr(error, "extra", None)
    if status == 400 and isinstance(extra, list) and extra:  # Litestar's validation details
        details = "; ".join(
            str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in extra
        )
        message = f"invalid request: {details}"[:1000]
    return _json(status, ErrorBody(error=code, message=message))


def internal_error(_: Request | None, error: Exception) -> Response[ErrorBody]:
    log.error("request failed: %s", type(error).__name__)
    return _json(500, ErrorBody(error="internal_error", message="the daemon failed; see its log"))


EXCEPTION_HANDLERS = {
    VaultError: vault_error,
    MessageRefused: message_refused,
    AcknowledgementInvalid: acknowledgement_invalid,
    ManifestInvalid: manifest_invalid,
    HTTPException: http_error,
    Exception: internal_error,
}


def error_answer(error: Exception) -> tuple[int, ErrorBody]:
    """The status and body the app's exception handlers answer `error` with, for an answer sent without
    Litestar (vault.daemon.fast_path): the handler of the nearest class in its MRO, as Litestar picks it."""
    handler = next(EXCEPTION_HANDLERS[cls] for cls in type(error).__mro__ if cls in EXCEPTION_HANDLERS)
    response = handler(None, error)
    return response.status_code, response.content


def _documented(description: str) -> ResponseSpec:
    return ResponseSpec(ErrorBody, description=description, generate_examples=False)


# Declared on every route, so the OpenAPI document shows the body every error really has.
ERROR_RESPONSES = {
    400: _documented("Invalid input; nothing was changed"),
    403: _documented("Not paired, not the admin, or a wrong passphrase"),
    413: _documented("The body is too large"),
    423: _documented("The vault is locked"),
    429: _documented("Too many wrong passphrases; wait"),
    500: _documented("The daemon failed; see its log"),
    503: _documented("No vault, or a damaged one"),
}
