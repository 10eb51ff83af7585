"""Prompts as the user sees them: who asks, for what, each claim with its exact value, each third party
with what it would receive. A prompt is stored in the vault (its request and the policy's evaluation),
so it can be shown, and answered, after a restart."""

import json
from typing import Any

import msgspec

from vault.consent.policy import ConsentRequired
from vault.errors import InvalidInput
from vault.protocol.manifest import Purpose, decode_manifest, manifest_index
from vault.store import Vault
from vault.store.migration_contexts import DEFAULT_CONTEXT


class QuestionView(msgspec.Struct, kw_only=True):
    claim: str
    value: Any
    required: bool
    why: str
    reveals: str
    sensitivity: str
    asked_because: str


class ThirdPartyView(msgspec.Struct, kw_only=True):
    """A third party of the purpose as the prompt shows it: who, where, what it would receive, and why.
    `asked`: the user decides about it now (optional ones start switched off); otherwise `allowed` is the
    remembered answer (None: it would receive none of the claims asked for)."""

    id: str
    name: str
    role: str
    country: str
    privacy_policy: str
    claims: list[str]
    required: bool
    why: str
    asked: bool
    asked_because: str | None
    allowed: bool | None


class PromptRef(msgspec.Struct, kw_only=True):
    """Which prompt waits for the user, without what it shows."""

    id: str


class ContextRef(msgspec.Struct, kw_only=True, frozen=True):
    """The context a prompt was made in, where its answers are remembered ("Context: Work")."""

    id: str
    name: str


class PromptView(PromptRef, kw_only=True):
    """Everything the consent prompt shows: who asks, for what, and each claim with its exact value."""

    state: str
    origin: str
    controller: dict[str, str]
    purpose: dict[str, str]
    retention: str
    third_parties: list[ThirdPartyView]
    # Set when remembered answers for this purpose were given while another controller ran the site.
    controller_changed_from: dict[str, str] | None = None
    questions: list[QuestionView]
    already_allowed: dict[str, Any]
    dropped: dict[str, str]
    created_at: int
    expires_at: int
    context: ContextRef | None = None  # always set by get_prompt; a default only for schema evolution


class StoredPrompt(msgspec.Struct, kw_only=True):
    manifest: str
    purpose_id: str
    nonce: str
    evaluation: ConsentRequired
    context: str | None = None  # the context it was asked in (contexts.id); None: stored before contexts

    @property
    def context_id(self) -> str:
        return DEFAULT_CONTEXT if self.context is None else self.context


def load_prompt(vault: Vault, prompt_id: str) -> tuple[str, int, int, StoredPrompt, str | None]:
    row = vault.conn.execute(
        "SELECT state, created_at, expires_at, request, outcome FROM prompts WHERE id = ?", (prompt_id,)
    ).fetchone()
    if row is None:
        raise InvalidInput(f"no prompt {prompt_id!r}", "it may have been answered or cleaned up")
    state, created_at, expires_at, request, outcome = row
    return state, created_at, expires_at, msgspec.json.decode(request, type=StoredPrompt), outcome


def get_prompt(vault: Vault, prompt_id: str, *, now: int) -> PromptView:
    state, created_at, expires_at, stored, _ = load_prompt(vault, prompt_id)
    if state == "pending" and now >= expires_at:
        state = "expired"
    manifest = decode_manifest(stored.manifest.encode())
    purpose = manifest_index(manifest)[stored.purpose_id].purpose
    evaluation = stored.evaluation
    named = vault.conn.execute("SELECT name FROM contexts WHERE id = ?", (stored.context_id,)).fetchone()
    return PromptView(
        id=prompt_id,
        state=state,
        origin=manifest.origin,
        controller={
            "name": manifest.controller.name,
            "contact": manifest.controller.contact,
            "privacy_policy": manifest.controller.privacy_policy,
        },
        purpose={
            "id": purpose.id,
            "title": purpose.title,
            "description": purpose.description,
            "benefit": purpose.benefit,
            "concept": purpose.concept,
        },
        retention=purpose.retention,
        third_parties=_third_party_views(purpose, evaluation),
        controller_changed_from=(
            None if evaluation.previous_controller is None else json.loads(evaluation.previous_controller)
        ),
        questions=[
            QuestionView(
                claim=q.claim,
                value=q.value,
                required=q.required,
                why=q.why,
                reveals=q.reveals,
                sensitivity=q.sensitivity,
                asked_because=q.asked_because,
            )
            for q in evaluation.questions
        ],
        already_allowed=dict(evaluation.already_allowed),
        dropped=dict(evaluation.dropped),
        created_at=created_at,
        expires_at=expires_at,
        context=ContextRef(id=stored.context_id, name=stored.context_id if named is None else named[0]),
    )


def _third_party_views(purpose: Purpose, evaluation: ConsentRequired) -> list[ThirdPartyView]:
    asked = {q.recipient: q for q in evaluation.recipient_questions}
    allowed, refused = set(evaluation.recipients_allowed), set(evaluation.recipients_refused)
    return [
        ThirdPartyView(
            id=party.id,
            name=party.name,
            role=party.role,
            country=party.country,
            privacy_policy=party.privacy_policy,
            claims=list(party.claims),
            required=party.required,
            why=party.why,
            asked=party.id in asked,
            asked_because=asked[party.id].asked_because if party.id in asked else None,
            allowed=True if party.id in allowed else False if party.id in refused else None,
        )
        for party in purpose.third_parties
    ]


def count_pending_prompts(vault: Vault, *, now: int) -> int:
    (count,) = vault.conn.execute(
        "SELECT count(*) FROM prompts WHERE state = 'pending' AND expires_at > ?", (now,)
    ).fetchone()
    return count


def pending_prompts(vault: Vault, *, now: int) -> list[PromptView]:
    rows = vault.conn.execute(
        "SELECT id FROM prompts WHERE state = 'pending' AND expires_at > ? ORDER BY created_at", (now,)
    ).fetchall()
    return [get_prompt(vault, prompt_id, now=now) for (prompt_id,) in rows]
