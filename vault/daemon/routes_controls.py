"""The fine controls' routes (the options page): the standing rules, one remembered decision changed,
the purposes' titles, and the history filtered and searched. Same conventions as routes.py: paired
clients only, a Struct in, one consent-layer call on the vault worker, a Struct out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec
from litestar import Router, delete, get, post
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta

from vault.consent.controls import (
    MAX_HISTORY,
    MAX_QUERY,
    ChangedDecision,
    PurposeWords,
    RuleBook,
    change_decision,
    context_named,
    history,
    rule_book,
    set_rule,
    site_purposes,
)
from vault.consent.ledger import Entry
from vault.daemon.errors import ERROR_RESPONSES
from vault.daemon.routes import checked_origin
from vault.daemon.session import paired_only
from vault.daemon.state import DaemonDep
from vault.store import Vault

Name = Annotated[str, Meta(min_length=1, max_length=128)]
Origin = Annotated[str, Meta(min_length=1, max_length=300)]
# Kinds and changes are checked by the consent layer, whose refusals name the field and its choices.
Word = Annotated[str, Meta(min_length=1, max_length=40)]
# A context's name (any case) or id; without one, the context in force for the whole browser now.
ContextRef = Annotated[str, Meta(min_length=1, max_length=64)]
ContextQuery = Annotated[str | None, QueryParameter(min_length=1, max_length=64)]


class _In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    pass


class RuleRequest(_In):
    kind: Word
    target: Name
    context: ContextRef | None = None


class RuleChanged(msgspec.Struct, kw_only=True):
    kind: str
    target: str
    changed: bool  # False: it was already there (added) or not there (removed)
    context: str | None = None  # the context whose rule it is (its id)


class DecisionChange(_In):
    """One remembered decision, named by site, purpose and either claim or recipient, and what to do."""

    origin: Origin
    purpose: Name
    change: Word  # allow | deny | forget | restore
    claim: Name | None = None
    recipient: Name | None = None
    context: ContextRef | None = None


@get(
    "/rules",
    responses=ERROR_RESPONSES,
    summary="A context's standing rules, and the claims and concepts they name",
)
async def rules(daemon: DaemonDep, context: ContextQuery = None) -> RuleBook:
    now = daemon.clock()
    return await daemon.worker.call(lambda v: rule_book(v, context_named(v, context, now=now).id))


def _set_rule(
    kind: str, target: str, context: str | None, *, present: bool, now: int
) -> Callable[[Vault], tuple[bool, str]]:
    """The worker's call: the rule changed in the context named (or the browser's), and that context's id."""

    def change(vault: Vault) -> tuple[bool, str]:
        context_id = context_named(vault, context, now=now).id
        return set_rule(vault, kind, target, present=present, now=now, context=context_id), context_id

    return change


@post("/rules", responses=ERROR_RESPONSES, status_code=200, summary="Add a standing rule to a context")
async def add_rule(data: JSONBody[RuleRequest], daemon: DaemonDep) -> RuleChanged:
    now = daemon.clock()
    changed, context = await daemon.worker.call(
        _set_rule(data.kind, data.target, data.context, present=True, now=now)
    )
    return RuleChanged(kind=data.kind, target=data.target, changed=changed, context=context)


@delete("/rules", responses=ERROR_RESPONSES, status_code=200, summary="Remove a standing rule from a context")
async def remove_rule(
    daemon: DaemonDep,
    kind: Annotated[str, QueryParameter(min_length=1, max_length=40)],
    target: Annotated[str, QueryParameter(min_length=1, max_length=128)],
    context: ContextQuery = None,
) -> RuleChanged:
    now = daemon.clock()
    changed, context_id = await daemon.worker.call(_set_rule(kind, target, context, present=False, now=now))
    return RuleChanged(kind=kind, target=target, changed=changed, context=context_id)


@post(
    "/consents/change",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Change one remembered decision: allow, deny, forget it, or restore one just forgotten",
)
async def change_consent(data: JSONBody[DecisionChange], daemon: DaemonDep) -> ChangedDecision:
    origin, now = checked_origin(data.origin), daemon.clock()
    return await daemon.worker.call(
        lambda v: change_decision(
            v,
            origin=origin,
            purpose=data.purpose,
            claim=data.claim,
            recipient=data.recipient,
            change=data.change,
            now=now,
            context=context_named(v, data.context, now=now).id,
        )
    )


@get(
    "/purposes",
    responses=ERROR_RESPONSES,
    summary="Each known site's purposes: titles and DPV concepts",
)
async def purposes(daemon: DaemonDep) -> dict[str, dict[str, PurposeWords]]:
    return await daemon.worker.call(site_purposes)


@get(
    "/history",
    responses=ERROR_RESPONSES,
    summary="Ledger entries by site and kind, searched; newest last",
)
async def history_entries(
    daemon: DaemonDep,
    origin: Annotated[str | None, QueryParameter(max_length=300)] = None,
    kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
    q: Annotated[str, QueryParameter(max_length=MAX_QUERY)] = "",
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_HISTORY)] = 100,
) -> list[Entry]:
    origin = checked_origin(origin) if origin else None
    return await daemon.worker.call(
        lambda v: history(v, origin=origin, kind=kind or None, query=q, limit=limit)
    )


controls_router = Router(
    path="/",
    guards=[paired_only],
    route_handlers=[rules, add_rule, remove_rule, change_consent, purposes, history_entries],
)
