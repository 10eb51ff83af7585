"""The outbox: revocation notices delivered to each site's revocation_endpoint until the site answers.

The outbox lives in the vault, not in memory, so nothing is lost when the delivering process stops. A
pass takes each due notice, POSTs `{"notice": "<token>"}` and expects `{"acknowledgement": "<token>"}`
signed with the key in the site's manifest. Each notice's new state and its ledger entries commit
together; a crash between the POST and that commit at worst sends the same notice again, which sites
treat as a no-op (a notice withdraws; withdrawing twice is withdrawing once).

A site that hangs must not hold up the others: a pass is bounded as vault.consent.delivery_pass says (up
to MAX_PARALLEL sites at once, one notice at a time each, SITE_BUDGET seconds of waiting per site).

HTTPS only (vault.consent.transport). Plain http reaches a site only in a test mode, and only on a
loopback address.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

import msgspec

from vault.consent import ledger
from vault.consent.delivery_pass import MAX_PARALLEL, Clock, Post, Steps, due_items, json_answer, run_pass
from vault.consent.ledger_records import (
    NoticeAcknowledged,
    NoticeDelivered,
    NoticeNotDelivered,
    RecipientAnswer,
)
from vault.consent.sites import stored_manifest
from vault.consent.transport import MAX_RESPONSE_BYTES, DeliveryFailed, Response, https_post
from vault.protocol.acknowledgement import RevocationAcknowledgement, verify_revocation_ack
from vault.protocol.errors import TokenInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.origin import same_origin_url
from vault.protocol.revocation import DEFAULT_NOTICE_TTL, open_notice, sign_revocation
from vault.store import Vault

FIRST_RETRY = 30
MAX_RETRY = 3600
# A claimed notice is not due for this long, so a second delivering process (the daemon and a CLI run)
# does not send it at the same time. Longer than one POST can take; a crash delays the notice this much.
LEASE_SECONDS = 120
# Re-sign (same jti, fresh iat/exp) when less than this is left, so a site never gets an expired notice
# after a long outage. Larger than the longest backoff.
RESIGN_MARGIN = 2 * MAX_RETRY
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class _Answer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    acknowledgement: Annotated[str, msgspec.Meta(max_length=MAX_RESPONSE_BYTES)]


_answer_decoder = msgspec.json.Decoder(_Answer)


class OutboxItem(msgspec.Struct, kw_only=True):
    jti: str
    origin: str
    purpose_id: str
    endpoint: str
    created_at: int
    attempts: int
    next_attempt_at: int | None  # None once delivered
    last_error: str | None
    delivered_at: int | None
    erased: bool | None  # the site's answer, once delivered


@dataclass(frozen=True)
class DeliveryOutcome:
    jti: str
    origin: str
    purpose_id: str
    endpoint: str
    attempt: int
    delivered: bool
    status: int | None = None  # the HTTP status, if the site answered at all
    error: str | None = None
    next_attempt_at: int | None = None  # when failed
    erased: bool | None = None  # when delivered: the site's signed statement
    recipients: tuple[RecipientAnswer, ...] = ()  # when delivered: each third party's outcome, signed


def backoff(attempts: int, jitter: Callable[[int], int] | None = None) -> int:
    """Seconds to wait after `attempts` failed attempts: 30 s doubling, capped at an hour."""
    delay = MAX_RETRY if attempts > 12 else min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)
    # Jitter (to spread many vaults' retries) only when the caller supplies it; bounded either way.
    return delay + (min(max(int(jitter(delay)), 0), delay) if jitter is not None else 0)


def items(vault: Vault, *, include_delivered: bool = True) -> list[OutboxItem]:
    """The outbox, oldest first: every notice, or only those still waiting for their site."""
    rows = vault.conn.execute(
        "SELECT id, origin, purpose_id, endpoint, created_at, attempts, next_attempt_at, last_error, "
        "delivered_at FROM outbox WHERE ? OR delivered_at IS NULL ORDER BY created_at, id",
        (int(include_delivered),),
    )
    result = []
    for jti, origin, purpose_id, endpoint, created, attempts, due, error, delivered in rows:
        erased = None
        if delivered is not None:
            answers = ledger.entries(vault, ref=jti, kinds=("delivery_ack",))
            erased = next((entry.record.erased for entry in answers), None)
        result.append(
            OutboxItem(
                jti=jti,
                origin=origin,
                purpose_id=purpose_id,
                endpoint=endpoint,
                created_at=created,
                attempts=attempts,
                next_attempt_at=None if delivered is not None else due,
                last_error=error,
                delivered_at=delivered,
                erased=erased,
            )
        )
    return result


def pending(vault: Vault) -> list[OutboxItem]:
    """Notices not yet acknowledged by their site."""
    return items(vault, include_delivered=False)


def endpoint_problem(url: str, origin: str, *, allow_loopback_http: bool) -> str | None:
    """Why the vault will not POST to `url` for `origin`, or None."""
    if not same_origin_url(url, origin):
        return "endpoint is not on the site's origin"
    parts = urlsplit(url)
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_loopback_http and parts.hostname in LOOPBACK_HOSTS:
        return None
    return "plain http endpoint (allowed only on loopback, in test mode)"


def deliver_due(
    vault: Vault,
    *,
    now: int | Clock,
    post: Post | None = None,
    allow_loopback_http: bool = False,
    only: Collection[str] | None = None,
    retry_now: bool = False,
    jitter: Callable[[int], int] | None = None,
    limit: int = 100,
    parallel: int = MAX_PARALLEL,
    stop: Callable[[], bool] | None = None,
) -> list[DeliveryOutcome]:
    """One pass over due notices (`only`: just these jtis; `retry_now`: ignore backoff and leases).

    Every attempt is recorded in the ledger with its outcome; a success also records the site's
    signed acknowledgement. Returns one outcome per notice attempted (at most `limit`), in the order
    they ended. `post` defaults to https_post; `jitter(delay)` may add seconds to each backoff (none
    unless given). `now`: the time, or a clock read at each step (notices that fall due while the
    pass waits on a site join it).

    Bounded as vault.consent.delivery_pass says: up to `parallel` sites at once, one notice at a time
    each; the vault is used on this thread only. When `stop()` is true the pass returns at once, and a
    notice still being sent keeps its lease (as after a crash: it goes again later, which sites treat as
    a no-op).
    """
    steps = Steps(
        due=lambda at: due_items(vault.conn, "outbox", "delivered_at IS NULL", at, only, retry_now),
        claim=lambda jti, at: _claim(vault, jti, at, retry_now),
        origin=lambda claimed: claimed.origin,
        prepare=lambda claimed, at: _prepare(vault, claimed, allow_loopback_http),
        check=_check_answer,
        record=lambda claimed, at, status, error, answer: _record(
            vault, claimed, at, status, error, answer, jitter
        ),
    )
    return run_pass(steps, post=post or https_post, now=now, limit=limit, parallel=parallel, stop=stop)


def _prepare(vault: Vault, claimed: "_Claimed", allow_loopback_http: bool) -> tuple[str, bytes, tuple] | str:
    """The POST (url, body) and what checking its answer needs, or why the notice cannot be sent."""
    manifest = stored_manifest(vault, claimed.origin)
    if manifest is None:
        return "no stored manifest for the site"
    problem = endpoint_problem(claimed.endpoint, claimed.origin, allow_loopback_http=allow_loopback_http)
    if problem is not None:
        return problem
    body = msgspec.json.encode({"notice": claimed.token})
    return claimed.endpoint, body, (manifest.site_key, claimed.token)


@dataclass(frozen=True)
class _Claimed:
    jti: str
    origin: str
    purpose_id: str
    endpoint: str
    token: str


def _claim(vault: Vault, jti: str, now: int, retry_now: bool) -> _Claimed | None:
    """Take the notice for this pass (a lease), re-signing it first if it is close to expiring."""
    with vault.transaction() as conn:
        row = conn.execute(
            "SELECT origin, purpose_id, endpoint, notice, next_attempt_at FROM outbox "
            "WHERE id = ? AND delivered_at IS NULL",
            (jti,),
        ).fetchone()
        if row is None or (not retry_now and row[4] > now):
            return None
        claimed = _Claimed(jti, row[0], row[1], row[2], _fresh(vault, row[3], now))
        conn.execute(
            "UPDATE outbox SET notice = ?, next_attempt_at = ? WHERE id = ?",
            (claimed.token, now + LEASE_SECONDS, jti),
        )
    return claimed


def _fresh(vault: Vault, token: str, now: int) -> str:
    """The notice itself, or the same notice (same jti) re-signed with a new lifetime if it is running out.

    A site checks `exp`; the vault retries for longer than a notice lives. Same key: the epoch comes
    from the ledger entry that queued the notice (the site's current epoch may have moved on), and so
    does the identity (a context's own, or the shared one)."""
    _, notice = open_notice(token)
    if notice.exp - now > RESIGN_MARGIN:
        return token
    queued = next(ledger.entries(vault, ref=notice.jti, kinds=("revocation",)), None)
    if queued is None:
        return token  # cannot happen (queued together); sending it as it is lets the site decide
    key = vault.pairwise_key(notice.aud, queued.record.epoch, queued.record.identity)
    return sign_revocation(
        key,
        origin=notice.aud,
        purpose_id=notice.purpose,
        presentations=notice.presentations,
        erasure=notice.erasure,
        now=now,
        jti=notice.jti,
        ttl=DEFAULT_NOTICE_TTL,
        claims=notice.claims,
        site=notice.site,
        recipients=notice.recipients,
    )


def _check_answer(
    response: Response, context: tuple[OkpPublicJwk, str], now: int
) -> tuple[str, RevocationAcknowledgement]:
    """The site's acknowledgement and what it says, or DeliveryFailed saying briefly what was wrong.
    `context`: the site key the answer must be signed with, and the notice sent."""
    site_key, notice = context
    answer = json_answer(response, _answer_decoder, '{"acknowledgement": token}')
    try:
        verified = verify_revocation_ack(answer.acknowledgement, site_key, notice=notice, now=now)
    except TokenInvalid as error:
        raise DeliveryFailed(f"invalid acknowledgement ({error.reason.value})") from None
    return answer.acknowledgement, verified


def _record(
    vault: Vault,
    claimed: _Claimed,
    now: int,
    status: int | None,
    error: str | None,
    answer: tuple[str, RevocationAcknowledgement] | None,
    jitter: Callable[[int], int] | None,
) -> DeliveryOutcome | None:
    """The notice's new state and its ledger entries, in one transaction. None if another process
    recorded the delivery first (the ledger then holds it once, from that process)."""
    common = {"origin": claimed.origin, "purpose_id": claimed.purpose_id, "ref": claimed.jti}
    notice = (claimed.jti, claimed.origin, claimed.purpose_id, claimed.endpoint)
    with vault.transaction() as conn:
        row = conn.execute(
            "SELECT attempts FROM outbox WHERE id = ? AND delivered_at IS NULL", (claimed.jti,)
        ).fetchone()
        if row is None:
            return None
        attempt = row[0] + 1
        if answer is not None:
            token, verified = answer
            conn.execute(
                "UPDATE outbox SET attempts = ?, delivered_at = ?, acknowledgement = ?, last_error = NULL "
                "WHERE id = ?",
                (attempt, now, token, claimed.jti),
            )
            delivered = NoticeDelivered(attempt=attempt, outcome="delivered", status=status)
            ledger.append(conn, at=now, body=delivered, **common)
            outcomes = tuple(
                RecipientAnswer(id=r.id, outcome=r.outcome, at=r.at) for r in verified.recipients
            )
            answered = NoticeAcknowledged(erased=verified.erased, token=token, recipients=outcomes)
            ledger.append(conn, at=now, body=answered, **common)
            return DeliveryOutcome(
                *notice, attempt, delivered=True, status=status, erased=verified.erased, recipients=outcomes
            )
        error = error or "no acknowledgement"
        retry_at = now + backoff(attempt, jitter)
        conn.execute(
            "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (attempt, error, retry_at, claimed.jti),
        )
        failed = NoticeNotDelivered(
            attempt=attempt, outcome="failed", error=error, next_attempt_at=retry_at, status=status
        )
        ledger.append(conn, at=now, body=failed, **common)
    return DeliveryOutcome(
        *notice, attempt, delivered=False, status=status, error=error, next_attempt_at=retry_at
    )
