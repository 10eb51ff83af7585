"""The routes a paired client uses: presentations and prompts, acknowledgements, the profile, sites,
consents, revocation, the ledger and the export. Thin: each decodes a Struct, runs one consent-layer call
on the vault worker, and returns a Struct."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody, PathParameter, QueryParameter

from vault.claims.attributes import ATTRIBUTES, lookup
from vault.consent import ledger, outbox
from vault.consent.acknowledgements import store_acknowledgement
from vault.consent.controls import context_named
from vault.consent.export import VaultExport, export_vault
from vault.consent.inbox import receive_carried
from vault.consent.ledger import Entry, Verification
from vault.consent.policy import Answer
from vault.consent.prepared import prepare_presentation
from vault.consent.prompt_view import PromptView, get_prompt, pending_prompts
from vault.consent.records import remembered_decisions
from vault.consent.report import SiteReport, site_report
from vault.consent.revocation import revoke
from vault.consent.service import (
    Decided,
    NotShared,
    Outcome,
    PromptNeeded,
    Shared,
    decide_prompt,
    decided_outcome,
    request_presentation,
)
from vault.consent.sites import SiteSummary, checked_origin, known_sites
from vault.daemon.errors import ERROR_RESPONSES, Refused
from vault.daemon.messages import (
    Acknowledged,
    AcknowledgementRequest,
    AttributeValue,
    CatalogueEntry,
    ConsentAnswer,
    ConsentRequiredAnswer,
    DecidedAnswer,
    Decision,
    DeniedAnswer,
    GrantedAnswer,
    PresentationRequest,
    Profile,
    RevokeRequest,
    RevokeResult,
    StandingDecision,
)
from vault.daemon.routes_profile import stored_value, today_at
from vault.daemon.session import daemon_of, require_paired
from vault.daemon.state import Daemon, DaemonDep
from vault.errors import VaultError

log = logging.getLogger("vault.daemon")

PromptId = Annotated[str, PathParameter(max_length=64)]
OriginQuery = Annotated[str, QueryParameter(max_length=300)]
Name = Annotated[str, PathParameter(max_length=128)]


def for_page(outcome: Outcome) -> ConsentAnswer:
    """The consent layer's result as the daemon answers it: what a page may learn of a refusal is the
    reason's to say (DenialReason.for_page); the full message goes to the user as `detail`."""
    if isinstance(outcome, PromptNeeded):
        return ConsentRequiredAnswer(prompt=outcome.prompt)
    return decided_for_page(outcome)


def decided_for_page(outcome: Decided) -> DecidedAnswer:
    match outcome:
        case Shared(token=token, jti=jti, claims=claims, expires_at=expires_at, recipients=recipients):
            return GrantedAnswer(
                token=token, jti=jti, claims=claims, expires_at=expires_at, recipients=list(recipients)
            )
        case NotShared(reason=reason, message=detail):
            page_reason, message = reason.for_page(detail)
            return DeniedAnswer(reason=page_reason, message=message, detail=detail)


@post(
    "/presentations",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="A site asks for claims: granted, consent_required or denied",
)
async def presentations(data: JSONBody[PresentationRequest], request: Request) -> ConsentAnswer:
    # Most requests are answered by vault.daemon.fast_path instead, which runs present() too; those it
    # leaves to Litestar come here (and every request does in --tcp mode).
    return await present(daemon_of(request), data)


async def present(daemon: Daemon, data: PresentationRequest) -> ConsentAnswer:
    """The route's work: granted, consent_required or denied; an error is raised, for the app's handlers."""
    manifest = daemon.manifest(data.manifest)
    origin, now = checked_origin(data.origin), daemon.clock()
    # Signed here from memory while the worker commits earlier requests, when it can be: the job then
    # only records it (vault.consent.prepared).
    prepared = daemon.worker.prepare(
        lambda v: prepare_presentation(
            v,
            manifest=manifest,
            audience=origin,
            purpose_id=data.purpose,
            nonce=data.nonce,
            now=now,
            jti=daemon.new_id(),
            requested=data.claims,
        )
    )
    outcome = await daemon.worker.call(
        lambda v: request_presentation(
            v,
            prepared=prepared,
            manifest=manifest,
            audience=origin,
            purpose_id=data.purpose,
            nonce=data.nonce,
            now=now,
            new_id=daemon.new_id,
            requested=data.claims,
            prompt_view=data.prompt_detail == "full",
        ),
        batch=True,
        # It reads and writes the vault only. Run again after a rollback, it makes fresh ids, or records
        # the prepared token again, which had not left.
        rerun_safe=True,
    )
    return for_page(outcome)


@get("/prompts", responses=ERROR_RESPONSES, summary="Prompts waiting for the user")
async def prompts(daemon: DaemonDep) -> list[PromptView]:
    now = daemon.clock()
    return await daemon.worker.call(lambda v: pending_prompts(v, now=now))


@get(
    "/prompts/{prompt_id:str}",
    responses=ERROR_RESPONSES,
    summary="One prompt: who asks, why, and each claim's exact value",
)
async def prompt(daemon: DaemonDep, prompt_id: PromptId) -> PromptView:
    now = daemon.clock()
    return await daemon.worker.call(lambda v: get_prompt(v, prompt_id, now=now))


@post(
    "/prompts/{prompt_id:str}/decision",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="The user's answer to a prompt",
)
async def decide(data: JSONBody[Decision], daemon: DaemonDep, prompt_id: PromptId) -> DecidedAnswer:
    answer = Answer(
        share=data.share,
        claims=frozenset(data.claims),
        remember=data.remember,
        recipients=None if data.recipients is None else frozenset(data.recipients),
    )
    now = daemon.clock()
    outcome = await daemon.worker.call(
        lambda v: decide_prompt(
            v, prompt_id, answer, now=now, new_id=daemon.new_id, remember_for_days=data.remember_days
        ),
        batch=True,
    )
    return decided_for_page(outcome)


@get(
    "/prompts/{prompt_id:str}/outcome",
    responses=ERROR_RESPONSES,
    summary="What a decided or expired prompt came to (409 prompt_pending while it waits for the user)",
)
async def prompt_outcome(daemon: DaemonDep, prompt_id: PromptId) -> DecidedAnswer:
    now = daemon.clock()
    outcome = await daemon.worker.call(lambda v: decided_outcome(v, prompt_id, now=now))
    if outcome is None:
        raise Refused("prompt_pending", "the user has not answered this prompt yet", status=409)
    return decided_for_page(outcome)


@post(
    "/acknowledgements",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Store a site's signed acknowledgement",
)
async def acknowledge(data: JSONBody[AcknowledgementRequest], daemon: DaemonDep) -> Response[Acknowledged]:
    now = daemon.clock()
    carried: list[tuple[str, str]] = []
    stored = await daemon.worker.call(
        lambda v: store_acknowledgement(v, data.token, now=now, carried=carried), batch=True
    )

    # The messages it carried are received after the answer has gone: its timing must not tell the page
    # whether they were kept, dropped as muted, or refused.
    async def receive_later() -> None:
        origin, tokens = carried[0][0], [token for _, token in carried]
        try:
            await daemon.worker.call(
                lambda v: receive_carried(v, origin, tokens, via="acknowledgement", now=now)
            )
        except VaultError as error:  # locked meanwhile: the site can send them again
            log.info("messages carried in an acknowledgement were not received: %s", type(error).__name__)

    background = BackgroundTask(receive_later) if carried else None
    return Response(msgspec.convert(stored, Acknowledged), background=background)


@get("/attributes", responses=ERROR_RESPONSES, summary="Your profile, and the attributes it may hold")
async def attributes(daemon: DaemonDep) -> Profile:
    values = await daemon.worker.call(lambda v: v.attributes())
    return Profile(
        values=values,
        catalogue=[
            CatalogueEntry(
                name=spec.name,
                description=spec.description,
                sensitivity=spec.sensitivity,
                example=spec.type.example,
            )
            for spec in ATTRIBUTES.values()
        ],
    )


@put(
    "/attributes/{name:str}",
    responses=ERROR_RESPONSES,
    summary="Set one attribute (validated like `vault profile set`)",
)
async def set_attribute(name: Name, data: JSONBody[AttributeValue], daemon: DaemonDep) -> dict[str, Any]:
    now = daemon.clock()
    value = stored_value(name, data.value, today_at(now))
    await daemon.worker.call(lambda v: v.set_attribute(name, value, now=now))
    return {"name": name, "value": value}


@delete("/attributes/{name:str}", responses=ERROR_RESPONSES, status_code=200, summary="Remove one attribute")
async def unset_attribute(name: Name, daemon: DaemonDep) -> dict[str, Any]:
    lookup(name)
    removed = await daemon.worker.call(lambda v: v.unset_attribute(name))
    return {"name": name, "removed": removed}


@get("/sites", responses=ERROR_RESPONSES, summary="Every site the vault has seen")
async def sites(daemon: DaemonDep) -> list[SiteSummary]:
    return await daemon.worker.call(known_sites)


@get("/sites/report", responses=ERROR_RESPONSES, summary="What one site was told, and what it may still hold")
async def site(daemon: DaemonDep, origin: OriginQuery) -> SiteReport:
    origin = checked_origin(origin)
    now = daemon.clock()  # the context in force there and GPC are as of now
    return await daemon.worker.call(lambda v: site_report(v, origin, now=now))


@get(
    "/consents",
    responses=ERROR_RESPONSES,
    summary="A context's remembered decisions, per site, purpose and claim",
)
async def consents(
    daemon: DaemonDep, context: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None
) -> list[StandingDecision]:
    now = daemon.clock()
    decisions = await daemon.worker.call(
        lambda v: remembered_decisions(v, context_named(v, context, now=now).id)
    )
    return [StandingDecision(**msgspec.structs.asdict(d)) for d in decisions]


@post(
    "/revocations",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Take back consent; notices go out from the outbox",
)
async def revocations(data: JSONBody[RevokeRequest], daemon: DaemonDep) -> RevokeResult:
    now = daemon.clock()
    result = await daemon.worker.call(
        lambda v: revoke(
            v,
            data.origin,
            purpose_id=data.purpose,
            erase=data.erase,
            forget=data.forget,
            now=now,
            new_id=daemon.new_id,
            claim=data.claim,
            third_party=data.third_party,
        )
    )
    daemon.deliveries_wanted.set()
    return RevokeResult(
        origin=result.origin,
        purpose=result.purpose_id,
        decisions_revoked=result.decisions_revoked,
        withdrawn=result.withdrawn,
        notices=[notice.jti for notice in result.notices],
        erasure=result.erasure,
        forgotten=result.forgotten is not None,
        claim=result.claim,
        third_party=result.third_party,
        recipients=list(result.recipients),
    )


@get("/outbox", responses=ERROR_RESPONSES, summary="Revocation notices and their delivery state")
async def outbox_items(daemon: DaemonDep) -> list[outbox.OutboxItem]:
    return await daemon.worker.call(outbox.items)


@get("/ledger", responses=ERROR_RESPONSES, summary="Ledger entries, newest last")
async def ledger_entries(
    daemon: DaemonDep,
    origin: Annotated[str | None, QueryParameter(max_length=300)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 100,
) -> list[Entry]:
    origin = checked_origin(origin) if origin is not None else None
    return await daemon.worker.call(lambda v: list(ledger.entries(v, origin=origin, newest=limit)))


@get(
    "/ledger/verify", responses=ERROR_RESPONSES, summary="Check the ledger's hash chain and its by-site copy"
)
async def ledger_verify(daemon: DaemonDep) -> Verification:
    return await daemon.read_apart(ledger.verify)


@get(
    "/export",
    responses=ERROR_RESPONSES,
    summary="Everything in the vault, with consent records after ISO/IEC TS 27560",
)
async def export(daemon: DaemonDep) -> VaultExport:
    now = daemon.clock()
    return await daemon.read_apart(lambda v: export_vault(v, now=now))


vault_router = Router(
    path="/",
    before_request=require_paired,
    route_handlers=[
        presentations,
        prompts,
        prompt,
        prompt_outcome,
        decide,
        acknowledge,
        attributes,
        set_attribute,
        unset_attribute,
        sites,
        site,
        consents,
        revocations,
        outbox_items,
        ledger_entries,
        ledger_verify,
        export,
    ],
)
