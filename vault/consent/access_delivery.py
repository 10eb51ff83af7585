"""Delivering access requests, on the outbox's schedule, and asking a site now (`ask`).

A pass is bounded as the outbox's is (vault.consent.delivery_pass: up to MAX_PARALLEL sites at once, one
request each, SITE_BUDGET seconds of waiting per site, `stop()` checked between steps, the vault used on
the calling thread only). Each attempt signs a FRESH request with a new jti (the site keeps
every jti it answered, so re-sending one whose answer was lost would be refused as replayed); the answer
must be `{"statement": token}`, signed with the stored manifest's site key, answering that very request.
The statement, and every discrepancy found comparing it with the ledger, commit together with the
request's new state; the messages it carries are then handed to the inbox, each on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Annotated

import msgspec

from vault.consent import ledger
from vault.consent.access import (
    MAX_ACCESS_ATTEMPTS,
    erasures,
    given,
    names_of,
    new_jti,
    queue_requests,
)
from vault.consent.access_compare import compare, no_answer
from vault.consent.delivery_pass import MAX_PARALLEL, Clock, Post, Steps, due_items, json_answer, run_pass
from vault.consent.inbox import receive_carried
from vault.consent.ledger_records import AccessAnswered, AccessUnanswered, Discrepancy
from vault.consent.outbox import LEASE_SECONDS, backoff, endpoint_problem
from vault.consent.sites import stored_manifest, subject_of
from vault.consent.transport import MAX_RESPONSE_BYTES, DeliveryFailed, Response, https_post
from vault.protocol.access import AccessStatement, sign_access_request, verify_access_statement
from vault.protocol.errors import TokenInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.jws import recorded_payload
from vault.protocol.manifest import Manifest
from vault.store import Vault

log = logging.getLogger("vault.consent")
_PENDING = "answered_at IS NULL AND gave_up_at IS NULL"
ASK_WAIT = 12.0  # seconds `ask` waits for the first attempt (one POST is at most POST_TIMEOUT)


class _Answer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    statement: Annotated[str, msgspec.Meta(max_length=MAX_RESPONSE_BYTES)]


_answer_decoder = msgspec.json.Decoder(_Answer)


@dataclass(frozen=True)
class AccessOutcome:
    request: str  # the request's id (its first jti)
    origin: str
    attempt: int
    answered: bool
    gave_up: bool = False
    status: int | None = None
    error: str | None = None
    next_attempt_at: int | None = None
    discrepancies: tuple[Discrepancy, ...] = ()


# -- delivering ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: str
    origin: str
    reason: str
    endpoint: str
    epoch: int
    presentations: tuple[str, ...]
    created_at: int
    identity: str | None  # with `epoch`, the pairwise identity whose key signs it


def deliver_access_due(
    vault: Vault,
    *,
    now: int | Clock,
    post: Post | None = None,
    allow_loopback_http: bool = False,
    only: Collection[str] | None = None,
    retry_now: bool = False,
    jitter: Callable[[int], int] | None = None,
    new_id: Callable[[], str] = new_jti,
    limit: int = 100,
    parallel: int = MAX_PARALLEL,
    stop: Callable[[], bool] | None = None,
) -> list[AccessOutcome]:
    """One pass over due access requests, bounded exactly like outbox.deliver_due (up to `parallel`
    sites at once, one request each, SITE_BUDGET seconds of waiting per site, `stop()` between steps; the
    vault is used on this thread only). `only`: just these requests; `retry_now`: ignore backoff and
    leases. The messages a statement carries go to the inbox, each on its own."""
    steps = Steps(
        due=lambda at: due_items(vault.conn, "access_requests", _PENDING, at, only, retry_now),
        claim=lambda request_id, at: _claim(vault, request_id, at, retry_now),
        origin=lambda claimed: claimed.origin,
        prepare=lambda claimed, at: _prepare(vault, claimed, at, new_id, allow_loopback_http),
        check=_check_answer,
        record=lambda claimed, at, status, error, answer: _record(
            vault, claimed, at, status, error, answer, jitter
        ),
    )
    return run_pass(steps, post=post or https_post, now=now, limit=limit, parallel=parallel, stop=stop)


def _claim(vault: Vault, request_id: str, now: int, retry_now: bool) -> _Claimed | None:
    """Take the request for this attempt (a lease), as the outbox does."""
    with vault.transaction() as conn:
        row = conn.execute(
            "SELECT origin, reason, endpoint, epoch, presentations, created_at, next_attempt_at, identity "
            "FROM access_requests WHERE id = ? AND answered_at IS NULL AND gave_up_at IS NULL",
            (request_id,),
        ).fetchone()
        if row is None or (not retry_now and row[6] > now):
            return None
        conn.execute(
            "UPDATE access_requests SET next_attempt_at = ? WHERE id = ?", (now + LEASE_SECONDS, request_id)
        )
    origin, reason, endpoint, epoch, presentations, created_at, _, identity = row
    return _Claimed(
        request_id,
        origin,
        reason,
        endpoint,
        epoch,
        tuple(msgspec.json.decode(presentations)),
        created_at,
        identity,
    )


def _prepare(
    vault: Vault, claimed: _Claimed, now: int, new_id: Callable[[], str], allow_loopback_http: bool
) -> tuple[str, bytes, tuple[OkpPublicJwk, str]] | str:
    """This attempt's POST (url, body) with its freshly signed request, and the key its answer must carry
    with that request, or why it cannot go."""
    manifest = stored_manifest(vault, claimed.origin)
    if manifest is None:
        return "no stored manifest for the site"
    problem = endpoint_problem(claimed.endpoint, claimed.origin, allow_loopback_http=allow_loopback_http)
    if problem is not None:
        return problem
    purposes: list[str] = []
    if claimed.presentations:
        marks = ",".join("?" * len(claimed.presentations))
        purposes = [
            row[0]
            for row in vault.conn.execute(
                f"SELECT DISTINCT purpose_id FROM disclosures WHERE origin = ? AND jti IN ({marks}) "  # noqa: S608
                "ORDER BY purpose_id",
                (claimed.origin, *claimed.presentations),
            )
        ][:64]
    key = vault.pairwise_key(claimed.origin, claimed.epoch, claimed.identity)
    token = sign_access_request(key, origin=claimed.origin, now=now, jti=new_id(), purposes=purposes)
    return claimed.endpoint, msgspec.json.encode({"request": token}), (manifest.site_key, token)


def _check_answer(
    response: Response, context: tuple[OkpPublicJwk, str], now: int
) -> tuple[str, str, AccessStatement]:
    site_key, request = context
    answer = json_answer(response, _answer_decoder, '{"statement": token}')
    try:
        statement = verify_access_statement(answer.statement, site_key, request=request, now=now)
    except TokenInvalid as error:
        raise DeliveryFailed(f"invalid statement ({error.reason.value})") from None
    jti = recorded_payload(request)["jti"]  # the request this vault just signed
    return jti, answer.statement, statement


def _record(
    vault: Vault,
    claimed: _Claimed,
    now: int,
    status: int | None,
    error: str | None,
    answer: tuple[str, str, AccessStatement] | None,
    jitter: Callable[[int], int] | None,
) -> AccessOutcome | None:
    """The request's new state and its ledger entry, in one transaction (None: already done elsewhere)."""
    common = {"at": now, "origin": claimed.origin, "ref": claimed.id}
    with vault.transaction() as conn:
        row = conn.execute(
            "SELECT attempts FROM access_requests "
            "WHERE id = ? AND answered_at IS NULL AND gave_up_at IS NULL",
            (claimed.id,),
        ).fetchone()
        if row is None:
            return None
        attempt = row[0] + 1
        manifest = stored_manifest(vault, claimed.origin)
        if answer is not None:
            jti, token, statement = answer
            origin, epoch, identity = claimed.origin, claimed.epoch, claimed.identity
            found = compare(
                statement,
                given=given(vault, origin, epoch, identity),
                erasures=erasures(vault, origin, epoch, subject_of(vault, origin, epoch, identity), identity),
                names=names_of(manifest),
                now=now,
            )
            conn.execute(
                "UPDATE access_requests SET attempts = ?, answered_at = ?, last_error = NULL WHERE id = ?",
                (attempt, now, claimed.id),
            )
            ledger.append(
                conn, body=AccessAnswered(token=token, request=jti, discrepancies=tuple(found)), **common
            )
        elif attempt >= MAX_ACCESS_ATTEMPTS:
            error = error or "no statement"
            flagged = _no_answer(vault, claimed, manifest, attempt, error)
            conn.execute(
                "UPDATE access_requests SET attempts = ?, last_error = ?, gave_up_at = ?, "
                "next_attempt_at = ? "
                "WHERE id = ?",
                (attempt, error, now, now, claimed.id),
            )
            ledger.append(
                conn, body=AccessUnanswered(attempts=attempt, error=error, discrepancies=(flagged,)), **common
            )
            return AccessOutcome(
                claimed.id,
                claimed.origin,
                attempt,
                answered=False,
                gave_up=True,
                status=status,
                error=error,
                discrepancies=(flagged,),
            )
        else:
            error = error or "no statement"
            retry_at = now + backoff(attempt, jitter)
            conn.execute(
                "UPDATE access_requests SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                (attempt, error, retry_at, claimed.id),
            )
            return AccessOutcome(
                claimed.id,
                claimed.origin,
                attempt,
                answered=False,
                status=status,
                error=error,
                next_attempt_at=retry_at,
            )
    # Committed: now the messages it carried, each on its own (a refused one never fails the statement).
    receive_carried(vault, claimed.origin, statement.messages or (), via="statement", now=now)
    return AccessOutcome(
        claimed.id, claimed.origin, attempt, answered=True, status=status, discrepancies=tuple(found)
    )


def _no_answer(
    vault: Vault, claimed: _Claimed, manifest: Manifest | None, attempts: int, error: str
) -> Discrepancy:
    everything = given(vault, claimed.origin, claimed.epoch, claimed.identity)
    mine = [g for g in everything if g.presentation in claimed.presentations]
    purposes = {g.purpose for g in mine}
    return no_answer(
        names=names_of(manifest),
        purpose=purposes.pop() if len(purposes) == 1 else None,
        claims=tuple(dict.fromkeys(c for g in mine for c in g.claims)),
        asked_at=claimed.created_at,
        attempts=attempts,
        error=error,
        retention_end=claimed.reason == "retention_end",
    )


# -- asking now ---------------------------------------------------------------------------------------


def ask(
    vault: Vault,
    origin: str,
    *,
    now: Clock,
    post: Post | None = None,
    allow_loopback_http: bool = False,
    new_id: Callable[[], str] = new_jti,
    wait: float = ASK_WAIT,
    stop: Callable[[], bool] | None = None,
) -> str | None:
    """Ask `origin` now, once per identity the site knows the vault by (access.queue_requests), and wait
    (at most `wait` seconds in all) for the first attempts. Returns the first request's id (answered, or
    left queued for the retries; access_views.access_view shows the others asked with it), or None when
    the site declares no access endpoint."""
    queued = queue_requests(vault, origin, now=now(), new_id=new_id, lease=True)
    if not queued:
        return None
    deadline = time.monotonic() + wait
    deliver_access_due(
        vault,
        now=now,
        post=post,
        allow_loopback_http=allow_loopback_http,
        only=queued,
        retry_now=True,
        new_id=new_id,
        stop=lambda: time.monotonic() > deadline or (stop is not None and stop()),
    )
    return queued[0]
