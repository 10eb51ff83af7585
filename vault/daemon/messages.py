"""The daemon API's bodies: msgspec Structs, strict (unknown fields refused) and bounded on the way in.

Schema evolution: new fields get defaults; a field's type never changes; a breaking change is /v2.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from vault.consent.prompt_view import PromptRef
from vault.consent.reasons import PageReason

MAX_MANIFEST_BYTES = 64 * 1024
Name = Annotated[str, Meta(min_length=1, max_length=128)]
Origin = Annotated[str, Meta(min_length=1, max_length=300)]


class _In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    pass


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One refused entry of a request that names several (an attribute, by name), in words."""

    name: str
    message: str
    hint: str = ""


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Every error: `error` is a stable code for programs, `message` and `hint` are for people."""

    error: str
    message: str
    hint: str = ""
    reason: str | None = None  # a protocol verifier's machine-readable reason, when there is one
    problems: list[Problem] | None = None  # each refused entry, when a request names several


# -- status, lock, pairing -----------------------------------------------------------------------


class Status(msgspec.Struct, kw_only=True):
    version: str
    locked: bool
    client: str  # paired | pending | unpaired | admin
    pairing_code: str | None = None  # shown to the user, who approves it with: vault pair approve CODE
    idle_lock_seconds: int
    pending_prompts: int | None = None  # only for a paired client of an unlocked vault


class UnlockRequest(_In):
    passphrase: Annotated[str, Meta(min_length=1, max_length=1024)]


class LockState(msgspec.Struct, kw_only=True):
    locked: bool
    changed: bool


class PairingRequest(_In):
    name: Annotated[str, Meta(max_length=200)] = "browser extension"


class PairingState(msgspec.Struct, kw_only=True):
    state: str  # paired | pending
    code: str | None = None
    client_id: str | None = None
    expires_at: int | None = None


class ApproveRequest(_In):
    code: Annotated[str, Meta(min_length=1, max_length=32)]


class PairedClient(msgspec.Struct, kw_only=True):
    id: str
    name: str
    paired_at: int


class PendingPairing(msgspec.Struct, kw_only=True):
    code: str
    name: str
    requested_at: int
    expires_at: int


class PairingList(msgspec.Struct, kw_only=True):
    clients: list[PairedClient]
    pending: list[PendingPairing]


# -- presentations and prompts -------------------------------------------------------------------


class PresentationRequest(_In):
    """`origin` is the page's origin as the browser reported it (sender.origin), never what the page said.

    `manifest` is the site's manifest exactly as it was served (the bytes are verified here, not trusted
    from the extension's parse of them)."""

    origin: Origin
    manifest: Annotated[str, Meta(min_length=2, max_length=MAX_MANIFEST_BYTES)]
    purpose: Name
    nonce: Annotated[str, Meta(min_length=1, max_length=256)]
    claims: Annotated[list[Name], Meta(max_length=64)] | None = None
    # "id": a consent_required answer carries only the prompt's id, and its view is not built.
    prompt_detail: Literal["full", "id"] = "full"


class GrantedAnswer(msgspec.Struct, kw_only=True, frozen=True, tag_field="outcome", tag="granted"):
    """A signed presentation. Only `token` may be shown to the page; `claims`, `jti` and `expires_at` are
    for the user, in the extension."""

    token: str
    jti: str
    claims: dict[str, Any]
    expires_at: int
    recipients: list[str] = []  # the third parties the user allowed to receive them


class ConsentRequiredAnswer(
    msgspec.Struct, kw_only=True, frozen=True, tag_field="outcome", tag="consent_required"
):
    """The user is asked. `prompt` is for the extension, never the page: the whole PromptView (as GET
    /v1/prompts/{id} answers it), or only `{id}` when the request said `prompt_detail: "id"` (the extension's
    prompt window reads the view itself). Documented as its one sure member, the id."""

    prompt: PromptRef


class DeniedAnswer(msgspec.Struct, kw_only=True, frozen=True, tag_field="outcome", tag="denied"):
    """Refused. `reason` and `message` are for the page, coarse on purpose (a page must not learn which
    attributes a profile holds): DenialReason.for_page. `detail` is for the user only: the full reason."""

    reason: PageReason
    message: str
    detail: str


# What POST /v1/presentations answers; a prompt's decision (and GET its outcome) is one of the last two.
ConsentAnswer = GrantedAnswer | ConsentRequiredAnswer | DeniedAnswer
DecidedAnswer = GrantedAnswer | DeniedAnswer


class Decision(_In):
    share: bool
    claims: Annotated[list[Name], Meta(max_length=64)] = []
    remember: bool = False
    remember_days: Annotated[int, Meta(ge=1, le=3650)] | None = None
    # The asked third parties switched on; left out: the required ones only (optional ones stay off).
    recipients: Annotated[list[Name], Meta(max_length=16)] | None = None


class AcknowledgementRequest(_In):
    token: Annotated[str, Meta(min_length=1, max_length=16384)]


class Acknowledged(msgspec.Struct, kw_only=True):
    presentation: str
    claims: list[str]
    keep_until: int
    recipients: list[str] = []  # whom the site says it passed the claims to
    not_allowed: list[str] = []  # of those, the ones the user did not allow: recorded as a broken promise


# -- the profile ---------------------------------------------------------------------------------


class AttributeValue(_In):
    value: Any


MAX_CHANGES = 64  # set and remove together; the catalogue and a person's own fields fit many times over


class AttributeChanges(_In):
    """Several attributes set and removed at once: all stored, or (when any is refused) none."""

    set: Annotated[dict[Name, Any], Meta(max_length=MAX_CHANGES)] = {}
    remove: Annotated[list[Name], Meta(max_length=MAX_CHANGES)] = []


class AttributesChanged(msgspec.Struct, kw_only=True):
    set: dict[str, Any]  # each value as stored (parsed from text, normalised)
    removed: list[str]  # the names that were stored and are gone now


class CatalogueEntry(msgspec.Struct, kw_only=True):
    name: str
    description: str
    sensitivity: str
    example: str


class Profile(msgspec.Struct, kw_only=True):
    values: dict[str, Any]
    catalogue: list[CatalogueEntry]


# -- consents, revocation ------------------------------------------------------------------------


class StandingDecision(msgspec.Struct, kw_only=True):
    """About one claim, or one third party (`recipient`; then `claim` is null)."""

    origin: str
    purpose: str
    claim: str | None
    effect: str
    decided_at: int
    expires_at: int
    recipient: str | None = None
    purpose_title: str | None = None  # from the site's stored manifest, when it still has the purpose
    recipient_name: str | None = None
    context: str = "everyday"  # the context it answers requests in (its id)
    context_name: str = "Everyday"


class RevokeRequest(_In):
    """The whole site, one `purpose`, one `claim` or one `third_party` (within `purpose` when given)."""

    origin: Origin
    purpose: Name | None = None
    erase: bool = False
    forget: bool = False
    claim: Name | None = None
    third_party: Name | None = None


class RevokeResult(msgspec.Struct, kw_only=True):
    origin: str
    purpose: str | None
    decisions_revoked: int
    withdrawn: int
    notices: list[str]
    erasure: bool
    forgotten: bool
    claim: str | None = None
    third_party: str | None = None
    recipients: list[str] = []  # the third parties the notices ask the site to tell
