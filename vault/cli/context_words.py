"""Contexts in words, shared by `vault context`, `vault rules`, `vault consents` and `vault site`: durations
as people type them, a timed choice's end as people say it, why a context is in force, and --context."""

import datetime as dt
import re
from typing import Any

import click

from vault.consent import contexts
from vault.consent.contexts import Active, Context
from vault.errors import InvalidInput
from vault.protocol.manifest import retention_seconds
from vault.store import Vault
from vault.words import count

_UNITS = {"d": 86400, "h": 3600, "m": 60}
_PART = re.compile(r"(\d{1,7})\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m)")
DURATION_HINT = "write minutes, hours or days, for example 30m, 1h, 2d or 1h30m"


def parse_duration(text: str) -> int:
    """Seconds from what a person types (30m, 1h, 2d, 1h30m, '2 hours'); InvalidInput in words otherwise."""
    wanted = text.strip().lower()
    seconds, at = 0, 0
    for part in _PART.finditer(wanted):
        if wanted[at : part.start()].strip():
            break
        seconds += int(part.group(1)) * _UNITS[part.group(2)[0]]
        at = part.end()
    if not wanted or at == 0 or wanted[at:].strip():
        raise InvalidInput(f"{text[:40]!r} is not a duration", DURATION_HINT)
    if not 60 <= seconds <= contexts.MAX_TIMED_SECONDS:
        raise InvalidInput(
            f"a context is switched on for 1 minute to 30 days, not {duration_words(seconds)}", DURATION_HINT
        )
    return seconds


def duration_words(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    parts = [count(n, unit) for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")) if n]
    if rest or not parts:
        parts.append(count(rest, "second"))
    return " ".join(parts)


def retention_words(duration: str) -> str:
    """A manifest's ISO 8601 retention (`P30D`) as people say it, `30 days` (SPEC.md: M=30 d, Y=365 d)."""
    try:
        return duration_words(retention_seconds(duration))
    except ValueError:
        return duration


def until_words(at: int, now: int) -> str:
    """A timed choice's end as people say it: 'until 14:30 today', 'until 09:00 tomorrow'."""
    end, today = dt.datetime.fromtimestamp(at), dt.datetime.fromtimestamp(now).date()
    days = (end.date() - today).days
    if days == 0:
        return f"until {end:%H:%M} today"
    if days == 1:
        return f"until {end:%H:%M} tomorrow"
    if 1 < days < 7:
        return f"until {end:%H:%M} on {end:%A}"
    return f"until {end:%Y-%m-%d %H:%M}"


def identity_words(context: Context) -> str:
    return "its own identity" if context.separate_identity else "the shared identity"


context_option = click.option(
    "--context",
    "context_name",
    metavar="NAME",
    help="Which context (name or id) [default: the one active for the whole browser now].",
)


def chosen_context(vault: Vault, name: str | None, now: int) -> tuple[Context, str]:
    """The context a --context option names, or the one active for the whole browser now; with words
    saying which it is, for the line above what is shown."""
    if name is not None:
        context = contexts.find(vault, name)
        return context, context.name
    context = contexts.browser_context(vault, now=now).context
    return context, f"{context.name} (active for the whole browser now)"


def source_words(active: Active, now: int) -> str:
    """Why this context is in force, for the line naming it."""
    until = "" if active.until is None else ", " + until_words(active.until, now)
    return {
        "site": f"this site's own{until}",
        "timed": f"switched on for a while{until}",
        "browser": "chosen for the whole browser",
        "default": "the default",
    }[active.source]


def active_json(active: Active) -> dict[str, Any]:
    return {
        "context": active.context.id,
        "name": active.context.name,
        "source": active.source,
        "until": active.until,
    }


def other_contexts_line(vault: Vault, shown: Context) -> str | None:
    """'Other contexts: Work, Urgent (see --context NAME).', or None when there is only one."""
    others = [c.name for c in contexts.list_contexts(vault) if c.id != shown.id]
    return f"Other contexts: {', '.join(others)} (see --context NAME)." if others else None
