"""The user's fine controls, as the extension's options page offers them: change one remembered decision
(allow <-> deny, forget it, or put a just-forgotten one back), the standing rules with the vocabulary they
are written in, the purposes' titles, and the history filtered and searched.

A changed decision keeps what it was bound to (the digest of what was asked, the controller it was given
to, its expiry): only its effect changes, so a site that changes what it asks for is still asked again.
Every change is a new row (the old one revoked), and every change is written to the ledger in the same
transaction. Writers take the vault and open their own transaction.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from vault.claims.catalogue import CLAIMS
from vault.consent import contexts, ledger
from vault.consent.ledger import Entry
from vault.consent.ledger_records import KINDS, DecisionChanged
from vault.consent.records import (
    DECISION_TABLES,
    RULE_KINDS,
    add_rule,
    insert_decision,
    ledger_context,
    load_rules,
    remove_rule,
)
from vault.errors import InvalidInput
from vault.protocol.manifest import decode_manifest
from vault.store import Vault
from vault.store.database import Connection
from vault.store.migration_contexts import DEFAULT_CONTEXT

Change = Literal["allow", "deny", "forget", "restore"]
CHANGES: tuple[str, ...] = Change.__args__  # type: ignore[attr-defined]
FORGOTTEN = "forgotten"  # DecisionChanged's effect for a decision forgotten
MAX_QUERY = 100
MAX_HISTORY = 1000


def context_named(vault: Vault, ref: str | None, *, now: int) -> contexts.Context:
    """The context a view or change of rules and decisions is about: `ref` (a name in any case, or an
    id), or without one the context in force for the whole browser now."""
    if ref is None:
        return contexts.browser_context(vault, now=now).context
    return contexts.find(vault, ref)


class DecisionNotFound(InvalidInput):
    """No remembered decision (or, for "restore", no just-forgotten one) matches; nothing changed."""


class ChangedDecision(msgspec.Struct, kw_only=True):
    origin: str
    purpose: str
    claim: str | None
    recipient: str | None
    effect: str | None  # the decision's effect now; None once forgotten
    before: str | None  # its effect before the change; None when it was restored
    expires_at: int
    context: str = DEFAULT_CONTEXT  # the context whose decision it is (contexts.id)


def change_decision(
    vault: Vault,
    *,
    origin: str,
    purpose: str,
    claim: str | None = None,
    recipient: str | None = None,
    change: Change,
    now: int,
    context: str = DEFAULT_CONTEXT,
) -> ChangedDecision:
    """Change the remembered decision about `claim` (or `recipient`) for (origin, purpose) in `context`
    (a context id; the same site's decisions in other contexts are not touched).

    allow / deny: the live decision takes that effect (its digest, controller and expiry kept).
    forget: the live decision is revoked; the site is asked again next time.
    restore: undoes a forget: the latest decision for that key comes back, only if it was revoked by a
    forget (no live decision since, and no revocation of the site or purpose after it) and has not expired.
    Raises DecisionNotFound (nothing changed) when there is nothing to change."""
    if (claim is None) == (recipient is None):
        raise InvalidInput("name either a claim or a recipient", "one of claim, recipient")
    if change not in CHANGES:
        raise InvalidInput(f"unknown change {change!r}", f"one of: {', '.join(CHANGES)}")
    about = "claim" if claim is not None else "recipient"
    target = claim if claim is not None else recipient
    table, column, digest = DECISION_TABLES[about]
    key = f"origin = ? AND purpose_id = ? AND {column} = ? AND context = ?"
    args = (origin, purpose, target, context)
    columns = f"id, effect, {digest}, decided_at, expires_at, controller, revoked_at"
    with vault.transaction() as conn:
        if change == "restore":
            return _restore(conn, table, columns, key, args, about, target, now)
        live = conn.execute(
            f"SELECT {columns} FROM {table} WHERE {key} AND revoked_at IS NULL ORDER BY id DESC LIMIT 1",  # noqa: S608
            args,
        ).fetchone()
        if live is None:
            raise DecisionNotFound(
                f"no remembered decision about {target!r} for {purpose!r} on {origin}{_in(conn, context)}",
                "it may have been revoked already; reload the list",
            )
        _, effect, row_digest, _, expires_at, controller, _ = live
        conn.execute(f"UPDATE {table} SET revoked_at = ? WHERE {key} AND revoked_at IS NULL", (now, *args))  # noqa: S608
        new_effect = None if change == "forget" else change
        if new_effect is not None:
            insert_decision(
                conn,
                about,
                args[:3],
                digest=row_digest,
                effect=new_effect,
                now=now,
                expires_at=expires_at,
                controller=controller,
                context=context,
            )
        _record(conn, args, about, new_effect, now)
        return ChangedDecision(
            origin=origin,
            purpose=purpose,
            claim=claim,
            recipient=recipient,
            effect=new_effect,
            before=effect,
            expires_at=expires_at,
            context=context,
        )


def _restore(
    conn: Connection,
    table: str,
    columns: str,
    key: str,
    args: tuple[str, str, str, str],
    about: str,
    target: str,
    now: int,
) -> ChangedDecision:
    origin, purpose, _, context = args
    latest = conn.execute(
        f"SELECT {columns} FROM {table} WHERE {key} ORDER BY id DESC LIMIT 1",  # noqa: S608
        args,
    ).fetchone()
    refused = DecisionNotFound(
        f"there is no forgotten decision about {target!r} for {purpose!r} on {origin}{_in(conn, context)} "
        "to put back",
        "only a decision you just forgot can be put back",
    )
    if latest is None or latest[6] is None or latest[4] <= now:
        raise refused
    _, effect, row_digest, _, expires_at, controller, revoked_at = latest
    # Forgotten by this module: the ledger's last word about this key is our own "forget", and the site
    # (or this purpose) was not revoked since.
    last = _last_change(conn, args, about)
    if (
        last is None
        or last[1] is not None
        or last[0] != revoked_at
        or _revoked_since(conn, origin, purpose, revoked_at)
    ):
        raise refused
    insert_decision(
        conn,
        about,
        args[:3],
        digest=row_digest,
        effect=effect,
        now=now,
        expires_at=expires_at,
        controller=controller,
        context=context,
    )
    _record(conn, args, about, effect, now)
    return ChangedDecision(
        origin=origin,
        purpose=purpose,
        claim=target if about == "claim" else None,
        recipient=target if about == "recipient" else None,
        effect=effect,
        before=None,
        expires_at=expires_at,
        context=context,
    )


def _in(conn: Connection, context: str) -> str:
    """The words naming a context in a refusal ("in Work"); nothing for Everyday, where most decisions are."""
    if context == DEFAULT_CONTEXT:
        return ""
    row = conn.execute("SELECT name FROM contexts WHERE id = ?", (context,)).fetchone()
    return f" in {context if row is None else row[0]}"


def _record(
    conn: Connection, key: tuple[str, str, str, str], about: str, effect: str | None, now: int
) -> None:
    """`key`: (origin, purpose, claim or third party, context)."""
    origin, purpose, target, context = key
    body = DecisionChanged(
        claim=target if about == "claim" else None,
        recipient=target if about == "recipient" else None,
        effect=FORGOTTEN if effect is None else effect,
        context=ledger_context(context),
    )
    ledger.append(conn, at=now, origin=origin, purpose_id=purpose, body=body)


def _last_change(
    conn: Connection, key: tuple[str, str, str, str], about: str
) -> tuple[int, str | None] | None:
    """(at, effect) of the latest DecisionChanged about this key, in its context (effect None:
    forgotten), or None."""
    origin, purpose, target, context = key
    named = ledger_context(context)
    rows = conn.execute(
        "SELECT at, body FROM ledger WHERE origin = ? AND purpose_id = ? AND kind = 'consent' "
        "ORDER BY seq DESC",
        (origin, purpose),
    )
    for at, body in rows:
        decoded = msgspec.json.decode(body)
        if decoded.get("action") != DecisionChanged.__struct_config__.tag:
            continue
        if decoded.get(about) == target and decoded.get("context") == named:
            effect = decoded.get("effect")
            return at, None if effect == FORGOTTEN else effect
    return None


def _revoked_since(conn: Connection, origin: str, purpose: str, since: int) -> bool:
    """Whether the site (or this purpose) was revoked or forgotten at or after `since`."""
    rows = conn.execute(
        "SELECT kind, purpose_id, body FROM ledger WHERE origin = ? AND at >= ? "
        "AND kind IN ('consent', 'forget', 'revocation')",
        (origin, since),
    )
    for kind, purpose_id, body in rows:
        if kind == "forget":
            return True
        if kind == "consent":
            decoded = msgspec.json.decode(body)
            if decoded.get("action") == "revoked" and decoded.get("purpose") in (None, purpose):
                return True
        elif purpose_id in (None, purpose):
            return True
    return False


# -- rules ---------------------------------------------------------------------------------------


class Rule(msgspec.Struct, kw_only=True):
    kind: str  # records.RULE_KINDS
    target: str  # a claim name, or a DPV concept for deny_concept


class ClaimWords(msgspec.Struct, kw_only=True):
    name: str
    sensitivity: str  # low | medium | high
    reveals: str  # what the user is told this claim reveals


class RuleBook(msgspec.Struct, kw_only=True):
    """The rules, and the vocabulary a rule is written in: the claim catalogue, and the DPV purpose
    concepts the sites the vault knows use (the extension adds the ones it has words for)."""

    rules: list[Rule]
    claims: list[ClaimWords]
    concepts: list[str]
    context: str = DEFAULT_CONTEXT  # whose rules these are (contexts.id)
    context_name: str = "Everyday"


def rule_book(vault: Vault, context: str = DEFAULT_CONTEXT) -> RuleBook:
    """The rules of `context` (an id), with the vocabulary."""
    current = load_rules(vault, context)
    listed = {
        "never": current.never,
        "ask": current.ask,
        "deny_concept": current.deny_concepts,
        "remember": current.remember,
    }
    rules = [Rule(kind=kind, target=target) for kind in RULE_KINDS for target in sorted(listed[kind])]
    claims = [ClaimWords(name=s.name, sensitivity=s.sensitivity, reveals=s.describe) for s in CLAIMS.values()]
    concepts = sorted({p.concept for purposes in site_purposes(vault).values() for p in purposes.values()})
    named = vault.conn.execute("SELECT name FROM contexts WHERE id = ?", (context,)).fetchone()
    name = context if named is None else named[0]
    return RuleBook(rules=rules, claims=claims, concepts=concepts, context=context, context_name=name)


def set_rule(
    vault: Vault, kind: str, target: str, *, present: bool, now: int, context: str = DEFAULT_CONTEXT
) -> bool:
    """Adds (present) or removes a rule of `context` (an id); True if that changed anything. Both are
    written to the ledger."""
    if present:
        return add_rule(vault, kind, target, now=now, context=context)
    return remove_rule(vault, kind, target, now=now, context=context)


# -- purposes, in the words of their sites ---------------------------------------------------------


class PurposeWords(msgspec.Struct, kw_only=True):
    title: str
    concept: str
    third_parties: dict[str, str] = {}  # id -> name


def site_purposes(vault: Vault) -> dict[str, dict[str, PurposeWords]]:
    """origin -> purpose id -> its title and DPV concept, from each site's last stored manifest (a
    purpose the site dropped since is absent: the views then show its id)."""
    found: dict[str, dict[str, PurposeWords]] = {}
    for origin, text in vault.conn.execute("SELECT origin, manifest FROM sites WHERE manifest IS NOT NULL"):
        manifest = decode_manifest(text.encode())
        found[origin] = {
            p.id: PurposeWords(
                title=p.title, concept=p.concept, third_parties={t.id: t.name for t in p.third_parties}
            )
            for p in manifest.purposes
        }
    return found


# -- history -------------------------------------------------------------------------------------


def history(
    vault: Vault, *, origin: str | None = None, kind: str | None = None, query: str = "", limit: int = 100
) -> list[Entry]:
    """The newest `limit` ledger entries (newest last, as GET /v1/ledger) of `origin` and `kind`, whose
    site, purpose or body contains `query` (case-insensitive; purpose titles and the names of the third
    parties an entry names included)."""
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"unknown history kind {kind[:40]!r}", f"one of: {', '.join(KINDS)}")
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"the search is longer than {MAX_QUERY} characters")
    if not 1 <= limit <= MAX_HISTORY:
        raise InvalidInput(f"limit must be 1 to {MAX_HISTORY}")
    needle = query.strip().casefold()
    titles = site_purposes(vault) if needle else {}
    found: list[Entry] = []
    for entry in ledger.entries(
        vault, origin=origin, kinds=() if kind is None else (kind,), newest_first=True
    ):
        if needle:
            purpose = titles.get(entry.origin or "", {}).get(entry.purpose_id or "")
            words = msgspec.json.encode(_without_tokens(entry.body)).decode()
            named = (
                [] if purpose is None else [n for i, n in purpose.third_parties.items() if f'"{i}"' in words]
            )
            title = "" if purpose is None else purpose.title
            haystack = " ".join(
                (entry.kind, entry.origin or "", entry.purpose_id or "", title, words, *named)
            )
            if needle not in haystack.casefold():
                continue
        found.append(entry)
        if len(found) == limit:
            break
    found.reverse()
    return found


def _without_tokens(body: object) -> object:
    """A body without its signed tokens: a search for a few letters must not match base64."""
    if isinstance(body, dict):
        return {k: _without_tokens(v) for k, v in body.items() if k != "token"}
    return body
