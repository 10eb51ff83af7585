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

Identities: a site may know the user by several unlinked pairwise identities in one epoch (the shared one,
and that of each context that keeps its own). A request is made per identity, signed with its key
(vault.pairwise_key(origin, epoch, identity)) and compared only with what was disclosed under it, so
asking never links two identities and each statement is held against its own disclosures.

Retention end: `schedule_retention_checks` queues one `retention_end` request per site and identity for
the disclosures whose retention has passed, so the site confirms it no longer holds them.

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
from vault.consent.sites import checked_origin, identities, stored_manifest
from vault.errors import InvalidInput
from vault.protocol.access import AccessStatement
from vault.protocol.jws import recorded_payload
from vault.protocol.manifest import Manifest
from vault.protocol.message import SiteMessage
from vault.store import Vault

MAX_ACCESS_ATTEMPTS = 6
MAX_RETENTION_PRESENTATIONS = 500  # per retention-end request; the rest go in the next pass
NO_ENDPOINT = "its manifest declares no access endpoint, so it cannot be asked what it holds"


class _Every:
    """queue_requests' default: every identity the site knows the vault by."""


EVERY = _Every()


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
    """Queue an access request to `origin` for each identity the site knows the vault by (see
    queue_requests); the first one's id (the shared identity's, when it has one there), or None when the
    stored manifest declares no access_endpoint."""
    queued = queue_requests(
        vault, origin, now=now, new_id=new_id, reason=reason, presentations=presentations, lease=lease
    )
    return queued[0] if queued else None


def queue_requests(
    vault: Vault,
    origin: str,
    *,
    now: int,
    new_id: Callable[[], str] = new_jti,
    reason: str = "ask",
    presentations: Sequence[str] = (),
    lease: bool = False,
    identity: str | _Every | None = EVERY,
) -> list[str]:
    """Queue access requests to `origin`: one per pairwise identity the vault disclosed under there in the
    current epoch (the shared one when it disclosed nothing), or for `identity` alone. Each is signed with
    its own identity's key and compared only with what was disclosed under it, so a site that knows the
    user by two unlinked identities is asked twice and can link nothing. Returns their ids, [] when the
    stored manifest declares no access_endpoint (nothing is queued). An `ask` while another ask for the
    same identity still waits gives that one. `lease`: the caller sends them at once itself, so the
    background pass leaves them alone meanwhile. Raises InvalidInput for an origin the vault never dealt
    with."""
    checked_origin(origin)
    manifest = stored_manifest(vault, origin)
    if manifest is None:
        raise InvalidInput(f"this vault has never dealt with {origin}", "nothing was asked")
    if manifest.access_endpoint is None:
        return []
    epoch = vault.site_epoch(origin)
    wanted = (identities(vault, origin, epoch) or [None]) if isinstance(identity, _Every) else [identity]
    queued = []
    with vault.transaction() as conn:
        for who in wanted:
            if reason == "ask":
                row = conn.execute(
                    "SELECT id FROM access_requests WHERE origin = ? AND reason = 'ask' AND identity IS ? "
                    "AND answered_at IS NULL AND gave_up_at IS NULL ORDER BY created_at DESC LIMIT 1",
                    (origin, who),
                ).fetchone()
                if row is not None:
                    queued.append(row[0])
                    continue
            request_id = new_id()
            conn.execute(
                "INSERT INTO access_requests (id, origin, reason, endpoint, epoch, presentations, "
                "created_at, next_attempt_at, identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request_id,
                    origin,
                    reason,
                    manifest.access_endpoint,
                    epoch,
                    msgspec.json.encode(list(presentations)).decode(),
                    now,
                    now + LEASE_SECONDS if lease else now,
                    who,
                ),
            )
            body = AccessRequested(
                reason=reason,  # type: ignore[arg-type]
                endpoint=manifest.access_endpoint,
                epoch=epoch,
                presentations=tuple(presentations),
                identity=who,
            )
            ledger.append(conn, at=now, origin=origin, ref=request_id, body=body)
            queued.append(request_id)
    return queued


def schedule_retention_checks(vault: Vault, *, now: int, new_id: Callable[[], str] = new_jti) -> list[str]:
    """Queue one retention_end request per site (with an access_endpoint) and identity for its disclosures
    whose retention has passed and that were not checked yet (in the site's current epoch), and mark them
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
        # Only what was given under an identity the site knows now can be asked about: the request is
        # signed with it (one request per identity, so none links two of them).
        current: dict[str | None, list[str]] = {}
        for jti, body in rows:
            record = msgspec.json.decode(body)
            if askable and record.get("epoch") == epoch:
                current.setdefault(record.get("identity"), []).append(jti)
        asked = {who: jtis[:MAX_RETENTION_PRESENTATIONS] for who, jtis in current.items()}  # the rest later
        handled = {jti for jtis in asked.values() for jti in jtis}
        handled |= {jti for jti, _ in rows} - {jti for jtis in current.values() for jti in jtis}
        with vault.transaction() as conn:
            for who, jtis in sorted(asked.items(), key=lambda item: (item[0] is not None, item[0] or "")):
                queued += queue_requests(
                    vault,
                    origin,
                    now=now,
                    new_id=new_id,
                    reason="retention_end",
                    presentations=jtis,
                    identity=who,
                )
            conn.executemany(
                "UPDATE disclosures SET retention_checked_at = ? WHERE origin = ? AND jti = ?",
                [(now, origin, jti) for jti in sorted(handled)],
            )
    return queued


# -- what the ledger says the site was given ----------------------------------------------------------


def names_of(manifest: Manifest | None) -> Names:
    if manifest is None:
        return Names(titles={}, recipients={})
    return Names(
        titles={p.id: p.title for p in manifest.purposes},
        recipients={t.id: t.name for p in manifest.purposes for t in p.third_parties},
    )


def given(vault: Vault, origin: str, epoch: int, identity: str | None = None) -> list[Given]:
    """Every disclosure to `origin` under the pairwise identity of (`epoch`, `identity`)."""
    found = []
    for entry in ledger.entries(vault, origin=origin, kinds=("disclosure",)):
        record = entry.record
        if isinstance(record, Disclosed) and record.epoch == epoch and record.identity == identity:
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


def erasures(
    vault: Vault, origin: str, epoch: int, subject: str, identity: str | None = None
) -> list[Erasure]:
    """The erasures the site confirmed under the identity of (`epoch`, `identity`), whose subject is
    `subject`: signed answers `erased` to notices it signed (from the site itself), and deletion messages
    addressed to it."""
    notices: dict[str, NoticeQueued] = {}
    found = []
    for entry in ledger.entries(vault, origin=origin, kinds=("revocation", "delivery_ack", "message")):
        match entry.record:
            case NoticeQueued(site=True) as notice if (notice.epoch, notice.identity) == (epoch, identity):
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
