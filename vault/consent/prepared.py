"""A remembered-consent presentation signed ahead of its turn.

Under load the daemon's worker commits one group of presentations while the next group waits for the
write lock, and each presentation's job is mostly its signature. The event loop, which receives the next
requests meanwhile, can sign them at once from what the read model holds in memory (the grant and the
site's epoch) and the keys the vault already derived, without reading the database: the worker may be
using the connection. Such a presentation is prepared, not issued: its token leaves only through
request_presentation, in the job's turn, inside the transaction that records it, and only if the read
model has forgotten nothing since (ReadModel.unchanged_since): no write through the daemon, no commit by
another connection, no change of the request. Otherwise the job evaluates and signs again from the
vault, as it does for every request that was not prepared.
"""

import datetime as dt
from collections.abc import Hashable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from vault.claims.issuer import Issued
from vault.consent.contexts import Context
from vault.consent.evaluated import kept_grant
from vault.consent.policy import Granted
from vault.errors import InvalidInput
from vault.protocol.errors import IssueError
from vault.protocol.jwk import key_subject
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest
from vault.protocol.presentation import DEFAULT_TTL, issue_presentation
from vault.store import Vault

Request = tuple[str, str, str, int, tuple[str, ...] | None]  # audience, purpose, nonce, now, requested


class Prepared(NamedTuple):
    snapshot: Mapping[Hashable, Any]  # the read model's, which everything here was read from
    manifest: Manifest
    request: Request
    granted: Granted
    context: Context
    epoch: int
    issued: Issued


def prepare_presentation(
    vault: Vault,
    *,
    manifest: Manifest,
    audience: str,
    purpose_id: str,
    nonce: str,
    now: int,
    jti: str,
    requested: list[str] | None = None,
) -> Prepared | None:
    """This request signed from memory alone (no connection is read), or None when the read model holds
    no remembered grant for it, or the keys for it were not derived yet. The arguments are those
    request_presentation will be given."""
    if vault.reads is None or manifest.origin != audience:
        return None
    snapshot = vault.reads.snapshot()
    grant = kept_grant(snapshot, manifest, purpose_id, requested, utc_today(now), now)
    if grant is None:
        return None
    granted, context = grant
    signing = vault.kept_signing(snapshot, audience, context.identity)
    if signing is None:
        return None
    epoch, key = signing
    try:
        issued = sign_granted(key, manifest, purpose_id, nonce, granted, now, jti)
    except InvalidInput:  # a nonce the protocol refuses: the job answers it, in its turn
        return None
    request = _request(audience, purpose_id, nonce, now, requested)
    return Prepared(snapshot, manifest, request, granted, context, epoch, issued)


def still_holds(
    vault: Vault,
    prepared: Prepared,
    manifest: Manifest,
    audience: str,
    purpose_id: str,
    nonce: str,
    now: int,
    requested: list[str] | None,
) -> bool:
    """Inside the job's batch: whether `prepared` is what the job would make of this request now."""
    reads = vault.reads
    return (
        reads is not None
        and reads.unchanged_since(prepared.snapshot)
        and prepared.manifest is manifest
        and prepared.request == _request(audience, purpose_id, nonce, now, requested)
    )


def _request(audience: str, purpose_id: str, nonce: str, now: int, requested: list[str] | None) -> Request:
    return (audience, purpose_id, nonce, now, None if requested is None else tuple(requested))


def sign_granted(
    key: SigningKey, manifest: Manifest, purpose_id: str, nonce: str, granted: Granted, now: int, jti: str
) -> Issued:
    try:
        token = issue_presentation(
            key,
            manifest,
            purpose_id,
            manifest.origin,
            nonce,
            granted.claims,
            now,
            jti,
            recipients=granted.recipients,
        )
    except IssueError as e:  # every argument was checked before; this is a value the protocol cannot carry
        raise InvalidInput(f"cannot sign this presentation: {e.reason.replace('_', ' ')}") from None
    return Issued(
        token,
        jti,
        dict(granted.claims),
        now,
        now + DEFAULT_TTL,
        tuple(granted.dropped),
        key_subject(key.public_jwk),
    )


def utc_today(now: int) -> dt.date:
    return _utc_day(now // 86400)


@lru_cache(maxsize=4)  # asked for every request; a day changes once a day
def _utc_day(days_since_epoch: int) -> dt.date:
    return dt.datetime.fromtimestamp(days_since_epoch * 86400, dt.UTC).date()
