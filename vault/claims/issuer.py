"""From a profile to a signed presentation: derive the minimised claims, pick the site's pairwise key,
sign. Pure: the caller passes the profile, the seed, the clock and the token id."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vault.claims.attributes import CATALOGUE as ATTRIBUTES
from vault.claims.catalogue import CLAIMS, ClaimValue, derive_claims
from vault.errors import InvalidInput
from vault.protocol.keys import derive_pairwise_key
from vault.protocol.manifest import Manifest, manifest_index
from vault.protocol.presentation import DEFAULT_TTL, issue_presentation


class ClaimsUnavailable(InvalidInput):
    """The request cannot be met from this profile (unknown claim, or a required attribute is not set)."""


@dataclass(frozen=True)
class Issued:
    token: str
    jti: str
    claims: dict[str, ClaimValue]
    issued_at: int
    expires_at: int
    dropped: tuple[str, ...]  # optional claims left out because the profile lacks their attribute


def select_claims(
    manifest: Manifest,
    purpose_id: str,
    requested: Sequence[str] | None,
    attributes: dict[str, Any],
    today: dt.date,
) -> tuple[dict[str, ClaimValue], tuple[str, ...]]:
    """The claim values for a request, and the optional claims dropped. `requested=None` means every claim
    the purpose declares. Refuses, saying which and why, rather than sending less than is required."""
    entry = manifest_index(manifest).get(purpose_id)
    if entry is None:
        known = ", ".join(sorted(manifest_index(manifest)))
        raise ClaimsUnavailable(f"the manifest has no purpose {purpose_id!r}", f"its purposes: {known}")
    names = [claim.name for claim in entry.purpose.claims] if requested is None else list(requested)
    undeclared = [name for name in names if name not in entry.declared]
    if undeclared:
        raise ClaimsUnavailable(f"purpose {purpose_id!r} does not declare {', '.join(undeclared)}")
    derived = derive_claims(names, attributes, today)
    if derived.unknown:
        raise ClaimsUnavailable(
            f"the vault knows no claim {', '.join(derived.unknown)}", "see the claim catalogue"
        )
    missing_required = [name for name in derived.missing if name in entry.required]
    if missing_required:
        attributes_needed = sorted({CLAIMS[name].attribute for name in missing_required})
        raise ClaimsUnavailable(
            f"required claim {', '.join(missing_required)} needs {', '.join(attributes_needed)}, "
            "which your profile does not have",
            f"set it with: vault profile set {attributes_needed[0]} VALUE"
            + (
                f" ({ATTRIBUTES[attributes_needed[0]].type.example})"
                if attributes_needed[0] in ATTRIBUTES
                else ""
            ),
        )
    not_requested = [name for name in entry.required if name not in names]
    if not_requested:
        raise ClaimsUnavailable(f"purpose {purpose_id!r} requires {', '.join(sorted(not_requested))}")
    return derived.values, derived.missing


def issue_from_profile(
    *,
    attributes: dict[str, Any],
    master_seed: bytes,
    epoch: int,
    manifest: Manifest,
    purpose_id: str,
    audience: str,
    nonce: str,
    requested: Sequence[str] | None,
    now: int,
    jti: str,
    ttl: int = DEFAULT_TTL,
) -> Issued:
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    values, dropped = select_claims(manifest, purpose_id, requested, attributes, today)
    key = derive_pairwise_key(master_seed, manifest.origin, epoch)
    token = issue_presentation(key, manifest, purpose_id, audience, nonce, values, now, jti, ttl)
    return Issued(token, jti, values, now, now + ttl, dropped)
