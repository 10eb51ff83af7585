"""Verifying a presentation: the one function a site's server calls for each token it receives.

Every check runs, in the order of SPEC.md ("Verifying a presentation"), before anything is returned; the
first failure raises PresentationInvalid with its reason. The replay record is written last, so a token
refused for any other reason can be retried once fixed, and a refused token never fills the store.
"""

from __future__ import annotations

from typing import Any

import msgspec

from vault.protocol.claim_types import claim_values_ok
from vault.protocol.errors import PresentationInvalid, Reason, TokenInvalid
from vault.protocol.jws import OpenedHeader
from vault.protocol.manifest import Manifest, manifest_index, recipients_problem
from vault.protocol.presentation import MAX_TTL, PresentationPayload, open_presentation
from vault.site.replay import ReplayStore

DEFAULT_MAX_SKEW = 60
DEFAULT_MAX_LIFETIME = MAX_TTL


class VerifiedPresentation(msgspec.Struct, frozen=True):
    """A presentation that passed every check. Keep `subject` and `jti`: revocations refer to them."""

    subject: str  # the pairwise key's thumbprint URI (iss = sub)
    jti: str
    purpose: str
    purpose_digest: str
    retention: str
    claims: dict[str, Any]
    issued_at: int
    expires_at: int
    recipients: tuple[str, ...] = ()  # the third parties (manifest ids) the user allows to receive them


def replay_key(subject: str, jti: str) -> str:
    """What the replay store records: `<thumbprint>.<jti>` (neither part can contain a dot).

    (`verify_presentation` spells this out inline: it is on the hot path.)"""
    return subject.rsplit(":", 1)[1] + "." + jti


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
    return verify_opened_presentation(
        header, payload, manifest=manifest, nonce=nonce, now=now, replay=replay, max_skew=max_skew,
        max_lifetime=max_lifetime,
    )  # fmt: skip


def verify_opened_presentation(
    header: OpenedHeader,
    payload: PresentationPayload,
    *,
    manifest: Manifest,
    nonce: str,
    now: int,
    replay: ReplayStore,
    max_skew: int = DEFAULT_MAX_SKEW,
    max_lifetime: int = DEFAULT_MAX_LIFETIME,
) -> VerifiedPresentation:
    """`verify_presentation`'s checks after the signature: for a token `open_presentation` opened (and so
    signature-checked) already, e.g. to read its nonce first. Raises PresentationInvalid(reason)."""
    subject = header.subject
    if payload.iss != subject or payload.sub != subject:
        raise PresentationInvalid(Reason.WRONG_ISSUER)
    if payload.aud != manifest.origin:
        raise PresentationInvalid(Reason.WRONG_AUDIENCE)
    issued_at, expires_at = payload.iat, payload.exp
    if issued_at > now + max_skew:
        raise PresentationInvalid(Reason.NOT_YET_VALID)
    if not issued_at < expires_at <= issued_at + max_lifetime:
        raise PresentationInvalid(Reason.BAD_LIFETIME)
    if expires_at + max_skew <= now:
        raise PresentationInvalid(Reason.EXPIRED)
    if payload.nonce != nonce:
        raise PresentationInvalid(Reason.WRONG_NONCE)
    purpose = payload.purpose
    entry = manifest_index(manifest).get(purpose.id)
    if entry is None:
        raise PresentationInvalid(Reason.UNKNOWN_PURPOSE)
    if payload.purpose_digest != entry.digest:
        raise PresentationInvalid(Reason.PURPOSE_DIGEST_MISMATCH)
    if purpose.concept != entry.purpose.concept or payload.retention != entry.purpose.retention:
        raise PresentationInvalid(Reason.PURPOSE_MISMATCH)
    claims = payload.claims
    if not claims.keys() <= entry.declared:
        raise PresentationInvalid(Reason.UNDECLARED_CLAIM)
    if not entry.required <= claims.keys():
        raise PresentationInvalid(Reason.MISSING_CLAIM)
    if not claim_values_ok(claims):  # each value has its claim's type (SPEC.md, "Claim value types")
        raise PresentationInvalid(Reason.BAD_CLAIM_VALUE)
    recipients = payload.recipients
    if recipients or entry.required_recipients:
        problem = recipients_problem(entry, recipients, claims)  # its keys are the claim names
        if problem is not None:
            raise PresentationInvalid(Reason(problem))
    try:
        fresh = replay.remember(header.thumbprint + "." + payload.jti, expires_at + max_skew, now)
    except Exception as error:  # fail closed, whatever the store's failure; the cause stays chained
        raise PresentationInvalid(Reason.REPLAY_CHECK_FAILED) from error
    if not fresh:
        raise PresentationInvalid(Reason.REPLAYED)
    return VerifiedPresentation(
        subject,
        payload.jti,
        purpose.id,
        payload.purpose_digest,
        payload.retention,
        claims,
        issued_at,
        expires_at,
        recipients,
    )


def recipient_claims(presentation: VerifiedPresentation, manifest: Manifest) -> dict[str, dict[str, Any]]:
    """What the site may pass to each third party the user allowed: recipient id -> the claims it receives
    (its declared claims that the presentation carries). A recipient the user did not allow is absent."""
    entry = manifest_index(manifest)[presentation.purpose]
    shared = {}
    for recipient in presentation.recipients:
        claims = {k: v for k, v in presentation.claims.items() if k in entry.recipients[recipient]}
        if claims:
            shared[recipient] = claims
    return shared
