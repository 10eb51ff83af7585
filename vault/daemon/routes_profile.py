"""Several profile changes in one request: the options page's one Save. Every entry is checked first,
exactly as `PUT /v1/attributes/{name}` checks one; when any is refused nothing is stored and the answer
names each refused entry, so the page can say every problem next to its own field. Otherwise all of them
are stored in one transaction: a crash, a lock or a second writer never leaves half a save behind (the
page used to send them one at a time and put back what it had sent when one was refused)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Router, post
from litestar.params import JSONBody

from vault.claims.attributes import lookup
from vault.claims.types import Context
from vault.daemon.errors import ERROR_RESPONSES, ChangesRefused
from vault.daemon.messages import MAX_CHANGES, AttributeChanges, AttributesChanged, Problem
from vault.daemon.session import paired_only
from vault.daemon.state import DaemonDep
from vault.errors import InvalidInput
from vault.words import count


def stored_value(name: str, value: Any, today: dt.date) -> Any:
    """The value as the vault stores it: text is parsed as `vault profile set` parses it (a date, a list
    separated by commas); anything else is checked as it is. Refuses an unknown name or a bad value."""
    spec = lookup(name)
    parsed = spec.from_text(value, Context(today)) if isinstance(value, str) else None
    return spec.check(value, Context(today)) if parsed is None else parsed


def today_at(now: int) -> dt.date:
    return dt.datetime.fromtimestamp(now, dt.UTC).date()


def _problem(name: str, error: InvalidInput) -> Problem:
    return Problem(name=name, message=error.message, hint=error.hint)


@post(
    "/attributes/changes",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Set and remove several attributes at once: all of them, or none when any is refused",
)
async def change_attributes(data: JSONBody[AttributeChanges], daemon: DaemonDep) -> AttributesChanged:
    asked = len(data.set) + len(data.remove)
    if asked > MAX_CHANGES:
        raise InvalidInput(
            f"nothing was saved: {count(asked, 'change')} at once is too many",
            f"send at most {MAX_CHANGES} (set and remove together)",
        )
    now = daemon.clock()
    today = today_at(now)
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    removing = set(data.remove)
    for name, value in data.set.items():
        if name in removing:
            continue  # said once, below
        try:
            values[name] = stored_value(name, value, today)
        except InvalidInput as error:
            problems.append(_problem(name, error))
    for name in dict.fromkeys(data.remove):  # each name once, in the order given
        if name in data.set:
            problems.append(Problem(name=name, message=f"{name} is both set and removed: say which one"))
            continue
        try:
            lookup(name)
        except InvalidInput as error:
            problems.append(_problem(name, error))
    if problems:
        refused = count(len(problems), "change was", "changes were")
        raise ChangesRefused(f"nothing was saved: {refused} refused", problems)
    removed = await daemon.worker.call(lambda v: v.change_attributes(values, sorted(removing), now=now))
    return AttributesChanged(set=values, removed=removed)


profile_router = Router(path="/", guards=[paired_only], route_handlers=[change_attributes])
