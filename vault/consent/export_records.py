"""The export's consent records (ISO/IEC TS 27560, see vault/consent/export.py): one record built from a
purpose of a site's stored manifest, its history of events, and what a third party receives."""

from typing import Any

from vault.consent.export_format import (
    CONSENT_SCHEMA,
    DPV_STATUS,
    ConsentEvent,
    ConsentPurpose,
    ConsentRecord,
    Notice,
    Party,
    PersonalData,
    Site,
    State,
)
from vault.consent.export_parties import declared_party, holding_party
from vault.consent.export_parties import utc_time as _time
from vault.consent.report import RecipientHolding
from vault.protocol.manifest import Manifest, manifest_index


def events_of(
    start: int, first: State, withdrawn_at: int | None, ends_at: int, now: int
) -> list[ConsentEvent]:
    """The record's history: given (or refused), then withdrawn, or else expired once its time is up."""
    events = [ConsentEvent(event_time=_time(start), state=first)]
    if withdrawn_at is not None:
        events.append(ConsentEvent(event_time=_time(withdrawn_at), state="withdrawn"))
    elif ends_at <= now:
        events.append(ConsentEvent(event_time=_time(ends_at), state="expired"))
    return events


def consent_record(
    manifest: Manifest | None,
    origin: str,
    purpose_id: str,
    digest: str | None,
    events: list[ConsentEvent],
    claims: dict[str, Any],
    allowed: list[RecipientHolding] | None = None,
    **fields: Any,
) -> ConsentRecord:
    """One consent record of a purpose of `origin` (whose stored `manifest` names and describes it).
    `allowed`: a disclosure's third parties (listed instead of every one the purpose declares)."""
    purpose = None if manifest is None else manifest.purpose(purpose_id)
    stored_digest = None if purpose is None else manifest_index(manifest)[purpose_id].digest
    controller, recipients = None, []
    if manifest is not None:
        c = manifest.controller
        controller = Party(name=c.name, role="controller", contact=c.contact, privacy_policy=c.privacy_policy)
        recipients.append(controller)
    declared: dict[str, bool] = {}
    parties = {} if purpose is None else {t.id: t for t in purpose.third_parties}
    if allowed is not None:
        recipients += [holding_party(holding, parties.get(holding.id)) for holding in allowed]
    elif purpose is not None:
        recipients += [declared_party(t) for t in purpose.third_parties]
    if purpose is not None:
        declared = {claim.name: claim.required for claim in purpose.claims}
        fields.setdefault("retention", purpose.retention)
    state = events[-1].state
    return ConsentRecord(
        schema_version=CONSENT_SCHEMA,
        controller=controller,
        notice=Notice(
            manifest_url=f"{origin}/.well-known/vault-manifest.json",
            privacy_policy=None if controller is None else controller.privacy_policy,
            purpose_digest=digest or stored_digest,
            matches_stored_manifest=stored_digest is not None and digest in (None, stored_digest),
        ),
        purpose=ConsentPurpose(
            id=purpose_id,
            title=None if purpose is None else purpose.title,
            description=None if purpose is None else purpose.description,
            concept=None if purpose is None else purpose.concept,
        ),
        lawful_basis="dpv:Consent",
        consent_type="dpv:ExplicitlyExpressedConsent",
        personal_data=[
            PersonalData(claim=name, required=declared.get(name), value=value)
            for name, value in claims.items()
        ],
        recipients=recipients,
        withdrawal_method=(
            f"vault revoke {origin} --purpose {purpose_id} (or the extension's page for this site); "
            "the vault then sends the site a signed revocation notice"
        ),
        event_time=events[-1].event_time,
        state=state,
        dpv_status=DPV_STATUS[state],
        events=events,
        **{"retention": None, **fields},
    )


def received_by(site: Site, purpose_id: str, recipient: str) -> dict[str, None]:
    """What a third party receives for a purpose, as the site's manifest says (the personal data an answer
    about it concerns); empty when the manifest no longer names it."""
    purpose = None if site.manifest is None else site.manifest.purpose(purpose_id)
    party = next((t for t in purpose.third_parties if t.id == recipient), None) if purpose else None
    return {} if party is None else dict.fromkeys(party.claims)
