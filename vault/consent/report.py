"""What each site knows about you, folded from the ledger: every disclosure with its values, when, for
what, until when the site may keep it, whether the site acknowledged it, whether it was withdrawn, and
the same for each third party the site was allowed to pass it to (which claims, until when, withdrawn?).

A withdrawal is only as good as the site's answer: until the site's signed acknowledgement of the notice
arrives, a withdrawn disclosure is `pending` (with the outbox's next try), never shown as gone. For a
third party, the site's answer says what became of it there: erased, never held, or passed on (the
site forwarded the notice and has no answer from the third party yet).

Access requests add two things: `overdue`, the disclosures whose retention has ended and what the site
said when asked to confirm they are gone, and `discrepancies`, what its latest answer (or its silence)
showed against the ledger (vault.consent.access_views).

Contexts: each disclosure names the context it was made in (`context`, `context_name`; one made before
contexts existed is the Everyday one's) and, for a context that keeps its own identity, that `identity`.
Given the time, the report also says which context is in force at the site now (`active`) and whether
Global Privacy Control is sent there (`gpc`)."""

from collections.abc import Callable
from typing import Any, Literal

import msgspec

from vault.consent.access_views import OverdueHolding, latest_discrepancies, overdue
from vault.consent.contexts import Active, active_context, names
from vault.consent.gpc import SiteGpc, site_gpc
from vault.consent.ledger import entries
from vault.consent.ledger_records import (
    Acknowledged,
    BrokenPromise,
    Discrepancy,
    NoticeAcknowledged,
    NoticeQueued,
    SiteChanged,
)
from vault.consent.sites import stored_manifest
from vault.protocol.manifest import Manifest
from vault.store import Vault
from vault.store.migration_contexts import DEFAULT_CONTEXT

# What happened to disclosures after they were made; read from the ledger by (origin, kind).
EVENT_KINDS = ("acknowledgement", "broken_promise", "revocation", "delivery_ack", "site_changed")
WithdrawalState = Literal["none", "pending", "confirmed"]


# gc=False (here and on Disclosure): a report holds a struct per disclosure, decoded by the thousand, and
# none is ever part of a reference cycle; untracked, they do not set off collections while decoding
# (measured: 0.5 of the 1.3 ms that decoding 1,000 disclosures took).
class RecipientHolding(msgspec.Struct, kw_only=True, gc=False):
    """One third party the user allowed for a disclosure: what it may have received, and its withdrawal."""

    id: str
    name: str  # from the site's stored manifest (the id, if the manifest no longer names it)
    role: str | None
    country: str | None
    claims: list[str]  # the claims of the disclosure it may receive
    keep_until: int
    passed_on: bool | None = None  # the site's acknowledgement says it passed them on (None: no ack yet)
    withdrawn_claims: list[str] = []  # asked back (all of `claims` when a notice named no claims)
    withdrawn_at: int | None = None
    erasure_requested: bool = False
    withdrawal_state: WithdrawalState = "none"
    withdrawal_next_try_at: int | None = None
    withdrawal_confirmed_at: int | None = None  # when the site's signed answer arrived
    outcome: str | None = None  # the site's answer for it: erased | not_held | forwarded
    outcome_at: int | None = None  # when, says the site


class BrokenPromiseReport(msgspec.Struct, kw_only=True):
    """The site's signed acknowledgement names third parties the user did not allow."""

    at: int
    presentation: str
    recipients: list[str]


class Disclosure(msgspec.Struct, kw_only=True, gc=False):
    jti: str
    purpose: str
    claims: dict[str, Any]
    disclosed_at: int
    expires_at: int  # the token's own expiry
    keep_until: int  # what the purpose's retention allows, counted from disclosure
    acknowledged: bool = False
    acknowledged_keep_until: int | None = None  # the site's own signed promise
    withdrawn_at: int | None = None  # a revocation notice naming it was signed
    withdrawal_acknowledged: bool = False
    erasure_requested: bool = False
    withdrawal_state: WithdrawalState = "none"  # pending until the site's signed answer arrives
    withdrawal_next_try_at: int | None = None  # pending: when the vault next sends the notice
    withdrawal_confirmed_at: int | None = None  # confirmed: when the site's answer arrived
    recipients: list[RecipientHolding] = []
    withdrawn_claims: list[str] = []  # single claims withdrawn from the site (not the whole disclosure)
    context: str = DEFAULT_CONTEXT  # the context it was made in (its id; before contexts: the Everyday one)
    context_name: str = "Everyday"
    identity: str | None = None  # the context's own pairwise identity it was signed with; None: shared


class SiteChange(msgspec.Struct, kw_only=True):
    """The site changed who runs it, its signing key or where it hears revocations (ledger: site_changed)."""

    at: int
    field: str  # controller | site_key | revocation_endpoint
    before: str
    after: str


class SiteReport(msgspec.Struct, kw_only=True):
    origin: str
    disclosures: list[Disclosure]
    changes: list[SiteChange] = []
    broken_promises: list[BrokenPromiseReport] = []
    overdue: list[OverdueHolding] = []  # retention ended: asking the site, gone, still held, unanswered
    discrepancies: list[Discrepancy] = []  # from the latest answered (or unanswered) request per identity
    active: Active | None = None  # the context in force at the site now (only when the time is given)
    gpc: SiteGpc | None = None  # whether Global Privacy Control is sent there now, and why

    def current(self, now: int) -> list[Disclosure]:
        """What the site may still hold: not withdrawn and within its retention."""
        return [d for d in self.disclosures if d.withdrawn_at is None and d.keep_until > now]

    def pending_withdrawal(self) -> list[Disclosure]:
        """Withdrawn, but the site has not yet confirmed it (it may still hold them)."""
        return [d for d in self.disclosures if d.withdrawal_state == "pending"]


def withdrawal_words(disclosure: Disclosure, when: Callable[[int], str]) -> str | None:
    """Where a withdrawal stands, as every view says it (None: not withdrawn). Only the site's verified
    acknowledgement makes it "confirmed"; until then the site may still hold the values."""
    erase = disclosure.erasure_requested
    if disclosure.withdrawal_state == "confirmed" and disclosure.withdrawal_confirmed_at is not None:
        done = "deleted" if erase else "withdrawn"
        return f"{done}, confirmed by the site on {when(disclosure.withdrawal_confirmed_at)}"
    if disclosure.withdrawal_state == "pending":
        return _waiting_words(erase, disclosure.withdrawal_next_try_at, when)
    return None


def recipient_words(holding: RecipientHolding, when: Callable[[int], str]) -> str | None:
    """Where a withdrawal from one third party stands, in words (None: not withdrawn)."""
    erase = holding.erasure_requested
    if holding.withdrawal_state == "confirmed" and holding.withdrawal_confirmed_at is not None:
        said = {
            "erased": "deleted" if erase else "withdrawn",
            "not_held": "never held it",
            "forwarded": "asked to delete" if erase else "withdrawn",
        }.get(holding.outcome or "", "withdrawn")
        at = holding.outcome_at if holding.outcome_at is not None else holding.withdrawal_confirmed_at
        if holding.outcome == "forwarded":
            return f"{said} — the site passed your request on {when(at)}; no answer from {holding.name} yet"
        return f"{said}, confirmed by the site on {when(at)}"
    if holding.withdrawal_state == "pending":
        return _waiting_words(erase, holding.withdrawal_next_try_at, when)
    return None


def _waiting_words(erase: bool, next_try: int | None, when: Callable[[int], str]) -> str:
    """A withdrawal the site has not confirmed yet, as every view says it."""
    asked = "asked to delete" if erase else "withdrawn"
    later = "" if next_try is None else f" (next try {when(next_try)})"
    return f"{asked} — waiting for the site's confirmation{later}"


# A site's disclosures as one JSON array of Disclosure objects, built by SQLite and decoded by msgspec in one
# call: a Python tuple, two json decodes and a struct per row cost ~4.7 ms per 1,000 rows (issue 17), this
# about a third of that. A disclosure's third parties (rare) are added only where it has any; their names
# come from the stored manifest afterwards. json() keeps the claims' numbers as written.
# The rows reach group_concat in the subquery's seq order (SQLite keeps a FROM subquery's ORDER BY under
# an aggregate; only an ORDER BY inside group_concat promises it, and that sorts again: ~0.45 ms per 1,000).
# So the seqs are concatenated beside them (the same rows, in the same order) and checked; should they
# ever be out of order, the query that sorts (_SORTED) is used instead.
_DISCLOSURES_JSON = """
SELECT group_concat(
    CASE WHEN recipients = '{}' THEN disclosure ELSE json_set(disclosure, '$.recipients', json((
        SELECT json_group_array(json_object('id', key, 'name', key, 'role', NULL, 'country', NULL,
                                            'claims', json(value), 'keep_until', keep_until))
        FROM json_each(recipients)))) END,
    ','), group_concat(seq, ',')
FROM (
    SELECT seq, recipients, keep_until, json_object(
        'jti', jti, 'purpose', purpose_id, 'claims', json(claims), 'disclosed_at', disclosed_at,
        'expires_at', expires_at, 'keep_until', keep_until, 'context', coalesce(context, ?2),
        'identity', identity) AS disclosure
    FROM disclosures WHERE origin = ?1 ORDER BY seq
)
"""
_SORTED = _DISCLOSURES_JSON.replace("','), group_concat(seq, ',')", "',' ORDER BY seq), ''")
_seqs_decoder = msgspec.json.Decoder(list[int])
_disclosures_decoder = msgspec.json.Decoder(list[Disclosure])


def _disclosures(vault: Vault, origin: str, manifest: Manifest | None) -> list[Disclosure]:
    """The site's disclosures in ledger order, each with its third parties and context name."""
    joined, seqs = vault.conn.execute(_DISCLOSURES_JSON, (origin, DEFAULT_CONTEXT)).fetchone()
    if seqs is not None and not _increasing(_seqs_decoder.decode("[" + seqs + "]")):
        joined, _ = vault.conn.execute(_SORTED, (origin, DEFAULT_CONTEXT)).fetchone()
    disclosures = _disclosures_decoder.decode("[" + (joined or "") + "]")
    context_names = names(vault)
    parties = (
        {} if manifest is None else {(p.id, t.id): t for p in manifest.purposes for t in p.third_parties}
    )
    for disclosure in disclosures:
        disclosure.context_name = context_names.get(disclosure.context, disclosure.context)
        for holding in disclosure.recipients:
            party = parties.get((disclosure.purpose, holding.id))
            if party is not None:
                holding.name, holding.role, holding.country = party.name, party.role, party.country
    return disclosures


def _increasing(seqs: list[int]) -> bool:
    return all(map(int.__lt__, seqs, seqs[1:]))


def site_report(vault: Vault, origin: str, *, now: int | None = None) -> SiteReport:
    """What `origin` was told and may still hold; with `now`, also the context and GPC in force there."""
    manifest = stored_manifest(vault, origin)
    by_jti = {disclosure.jti: disclosure for disclosure in _disclosures(vault, origin, manifest)}
    notices: dict[str, tuple[list[Disclosure], NoticeQueued]] = {}
    changes: list[SiteChange] = []
    broken: list[BrokenPromiseReport] = []
    next_try = dict(
        vault.conn.execute(
            "SELECT id, next_attempt_at FROM outbox WHERE origin = ? AND delivered_at IS NULL", (origin,)
        ).fetchall()
    )
    for entry in entries(vault, origin=origin, kinds=EVENT_KINDS):
        match entry.record:
            case Acknowledged(keep_until=keep_until, recipients=passed_to) if entry.ref in by_jti:
                disclosure = by_jti[entry.ref]
                disclosure.acknowledged = True
                disclosure.acknowledged_keep_until = keep_until
                for holding in disclosure.recipients:
                    holding.passed_on = holding.id in passed_to
                    holding.keep_until = min(holding.keep_until, keep_until)
            case BrokenPromise(recipients=recipients):
                broken.append(
                    BrokenPromiseReport(
                        at=entry.at, presentation=entry.ref or "", recipients=list(recipients)
                    )
                )
            case NoticeQueued() as queued:
                withdrawn = [by_jti[jti] for jti in queued.presentations if jti in by_jti]
                notices[entry.ref or ""] = (withdrawn, queued)
                for disclosure in withdrawn:
                    _withdraw(disclosure, queued, entry.at, next_try.get(entry.ref))
            case NoticeAcknowledged(recipients=answers):
                withdrawn, queued = notices.get(entry.ref or "", ([], None))
                outcomes = {answer.id: answer for answer in answers}
                for disclosure in withdrawn:
                    _confirm(disclosure, queued, entry.at, outcomes)
            case SiteChanged(field=field, before=before, after=after):
                changes.append(SiteChange(at=entry.at, field=field, before=before, after=after))
    return SiteReport(
        origin=origin,
        disclosures=list(by_jti.values()),
        changes=changes,
        broken_promises=broken,
        overdue=overdue(vault, origin),
        discrepancies=latest_discrepancies(vault, origin),
        active=None if now is None else active_context(vault, origin, now=now),
        gpc=None if now is None else site_gpc(vault, origin, now=now),
    )


def _withdraw(disclosure: Disclosure, notice: NoticeQueued, at: int, next_try: int | None) -> None:
    whole = not notice.claims or set(disclosure.claims) <= set(notice.claims)
    if notice.site and whole:
        disclosure.withdrawn_at = at
        disclosure.erasure_requested = notice.erasure
        disclosure.withdrawal_state = "pending"
        disclosure.withdrawal_next_try_at = next_try
    elif notice.site:
        disclosure.withdrawn_claims = sorted(set(disclosure.withdrawn_claims) | set(notice.claims))
    for holding in disclosure.recipients:
        if holding.id in notice.recipients:
            taken = holding.claims if not notice.claims else [c for c in holding.claims if c in notice.claims]
            holding.withdrawn_claims = sorted(set(holding.withdrawn_claims) | set(taken))
            holding.withdrawn_at = at
            holding.erasure_requested = notice.erasure
            holding.withdrawal_state = "pending"
            holding.withdrawal_next_try_at = next_try


def _confirm(disclosure: Disclosure, notice: NoticeQueued | None, at: int, outcomes: dict[str, Any]) -> None:
    if notice is not None and notice.site and disclosure.withdrawn_at is not None:
        disclosure.withdrawal_acknowledged = True
        disclosure.withdrawal_state = "confirmed"
        disclosure.withdrawal_next_try_at = None
        disclosure.withdrawal_confirmed_at = at
    for holding in disclosure.recipients:
        answer = outcomes.get(holding.id)
        if answer is not None and holding.withdrawal_state == "pending":
            holding.withdrawal_state = "confirmed"
            holding.withdrawal_next_try_at = None
            holding.withdrawal_confirmed_at = at
            holding.outcome = answer.outcome
            holding.outcome_at = answer.at
