"""Contexts and Global Privacy Control. Same conventions as routes.py: paired clients only, a Struct in,
one consent-layer call on the vault worker, a Struct out."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Router, get, post
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta

from vault.consent import contexts, gpc
from vault.consent.sites import checked_origin
from vault.daemon.errors import ERROR_RESPONSES
from vault.daemon.session import paired_only
from vault.daemon.state import DaemonDep
from vault.store import Vault

Name = Annotated[str, Meta(min_length=1, max_length=80)]  # the consent layer checks names precisely
Origin = Annotated[str, Meta(min_length=1, max_length=300)]
# Switches are the words "on" and "off", not JSON booleans: Litestar converts bodies leniently, and would
# take 0 or "false" for a boolean.
Switch = Literal["on", "off"]


class _In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    pass


class NewContext(_In):
    name: Name
    copy_from: Name | None = None
    separate_identity: Switch = "off"
    gpc: Switch = "on"


class ContextRename(_In):
    context: Name
    name: Name


class ContextChange(_In):
    context: Name
    separate_identity: Switch | None = None
    gpc: Switch | None = None


class ContextRef(_In):
    context: Name


class ContextUse(_In):
    context: Name
    origin: Origin | None = None  # only on this site
    minutes: Annotated[int, Meta(ge=1, le=43200)] | None = None  # for a while (at most 30 days)


class ChoiceEnd(_In):
    origin: Origin | None = None  # the site's own context; absent: the timed one


class SiteGpcChange(_In):
    origin: Origin
    gpc: Switch  # off: never sent to this site; on: as the site's context says


class ContextView(msgspec.Struct, kw_only=True):
    """Every context, the standing choices, and (asked with ?origin=) what is in force on that site."""

    contexts: list[contexts.Context]
    choices: contexts.Choices
    active: contexts.Active | None = None
    gpc: gpc.SiteGpc | None = None


class Ended(msgspec.Struct, kw_only=True):
    ended: bool


@get("/contexts", responses=ERROR_RESPONSES, summary="Contexts, the standing choices, and one site's context")
async def list_contexts(
    daemon: DaemonDep, origin: Annotated[str | None, QueryParameter(max_length=300)] = None
) -> ContextView:
    site, now = (checked_origin(origin) if origin else None), daemon.clock()

    def view(vault: Vault) -> ContextView:
        return ContextView(
            contexts=contexts.list_contexts(vault),
            choices=contexts.choices(vault, now=now),
            active=None if site is None else contexts.active_context(vault, site, now=now),
            gpc=None if site is None else gpc.site_gpc(vault, site, now=now),
        )

    return await daemon.worker.call(view)


@post("/contexts", responses=ERROR_RESPONSES, status_code=200, summary="Add a context (maybe as a copy)")
async def add_context(data: JSONBody[NewContext], daemon: DaemonDep) -> contexts.Context:
    now, new_id = daemon.clock(), contexts.new_context_id(daemon.new_id())
    return await daemon.worker.call(
        lambda v: contexts.add_context(
            v,
            data.name,
            now=now,
            new_id=new_id,
            copy_from=data.copy_from,
            separate_identity=data.separate_identity == "on",
            gpc=data.gpc == "on",
        )
    )


@post("/contexts/rename", responses=ERROR_RESPONSES, status_code=200, summary="Rename a context")
async def rename_context(data: JSONBody[ContextRename], daemon: DaemonDep) -> contexts.Context:
    now = daemon.clock()
    return await daemon.worker.call(lambda v: contexts.rename_context(v, data.context, data.name, now=now))


@post(
    "/contexts/change",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Turn a context's separate identity or its Global Privacy Control on or off",
)
async def change_context(data: JSONBody[ContextChange], daemon: DaemonDep) -> contexts.Context:
    now = daemon.clock()
    return await daemon.worker.call(
        lambda v: contexts.change_context(
            v,
            data.context,
            now=now,
            separate_identity=None if data.separate_identity is None else data.separate_identity == "on",
            gpc=None if data.gpc is None else data.gpc == "on",
        )
    )


@post("/contexts/remove", responses=ERROR_RESPONSES, status_code=200, summary="Remove a context")
async def remove_context(data: JSONBody[ContextRef], daemon: DaemonDep) -> contexts.Context:
    now = daemon.clock()
    return await daemon.worker.call(lambda v: contexts.remove_context(v, data.context, now=now))


@post(
    "/contexts/use",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Switch to a context: for every site or one, for good or for a while",
)
async def use_context(data: JSONBody[ContextUse], daemon: DaemonDep) -> contexts.Active:
    origin, now = (checked_origin(data.origin) if data.origin else None), daemon.clock()
    seconds = None if data.minutes is None else data.minutes * 60
    return await daemon.worker.call(
        lambda v: contexts.use_context(v, data.context, now=now, origin=origin, seconds=seconds)
    )


@post(
    "/contexts/end",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="End a site's own context, or the timed one: the previous choice comes back",
)
async def end_choice(data: JSONBody[ChoiceEnd], daemon: DaemonDep) -> Ended:
    origin = checked_origin(data.origin) if data.origin else None
    return Ended(ended=await daemon.worker.call(lambda v: contexts.end_choice(v, origin=origin)))


@get("/gpc", responses=ERROR_RESPONSES, summary="Where Global Privacy Control is sent (for the extension)")
async def gpc_state(daemon: DaemonDep) -> gpc.GpcState:
    now = daemon.clock()
    return await daemon.worker.call(lambda v: gpc.gpc_state(v, now=now))


@post("/gpc/site", responses=ERROR_RESPONSES, status_code=200, summary="Turn GPC off (or back on) for a site")
async def set_site_gpc(data: JSONBody[SiteGpcChange], daemon: DaemonDep) -> gpc.SiteGpc:
    origin, now = checked_origin(data.origin), daemon.clock()
    return await daemon.worker.call(lambda v: gpc.set_site_gpc(v, origin, enabled=data.gpc == "on", now=now))


contexts_router = Router(
    path="/",
    guards=[paired_only],
    route_handlers=[
        list_contexts,
        add_context,
        rename_context,
        change_context,
        remove_context,
        use_context,
        end_choice,
        gpc_state,
        set_site_gpc,
    ],
)
