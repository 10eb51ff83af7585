"""The consent flow: a site's request is evaluated, then either signed (and recorded) at once, turned into
a prompt that waits for the user, or refused. Deciding a prompt finishes the same flow later, even after
a restart: prompts live in the vault, not in memory.

Every token is recorded in the ledger in the same transaction that commits before the token is returned.

A request is answered in the context active at its origin (vault.consent.contexts.active_context): by that
context's rules and remembered decisions only, and a token is signed with that context's pairwise
identity. A prompt keeps the context it was asked in, and its answer is remembered there; if that context
was removed before the user answered, the answer holds for this request only (remembered nowhere) and
the token is still signed with the identity the prompt was made under.
"""

import re
from collections.abc import Callable
from typing import Any, ClassVar

import msgspec

from vault.claims.issuer import Issued
from vault.consent.contexts import Context, by_id
from vault.consent.disclosures import record_disclosure
from vault.consent.evaluated import evaluated
from vault.consent.policy import (
    Answer,
    Denied,
    Granted,
    controller_binding,
    resolve,
)
from vault.consent.prepared import Prepared, sign_granted, still_holds, utc_today
from vault.consent.prompt_view import (
    PromptRef,
    StoredPrompt,
    get_prompt,
    load_prompt,
)
from vault.consent.reasons import DenialReason
from vault.consent.records import (
    DAY,
    remember_days,
    store_decisions,
)
from vault.consent.sites import remember_manifest
from vault.errors import InvalidInput
from vault.protocol.manifest import Manifest, decode_manifest, manifest_index
from vault.protocol.presentation import NONCE_PATTERN
from vault.store import Vault
from vault.store.database import Connection

PROMPT_TTL = 600  # a prompt nobody answers in 10 minutes expires; the page must ask again
# A page can ask in a loop with nobody answering: the prompts it leaves behind are bounded per origin and
# in all, and an answered or expired prompt is dropped an hour after it expired (its answer is in the
# ledger; the row only serves a retried decision).
MAX_PENDING_PER_ORIGIN = 4
MAX_PENDING = 32
PROMPT_KEPT_AFTER_EXPIRY = 3600
NewId = Callable[[], str]
_NONCE = re.compile(NONCE_PATTERN)


# What a request (or a decided prompt) comes to: a tagged union, the tag in `outcome`. These are the consent
# layer's results; the policy's evaluation (policy.Granted, ConsentRequired, Denied) is what they start
# from, and the daemon's answers (vault/daemon/messages.py) are what a client is shown of them. `outcome`
# is also readable as an attribute of each, for code that only asks which one it has.
class Shared(msgspec.Struct, frozen=True, kw_only=True, tag_field="outcome", tag="granted"):
    """A signed presentation, already recorded in the ledger."""

    outcome: ClassVar[str] = "granted"
    token: str
    jti: str
    claims: dict[str, Any]
    expires_at: int
    dropped: dict[str, str]  # optional claim -> why it was left out
    recipients: tuple[str, ...] = ()  # the third parties allowed to receive (some of) the claims


class PromptNeeded(msgspec.Struct, frozen=True, kw_only=True, tag_field="outcome", tag="consent_required"):
    """The user is asked: a prompt is stored in the vault. `prompt` is its whole PromptView, or only a
    PromptRef when the caller asked for none (request_presentation's `prompt_view`). A PromptView is a
    PromptRef (not a union of the two: msgspec cannot tell untagged Structs apart, and a tag would add a
    member to the JSON)."""

    outcome: ClassVar[str] = "consent_required"
    prompt: PromptRef


class NotShared(msgspec.Struct, frozen=True, kw_only=True, tag_field="outcome", tag="denied"):
    """Refused: `message` is for the user; a page may see only `reason.for_page(message)`."""

    outcome: ClassVar[str] = "denied"
    reason: DenialReason
    message: str


Outcome = Shared | PromptNeeded | NotShared
Decided = Shared | NotShared  # what a decided prompt keeps as its outcome
_EXPIRED = NotShared(
    reason=DenialReason.PROMPT_EXPIRED, message="this request waited too long; the site must ask again"
)


def request_presentation(
    vault: Vault,
    *,
    manifest: Manifest,
    audience: str,
    purpose_id: str,
    nonce: str,
    now: int,
    new_id: NewId,
    requested: list[str] | None = None,
    prompt_view: bool = True,
    prepared: Prepared | None = None,
) -> Outcome:
    """`audience` is the origin the browser reported for the page, never one the page claimed.

    Raises InvalidInput for a malformed request (a nonce that is not 128+ bits of base64url); everything
    else is answered with an Outcome. `prompt_view=False`: a PromptNeeded carries only a PromptRef (for a
    caller that shows the prompt later, by its id), and the prompt's view is not built. `prepared`: this
    request signed ahead (prepare_presentation), recorded instead of signing again if it still holds.
    """
    if not isinstance(nonce, str) or _NONCE.fullmatch(nonce) is None:
        raise InvalidInput("the nonce must be 22 to 128 base64url characters (at least 128 bits)")
    if manifest.origin != audience:
        return NotShared(
            reason=DenialReason.WRONG_ORIGIN,
            message=f"the manifest is for {manifest.origin}, but the page is on {audience}",
        )
    if prepared is not None and still_holds(
        vault, prepared, manifest, audience, purpose_id, nonce, now, requested
    ):
        with vault.transaction(lets_errors_out=True) as conn:
            remember_manifest(conn, manifest, now=now, reads=vault.reads)
            granted, epoch, context = prepared.granted, prepared.epoch, prepared.context
            return _record(vault, manifest, purpose_id, prepared.issued, granted, epoch, None, context)
    evaluation, context = evaluated(vault, manifest, audience, purpose_id, requested, utc_today(now), now)
    if isinstance(evaluation, Denied):  # nothing is written: the site asked, nobody was involved
        return NotShared(reason=evaluation.reason, message=evaluation.message)
    # Nothing here catches what the block raises: in the daemon's worker, its own savepoint for this job
    # is the block's.
    with vault.transaction(lets_errors_out=True) as conn:
        if isinstance(evaluation, Granted):
            remember_manifest(conn, manifest, now=now, reads=vault.reads)
            return _issue(vault, manifest, purpose_id, nonce, evaluation, now, new_id(), None, context)
        _make_room_for_a_prompt(conn, audience, now)
        prompt_id = new_id()
        stored = StoredPrompt(
            manifest=msgspec.json.encode(manifest).decode(),
            purpose_id=purpose_id,
            nonce=nonce,
            evaluation=evaluation,
            context=context.id,
        )
        conn.execute(
            "INSERT INTO prompts (id, origin, purpose_id, request, state, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, 'pending', ?, ?)",
            (prompt_id, audience, purpose_id, msgspec.json.encode(stored).decode(), now, now + PROMPT_TTL),
        )
    if not prompt_view:
        return PromptNeeded(prompt=PromptRef(id=prompt_id))
    return PromptNeeded(prompt=get_prompt(vault, prompt_id, now=now))


def _make_room_for_a_prompt(conn: Connection, origin: str, now: int) -> None:
    """Drops old prompts, and the oldest pending ones beyond the bounds (newest first: the one a page
    just asked for is the one its user may be looking at)."""
    conn.execute("DELETE FROM prompts WHERE expires_at < ?", (now - PROMPT_KEPT_AFTER_EXPIRY,))
    for where, args, keep in (
        ("origin = ? AND ", (origin,), MAX_PENDING_PER_ORIGIN - 1),
        ("", (), MAX_PENDING - 1),
    ):
        conn.execute(
            f"DELETE FROM prompts WHERE {where}state = 'pending' AND id NOT IN "  # noqa: S608 (fixed text)
            f"(SELECT id FROM prompts WHERE {where}state = 'pending' ORDER BY created_at DESC, id LIMIT ?)",
            (*args, *args, keep),
        )


def _issue(
    vault: Vault,
    manifest: Manifest,
    purpose_id: str,
    nonce: str,
    granted: Granted,
    now: int,
    jti: str,
    prompt_id: str | None,
    context: Context,
) -> Shared:
    """Call inside the open transaction: the disclosure commits with it, before the token is returned.
    Signed with the context's identity (the shared one, unless it keeps its own)."""
    epoch = vault.site_epoch(manifest.origin)
    key = vault.pairwise_key(manifest.origin, epoch, context.identity)
    issued = sign_granted(key, manifest, purpose_id, nonce, granted, now, jti)
    return _record(vault, manifest, purpose_id, issued, granted, epoch, prompt_id, context)


def _record(
    vault: Vault,
    manifest: Manifest,
    purpose_id: str,
    issued: Issued,
    granted: Granted,
    epoch: int,
    prompt_id: str | None,
    context: Context,
) -> Shared:
    record_disclosure(
        vault.conn,
        issued=issued,
        manifest=manifest,
        purpose_id=purpose_id,
        epoch=epoch,
        prompt_id=prompt_id,
        recipients=granted.recipients,
        context=context.id,
        identity=context.identity,
    )
    return Shared(
        token=issued.token,
        jti=issued.jti,
        claims=issued.claims,
        expires_at=issued.expires_at,
        dropped=dict(granted.dropped),
        recipients=granted.recipients,
    )


def decide_prompt(
    vault: Vault,
    prompt_id: str,
    answer: Answer,
    *,
    now: int,
    new_id: NewId,
    remember_for_days: int | None = None,
) -> Decided:
    """Applies the user's answer, remembered (if asked to) in the context the prompt was asked in.
    Answering twice returns the first outcome again (an idempotent retry)."""
    # Nothing here catches what the block raises: in the daemon's worker, its own savepoint for this job
    # is the block's.
    with vault.transaction(lets_errors_out=True) as conn:
        state, _, expires_at, stored, previous = load_prompt(vault, prompt_id)
        settled = _settled(state, expires_at, previous, now)
        if settled is _EXPIRED:
            conn.execute("UPDATE prompts SET state = 'expired' WHERE id = ?", (prompt_id,))
        if settled is not None:
            return settled
        default_days, max_days = remember_days(vault)
        days = default_days if remember_for_days is None else remember_for_days
        if not 1 <= days <= max_days:
            raise InvalidInput(f"remember for 1 to {max_days} days, not {days}")
        manifest = decode_manifest(stored.manifest.encode())
        purpose = manifest_index(manifest)[stored.purpose_id].purpose
        resolution = resolve(stored.evaluation, answer, purpose)
        result = resolution.result
        if isinstance(result, Denied) and result.reason is DenialReason.BAD_ANSWER:
            raise InvalidInput(result.message)
        remember_manifest(conn, manifest, now=now, reads=vault.reads)
        # The context may have been removed while the prompt waited: then nothing is remembered (its
        # decisions are gone with it, and answering must not bring one back), the answer holds once.
        context = by_id(vault, stored.context_id)
        if context is None:
            context = by_id(vault, stored.context_id, removed=True)
            assert context is not None  # a removed context keeps its row
            remember = False
        else:
            remember = answer.remember
        store_decisions(
            conn,
            origin=manifest.origin,
            purpose_id=stored.purpose_id,
            decisions=(*resolution.decisions, *resolution.recipient_decisions),
            controller=controller_binding(manifest.controller),
            remember=remember,
            now=now,
            expires_at=now + days * DAY,
            prompt_id=prompt_id,
            context=context.id,
        )
        outcome: Decided
        if isinstance(result, Denied):
            outcome = NotShared(reason=result.reason, message=result.message)
        else:
            outcome = _issue(
                vault, manifest, stored.purpose_id, stored.nonce, result, now, new_id(), prompt_id, context
            )
        conn.execute(
            "UPDATE prompts SET state = 'decided', decided_at = ?, outcome = ? WHERE id = ?",
            (now, msgspec.json.encode(outcome).decode(), prompt_id),
        )
    return outcome


def decided_outcome(vault: Vault, prompt_id: str, *, now: int) -> Decided | None:
    """What a prompt came to, read without answering it: None while it still waits for the user.

    Raises InvalidInput for a prompt that is not (or no longer) in the vault."""
    row = vault.conn.execute(
        "SELECT state, expires_at, outcome FROM prompts WHERE id = ?", (prompt_id,)
    ).fetchone()
    if row is None:
        raise InvalidInput(f"no prompt {prompt_id!r}", "it may have been answered or cleaned up")
    return _settled(*row, now)


def _settled(state: str, expires_at: int, outcome: str | None, now: int) -> Decided | None:
    """What a prompt already came to: its first answer, else expiry; None while it waits for the user."""
    if state == "decided" and outcome is not None:
        return msgspec.json.decode(outcome, type=Decided)
    if state == "expired" or now >= expires_at:
        return _EXPIRED
    return None
