"""Comparing a site's access statement with the ledger, and saying every difference in plain words.

Pure: the caller (vault.consent.access) reads the ledger and hands in what the site was given under the
subject the statement answers for, the erasures the site confirmed, and the names to use. Nothing here
judges the statement's form (vault.protocol.access did); here we judge what the site says it holds.

The kinds (the one list; the extension mirrors `discrepancy_words` once):
    held_past_retention  held longer than promised: a holding's `until` is later than the latest keep_until
                         the ledger has for that purpose, or it still holds what every disclosure of that
                         purpose (or a presentation it lists) should no longer be kept for
    never_disclosed      a claim, or a whole purpose, the ledger never disclosed to this site under this
                         subject
    held_after_erasure   held although the site confirmed erasure (a notice's signed answer `erased`, or a
                         deletion message) and nothing of it was disclosed again since
    unallowed_recipient  passed to a recipient that no disclosure of that purpose allowed
    no_answer            no valid statement after the retries
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from vault.claims.catalogue import CLAIMS
from vault.consent.ledger_records import Discrepancy
from vault.protocol.access import AccessStatement, Holding

DISCREPANCIES = (
    "held_past_retention",
    "never_disclosed",
    "held_after_erasure",
    "unallowed_recipient",
    "no_answer",
)


@dataclass(frozen=True)
class Given:
    """One disclosure to the site, as the ledger has it."""

    presentation: str
    purpose: str
    claims: tuple[str, ...]
    disclosed_at: int
    keep_until: int
    recipients: tuple[str, ...] = ()  # the third parties the user allowed for it


@dataclass(frozen=True)
class Erasure:
    """An erasure the site confirmed: a signed answer `erased` to a notice, or a deletion message."""

    at: int
    purpose: str | None  # None: every purpose
    claims: tuple[str, ...] = ()  # empty: every claim


@dataclass(frozen=True)
class Names:
    """How the user is shown the site's things: purpose titles and recipient names from its manifest."""

    titles: Mapping[str, str]
    recipients: Mapping[str, str]  # third-party id -> its name

    def purpose(self, purpose: str | None) -> str:
        if purpose is None:
            return "any purpose"
        return self.titles.get(purpose, f"a purpose its manifest does not name ({purpose})")

    def recipient(self, recipient: str) -> str:
        name = self.recipients.get(recipient)
        return name if name is not None else f"{recipient} (not named in its manifest)"


def day(timestamp: int) -> str:
    """A date as people write it: 3 March 2027 (UTC)."""
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return f"{date.day} {date:%B} {date.year}"


def claim_label(name: str) -> str:
    """A claim in words, from the catalogue's description up to its first aside ("your shoe size")."""
    spec = CLAIMS.get(name)
    if spec is None:
        return f"“{name}”"
    return spec.describe.split(" (", 1)[0].split(", ", 1)[0]


def _listed(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def discrepancy_words(
    kind: str,
    *,
    purpose: str,
    claims: Sequence[str] = (),
    recipients: Sequence[str] = (),
    until: int | None = None,
    promised: int | None = None,
    erased_at: int | None = None,
    asked_at: int | None = None,
    attempts: int = 0,
    error: str | None = None,
    retention_end: bool = False,
) -> str:
    """The one sentence for each kind. `purpose` is its title, `claims` and `recipients` already in words."""
    what = _listed(claims) or "your data"
    if kind == "held_past_retention" and until is not None and promised is not None and until > promised:
        return (
            f"Keeps {what} for {purpose} until {day(until)}, "
            f"but promised to keep it only until {day(promised)}."
        )
    if kind == "held_past_retention":
        return f"Still holds {what} for {purpose}, but promised to keep it only until {day(promised or 0)}."
    if kind == "never_disclosed":
        return f"Holds {what} for {purpose}, but you never shared it with this site for that purpose."
    if kind == "held_after_erasure":
        return f"Still holds {what} for {purpose}, but confirmed on {day(erased_at or 0)} that it deleted it."
    if kind == "unallowed_recipient":
        return f"Says it passed {what} for {purpose} to {_listed(recipients)}, which you never allowed."
    if kind == "no_answer":
        since = f" on {day(asked_at)}" if asked_at is not None else ""
        asked = (
            f"to confirm it no longer holds {what} for {purpose}, whose retention had ended"
            if retention_end
            else "what it holds about you"
        )
        tries = f"{attempts} attempt{'' if attempts == 1 else 's'}" + (f"; last: {error}" if error else "")
        return f"Did not answer when asked{since} {asked} ({tries})."
    raise ValueError(f"unknown discrepancy kind {kind!r}")


def no_answer(
    *,
    names: Names,
    purpose: str | None,
    claims: Sequence[str],
    asked_at: int,
    attempts: int,
    error: str,
    retention_end: bool,
) -> Discrepancy:
    """The discrepancy recorded when a request got no valid statement after the last attempt."""
    return Discrepancy(
        kind="no_answer",
        purpose=purpose,
        claims=tuple(claims),
        recipients=(),
        text=discrepancy_words(
            "no_answer",
            purpose=names.purpose(purpose),
            claims=[claim_label(c) for c in claims],
            asked_at=asked_at,
            attempts=attempts,
            error=error,
            retention_end=retention_end,
        ),
    )


def compare(
    statement: AccessStatement,
    *,
    given: Sequence[Given],
    erasures: Sequence[Erasure] = (),
    names: Names,
    now: int,
) -> list[Discrepancy]:
    """Every way `statement` differs from what the ledger says the site may hold, holding by holding."""
    found: list[Discrepancy] = []
    for holding in statement.holdings:
        found += _holding(holding, [g for g in given if g.purpose == holding.purpose], erasures, names, now)
    return found


def _holding(
    holding: Holding, given: list[Given], erasures: Sequence[Erasure], names: Names, now: int
) -> list[Discrepancy]:
    title = names.purpose(holding.purpose)
    shared = {claim for g in given for claim in g.claims}
    found: list[Discrepancy] = []

    def add(kind: str, claims: Collection[str], recipients: Sequence[str] = (), **facts: int | None) -> None:
        ordered = tuple(c for c in holding.claims if c in claims)
        text = discrepancy_words(
            kind,
            purpose=title,
            claims=[claim_label(c) for c in ordered],
            recipients=[names.recipient(r) for r in recipients],
            **facts,
        )
        found.append(
            Discrepancy(
                kind=kind, purpose=holding.purpose, claims=ordered, recipients=tuple(recipients), text=text
            )
        )

    never = [c for c in holding.claims if c not in shared]
    if never:
        add("never_disclosed", never)
    held = [c for c in holding.claims if c in shared]
    if held:
        _retention(holding, given, held, now, add)
        erased = _erased(holding, given, erasures, held)
        if erased:
            claims, at = erased
            add("held_after_erasure", claims, erased_at=at)
    allowed = {r for g in given for r in g.recipients}
    unallowed = [r for r in holding.recipients if r not in allowed]
    if unallowed:
        add("unallowed_recipient", holding.claims, unallowed)
    return found


def _retention(holding: Holding, given: list[Given], held: list[str], now: int, add) -> None:
    """At most one held_past_retention per holding: the strongest of its three signs."""
    latest = max(g.keep_until for g in given)
    by_jti = {g.presentation: g for g in given}
    ended = [by_jti[p] for p in holding.presentations if p in by_jti and by_jti[p].keep_until <= now]
    if latest <= now:
        add("held_past_retention", held, promised=latest)
    elif ended:
        # A presentation whose own retention ended is still listed (what a retention-end request asks).
        claims = {c for g in ended for c in g.claims} & set(held)
        add("held_past_retention", claims or held, promised=max(g.keep_until for g in ended))
    elif holding.until > latest:
        add("held_past_retention", held, until=holding.until, promised=latest)


def _erased(
    holding: Holding, given: list[Given], erasures: Sequence[Erasure], held: list[str]
) -> tuple[list[str], int] | None:
    """The held claims the site confirmed it erased, with nothing of them disclosed again since, and when
    (the latest such confirmation)."""
    claims, last = [], 0
    for claim in held:
        confirmed = [
            e.at
            for e in erasures
            if e.purpose in (None, holding.purpose) and (not e.claims or claim in e.claims)
        ]
        if not confirmed:
            continue
        at = max(confirmed)
        if any(claim in g.claims and g.disclosed_at > at for g in given):
            continue  # given again after the erasure: holding it now is allowed
        claims.append(claim)
        last = max(last, at)
    return (claims, last) if claims else None
