"""Receiving a revocation / erasure notice, and answering it with a signed acknowledgement."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from vault.protocol.acknowledgement import (
    RecipientOutcome,
    RecipientOutcomeKind,
    RevocationAcknowledgement,
    sign_revocation_ack,
)
from vault.protocol.errors import NoticeInvalid, Reason, TokenInvalid
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest, ThirdParty
from vault.protocol.revocation import MAX_NOTICE_LIFETIME, open_notice
from vault.site.acknowledge import check_site_key
from vault.site.holder import holder_problem
from vault.site.verify import DEFAULT_MAX_SKEW


class VerifiedNotice(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    jti: str
    purpose: str
    presentations: tuple[str, ...]  # every jti the notice withdraws
    unknown: tuple[str, ...]  # those this site has no record of (already erased, or never received)
    erasure: bool  # the user also asks the site to erase what it holds
    issued_at: int
    claims: tuple[str, ...] = ()  # only these claims are withdrawn; empty: every claim
    site: bool = True  # the site itself must stop (False: only the recipients below)
    recipients: tuple[str, ...] = ()  # the third parties the site must forward the notice to


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
    problem = holder_problem(
        notice, header.subject, origin=manifest.origin, now=now, max_skew=max_skew,
        max_lifetime=MAX_NOTICE_LIFETIME,
    )  # fmt: skip
    if problem is not None:
        raise NoticeInvalid(problem)
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
        claims=notice.claims,
        site=notice.site,
        recipients=notice.recipients,
    )


def recipients_to_tell(notice: VerifiedNotice, manifest: Manifest) -> tuple[ThirdParty, ...]:
    """The third parties this site must forward `notice` to, as its manifest declares them (with where
    to reach them). A recipient the manifest no longer declares is left out: answer `not_held` for it
    if the site never passed it anything, else tell it by the means you have."""
    purpose = manifest.purpose(notice.purpose)
    if purpose is None:
        return ()
    named = set(notice.recipients)
    return tuple(party for party in purpose.third_parties if party.id in named)


def acknowledge_revocation(
    site_key: SigningKey,
    notice: VerifiedNotice,
    *,
    manifest: Manifest,
    now: int,
    erased: bool,
    recipients: Mapping[str, tuple[RecipientOutcomeKind, int]] | None = None,
) -> str:
    """Sign the site's answer to a verified notice; `erased` says whether the site erased its own copy.

    `recipients` maps each third party the notice names to (outcome, when): "erased", "not_held" or
    "forwarded" (told, no answer yet). It must cover exactly `notice.recipients` (ValueError otherwise).
    """
    check_site_key(site_key, manifest)
    answered = recipients or {}
    if set(answered) != set(notice.recipients):
        raise ValueError("give one outcome for each recipient the notice names, and no other")
    if any(
        kind not in ("erased", "not_held", "forwarded") or type(at) is not int
        for kind, at in answered.values()
    ):
        raise ValueError('each outcome is ("erased" | "not_held" | "forwarded", unix time)')
    outcomes = tuple(
        RecipientOutcome(id=recipient, outcome=answered[recipient][0], at=answered[recipient][1])
        for recipient in notice.recipients
    )
    answer = RevocationAcknowledgement(
        iss=manifest.origin,
        aud=notice.subject,
        iat=now,
        notice=notice.jti,
        presentations=notice.presentations,
        erased=erased,
        recipients=outcomes,
    )
    return sign_revocation_ack(site_key, answer)
