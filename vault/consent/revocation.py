"""Revoking: take back what a site was told (the whole site, one purpose, one claim or one third party),
and queue the signed notices.

One call, one transaction: the standing decisions are revoked (so the next request asks again), every
disclosure that someone still holds something of gets a notice signed with the pairwise key it was given
under (its epoch and its identity: a context that keeps its own identity signs its own notices), each
notice goes into the outbox (vault.consent.outbox delivers it), and the ledger records all of
it. Either all of that is on disk or none of it is: a revocation the ledger shows is one the outbox will
deliver.

Who holds what is folded from the ledger: a disclosure gives the site its claims and each allowed third
party its share of them (Disclosed.recipients), and a third party the site's own acknowledgement says it
passed them to against the user's choice (a broken promise) is taken to hold every claim of it; a notice
takes back its claims (all, when it names none)
from the site (when `site`) and from each third party it names. Withdrawing the site withdraws from all
its third parties; withdrawing one third party leaves the site its own copy.

Revoking is per site, not per context: it revokes the decisions of every context and withdraws what was
disclosed under every identity (one notice per identity, since each is signed by its own key).
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from vault.consent import ledger
from vault.consent.ledger_records import BrokenPromise, ConsentRevoked, Disclosed, Forgotten, NoticeQueued
from vault.consent.sites import checked_origin, stored_manifest
from vault.errors import InvalidInput
from vault.protocol.keys import MAX_EPOCH, derive_pairwise_key
from vault.protocol.manifest import CLAIM_NAME_PATTERN, MAX_CLAIM_NAME, MAX_PURPOSE_ID, PURPOSE_ID_PATTERN
from vault.protocol.revocation import MAX_WITHDRAWN, sign_revocation
from vault.store import Vault
from vault.store.database import Connection

# The manifest's PurposeId rule; checked here so a typo gets a clear error instead of "nothing found".
_PURPOSE_ID = re.compile(PURPOSE_ID_PATTERN)
_CLAIM_NAME = re.compile(CLAIM_NAME_PATTERN)


@dataclass(frozen=True)
class QueuedNotice:
    jti: str
    purpose_id: str
    epoch: int
    presentations: tuple[str, ...]
    erasure: bool
    endpoint: str
    claims: tuple[str, ...] = ()  # empty: every claim
    site: bool = True
    recipients: tuple[str, ...] = ()
    identity: str | None = None  # the pairwise identity (with `epoch`) whose key signed it; None: shared


@dataclass(frozen=True)
class RevokeResult:
    origin: str
    purpose_id: str | None  # None: every purpose of the site
    decisions_revoked: int
    notices: tuple[QueuedNotice, ...]
    erasure: bool
    forgotten: tuple[int, int] | None  # (old epoch, new epoch) when the site's identity was replaced
    claim: str | None = None
    third_party: str | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        """The third parties the notices ask the site to tell."""
        return tuple(dict.fromkeys(r for notice in self.notices for r in notice.recipients))

    @property
    def withdrawn(self) -> int:
        return sum(len(notice.presentations) for notice in self.notices)

    @property
    def nothing_to_withdraw(self) -> bool:
        return not self.notices


def revoke(
    vault: Vault,
    origin: str,
    *,
    purpose_id: str | None = None,
    erase: bool = False,
    forget: bool = False,
    now: int,
    new_id: Callable[[], str],
    claim: str | None = None,
    third_party: str | None = None,
) -> RevokeResult:
    """Revoke consent for `origin` (one purpose, or all), withdraw what was disclosed, queue the notices.

    `claim` narrows it to one claim (its decisions, and that claim wherever it went); `third_party` to
    one third party (its decisions, and what it received; the site keeps its own copy). `erase` asks
    for erasure, too. `forget` also replaces the site's pairwise identity (a new epoch) once the notices
    are signed with the old one; it covers the whole site. `new_id()` gives each notice its jti. Raises
    InvalidInput (nothing changed) for an origin, purpose, claim or third party the vault does not know,
    or when there is something to withdraw but no stored manifest says where.
    """
    checked_origin(origin)
    if forget and (purpose_id, claim, third_party) != (None, None, None):
        raise InvalidInput(
            "forgetting a site covers all its purposes, claims and third parties",
            "leave out --purpose, --claim and --third-party with --forget",
        )
    if claim is not None and third_party is not None:
        raise InvalidInput("revoke one claim or one third party at a time", "give --claim or --third-party")
    if claim is not None and (len(claim) > MAX_CLAIM_NAME or _CLAIM_NAME.fullmatch(claim) is None):
        raise InvalidInput(f"{claim[:100]!r} is not a claim name", "claim names look like: sizes.shoe")
    if third_party is not None and (
        len(third_party) > MAX_PURPOSE_ID or _PURPOSE_ID.fullmatch(third_party) is None
    ):
        raise InvalidInput(
            f"{third_party[:100]!r} is not a third party id",
            "ids look like: analytics (see: vault site ORIGIN)",
        )
    bad_id = purpose_id is not None and (
        len(purpose_id) > MAX_PURPOSE_ID or _PURPOSE_ID.fullmatch(purpose_id) is None
    )
    if bad_id:
        raise InvalidInput(
            f"{purpose_id[:100]!r} is not a purpose id", "purpose ids look like: recommendations"
        )
    with vault.transaction() as conn:
        if not _seen(conn, origin):
            raise InvalidInput(
                f"this vault has never dealt with {origin}",
                "check the scheme, host and port: nothing was changed",
            )
        if purpose_id is not None and not _purpose_known(vault, conn, origin, purpose_id):
            raise InvalidInput(f"{origin} has no purpose {purpose_id!r} in this vault")
        holdings = _holdings(vault, origin, purpose_id)
        if third_party is not None and not _third_party_known(
            vault, conn, origin, purpose_id, third_party, holdings
        ):
            where = "" if purpose_id is None else f" for purpose {purpose_id!r}"
            raise InvalidInput(
                f"{origin} has no third party {third_party!r}{where} in this vault",
                f"see its third parties with: vault site {origin}",
            )
        revoked = _revoke_decisions(conn, origin, purpose_id, claim, third_party, now)
        ledger.append(
            conn,
            at=now,
            origin=origin,
            purpose_id=purpose_id,
            body=ConsentRevoked(purpose=purpose_id, decisions=revoked, claim=claim, recipient=third_party),
        )
        groups = _withdrawals(holdings, claim, third_party)
        notices: list[QueuedNotice] = []
        if groups:
            manifest = stored_manifest(vault, origin)
            if manifest is None:
                # Cannot happen through the daemon (it stores the manifest before disclosing); refusing
                # beats recording a withdrawal that nothing would ever deliver.
                raise InvalidInput(
                    f"no manifest is stored for {origin}, so there is nowhere to send the notice",
                    "nothing was changed",
                )
            seed = vault.master_seed()
            for (group_purpose, epoch, identity, site, recipients), jtis in groups.items():
                key = derive_pairwise_key(seed, origin, epoch, identity)
                for chunk in _chunks(jtis, MAX_WITHDRAWN):
                    notice = QueuedNotice(
                        jti=new_id(),
                        purpose_id=group_purpose,
                        epoch=epoch,
                        presentations=chunk,
                        erasure=erase,
                        endpoint=manifest.revocation_endpoint,
                        claims=() if claim is None else (claim,),
                        site=site,
                        recipients=recipients,
                        identity=identity,
                    )
                    token = sign_revocation(
                        key,
                        origin=origin,
                        purpose_id=group_purpose,
                        presentations=chunk,
                        erasure=erase,
                        now=now,
                        jti=notice.jti,
                        claims=notice.claims,
                        site=site,
                        recipients=recipients,
                    )
                    _queue(conn, origin, notice, token, now)
                    notices.append(notice)
        forgotten = _forget(conn, origin, now) if forget else None
    return RevokeResult(
        origin=origin,
        purpose_id=purpose_id,
        decisions_revoked=revoked,
        notices=tuple(notices),
        erasure=erase,
        forgotten=forgotten,
        claim=claim,
        third_party=third_party,
    )


def _seen(conn: Connection, origin: str) -> bool:
    for table in ("sites", "decisions", "ledger"):
        # Fixed table names only; the origin is a bound parameter.
        if conn.execute(f"SELECT 1 FROM {table} WHERE origin = ? LIMIT 1", (origin,)).fetchone():  # noqa: S608
            return True
    return False


def _purpose_known(vault: Vault, conn: Connection, origin: str, purpose_id: str) -> bool:
    manifest = stored_manifest(vault, origin)
    if manifest is not None and any(purpose.id == purpose_id for purpose in manifest.purposes):
        return True
    for table in ("decisions", "ledger"):
        row = conn.execute(
            f"SELECT 1 FROM {table} WHERE origin = ? AND purpose_id = ? LIMIT 1",  # noqa: S608
            (origin, purpose_id),
        ).fetchone()
        if row:
            return True
    return False


@dataclass
class Holding:
    """One disclosure, and what of it each holder still has (withdrawals not yet counted as confirmed:
    a notice queued is a withdrawal asked for, and asking twice is not needed)."""

    jti: str
    purpose_id: str
    epoch: int
    site: set[str]
    recipients: dict[str, set[str]] = field(default_factory=dict)
    disclosed: frozenset[str] = frozenset()
    identity: str | None = None  # the pairwise identity it was signed under (Disclosed.identity)


def _holdings(vault: Vault, origin: str, purpose_id: str | None) -> list[Holding]:
    """Every disclosure to `origin` (for `purpose_id`, if given), with what is not yet withdrawn."""
    by_jti: dict[str, Holding] = {}
    for entry in ledger.entries(vault, origin=origin, kinds=("disclosure", "broken_promise", "revocation")):
        match entry.record:
            case Disclosed(epoch=epoch, claims=claims, recipients=recipients, identity=identity):
                if purpose_id is None or entry.purpose_id == purpose_id:
                    by_jti[entry.ref] = Holding(
                        entry.ref,
                        entry.purpose_id,
                        epoch,
                        set(claims),
                        {r: set(c) for r, c in recipients.items()},
                        frozenset(claims),
                        identity,
                    )
            case BrokenPromise(recipients=recipients) if entry.ref in by_jti:
                holding = by_jti[entry.ref]
                for recipient in recipients:
                    holding.recipients.setdefault(recipient, set(holding.disclosed))
            case NoticeQueued(presentations=presentations, claims=claims, site=site, recipients=recipients):
                for jti in presentations:
                    holding = by_jti.get(jti)
                    if holding is None:
                        continue
                    if site:
                        holding.site -= set(claims) if claims else holding.site
                    for recipient in recipients:
                        held = holding.recipients.get(recipient, set())
                        held -= set(claims) if claims else held
    return list(by_jti.values())


_Group = tuple[str, int, str | None, bool, tuple[str, ...]]


def _withdrawals(
    holdings: list[Holding], claim: str | None, third_party: str | None
) -> dict[_Group, tuple[str, ...]]:
    """The notices to send: presentations grouped by (purpose, epoch, identity, from the site?, from which
    third parties), since one key signs each notice and its scope covers every presentation it names."""
    groups: dict[_Group, list[str]] = {}
    for holding in holdings:
        if third_party is not None:
            site, recipients = False, (third_party,) if holding.recipients.get(third_party) else ()
        elif claim is not None:
            site = claim in holding.site
            recipients = tuple(sorted(r for r, held in holding.recipients.items() if claim in held))
        else:
            site = bool(holding.site)
            recipients = tuple(sorted(r for r, held in holding.recipients.items() if held))
        if site or recipients:
            group = (holding.purpose_id, holding.epoch, holding.identity, site, recipients)
            groups.setdefault(group, []).append(holding.jti)
    return {group: tuple(jtis) for group, jtis in groups.items()}


def _revoke_decisions(
    conn: Connection,
    origin: str,
    purpose_id: str | None,
    claim: str | None,
    third_party: str | None,
    now: int,
) -> int:
    """Revokes the standing decisions in scope; returns how many."""
    scope = "origin = ? AND revoked_at IS NULL AND (? IS NULL OR purpose_id = ?)"
    revoked = 0
    if third_party is None:
        revoked += conn.execute(
            f"UPDATE decisions SET revoked_at = ? WHERE {scope} AND (? IS NULL OR claim = ?)",  # noqa: S608
            (now, origin, purpose_id, purpose_id, claim, claim),
        ).rowcount
    if claim is None:
        revoked += conn.execute(
            f"UPDATE recipient_decisions SET revoked_at = ? WHERE {scope} AND (? IS NULL OR recipient = ?)",  # noqa: S608
            (now, origin, purpose_id, purpose_id, third_party, third_party),
        ).rowcount
    return revoked


def _third_party_known(
    vault: Vault,
    conn: Connection,
    origin: str,
    purpose_id: str | None,
    third_party: str,
    holdings: list[Holding],
) -> bool:
    manifest = stored_manifest(vault, origin)
    if manifest is not None and any(
        party.id == third_party
        for purpose in manifest.purposes
        if purpose_id is None or purpose.id == purpose_id
        for party in purpose.third_parties
    ):
        return True
    if any(third_party in holding.recipients for holding in holdings):
        return True
    row = conn.execute(
        "SELECT 1 FROM recipient_decisions WHERE origin = ? AND recipient = ? "
        "AND (? IS NULL OR purpose_id = ?)",
        (origin, third_party, purpose_id, purpose_id),
    ).fetchone()
    return row is not None


def _chunks(items: tuple[str, ...], size: int) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _queue(conn: Connection, origin: str, notice: QueuedNotice, token: str, now: int) -> None:
    conn.execute(
        "INSERT INTO outbox (id, origin, purpose_id, endpoint, notice, created_at, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (notice.jti, origin, notice.purpose_id, notice.endpoint, token, now, now),
    )
    ledger.append(
        conn,
        at=now,
        origin=origin,
        purpose_id=notice.purpose_id,
        ref=notice.jti,
        body=NoticeQueued(
            presentations=notice.presentations,
            erasure=notice.erasure,
            endpoint=notice.endpoint,
            epoch=notice.epoch,
            claims=notice.claims,
            site=notice.site,
            recipients=notice.recipients,
            identity=notice.identity,
        ),
    )


def _forget(conn: Connection, origin: str, now: int) -> tuple[int, int]:
    # Inside our transaction (Vault.bump_site_epoch opens its own): the notices above were signed with
    # the old key, and the new identity exists only if they are queued too.
    row = conn.execute("SELECT epoch FROM sites WHERE origin = ?", (origin,)).fetchone()
    old = 0 if row is None else int(row[0])
    if old >= MAX_EPOCH:
        raise InvalidInput(f"{origin} has used up its pairwise identities", "nothing was changed")
    conn.execute(
        "INSERT INTO sites (origin, epoch, first_seen) VALUES (?, ?, ?) "
        "ON CONFLICT (origin) DO UPDATE SET epoch = excluded.epoch",
        (origin, old + 1, now),
    )
    ledger.append(conn, at=now, origin=origin, body=Forgotten(old_epoch=old, new_epoch=old + 1))
    return old, old + 1
