"""Access requests: asking a site "what do you hold about me?", and holding its answer against the ledger.

A request is queued in `access_requests` (its id is the first attempt's jti, the `ref` of every ledger
entry about it) and delivered on the outbox's schedule: the same backoff, leases, parallel sites and
per-site budget, in the daemon's delivery task after the revocation notices. Each attempt signs a FRESH
request with a new jti (a site remembers every jti it answered, so re-sending one whose answer was lost
would be refused as replayed), POSTs `{"request": token}` to the manifest's access_endpoint and expects
`{"statement": token}` signed with the site key of the stored manifest, answering that very request. The
statement is compared with the ledger (vault.consent.access_compare) and both go into the ledger
(`access_answer`); after MAX_ACCESS_ATTEMPTS failed attempts the request is given up and recorded as
`access_unanswered` with a `no_answer` discrepancy.

Retention end: `schedule_retention_checks` queues one `retention_end` request per site for the
disclosures whose retention has passed, so the site confirms it no longer holds them.

Here: queueing, the retention pass, and what the ledger says a site was given (and confirmed erasing);
delivering and asking now are in vault.consent.access_delivery.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

import msgspec

from vault.consent import ledger
from vault.consent.access_compare import Erasure, Given, Names
from vault.consent.ledger_records import (
    AccessRequested,
    Disclosed,
    MessageReceived,
    NoticeAcknowledged,
    NoticeQueued,
)
from vault.consent.outbox import LEASE_SECONDS
from vault.consent.sites import checked_origin, stored_manifest
from vault.errors import InvalidInput
from vault.protocol.access import AccessStatement
from vault.protocol.jws import recorded_payload
from vault.protocol.manifest import Manifest
from vault.protocol.message import SiteMessage
from vault.store import Vault

MAX_ACCESS_ATTEMPTS = 6
MAX_RETENTION_PRESENTATIONS = 500  # per retention-end request; the rest go in the next pass
NO_ENDPOINT = "its manifest declares no access endpoint, so it cannot be asked what it holds"


def new_jti() -> str:
    return secrets.token_urlsafe(16)


def queue_request(
    vault: Vault,
    origin: str,
    *,
    now: int,
    new_id: Callable[[], str] = new_jti,
    reason: str = "ask",
    presentations: Sequence[str] = (),
    lease: bool = False,
) -> str | None:
    """Queue an access request to `origin`; its id, or None when the stored manifest declares no
    access_endpoint (nothing is queued). An `ask` while another ask still waits returns that one.
    `lease`: the caller sends it at once itself, so the background pass leaves it alone meanwhile.
    Raises InvalidInput for an origin the vault never dealt with."""
    checked_origin(origin)
    manifest = stored_manifest(vault, origin)
    if manifest is None:
        raise InvalidInput(f"this vault has never dealt with {origin}", "nothing was asked")
    if manifest.access_endpoint is None:
        return None
    with vault.transaction() as conn:
        if reason == "ask":
            row = conn.execute(
                "SELECT id FROM access_requests WHERE origin = ? AND reason = 'ask' "
                "AND answered_at IS NULL AND gave_up_at IS NULL ORDER BY created_at DESC LIMIT 1",
                (origin,),
            ).fetchone()
            if row is not None:
                return row[0]
        request_id, epoch = new_id(), vault.site_epoch(origin)
        conn.execute(
            "INSERT INTO access_requests (id, origin, reason, endpoint, epoch, presentations, created_at, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request_id,
                origin,
                reason,
                manifest.access_endpoint,
                epoch,
                msgspec.json.encode(list(presentations)).decode(),
                now,
                now + LEASE_SECONDS if lease else now,
            ),
        )
        body = AccessRequested(
            reason=reason,  # type: ignore[arg-type]
            endpoint=manifest.access_endpoint,
            epoch=epoch,
            presentations=tuple(presentations),
        )
        ledger.append(conn, at=now, origin=origin, ref=request_id, body=body)
    return request_id


def schedule_retention_checks(vault: Vault, *, now: int, new_id: Callable[[], str] = new_jti) -> list[str]:
    """Queue one retention_end request per site (with an access_endpoint) for its disclosures whose
    retention has passed and that were not checked yet (under the site's current identity), and mark them
    checked. Those no one can be asked about (the site declares no access endpoint, or they were given
    under an identity it no longer has) are marked too, so a pass reads only newly expired disclosures; a
    later `vault ask` still compares everything the site says it holds with its promises. Returns the
    requests' ids."""
    # Not SELECT DISTINCT: without statistics SQLite would read the whole table in primary-key order for
    # it; this reads the index of the disclosures not handled yet.
    due = vault.conn.execute(
        "SELECT origin FROM disclosures WHERE keep_until <= ? AND retention_checked_at IS NULL", (now,)
    )
    origins = sorted({origin for (origin,) in due})
    queued = []
    for origin in origins:
        manifest = stored_manifest(vault, origin)
        epoch = vault.site_epoch(origin)
        # `+d.origin`: read the index of those not handled yet, not every disclosure to this site.
        rows = vault.conn.execute(
            "SELECT d.jti, l.body FROM disclosures d JOIN ledger l ON l.seq = d.seq WHERE +d.origin = ? "
            "AND d.keep_until <= ? AND d.retention_checked_at IS NULL ORDER BY d.seq",
            (origin, now),
        ).fetchall()
        askable = manifest is not None and manifest.access_endpoint is not None
        # Only what was given under the identity the site knows now can be asked about: the request is
        # signed with it.
        current = [jti for jti, body in rows if askable and msgspec.json.decode(body).get("epoch") == epoch]
        asked = current[:MAX_RETENTION_PRESENTATIONS]  # the rest on the next pass
        handled = set(asked) | ({jti for jti, _ in rows} - set(current))
        with vault.transaction() as conn:
            request_id = None
            if asked:
                request_id = queue_request(
                    vault, origin, now=now, new_id=new_id, reason="retention_end", presentations=asked
                )
            conn.executemany(
                "UPDATE disclosures SET retention_checked_at = ? WHERE origin = ? AND jti = ?",
                [(now, origin, jti) for jti in sorted(handled)],
            )
        if request_id is not None:
            queued.append(request_id)
    return queued


# -- what the ledger says the site was given ----------------------------------------------------------


def names_of(manifest: Manifest | None) -> Names:
    if manifest is None:
        return Names(titles={}, recipients={})
    return Names(
        titles={p.id: p.title for p in manifest.purposes},
        recipients={t.id: t.name for p in manifest.purposes for t in p.third_parties},
    )


def given(vault: Vault, origin: str, epoch: int) -> list[Given]:
    """Every disclosure to `origin` under the pairwise identity of `epoch`."""
    found = []
    for entry in ledger.entries(vault, origin=origin, kinds=("disclosure",)):
        record = entry.record
        if isinstance(record, Disclosed) and record.epoch == epoch:
            found.append(
                Given(
                    presentation=entry.ref or "",
                    purpose=entry.purpose_id or "",
                    claims=tuple(record.claims),
                    disclosed_at=entry.at,
                    keep_until=record.keep_until,
                    recipients=tuple(record.recipients),
                )
            )
    return found


def message_payload(token: str) -> SiteMessage | None:
    """A message the vault verified when it came (the ledger keeps only verified ones), read again."""
    return recorded_payload(token, SiteMessage)


def erasures(vault: Vault, origin: str, epoch: int, subject: str) -> list[Erasure]:
    """The erasures the site confirmed under that identity: signed answers `erased` to notices asking it
    (from the site itself), and deletion messages addressed to `subject`."""
    notices: dict[str, NoticeQueued] = {}
    found = []
    for entry in ledger.entries(vault, origin=origin, kinds=("revocation", "delivery_ack", "message")):
        match entry.record:
            case NoticeQueued() as notice if notice.epoch == epoch and notice.site:
                notices[entry.ref or ""] = notice
            case NoticeAcknowledged(erased=True) if entry.ref in notices:
                found.append(Erasure(at=entry.at, purpose=entry.purpose_id, claims=notices[entry.ref].claims))
            case MessageReceived(message_kind="deletion", token=token):
                message = message_payload(token)
                if message is not None and message.aud == subject:
                    found.append(Erasure(at=entry.at, purpose=message.purpose, claims=message.claims or ()))
    return found


def statement_payload(token: str) -> AccessStatement | None:
    """A statement the vault verified when it came, read again from the ledger."""
    return recorded_payload(token, AccessStatement)
