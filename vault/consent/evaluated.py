"""The policy's answer to a presentation request, and the context it was made in: what every request with
remembered consent asks again, computed once and kept in the daemon's read model while it cannot change.

A grant is made from the profile (its claims' values), the context that answers the site, that context's
remembered decisions and rules, the manifest and the day. Each of those lives in a table the read model
watches, so any write to them (by any code path, or another connection's commit) forgets the grant with
everything else the model holds. Time alone changes it at the first moment a remembered decision or the
context choice it rests on runs out: it is kept only until then. Only grants are kept; a refusal or a
question is worked out again each time (a prompt's bookkeeping is written anyway).
"""

import datetime as dt
from collections.abc import Hashable, Mapping
from typing import Any

import msgspec

from vault.claims.catalogue import derive_claims
from vault.consent.contexts import Context, active_context_until
from vault.consent.policy import Evaluation, Granted, evaluate
from vault.consent.records import load_rules, recipient_standing, standing_decisions
from vault.consent.sites import manifest_digest
from vault.protocol.manifest import Manifest, manifest_index
from vault.store import Vault
from vault.store.read_model import cached


class _Kept(msgspec.Struct, frozen=True):
    since: int
    until: float  # when time alone could change the answer (<= since: not kept)
    evaluation: Evaluation
    context: Context
    # A grant's claims, as JSON: each request decodes its own copy (values may be lists).
    claims: bytes = b""


def evaluated(
    vault: Vault,
    manifest: Manifest,
    audience: str,
    purpose_id: str,
    requested: list[str] | None,
    today: dt.date,
    now: int,
) -> tuple[Evaluation, Context]:
    """policy.evaluate's answer for this request and the context that made it. `audience` must be the
    manifest's origin (the caller checked)."""

    def load() -> _Kept:
        active, context_ends = active_context_until(vault, audience, now=now)
        context = active.context
        standing = standing_decisions(vault, audience, purpose_id, context.id)
        parties = recipient_standing(vault, audience, purpose_id, context.id)
        entry = manifest_index(manifest).get(purpose_id)
        names = [claim.name for claim in entry.purpose.claims] if entry is not None else []
        evaluation = evaluate(
            manifest,
            purpose_id,
            derive_claims(names, vault.attributes(), today),
            standing,
            load_rules(vault, context.id),
            now,
            requested,
            parties,
        )
        if not isinstance(evaluation, Granted):
            return _Kept(now, now, evaluation, context)
        # evaluate counts a decision as standing while now < its expires_at: the first of those ahead ends it.
        until = min([context_ends, *(d.expires_at for d in (*standing, *parties) if d.expires_at > now)])
        return _Kept(now, until, evaluation, context, msgspec.json.encode(evaluation.claims))

    key = _key(manifest, purpose_id, requested, today)
    kept = cached(vault.reads, key, load, lambda kept: kept.since <= now < kept.until)
    if not isinstance(kept.evaluation, Granted):
        return kept.evaluation, kept.context
    return _fresh(kept), kept.context


def kept_grant(
    snapshot: Mapping[Hashable, Any],
    manifest: Manifest,
    purpose_id: str,
    requested: list[str] | None,
    today: dt.date,
    now: int,
) -> tuple[Granted, Context] | None:
    """The grant evaluated() would answer from the read model's `snapshot` (ReadModel.snapshot), or None
    when the snapshot holds no grant for this request that still holds at `now`. Reads nothing else."""
    kept = snapshot.get(_key(manifest, purpose_id, requested, today))
    if not isinstance(kept, _Kept) or not isinstance(kept.evaluation, Granted):
        return None
    if not kept.since <= now < kept.until:
        return None
    return _fresh(kept), kept.context


def _key(manifest: Manifest, purpose_id: str, requested: list[str] | None, today: dt.date) -> Hashable:
    asked = None if requested is None else tuple(requested)
    return ("evaluated", manifest_digest(manifest), purpose_id, asked, today)


def _fresh(kept: _Kept) -> Granted:
    granted = kept.evaluation
    assert isinstance(granted, Granted)
    return Granted(msgspec.json.decode(kept.claims), dict(granted.dropped), recipients=granted.recipients)
