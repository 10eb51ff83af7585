"""Revoking: take back what a site was told (one purpose or all of it), and queue the signed notice.

One call, one transaction: the standing decisions are revoked (so the next request asks again), every
disclosure not yet withdrawn gets a notice signed with the pairwise key it was given under, each notice
goes into the outbox (vault.consent.outbox delivers it), and the ledger records all of it. Either all of
that is on disk or none of it is: a revocation the ledger shows is one the outbox will deliver.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from vault.consent import ledger
from vault.consent.ledger_records import ConsentRevoked, Disclosed, Forgotten, NoticeQueued
from vault.consent.sites import stored_manifest
from vault.errors import InvalidInput
from vault.protocol.keys import MAX_EPOCH, derive_pairwise_key
from vault.protocol.manifest import MAX_PURPOSE_ID, PURPOSE_ID_PATTERN
from vault.protocol.origin import origin_problem
from vault.protocol.revocation import MAX_WITHDRAWN, sign_revocation
from vault.store import Vault
from vault.store.database import Connection

# The manifest's PurposeId rule; checked here so a typo gets a clear error instead of "nothing found".
_PURPOSE_ID = re.compile(PURPOSE_ID_PATTERN)


@dataclass(frozen=True)
class QueuedNotice:
    jti: str
    purpose_id: str
    epoch: int
    presentations: tuple[str, ...]
    erasure: bool
    endpoint: str


@dataclass(frozen=True)
class RevokeResult:
    origin: str
    purpose_id: str | None  # None: every purpose of the site
    decisions_revoked: int
    notices: tuple[QueuedNotice, ...]
    erasure: bool
    forgotten: tuple[int, int] | None  # (old epoch, new epoch) when the site's identity was replaced

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
) -> RevokeResult:
    """Revoke consent for `origin` (one purpose, or all), withdraw what was disclosed, queue the notices.

    `erase` asks the site to erase what it holds, too. `forget` also replaces the site's pairwise
    identity (a new epoch) once the notices are signed with the old one; it covers every purpose.
    `new_id()` gives each notice its jti. Raises InvalidInput (nothing changed) for an origin or purpose
    the vault does not know, or when there is something to withdraw but no stored manifest says where.
    """
    problem = origin_problem(origin)
    if problem is not None:
        raise InvalidInput(
            f"{str(origin)[:300]!r} is not a site origin: {problem}", "write it as https://host[:port]"
        )
    if forget and purpose_id is not None:
        raise InvalidInput("forgetting a site covers all its purposes", "leave out --purpose with --forget")
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
        revoked = conn.execute(
            "UPDATE decisions SET revoked_at = ? "
            "WHERE origin = ? AND revoked_at IS NULL AND (? IS NULL OR purpose_id = ?)",
            (now, origin, purpose_id, purpose_id),
        ).rowcount
        ledger.append(
            conn,
            at=now,
            origin=origin,
            purpose_id=purpose_id,
            body=ConsentRevoked(purpose=purpose_id, decisions=revoked),
        )
        groups = _undrawn_disclosures(vault, origin, purpose_id)
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
            for (group_purpose, epoch), jtis in groups.items():
                key = derive_pairwise_key(seed, origin, epoch)
                for chunk in _chunks(jtis, MAX_WITHDRAWN):
                    notice = QueuedNotice(
                        jti=new_id(),
                        purpose_id=group_purpose,
                        epoch=epoch,
                        presentations=chunk,
                        erasure=erase,
                        endpoint=manifest.revocation_endpoint,
                    )
                    token = sign_revocation(
                        key,
                        origin=origin,
                        purpose_id=group_purpose,
                        presentations=chunk,
                        erasure=erase,
                        now=now,
                        jti=notice.jti,
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


def _undrawn_disclosures(
    vault: Vault, origin: str, purpose_id: str | None
) -> dict[tuple[str, int], tuple[str, ...]]:
    """Disclosures no earlier notice withdrew, grouped by (purpose, epoch): one key signs each group."""
    withdrawn: set[str] = set()
    groups: dict[tuple[str, int], list[str]] = {}
    for entry in ledger.entries(vault, origin=origin, kinds=("disclosure", "revocation")):
        match entry.record:
            case NoticeQueued(presentations=presentations):
                withdrawn.update(presentations)
            case Disclosed(epoch=epoch) if purpose_id is None or entry.purpose_id == purpose_id:
                groups.setdefault((entry.purpose_id, epoch), []).append(entry.ref)
    # A revocation always comes after the disclosures it names, but filter at the end anyway so the
    # answer does not depend on that order.
    result = {}
    for group, jtis in groups.items():
        remaining = tuple(jti for jti in dict.fromkeys(jtis) if jti not in withdrawn)
        if remaining:
            result[group] = remaining
    return result


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
