"""Contexts: named sets of standing rules and remembered decisions ("Everyday", "Work", "Urgent"), which one
is active (for the whole browser, for one site, or for a while), and which pairwise identity a context
shows sites.

Which context answers a request at a site, first match wins: the site's own choice ("always use Work on
this site", or for a while), then a context switched on for a limited time, then the browser-wide choice,
then Everyday. A timed choice is never cleared by a timer: it simply stops matching once its end has
passed (the clock is an argument), so the previous choice comes back by itself, even across restarts.

A context that keeps a separate identity signs with keys derived with its own label (its id), so a site
sees unrelated keys and subjects for the same person in two such contexts; the id never changes when the
context is renamed, and a removed context keeps its row, so what was disclosed under it stays verifiable
and revocable.
"""

import hashlib
import json
import re

import msgspec

from vault.consent import ledger
from vault.consent.ledger_records import ContextChanged
from vault.errors import InvalidInput
from vault.protocol.keys import IDENTITY_PATTERN
from vault.store import Vault
from vault.store.database import Connection
from vault.store.migration_contexts import DEFAULT_CONTEXT
from vault.store.read_model import cached

MAX_CONTEXTS = 20  # live ones; removed ones are kept apart from this count
MAX_NAME = 40
MAX_TIMED_SECONDS = 30 * 86400
_TIMED_KEY = "context_timed"
_DEFAULT_KEY = "context_default"
_NAME = re.compile(r"[^\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]{1,40}")


class Context(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    separate_identity: bool
    gpc: bool  # the context's own Global Privacy Control switch (the rules must also refuse, see gpc.py)
    created_at: int

    @property
    def identity(self) -> str | None:
        """The label this context's pairwise keys are derived with; None: the identity all others share."""
        return self.id if self.separate_identity else None


class Active(msgspec.Struct, frozen=True, kw_only=True):
    """The context that answers requests at a site now, and why."""

    context: Context
    source: str  # site | timed | browser | default
    until: int | None = None  # a timed choice's end


class Choices(msgspec.Struct, frozen=True, kw_only=True):
    """Every standing choice, as the views show them: the browser-wide context, a timed one while it lasts,
    and the sites with a context of their own (those whose time is up are left out)."""

    browser: Context
    timed: Context | None
    timed_until: int | None
    sites: dict[str, Active]


_COLUMNS = "id, name, separate_identity, gpc, created_at"


def _context(row: tuple) -> Context:
    id_, name, separate, gpc, created_at = row
    return Context(id=id_, name=name, separate_identity=bool(separate), gpc=bool(gpc), created_at=created_at)


def new_context_id(random_id: str) -> str:
    """A context's id from a random id (passed in, as the daemon's and the CLI's new_id make them): it
    labels the context's own identity, so it must fit keys.IDENTITY_PATTERN and not follow the name."""
    return "c-" + hashlib.sha256(random_id.encode()).hexdigest()[:16]


def list_contexts(vault: Vault) -> list[Context]:
    rows = vault.conn.execute(
        f"SELECT {_COLUMNS} FROM contexts WHERE removed_at IS NULL ORDER BY id != ?, created_at, name",  # noqa: S608
        (DEFAULT_CONTEXT,),
    )
    return [_context(row) for row in rows]


def by_id(vault: Vault, context_id: str, *, removed: bool = False) -> Context | None:
    """The context with this id (a removed one too when `removed`), or None."""
    row = vault.conn.execute(
        f"SELECT {_COLUMNS} FROM contexts WHERE id = ? AND (? OR removed_at IS NULL)",  # noqa: S608
        (context_id, removed),
    ).fetchone()
    return None if row is None else _context(row)


def names(vault: Vault) -> dict[str, str]:
    """id -> name of every context ever made, removed ones too: what views show for a recorded id."""
    return dict(vault.conn.execute("SELECT id, name FROM contexts"))


def find(vault: Vault, ref: str) -> Context:
    """A live context by its name (any case) or id; InvalidInput naming the ones there are."""
    if not isinstance(ref, str):
        raise InvalidInput("a context is named by a string")
    wanted = ref.strip().casefold()
    for context in list_contexts(vault):
        if wanted in (context.name.casefold(), context.id):
            return context
    known = ", ".join(c.name for c in list_contexts(vault))
    raise InvalidInput(f"there is no context called {ref[:MAX_NAME]!r}", f"contexts: {known}")


def _checked_name(vault: Vault, name: object, *, other_than: str | None = None) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name.strip()):
        raise InvalidInput(
            f"a context's name is 1 to {MAX_NAME} characters on one line", "for example: Work, Family, Urgent"
        )
    name = name.strip()
    for context in list_contexts(vault):
        if context.name.casefold() == name.casefold() and context.id != other_than:
            raise InvalidInput(f"there is already a context called {context.name!r}", "choose another name")
    return name


def _record(conn: Connection, context: Context, action: str, now: int, **extra: str | None) -> None:
    body = ContextChanged(
        action=action,  # type: ignore[arg-type]  # the Literal is checked by the callers' fixed values
        name=context.name,
        separate_identity=context.separate_identity,
        gpc=context.gpc,
        **extra,
    )
    ledger.append(conn, at=now, ref=context.id, body=body)


def add_context(
    vault: Vault,
    name: str,
    *,
    now: int,
    new_id: str,
    copy_from: str | None = None,
    separate_identity: bool = False,
    gpc: bool = True,
) -> Context:
    """A new context; with `copy_from`, starting with a copy of that context's rules and remembered
    decisions (each copy then changes on its own). `new_id` is random (passed in): it labels the
    context's identity, so it must not be guessable from the name."""
    name = _checked_name(vault, name)
    if not IDENTITY_PATTERN.fullmatch(new_id):
        raise ValueError("a context id is an identity label: 1 to 64 of a-z, 0-9 and '-'")
    source = None if copy_from is None else find(vault, copy_from)
    if len(list_contexts(vault)) >= MAX_CONTEXTS:
        raise InvalidInput(f"there are already {MAX_CONTEXTS} contexts", "remove one you no longer use")
    context = Context(id=new_id, name=name, separate_identity=separate_identity, gpc=gpc, created_at=now)
    with vault.transaction() as conn:
        conn.execute(
            "INSERT INTO contexts (id, name, separate_identity, gpc, created_at) VALUES (?, ?, ?, ?, ?)",
            (context.id, name, separate_identity, gpc, now),
        )
        if source is not None:
            conn.execute(
                "INSERT INTO rules (context, kind, target, created_at) "
                "SELECT ?, kind, target, created_at FROM rules WHERE context = ?",
                (context.id, source.id),
            )
            for table, column, digest in (
                ("decisions", "claim", "claim_digest"),
                ("recipient_decisions", "recipient", "digest"),
            ):
                conn.execute(
                    f"INSERT INTO {table} (origin, purpose_id, {column}, {digest}, effect, decided_at, "  # noqa: S608
                    f"expires_at, controller, context) SELECT origin, purpose_id, {column}, {digest}, "
                    f"effect, decided_at, expires_at, controller, ? FROM {table} "
                    "WHERE context = ? AND revoked_at IS NULL ORDER BY id",
                    (context.id, source.id),
                )
        _record(conn, context, "added", now, copied_from=None if source is None else source.id)
    return context


def rename_context(vault: Vault, ref: str, new_name: str, *, now: int) -> Context:
    context = find(vault, ref)
    name = _checked_name(vault, new_name, other_than=context.id)
    if name == context.name:
        return context
    renamed = msgspec.structs.replace(context, name=name)
    with vault.transaction() as conn:
        conn.execute("UPDATE contexts SET name = ? WHERE id = ?", (name, context.id))
        _record(conn, renamed, "renamed", now, old_name=context.name)
    return renamed


def change_context(
    vault: Vault, ref: str, *, now: int, separate_identity: bool | None = None, gpc: bool | None = None
) -> Context:
    """Turns the context's separate identity or its Global Privacy Control on or off. A new identity acts on
    what is shared from now on: what was shared before stays under the identity it was shared with."""
    context = find(vault, ref)
    changed = msgspec.structs.replace(
        context,
        separate_identity=context.separate_identity if separate_identity is None else bool(separate_identity),
        gpc=context.gpc if gpc is None else bool(gpc),
    )
    if changed == context:
        return context
    with vault.transaction() as conn:
        conn.execute(
            "UPDATE contexts SET separate_identity = ?, gpc = ? WHERE id = ?",
            (changed.separate_identity, changed.gpc, context.id),
        )
        _record(conn, changed, "changed", now)
    return changed


def remove_context(vault: Vault, ref: str, *, now: int) -> Context:
    """Removes a context: its rules and remembered decisions go (revoked, in the ledger's terms), and every
    choice of it falls back to the next one. What was shared in it stays in the ledger, under its id."""
    context = find(vault, ref)
    if context.id == DEFAULT_CONTEXT:
        raise InvalidInput(f"{context.name!r} is the context every other one falls back to; it stays")
    with vault.transaction() as conn:
        conn.execute("UPDATE contexts SET removed_at = ? WHERE id = ?", (now, context.id))
        conn.execute("DELETE FROM rules WHERE context = ?", (context.id,))
        for table in ("decisions", "recipient_decisions"):
            conn.execute(
                f"UPDATE {table} SET revoked_at = ? WHERE context = ? AND revoked_at IS NULL",  # noqa: S608
                (now, context.id),
            )
        conn.execute("DELETE FROM site_contexts WHERE context = ?", (context.id,))
        for key in (_DEFAULT_KEY, _TIMED_KEY):
            value = vault.meta(key)
            if value is not None and json.loads(value)["context"] == context.id:
                conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        _record(conn, context, "removed", now)
    return context


def use_context(
    vault: Vault, ref: str, *, now: int, origin: str | None = None, seconds: int | None = None
) -> Active:
    """Makes `ref` the active context: for the whole browser, or for one `origin` (a checked origin), for
    good or for `seconds`. Returns what is active there now."""
    context = find(vault, ref)
    if seconds is not None and not (isinstance(seconds, int) and 60 <= seconds <= MAX_TIMED_SECONDS):
        raise InvalidInput("a context is switched on for 1 minute to 30 days", "for example --for 1h")
    until = None if seconds is None else now + seconds
    with vault.transaction() as conn:
        if origin is not None:
            conn.execute(
                "INSERT INTO site_contexts (origin, context, until, set_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (origin) DO UPDATE SET context = excluded.context, until = excluded.until, "
                "set_at = excluded.set_at",
                (origin, context.id, until, now),
            )
        else:
            key, value = (
                (_DEFAULT_KEY, {"context": context.id})
                if until is None
                else (_TIMED_KEY, {"context": context.id, "until": until})
            )
            if until is None:  # choosing for good ends a timed choice too: the user chose what they want now
                conn.execute("DELETE FROM meta WHERE key = ?", (_TIMED_KEY,))
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                "excluded.value",
                (key, json.dumps(value)),
            )
    return active_context(vault, origin, now=now) if origin else browser_context(vault, now=now)


def end_choice(vault: Vault, *, origin: str | None = None) -> bool:
    """Forgets the site's own context (or, without an origin, the timed one). True when there was one."""
    with vault.transaction() as conn:
        if origin is not None:
            return conn.execute("DELETE FROM site_contexts WHERE origin = ?", (origin,)).rowcount > 0
        return conn.execute("DELETE FROM meta WHERE key = ?", (_TIMED_KEY,)).rowcount > 0


def _meta_choice(vault: Vault, key: str, now: int) -> tuple[Context, int | None] | None:
    value = vault.meta(key)
    if value is None:
        return None
    choice = json.loads(value)
    until = choice.get("until")
    if until is not None and now >= until:
        return None
    context = by_id(vault, choice["context"])
    return None if context is None else (context, until)


def browser_context(vault: Vault, *, now: int) -> Active:
    """The context for sites without one of their own."""
    timed = _meta_choice(vault, _TIMED_KEY, now)
    if timed is not None:
        return Active(context=timed[0], source="timed", until=timed[1])
    chosen = _meta_choice(vault, _DEFAULT_KEY, now)
    if chosen is not None:
        return Active(context=chosen[0], source="browser")
    everyday = by_id(vault, DEFAULT_CONTEXT)
    assert everyday is not None  # migration 7 makes it and remove_context keeps it
    return Active(context=everyday, source="default")


# Every choice that could apply at a site, first match wins (the order browser_context and the site's own
# row give): one query, since every presentation request asks it (the request path is kept lean).
_ACTIVE = (
    "WITH choice (rank, source, context, until) AS ("  # noqa: S608 - constants only
    " SELECT 0, 'site', context, until FROM site_contexts WHERE origin = ?1 AND (until IS NULL OR until > ?2)"
    " UNION ALL SELECT 1, 'timed', json_extract(value, '$.context'), json_extract(value, '$.until') "
    f" FROM meta WHERE key = '{_TIMED_KEY}' AND json_extract(value, '$.until') > ?2"
    " UNION ALL SELECT 2, 'browser', json_extract(value, '$.context'), NULL "
    f" FROM meta WHERE key = '{_DEFAULT_KEY}'"
    f" UNION ALL SELECT 3, 'default', '{DEFAULT_CONTEXT}', NULL) "
    f"SELECT {', '.join('c.' + c for c in _COLUMNS.split(', '))}, choice.source, choice.until FROM choice "
    "JOIN contexts c ON c.id = choice.context AND c.removed_at IS NULL ORDER BY choice.rank LIMIT 1"
)


# When the answer above next changes by time alone: the first `until` still ahead (the site's own choice's
# or the timed one's; one already past stays past).
_ACTIVE_UNTIL = (
    "SELECT min(until) FROM (SELECT until FROM site_contexts WHERE origin = ?1"  # noqa: S608 - constants only
    f" UNION ALL SELECT json_extract(value, '$.until') FROM meta WHERE key = '{_TIMED_KEY}') WHERE until > ?2"
)


def active_context(vault: Vault, origin: str, *, now: int) -> Active:
    """The context that answers a request from `origin` now: the site's own choice (until its time is
    up), else what browser_context says. Kept in the daemon's read model with the span of time it holds
    for: [when it was read, the next `until`)."""
    return active_context_until(vault, origin, now=now)[0]


def active_context_until(vault: Vault, origin: str, *, now: int) -> tuple[Active, float]:
    """active_context, and until when (at the latest) time alone leaves it the answer: the next `until`
    of a choice (inf: none). Without the read model the second is inf: nothing keeps the answer then."""
    since, until, active = cached(
        vault.reads,
        ("active_context", origin),
        lambda: _load_active(vault, origin, now),
        lambda kept: kept[0] <= now < kept[1],
    )
    if since <= now < until:
        return active, until
    _, until, active = _load_active(vault, origin, now)
    return active, until


def _load_active(vault: Vault, origin: str, now: int) -> tuple[int, float, Active]:
    row = vault.conn.execute(_ACTIVE, (origin, now)).fetchone()
    assert row is not None  # migration 7 makes Everyday and remove_context keeps it
    (ends,) = vault.conn.execute(_ACTIVE_UNTIL, (origin, now)).fetchone() if vault.reads else (None,)
    return (
        now,
        float("inf") if ends is None else ends,
        Active(context=_context(row[:5]), source=row[5], until=row[6]),
    )


def choices(vault: Vault, *, now: int) -> Choices:
    timed = _meta_choice(vault, _TIMED_KEY, now)
    chosen = _meta_choice(vault, _DEFAULT_KEY, now)
    browser = chosen[0] if chosen else by_id(vault, DEFAULT_CONTEXT)
    assert browser is not None
    origins = [row[0] for row in vault.conn.execute("SELECT origin FROM site_contexts ORDER BY origin")]
    sites = {origin: active_context(vault, origin, now=now) for origin in origins}
    return Choices(
        browser=browser,
        timed=None if timed is None else timed[0],
        timed_until=None if timed is None else timed[1],
        sites={origin: active for origin, active in sites.items() if active.source == "site"},
    )


def next_change(vault: Vault, *, now: int) -> int | None:
    """When a timed choice ends next (the extension refreshes what it sends then), or None."""
    ends = [
        row[0]
        for row in vault.conn.execute(
            "SELECT until FROM site_contexts WHERE until IS NOT NULL AND until > ?", (now,)
        )
    ]
    timed = _meta_choice(vault, _TIMED_KEY, now)
    if timed is not None and timed[1] is not None:
        ends.append(timed[1])
    return min(ends, default=None)
