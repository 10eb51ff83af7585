"""The ledger's records: the format of the `body` of every kind of ledger entry, one frozen msgspec Struct
per kind (and per consent action, per delivery outcome). Bodies are encoded and decoded here, nowhere else.

    kind             record                                                   told apart by
    disclosure       Disclosed
    acknowledgement  Acknowledged
    broken_promise   BrokenPromise
    consent          Decided | RecipientDecided | DecisionChanged |           "action" (its first key)
                     RuleAdded | RuleRemoved | ConsentRevoked
    revocation       NoticeQueued
    delivery         NoticeDelivered | NoticeNotDelivered                     "outcome" (its second key)
    delivery_ack     NoticeAcknowledged
    forget           Forgotten
    site_changed     SiteChanged
    access_request   AccessRequested
    access_answer    AccessAnswered
    access_unanswered AccessUnanswered
    message          MessageReceived
    context          ContextChanged

Encoding. A body is the compact JSON of its record, keys in field order, and that text is what the ledger
stores and hashes (ledger._row_hash covers it byte for byte). So the field order, the spelling of each key,
null against absent, all ARE the format: each Struct below encodes exactly what the writers put in their
dicts before the records were typed (tests/consent/test_ledger_records.py re-encodes every row of
tests/fixtures/vault-ledger-v1, made by that code, and gets the stored text back). Nulls are written
(`"prompt": null`), with one exception: NoticeNotDelivered leaves `status` out when no HTTP answer came.

Decoding. `decode_record(kind, body)` turns a stored body (as plain JSON values) into its record, or raises
RecordInvalid. Unknown fields are ignored (msgspec's forbid_unknown_fields=False, on purpose): a row written
by a newer version, with fields added under the rules below, still reads in this one. Nothing is lost by
ignoring them: a row is never re-encoded from its record; the chain is verified, and the export embeds
bodies, from the stored text.

Schema evolution. A row is permanent, so every version must read every row any earlier version wrote
(after msgspec's docs/schema-evolution.rst, made stricter because rows are hashed):
1. A new field goes at the END of its Struct and has a default; rows written before it decode with the
   default. New rows carry it, so their text (and only theirs) changes.
2. A field is never removed, renamed or reordered, and its type never changes, not even narrowed (old rows
   must still decode) or widened (older versions must still read new rows). A field that could be null or
   absent in any row ever written stays optional for good.
3. A kind is never renamed, reused or dropped; a new kind is a new Struct, a new entry in RECORDS and in
   Kind (ledger.verify refuses kinds it does not know).
4. An `action` (consent) or `outcome` (delivery) value is never reused or renamed; a new one is a new Struct.
5. Every fixture vault in tests/fixtures/vault-ledger-* keeps decoding and verifying: a change that makes
   one fail is a format break, whatever these rules seem to allow.
"""

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import msgspec

Kind = Literal[
    "disclosure",  # a presentation left the vault: claims and values, token id, expiry, retention
    "acknowledgement",  # the site's signed promise about a disclosure
    "broken_promise",  # a site's own signed word that it did what the user did not allow
    "consent",  # a decision made or changed: allow / deny, once / remember, revoked
    "revocation",  # a revocation (or erasure) notice was signed and queued for delivery
    "delivery",  # one attempt to deliver a notice, and its outcome
    "delivery_ack",  # the site's signed answer to a notice
    "forget",  # the site's pairwise identity was replaced (epoch bumped)
    "site_changed",  # a site's manifest changed its controller, signing key or revocation endpoint
    "access_request",  # the vault asked the site what it holds (signed, pairwise), and why
    "access_answer",  # the site's signed statement, and every discrepancy found comparing it with the ledger
    "access_unanswered",  # the site did not answer an access request after the last retry
    "message",  # a site's signed message (proposal, change notice, deletion confirmation, breach notice)
    "context",  # a context was added, renamed, removed, or its settings changed
]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]


class RecordInvalid(ValueError):
    """A body that is not the record of its kind (not written by this program, or damaged)."""


class LedgerRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What every record shares: the ledger kind it is written as."""

    kind: ClassVar[str]


class Disclosed(LedgerRecord, frozen=True, kw_only=True, omit_defaults=True):
    """disclosure (ref: the presentation's jti). Written only by ledger.append_disclosure.
    (omit_defaults: only fields added later have defaults, and rows from before them stay as written.)"""

    kind: ClassVar[str] = "disclosure"
    claims: dict[str, Any]  # claim name -> the value sent
    purpose_digest: str  # the digest of the purpose as the manifest declared it
    concept: str  # the purpose's DPV concept
    retention: str  # ISO 8601 duration, from the manifest
    expires_at: int  # the token's own expiry
    keep_until: int  # disclosed_at + retention
    epoch: int  # the site's pairwise epoch the token was signed under
    subject: str  # the pairwise subject the site saw
    prompt: str | None  # the prompt that was answered; null when a remembered decision granted it
    # The third parties the user allowed (manifest ids), each with the claims of this disclosure it may
    # receive: what the manifest said then, kept here since the manifest may change.
    recipients: dict[str, tuple[str, ...]] = {}
    context: str | None = None  # the context it was made in (contexts.id); absent: before contexts existed
    identity: str | None = None  # the context's own pairwise identity it was signed with; absent: shared


class Acknowledged(LedgerRecord, frozen=True, kw_only=True, omit_defaults=True):
    """acknowledgement (ref: the presentation's jti): the site's signed promise, verified."""

    kind: ClassVar[str] = "acknowledgement"
    claims: tuple[str, ...]
    keep_until: int
    token: str  # the site's signed acknowledgement, as received
    recipients: tuple[str, ...] = ()  # the third parties the site says it passed the claims to


class BrokenPromise(LedgerRecord, frozen=True, kw_only=True):
    """broken_promise (ref: the presentation's jti): the site's signed acknowledgement says it passed the
    claims to third parties the user did not allow. The token is the evidence."""

    kind: ClassVar[str] = "broken_promise"
    recipients: tuple[str, ...]  # named by the site, not allowed by the user
    token: str


class _Consent(LedgerRecord, frozen=True, kw_only=True, tag_field="action"):
    kind: ClassVar[str] = "consent"


class Decided(_Consent, frozen=True, kw_only=True, tag="decided", omit_defaults=True):
    """consent (ref: the prompt id): one answer about one claim."""

    claim: str
    effect: str  # allow | deny
    mode: str  # once | remember
    expires_at: int | None  # when a remembered decision lapses; null for "once"
    context: str | None = None  # the context it was given in; absent: the everyday one (as RuleAdded)


class RecipientDecided(_Consent, frozen=True, kw_only=True, tag="recipient_decided", omit_defaults=True):
    """consent (ref: the prompt id): one answer about one third party of the purpose."""

    recipient: str
    effect: str  # allow | deny
    mode: str  # once | remember
    expires_at: int | None
    context: str | None = None


class DecisionChanged(_Consent, frozen=True, kw_only=True, tag="changed", omit_defaults=True):
    """consent: the user changed a remembered decision about a claim or a third party (one is null)."""

    claim: str | None
    recipient: str | None
    effect: str  # allow | deny | forgotten
    context: str | None = None  # absent: the everyday context


class RuleAdded(_Consent, frozen=True, kw_only=True, tag="rule_added", omit_defaults=True):
    rule: str  # records.RULE_KINDS
    target: str
    context: str | None = None  # absent: the everyday context (and every rule before contexts existed)


class RuleRemoved(_Consent, frozen=True, kw_only=True, tag="rule_removed", omit_defaults=True):
    rule: str
    target: str
    context: str | None = None


class ConsentRevoked(_Consent, frozen=True, kw_only=True, tag="revoked", omit_defaults=True):
    purpose: str | None  # null: every purpose of the site
    decisions: int  # how many standing decisions were revoked
    claim: str | None = None  # set: only this claim was revoked
    recipient: str | None = None  # set: only this third party was revoked


class NoticeQueued(LedgerRecord, frozen=True, kw_only=True, omit_defaults=True):
    """revocation (ref: the notice's jti): a signed notice withdrawing these presentations, queued. Its
    scope is the notice's: `claims` (empty: all), from the site itself (`site`) and from `recipients`."""

    kind: ClassVar[str] = "revocation"
    presentations: tuple[str, ...]  # jtis withdrawn
    erasure: bool  # the site was asked to erase, too
    endpoint: str
    epoch: int  # the pairwise epoch whose key signed the notice (a re-signed notice uses it again)
    claims: tuple[str, ...] = ()
    site: bool = True
    recipients: tuple[str, ...] = ()
    identity: str | None = None  # the pairwise identity (with `epoch`) whose key signed it; absent: shared


class NoticeDelivered(LedgerRecord, frozen=True, kw_only=True):
    """delivery (ref: the notice's jti): the attempt the site answered with a verified acknowledgement."""

    kind: ClassVar[str] = "delivery"
    attempt: int
    outcome: Literal["delivered"]
    status: int | None  # HTTP status


class NoticeNotDelivered(LedgerRecord, frozen=True, kw_only=True, omit_defaults=True):
    """delivery (ref: the notice's jti): a failed attempt. `status` is absent, not null, when no HTTP answer
    came (omit_defaults: only `status` has a default, and a field added later must say if it is omitted)."""

    kind: ClassVar[str] = "delivery"
    attempt: int
    outcome: Literal["failed"]
    error: str
    next_attempt_at: int
    status: int | None = None


class RecipientAnswer(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    outcome: str  # erased | not_held | forwarded
    at: int


class NoticeAcknowledged(LedgerRecord, frozen=True, kw_only=True, omit_defaults=True):
    """delivery_ack (ref: the notice's jti): the site's signed answer to the notice, verified."""

    kind: ClassVar[str] = "delivery_ack"
    erased: bool
    token: str
    recipients: tuple[RecipientAnswer, ...] = ()  # each third party's outcome, as the site reports it


class Forgotten(LedgerRecord, frozen=True, kw_only=True):
    """forget: the site's pairwise identity was replaced."""

    kind: ClassVar[str] = "forget"
    old_epoch: int
    new_epoch: int


class SiteChanged(LedgerRecord, frozen=True, kw_only=True):
    """site_changed: a watched manifest field changed (sites.WATCHED_FIELDS), as the user is shown it."""

    kind: ClassVar[str] = "site_changed"
    field: str  # controller | site_key | revocation_endpoint | access_endpoint
    before: str
    after: str


class AccessRequested(LedgerRecord, frozen=True, kw_only=True, omit_defaults=True):
    """access_request (ref: the request's jti): the vault asked the site what it holds."""

    kind: ClassVar[str] = "access_request"
    reason: Literal["ask", "retention_end"]  # the user asked / a disclosure's retention ended
    endpoint: str
    epoch: int  # the pairwise epoch whose key signs it
    presentations: tuple[str, ...]  # retention_end: the disclosures the site should no longer hold
    identity: str | None = None  # with `epoch`, the identity whose key signs it; absent: the shared one


class Discrepancy(msgspec.Struct, frozen=True, kw_only=True):
    """One way the site's statement differs from what the ledger says it may hold (access.DISCREPANCIES).
    `text` is the plain-words sentence the user is shown, fixed when it was found."""

    kind: str  # held_past_retention | never_disclosed | held_after_erasure | unallowed_recipient | no_answer
    purpose: str | None
    claims: tuple[str, ...]
    recipients: tuple[str, ...]
    text: str


class AccessAnswered(LedgerRecord, frozen=True, kw_only=True):
    """access_answer (ref: the request's jti): the site's signed statement, verified, and the comparison."""

    kind: ClassVar[str] = "access_answer"
    token: str  # the statement, as received
    request: str  # the jti of the attempt it answers (each attempt is a new request; `ref` is the first's)
    discrepancies: tuple[Discrepancy, ...]


class AccessUnanswered(LedgerRecord, frozen=True, kw_only=True):
    """access_unanswered (ref: the request's jti): no valid statement after the last attempt."""

    kind: ClassVar[str] = "access_unanswered"
    attempts: int
    error: str  # the last attempt's failure, in words
    discrepancies: tuple[Discrepancy, ...]  # the `no_answer` discrepancy (and what it concerned)


class MessageReceived(LedgerRecord, frozen=True, kw_only=True):
    """message (ref: the message's jti): a site's signed message, verified and kept in the inbox."""

    kind: ClassVar[str] = "message"
    message_kind: str  # proposal | change | deletion | breach
    via: Literal["page", "acknowledgement", "statement"]
    token: str


class ContextChanged(LedgerRecord, frozen=True, kw_only=True, omit_defaults=True):
    """context (ref: the context's id): the user added, renamed or removed a context, or changed whether it
    keeps a separate identity or sends Global Privacy Control. Switching between contexts is not recorded
    (it says when and where the user browsed, and changes no consent)."""

    kind: ClassVar[str] = "context"
    action: Literal["added", "renamed", "removed", "changed"]
    name: str  # the name after the change (removed: the last one)
    separate_identity: bool
    gpc: bool
    copied_from: str | None = None  # added as a copy of this context's rules and remembered decisions
    old_name: str | None = None  # renamed: the name before


ConsentAction = Decided | RecipientDecided | DecisionChanged | RuleAdded | RuleRemoved | ConsentRevoked
DeliveryAttempt = NoticeDelivered | NoticeNotDelivered
Record = (
    Disclosed
    | Acknowledged
    | BrokenPromise
    | ConsentAction
    | NoticeQueued
    | DeliveryAttempt
    | NoticeAcknowledged
    | Forgotten
    | SiteChanged
    | AccessRequested
    | AccessAnswered
    | AccessUnanswered
    | MessageReceived
    | ContextChanged
)

# kind -> the type its bodies decode as ("delivery" is two types, told apart by their `outcome`).
RECORDS: dict[str, Any] = {
    "disclosure": Disclosed,
    "acknowledgement": Acknowledged,
    "broken_promise": BrokenPromise,
    "consent": ConsentAction,
    "revocation": NoticeQueued,
    "delivery": None,
    "delivery_ack": NoticeAcknowledged,
    "forget": Forgotten,
    "site_changed": SiteChanged,
    "access_request": AccessRequested,
    "access_answer": AccessAnswered,
    "access_unanswered": AccessUnanswered,
    "message": MessageReceived,
    "context": ContextChanged,
}
assert set(RECORDS) == set(KINDS)
_encoder = msgspec.json.Encoder()


def encode_record(record: Record) -> str:
    """The body text of a new entry: exactly what is stored and hashed."""
    return _encoder.encode(record).decode()


def decode_record(kind: str, body: Mapping[str, Any]) -> Record:
    """A stored body (decoded to plain JSON values) as the record of its kind; RecordInvalid if it is not."""
    if kind not in RECORDS:
        raise RecordInvalid(f"unknown ledger kind {kind!r}")
    if not isinstance(body, Mapping):
        raise RecordInvalid(f"not a {kind} record: the body is not a JSON object")
    target = RECORDS[kind]
    if kind == "delivery":
        target = NoticeDelivered if body.get("outcome") == "delivered" else NoticeNotDelivered
    try:
        return msgspec.convert(body, type=target)
    except msgspec.ValidationError as error:
        raise RecordInvalid(f"not a {kind} record: {error}") from None
