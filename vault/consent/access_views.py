"""What the user is shown about access requests: each request with the site's statement and the
discrepancies found (AccessView), and the holdings whose retention has ended (OverdueHolding), as the
daemon's /v1/access, the site report, `vault ask` and `vault site` show them. A site that knows the user
by several identities (a context's own, beside the shared one) is asked once per identity: each view says
which (`identity`, `identity_words`), and the view of the first lists the others asked with it (`also`)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from vault.consent import ledger
from vault.consent.access import NO_ENDPOINT, names_of, statement_payload
from vault.consent.contexts import names
from vault.consent.ledger_records import AccessAnswered, AccessUnanswered, Discrepancy
from vault.consent.sites import stored_manifest
from vault.protocol.access import MAX_HOLDING_PRESENTATIONS
from vault.store import Vault

MAX_LISTED = 20  # requests per site in GET /v1/access
MAX_OVERDUE = 200  # overdue holdings per site, the most recent first
State = Literal["answered", "waiting", "unanswered", "no_endpoint"]
OverdueState = Literal["asking", "gone", "still_held", "unanswered"]


class HeldView(msgspec.Struct, kw_only=True):
    """One holding of the site's statement, with the purpose's title from the stored manifest."""

    purpose: str
    purpose_title: str | None
    claims: list[str]
    values: dict[str, Any] | None
    since: int
    until: int
    recipients: list[str]
    recipient_names: list[str]  # the same recipients, named as the manifest names them
    presentations: list[str]


class AccessView(msgspec.Struct, kw_only=True):
    request: str | None  # None: nothing was queued (no_endpoint)
    origin: str
    reason: str  # ask | retention_end
    state: State
    asked_at: int
    answered_at: int | None = None
    attempts: int = 0
    next_try_at: int | None = None  # waiting: when the next attempt is due
    error: str | None = None  # the last attempt's failure, or (no_endpoint) why nothing was asked
    holdings: list[HeldView] = []
    discrepancies: list[Discrepancy] = []
    # A context's own identity it was asked for (its id) and, in words, "for your Work identity"; None:
    # the identity every other context shares.
    identity: str | None = None
    identity_words: str | None = None
    # The requests asked at the same time for the site's other identities (each on its own: the site
    # cannot link them); only in the view of the first.
    also: list[AccessView] = []


class OverdueHolding(msgspec.Struct, kw_only=True):
    """A disclosure whose retention has ended, and what the site said when asked to confirm it is gone."""

    presentation: str
    purpose: str
    purpose_title: str | None
    claims: list[str]
    keep_until: int
    state: OverdueState


class SiteAccess(msgspec.Struct, kw_only=True):
    origin: str
    access_endpoint: str | None
    requests: list[AccessView]
    overdue: list[OverdueHolding]


def no_endpoint_view(origin: str, now: int) -> AccessView:
    return AccessView(
        request=None, origin=origin, reason="ask", state="no_endpoint", asked_at=now, error=NO_ENDPOINT
    )


_COLUMNS = (
    "id, origin, reason, created_at, attempts, next_attempt_at, last_error, answered_at, gave_up_at, identity"
)


def access_view(vault: Vault, request_id: str) -> AccessView | None:
    """The request, and (in `also`) those asked with it for the site's other identities."""
    row = vault.conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE id = ?",  # noqa: S608
        (request_id,),
    ).fetchone()
    if row is None:
        return None
    view = _view(vault, row)
    # Asked together: queued in one go (same site, reason, epoch and second), one per identity. Of several
    # such for one identity, the latest.
    others = vault.conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests a WHERE origin = ? AND reason = ? AND created_at = ? "  # noqa: S608
        "AND epoch = (SELECT epoch FROM access_requests WHERE id = ?) AND identity IS NOT ? AND id != ? "
        "ORDER BY identity, (SELECT seq FROM ledger WHERE ref = a.id AND kind = 'access_request') DESC",
        (view.origin, view.reason, view.asked_at, request_id, view.identity, request_id),
    ).fetchall()
    seen: set[str | None] = set()
    for other in others:
        if other[-1] not in seen:
            seen.add(other[-1])
            view.also.append(_view(vault, other))
    return view


def identity_words(vault: Vault, identity: str | None) -> str | None:
    """The words "for your Work identity", naming the context whose own identity it is (None: shared)."""
    if identity is None:
        return None
    return f"for your {names(vault).get(identity, identity)} identity"


def _view(vault: Vault, row: tuple) -> AccessView:
    request_id, origin, reason, created_at, attempts, due, error, answered_at, gave_up_at, identity = row
    state: State = "answered" if answered_at is not None else "unanswered" if gave_up_at else "waiting"
    view = AccessView(
        request=request_id,
        origin=origin,
        reason=reason,
        state=state,
        asked_at=created_at,
        answered_at=answered_at,
        attempts=attempts,
        next_try_at=due if state == "waiting" else None,
        error=error,
        identity=identity,
        identity_words=identity_words(vault, identity),
        also=[],
    )
    if state == "waiting":
        return view
    record = next(ledger.entries(vault, ref=request_id, kinds=("access_answer", "access_unanswered")), None)
    if record is None:
        return view
    body = record.record
    if isinstance(body, AccessAnswered | AccessUnanswered):
        view.discrepancies = list(body.discrepancies)
    if isinstance(body, AccessAnswered):
        view.holdings = _holdings(vault, origin, body.token)
    return view


def _holdings(vault: Vault, origin: str, token: str) -> list[HeldView]:
    statement = statement_payload(token)
    if statement is None:
        return []
    names = names_of(stored_manifest(vault, origin))
    return [
        HeldView(
            purpose=h.purpose,
            purpose_title=names.titles.get(h.purpose),
            claims=list(h.claims),
            values=None if h.values is None else dict(h.values),
            since=h.since,
            until=h.until,
            recipients=list(h.recipients),
            recipient_names=[names.recipient(r) for r in h.recipients],
            presentations=list(h.presentations),
        )
        for h in statement.holdings
    ]


def requests(vault: Vault, origin: str, *, limit: int = MAX_LISTED) -> list[AccessView]:
    """The site's access requests, newest first."""
    # Two requests made in one second are told apart by the order the ledger recorded them (ids are random).
    rows = vault.conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE origin = ? ORDER BY created_at DESC, "  # noqa: S608
        "(SELECT seq FROM ledger WHERE ref = access_requests.id AND kind = 'access_request') DESC LIMIT ?",
        (origin, limit),
    ).fetchall()
    return [_view(vault, row) for row in rows]


def site_access(vault: Vault, origin: str) -> SiteAccess:
    manifest = stored_manifest(vault, origin)
    return SiteAccess(
        origin=origin,
        access_endpoint=None if manifest is None else manifest.access_endpoint,
        requests=requests(vault, origin),
        overdue=overdue(vault, origin),
    )


def latest_discrepancies(vault: Vault, origin: str) -> list[Discrepancy]:
    """The discrepancies of the site's latest answered (or given up) request for each identity it knows
    the vault by in that request's epoch (each compared only with that identity's disclosures)."""
    rows = vault.conn.execute(
        f"SELECT epoch, {_COLUMNS} FROM access_requests "  # noqa: S608
        "WHERE origin = ? AND (answered_at IS NOT NULL OR gave_up_at IS NOT NULL) "
        "ORDER BY coalesce(answered_at, gave_up_at) DESC, created_at DESC",
        (origin,),
    ).fetchall()
    latest: dict[str | None, tuple] = {}
    for row in rows:
        if row[0] == rows[0][0] and row[-1] not in latest:
            latest[row[-1]] = row[1:]
    found = []
    for identity in sorted(latest, key=lambda who: (who is not None, who or "")):
        found += _view(vault, latest[identity]).discrepancies
    return found


def overdue(vault: Vault, origin: str) -> list[OverdueHolding]:
    """Each disclosure a retention-end request asked about, with what came of it (its latest request)."""
    rows = vault.conn.execute(
        "SELECT id, presentations, answered_at, gave_up_at FROM access_requests "
        "WHERE origin = ? AND reason = 'retention_end' ORDER BY created_at, id",
        (origin,),
    ).fetchall()
    if not rows:  # the usual case: nothing more to read (a site's disclosures are ~1,000 rows)
        return []
    state_of: dict[str, OverdueState] = {}
    purposes: dict[str, str] | None = None
    for request_id, presentations, answered_at, gave_up_at in rows:
        jtis = msgspec.json.decode(presentations)
        if answered_at is None:
            for jti in jtis:
                state_of[jti] = "unanswered" if gave_up_at is not None else "asking"
            continue
        if purposes is None:
            purposes = dict(
                vault.conn.execute("SELECT jti, purpose_id FROM disclosures WHERE origin = ?", (origin,))
            )
        listed, full = _still_held(vault, request_id)
        for jti in jtis:
            state_of[jti] = "still_held" if jti in listed or purposes.get(jti) in full else "gone"
    if not state_of:
        return []
    names = names_of(stored_manifest(vault, origin))  # read only now: most sites were never asked
    found = []
    for jti, purpose, claims, keep_until in vault.conn.execute(
        "SELECT jti, purpose_id, claims, keep_until FROM disclosures WHERE origin = ? "
        "ORDER BY keep_until DESC",
        (origin,),
    ):
        if jti in state_of and len(found) < MAX_OVERDUE:
            found.append(
                OverdueHolding(
                    presentation=jti,
                    purpose=purpose,
                    purpose_title=names.titles.get(purpose),
                    claims=list(msgspec.json.decode(claims)),
                    keep_until=keep_until,
                    state=state_of[jti],
                )
            )
    return found


def _still_held(vault: Vault, request_id: str) -> tuple[set[str], set[str]]:
    """(presentations the statement lists, purposes it may hold more of than it could list: a holding
    lists at most MAX_HOLDING_PRESENTATIONS, so a full list flagged as held too long may hide the rest)."""
    entry = next(ledger.entries(vault, ref=request_id, kinds=("access_answer",)), None)
    if entry is None or not isinstance(entry.record, AccessAnswered):
        return set(), set()
    statement = statement_payload(entry.record.token)
    if statement is None:
        return set(), set()
    flagged = {d.purpose for d in entry.record.discrepancies if d.kind == "held_past_retention"}
    listed = {p for h in statement.holdings for p in h.presentations}
    full = {
        h.purpose
        for h in statement.holdings
        if h.purpose in flagged and len(h.presentations) >= MAX_HOLDING_PRESENTATIONS
    }
    return listed, full
