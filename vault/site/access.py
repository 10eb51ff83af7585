"""Answering "what do you hold about me?": verify the vault's access request, then sign a statement
built from the site's own records of what it received."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from vault.protocol.access import (
    MAX_HOLDING_PRESENTATIONS,
    MAX_REQUEST_LIFETIME,
    AccessStatement,
    Holding,
    open_access_request,
    sign_access_statement,
)
from vault.protocol.errors import AccessRequestInvalid, Reason, TokenInvalid
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest
from vault.site.acknowledge import check_site_key
from vault.site.holder import holder_problem
from vault.site.replay import ReplayStore
from vault.site.verify import DEFAULT_MAX_SKEW


class VerifiedAccessRequest(msgspec.Struct, frozen=True, kw_only=True):
    subject: str  # answer with what you hold under this subject (the `subject` of its presentations)
    jti: str
    purposes: tuple[str, ...]  # only these purposes; empty: every purpose
    issued_at: int


class HeldRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One presentation's claims as the site keeps them: what `answer_access_request` reports."""

    presentation: str  # its jti
    purpose: str
    claims: Mapping[str, Any]  # claim name -> the value held (only names are shown unless values are)
    received_at: int
    keep_until: int
    recipients: Sequence[str] = ()  # the third parties the site passed them to


def verify_access_request(
    token: object, *, manifest: Manifest, now: int, replay: ReplayStore, max_skew: int = DEFAULT_MAX_SKEW
) -> VerifiedAccessRequest:
    """Verify an access request sent to this site. Raises AccessRequestInvalid(reason).

    The request is signed with the visitor's pairwise key: answer only with what you hold under its
    `subject`. Each request is answered once (`replayed` otherwise), since the answer may carry values.
    """
    try:
        header, request = open_access_request(token)
    except TokenInvalid as error:
        raise AccessRequestInvalid(error.reason) from None
    problem = holder_problem(
        request, header.subject, origin=manifest.origin, now=now, max_skew=max_skew,
        max_lifetime=MAX_REQUEST_LIFETIME,
    )  # fmt: skip
    if problem is not None:
        raise AccessRequestInvalid(problem)
    key = "access." + request.sub.rsplit(":", 1)[1] + "." + request.jti
    try:
        fresh = replay.remember(key, request.exp + max_skew, now)
    except Exception:
        raise AccessRequestInvalid(Reason.REPLAY_CHECK_FAILED) from None
    if not fresh:
        raise AccessRequestInvalid(Reason.REPLAYED)
    return VerifiedAccessRequest(
        subject=request.sub, jti=request.jti, purposes=request.purposes, issued_at=request.iat
    )


def answer_access_request(
    site_key: SigningKey,
    request: VerifiedAccessRequest,
    *,
    manifest: Manifest,
    now: int,
    held: Iterable[HeldRecord],
    show_values: bool = False,
    messages: Sequence[str] = (),
) -> str:
    """Sign the statement answering `request`: per purpose, the claims held (with their latest values when
    `show_values`), since when, until when, to whom they were passed, and the presentations (the most
    recent MAX_HOLDING_PRESENTATIONS). `held` is every record kept under `request.subject`; records for
    purposes the request does not ask about are left out. `messages`: site messages to deliver with it.
    Raises ValueError if the statement would be too large."""
    check_site_key(site_key, manifest)
    by_purpose: dict[str, list[HeldRecord]] = {}
    for record in held:
        if not request.purposes or record.purpose in request.purposes:
            by_purpose.setdefault(record.purpose, []).append(record)
    holdings = tuple(
        _holding(purpose, records, show_values) for purpose, records in sorted(by_purpose.items())
    )
    statement = AccessStatement(
        iss=manifest.origin,
        aud=request.subject,
        iat=now,
        request=request.jti,
        holdings=holdings,
        messages=tuple(messages) or None,
    )
    return sign_access_statement(site_key, statement)


def _holding(purpose: str, records: list[HeldRecord], show_values: bool) -> Holding:
    records = sorted(records, key=lambda record: record.received_at)
    values: dict[str, Any] = {}
    for record in records:  # oldest first, so the latest value of each claim wins
        values.update(record.claims)
    recipients = dict.fromkeys(r for record in records for r in record.recipients)
    recent = records[-MAX_HOLDING_PRESENTATIONS:]
    return Holding(
        purpose=purpose,
        claims=tuple(sorted(values)),
        since=records[0].received_at,
        until=max(record.keep_until for record in records),
        recipients=tuple(sorted(recipients)),
        presentations=tuple(dict.fromkeys(record.presentation for record in recent)),
        values=dict(sorted(values.items())) if show_values else None,
    )
