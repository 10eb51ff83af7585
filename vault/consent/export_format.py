"""The export's format: the Structs `vault export` writes, from which its JSON Schema is generated
(committed as export-schema.json). What each part means, and how consent records map onto ISO/IEC TS
27560, is told in vault/consent/export.py's docstring."""

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from vault.claims.catalogue import ClaimValue
from vault.consent.ledger_records import Discrepancy
from vault.consent.report import Disclosure, SiteChange
from vault.protocol.manifest import Manifest

FORMAT = "personal-vault-export"
VERSION = 1
CONSENT_SCHEMA = "ISO/IEC TS 27560:2023"
SCHEMA_PATH = Path(__file__).with_name("export-schema.json")
THE_USER = "the vault user"

Time = Annotated[
    dt.datetime,
    msgspec.Meta(extra_json_schema={"format": "date-time", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"}),
]
JsonObject = Annotated[msgspec.Raw, msgspec.Meta(extra_json_schema={"type": "object"})]
HashHex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
State = Literal["given", "refused", "withdrawn", "expired"]
DPV_STATUS = {
    "given": "dpv:ConsentGiven",
    "refused": "dpv:ConsentRefused",
    "withdrawn": "dpv:ConsentWithdrawn",
    "expired": "dpv:ConsentExpired",
}


class _Part(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class VaultInfo(_Part):
    vault_id: str
    created_at: int
    schema_version: int


class Attribute(_Part):
    name: str
    value: Any
    updated_at: int


class SiteSubject(_Part, kw_only=True):
    """A pairwise identity the vault used at a site: the shared one (identity null) or a context's own, in
    one epoch. Sites cannot link two of them; the export, being the user's, lists them all."""

    epoch: int
    identity: str | None  # the context id its keys derive with; null: the identity all others share
    context_name: str | None  # the context whose own identity it is (null: the shared one)
    subject: str
    current: bool  # the site's current epoch: what the site sees now (a "forget me" replaces it)


class Site(_Part):
    """A site the vault has dealt with. `disclosures` is exactly what `vault site ORIGIN` reports."""

    origin: str
    epoch: int
    subject: str  # the RFC 9278 thumbprint URI of the current pairwise key: what the site sees as `sub`
    first_seen: int | None
    manifest_seen_at: int | None
    manifest: Manifest | None
    manifest_problem: str | None  # set when a stored manifest no longer validates (it is then null)
    disclosures: list[Disclosure]
    changes: list[SiteChange] = []  # the site changed its controller, signing key or revocation endpoint
    subjects: list[SiteSubject] = []  # every pairwise identity the vault used there, and its subject


class Rule(_Part):
    kind: str
    target: str
    created_at: int
    context: str = "everyday"  # the context it belongs to (its id)


class ContextExport(_Part, kw_only=True):
    """A context: a named set of rules and remembered decisions. Removed ones stay (what was shared in
    them names them, and their identity's keys still derive)."""

    id: str
    name: str
    separate_identity: bool  # sites see this context's own pairwise keys and subjects
    gpc: bool  # the context's own Global Privacy Control switch
    created_at: int
    removed_at: int | None


class TimedChoice(_Part, kw_only=True):
    context: str
    until: int  # it stops applying then, by itself


class SiteContextChoice(_Part, kw_only=True):
    """The user's choice of a context for one site, for good (until null) or for a while."""

    origin: str
    context: str
    until: int | None
    set_at: int


class ContextChoices(_Part, kw_only=True):
    """Which context answers requests, as stored: a site's own first (until it passes), then a timed one
    (until it passes), then the browser-wide one, then Everyday."""

    browser: str | None  # the browser-wide choice; null: none made (Everyday)
    timed: TimedChoice | None
    sites: list[SiteContextChoice]


class GpcSite(_Part, kw_only=True):
    """A site on which the user turned Global Privacy Control off (enabled false)."""

    origin: str
    enabled: bool
    set_at: int


class GpcDefault(_Part, kw_only=True):
    """Whether GPC is sent, at export time, to sites without a context or switch of their own, and why."""

    sent: bool
    context: str  # the browser-wide context then
    why: str


class Subject(_Part, kw_only=True):
    """The PII principal. Sites know the user only by a pairwise subject; null when no key applies."""

    description: str = THE_USER
    pairwise_id: str | None
    epoch: int | None
    identity: str | None = None  # a context's own identity the key derives with; null: the shared one


class RecipientWithdrawal(_Part, kw_only=True):
    """Taking back what one third party received: asked when, and what the site answered for it."""

    claims: list[str]  # what was asked back
    asked_at: Time
    erasure: bool
    state: Literal["pending", "confirmed"]
    outcome: Literal["erased", "not_held", "forwarded"] | None  # the site's signed answer for it
    outcome_at: Time | None
    words: str


class Party(_Part, kw_only=True):
    """The controller, or a third party (a DPV recipient role) the purpose passes claims to. On a
    disclosure record only the third parties the user allowed are listed, with what each received."""

    name: str
    role: Literal["controller", "third_party"]
    contact: str | None = None
    privacy_policy: str | None = None
    why: str | None = None
    id: str | None = None  # the third party's id in the manifest
    dpv_role: str | None = None  # dpv:Processor | dpv:ThirdParty | dpv:JointDataControllers
    country: str | None = None  # ISO 3166-1 alpha-2
    required: bool | None = None
    claims: list[str] | None = None  # what it receives (disclosure: of what was sent)
    allowed: bool | None = None  # decision records: the user's remembered answer about it, if any
    withdrawals: list[RecipientWithdrawal] = []


class Notice(_Part):
    """What the user was shown: the site's manifest entry, bound by its digest (RFC 8785, SHA-256)."""

    manifest_url: str
    privacy_policy: str | None
    purpose_digest: str | None
    matches_stored_manifest: bool  # false when the site has changed this purpose since


class ConsentPurpose(_Part):
    id: str
    title: str | None
    description: str | None
    concept: str | None  # a W3C DPV purpose concept, e.g. dpv:ProvidePersonalisedRecommendations


class PersonalData(_Part):
    claim: str
    required: bool | None  # as the manifest declares it; null when it no longer does
    value: ClaimValue | None  # the value sent (disclosure records); null for decisions


class Validity(_Part, kw_only=True):
    valid_from: Time = msgspec.field(name="from")
    until: Time | None


class ConsentEvent(_Part):
    event_time: Time
    state: State


class ConsentRecord(_Part, kw_only=True):
    """One consent record after ISO/IEC TS 27560:2023 (field names in its terms, values in DPV's)."""

    schema_version: Literal["ISO/IEC TS 27560:2023"]
    record_id: str
    record_kind: Literal["decision", "disclosure", "recipient_decision"]
    subject: Subject
    controller: Party | None  # null only when no manifest of the site was ever stored
    notice: Notice
    purpose: ConsentPurpose
    lawful_basis: Literal["dpv:Consent"]
    consent_type: Literal["dpv:ExplicitlyExpressedConsent"]
    personal_data: list[PersonalData]
    retention: str | None  # ISO 8601 duration
    recipients: list[Party]
    withdrawal_method: str
    event_time: Time
    validity: Validity
    state: State
    dpv_status: Literal[
        "dpv:ConsentGiven", "dpv:ConsentRefused", "dpv:ConsentWithdrawn", "dpv:ConsentExpired"
    ]
    events: list[ConsentEvent]
    disclosure: str | None = None  # the presentation's jti
    prompt: str | None = None  # the prompt in which the user answered, when there was one
    replaced_by: str | None = None  # a withdrawn decision replaced by a newer answer about the same claim
    # A withdrawn disclosure, in words: waiting for the site's confirmation (and the next try) or confirmed.
    withdrawal: str | None = None
    recipient: str | None = None  # recipient_decision records: the third party's id the answer is about
    context: str | None = None  # the context it was decided or disclosed in (its id)
    context_name: str | None = None


class LedgerEntry(_Part):
    seq: int
    at: int
    kind: str
    origin: str | None
    purpose_id: str | None
    ref: str | None
    body: JsonObject
    hash: HashHex


class LedgerVerification(_Part):
    ok: bool
    entries: int
    bad_seq: int | None
    problem: str
    head_seq: int | None
    head_hash: HashHex | None


class OutboxNotice(_Part):
    id: str
    origin: str
    purpose_id: str
    endpoint: str
    notice: str  # the signed revocation notice (compact JWS)
    created_at: int
    attempts: int
    next_attempt_at: int
    last_error: str | None
    delivered_at: int | None
    acknowledgement: str | None


class Prompt(_Part):
    id: str
    origin: str
    purpose_id: str
    state: str
    created_at: int
    expires_at: int
    decided_at: int | None
    request: JsonObject


class AccessRequestExport(_Part):
    """An access request ("what do you hold about me?"), the site's signed statement if it answered, and
    the discrepancies the vault found comparing it with the ledger (or `no_answer`)."""

    id: str  # the first attempt's jti: the `ref` of its ledger entries
    origin: str
    reason: Literal["ask", "retention_end"]
    endpoint: str
    epoch: int  # the pairwise identity it was asked under
    presentations: list[str]  # retention_end: the disclosures the site should no longer hold
    created_at: int
    attempts: int
    next_attempt_at: int
    last_error: str | None
    answered_at: int | None
    gave_up_at: int | None
    statement: str | None  # the site's signed statement (compact JWS), as received
    answers_request: str | None  # the jti of the attempt the statement answers
    discrepancies: list[Discrepancy]
    identity: str | None = None  # with `epoch`: a context's own identity it was asked for; null: shared


class InboxMessageExport(_Part):
    """A site's message as the inbox keeps it (its signed token is also in the ledger, kind `message`)."""

    jti: str
    origin: str
    kind: str  # proposal | change | deletion | breach
    title: str
    body: str
    purpose_id: str | None
    effective_at: int | None
    claims: list[str]
    url: str | None
    via: str  # page | acknowledgement | statement
    received_at: int
    expires_at: int
    read_at: int | None
    accepted_at: int | None
    deleted_at: int | None  # hidden by the user (kept until it expires, against replays)
    token: str


class MutedSite(_Part):
    origin: str
    muted_at: int


class VaultExport(_Part):
    """Everything in a personal vault (see the module docstring of vault/consent/export.py)."""

    format: Literal["personal-vault-export"]
    version: Literal[1]
    exported_at: Time
    vault: VaultInfo
    profile: list[Attribute]
    sites: list[Site]
    rules: list[Rule]
    consent_records: list[ConsentRecord]
    ledger_verification: LedgerVerification
    ledger: list[LedgerEntry]
    outbox: list[OutboxNotice]
    prompts: list[Prompt]
    access_requests: list[AccessRequestExport] = []
    messages: list[InboxMessageExport] = []
    muted_sites: list[MutedSite] = []
    contexts: list[ContextExport] = []  # every context ever made, removed ones too
    context_choices: ContextChoices | None = None
    gpc_sites: list[GpcSite] = []  # the per-site Global Privacy Control switches
    gpc_default: GpcDefault | None = None


def export_schema() -> dict[str, Any]:
    schema = msgspec.json.schema(VaultExport)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Personal vault export",
        **schema,
    }


def schema_text() -> bytes:
    return msgspec.json.format(msgspec.json.encode(export_schema()), indent=2) + b"\n"
