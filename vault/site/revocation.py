"""Receiving a revocation / erasure notice, and answering it with a signed acknowledgement."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from vault.protocol.acknowledgement import RevocationAcknowledgement, sign_revocation_ack
from vault.protocol.errors import NoticeInvalid, Reason, TokenInvalid
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest
from vault.protocol.revocation import MAX_NOTICE_LIFETIME, open_notice
from vault.site.acknowledge import check_site_key
from vault.site.verify import DEFAULT_MAX_SKEW


class VerifiedNotice(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    jti: str
    purpose: str
    presentations: tuple[str, ...]  # every jti the notice withdraws
    unknown: tuple[str, ...]  # those this site has no record of (already erased, or never received)
    erasure: bool  # the user also asks the site to erase what it holds
    issued_at: int


def verify_revocation(
    token: object,
    *,
    manifest: Manifest,
    now: int,
    stored_subject: Callable[[str], str | None],
    max_skew: int = DEFAULT_MAX_SKEW,
) -> VerifiedNotice:
    """Verify a notice sent to this site. Raises NoticeInvalid(reason).

    `stored_subject(jti)` returns the `subject` the site stored with that presentation, or None if it
    has none. Every presentation the site knows must have been signed by the notice's key
    (`wrong_subject` otherwise), so no one can withdraw someone else's presentations. Exceptions
    raised by `stored_subject` itself propagate unchanged.
    """
    try:
        header, notice = open_notice(token)
    except TokenInvalid as error:
        raise NoticeInvalid(error.reason) from None
    if notice.iss != header.subject or notice.sub != header.subject:
        raise NoticeInvalid(Reason.WRONG_ISSUER)
    if notice.aud != manifest.origin:
        raise NoticeInvalid(Reason.WRONG_AUDIENCE)
    if notice.iat > now + max_skew:
        raise NoticeInvalid(Reason.NOT_YET_VALID)
    if not notice.iat < notice.exp <= notice.iat + MAX_NOTICE_LIFETIME:
        raise NoticeInvalid(Reason.BAD_LIFETIME)
    if notice.exp + max_skew <= now:
        raise NoticeInvalid(Reason.EXPIRED)
    unknown = []
    for jti in notice.presentations:
        subject = stored_subject(jti)
        if subject is None:
            unknown.append(jti)
        elif subject != notice.sub:
            raise NoticeInvalid(Reason.WRONG_SUBJECT)
    return VerifiedNotice(
        subject=notice.sub,
        jti=notice.jti,
        purpose=notice.purpose,
        presentations=notice.presentations,
        unknown=tuple(unknown),
        erasure=notice.erasure,
        issued_at=notice.iat,
    )


def acknowledge_revocation(
    site_key: SigningKey, notice: VerifiedNotice, *, manifest: Manifest, now: int, erased: bool
) -> str:
    """Sign the site's answer to a verified notice; `erased` says whether the site erased the data."""
    check_site_key(site_key, manifest)
    answer = RevocationAcknowledgement(
        iss=manifest.origin,
        aud=notice.subject,
        iat=now,
        notice=notice.jti,
        presentations=notice.presentations,
        erased=erased,
    )
    return sign_revocation_ack(site_key, answer)
