"""Verifying a presentation: the one function a site's server calls for each token it receives.

Every check runs, in the order of SPEC.md ("Verifying a presentation"), before anything is returned; the
first failure raises PresentationInvalid with its reason. The replay record is written last, so a token
refused for any other reason can be retried once fixed, and a refused token never fills the store.
"""

from __future__ import annotations

from typing import Any

import msgspec

from vault.protocol.errors import PresentationInvalid, Reason, TokenInvalid
from vault.protocol.manifest import Manifest, manifest_index
from vault.protocol.presentation import MAX_TTL, open_presentation
from vault.site.replay import ReplayStore

DEFAULT_MAX_SKEW = 60
DEFAULT_MAX_LIFETIME = MAX_TTL
_THUMBPRINT_LENGTH = 43


class VerifiedPresentation(msgspec.Struct, frozen=True, kw_only=True):
    """A presentation that passed every check. Keep `subject` and `jti`: revocations refer to them."""

    subject: str  # the pairwise key's thumbprint URI (iss = sub)
    jti: str
    purpose: str
    purpose_digest: str
    retention: str
    claims: dict[str, Any]
    issued_at: int
    expires_at: int


def replay_key(subject: str, jti: str) -> str:
    """What the replay store records: `<thumbprint>.<jti>` (neither part can contain a dot)."""
    return subject[-_THUMBPRINT_LENGTH:] + "." + jti


def verify_presentation(
    token: object,
    *,
    manifest: Manifest,
    nonce: str,
    now: int,
    replay: ReplayStore,
    max_skew: int = DEFAULT_MAX_SKEW,
    max_lifetime: int = DEFAULT_MAX_LIFETIME,
) -> VerifiedPresentation:
    """Verify `token` against this site's own `manifest` and the `nonce` it gave the page.

    `now` is the current Unix time in seconds. Raises PresentationInvalid(reason) and nothing else.
    """
    try:
        header, payload = open_presentation(token)
    except TokenInvalid as error:
        raise PresentationInvalid(error.reason) from None
    if payload.iss != header.subject or payload.sub != header.subject:
        raise PresentationInvalid(Reason.WRONG_ISSUER)
    if payload.aud != manifest.origin:
        raise PresentationInvalid(Reason.WRONG_AUDIENCE)
    if payload.iat > now + max_skew:
        raise PresentationInvalid(Reason.NOT_YET_VALID)
    if not payload.iat < payload.exp <= payload.iat + max_lifetime:
        raise PresentationInvalid(Reason.BAD_LIFETIME)
    if payload.exp + max_skew <= now:
        raise PresentationInvalid(Reason.EXPIRED)
    if payload.nonce != nonce:
        raise PresentationInvalid(Reason.WRONG_NONCE)
    entry = manifest_index(manifest).get(payload.purpose.id)
    if entry is None:
        raise PresentationInvalid(Reason.UNKNOWN_PURPOSE)
    if payload.purpose_digest != entry.digest:
        raise PresentationInvalid(Reason.PURPOSE_DIGEST_MISMATCH)
    if payload.purpose.concept != entry.purpose.concept or payload.retention != entry.purpose.retention:
        raise PresentationInvalid(Reason.PURPOSE_MISMATCH)
    names = payload.claims.keys()
    if not names <= entry.declared:
        raise PresentationInvalid(Reason.UNDECLARED_CLAIM)
    if not entry.required <= names:
        raise PresentationInvalid(Reason.MISSING_CLAIM)
    try:
        fresh = replay.remember(replay_key(header.subject, payload.jti), payload.exp + max_skew, now)
    except Exception as error:  # fail closed, whatever the store's failure; the cause stays chained
        raise PresentationInvalid(Reason.REPLAY_CHECK_FAILED) from error
    if not fresh:
        raise PresentationInvalid(Reason.REPLAYED)
    return VerifiedPresentation(
        subject=header.subject,
        jti=payload.jti,
        purpose=payload.purpose.id,
        purpose_digest=payload.purpose_digest,
        retention=payload.retention,
        claims=payload.claims,
        issued_at=payload.iat,
        expires_at=payload.exp,
    )
