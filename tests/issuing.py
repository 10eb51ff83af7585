"""Signing claims derived from a profile, with no consent step: the signing path on its own, for tests,
benchmarks (scripts/bench_ledger.py) and fixtures. Test support, not part of the installed package: the
only way a token leaves a vault in use is the consent flow (vault.consent.service), which decides first
and records what it signs."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from vault.claims.catalogue import derive_claims
from vault.claims.issuer import Issued
from vault.protocol.jwk import key_subject
from vault.protocol.keys import derive_pairwise_key
from vault.protocol.manifest import Manifest, manifest_index
from vault.protocol.presentation import DEFAULT_TTL, issue_presentation


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
    recipients: Sequence[str] | None = None,
) -> Issued:
    """Signs what the profile yields for `requested` (default: every claim the purpose declares), for
    `recipients` (default: the purpose's required third parties that receive any of those claims).

    Raises IssueError (from the protocol) when that is not a valid presentation, e.g. `missing_claim`
    when the profile lacks what a required claim needs.
    """
    entry = manifest_index(manifest).get(purpose_id)
    if requested is None:
        requested = [claim.name for claim in entry.purpose.claims] if entry is not None else []
    derived = derive_claims(requested, attributes, dt.datetime.fromtimestamp(now, dt.UTC).date())
    key = derive_pairwise_key(master_seed, manifest.origin, epoch)
    if recipients is None:
        recipients = (
            [r for r in entry.required_recipients if entry.recipients[r] & derived.values.keys()]
            if entry is not None
            else []
        )
    token = issue_presentation(
        key,
        manifest,
        purpose_id,
        audience,
        nonce,
        derived.values,
        now,
        jti,
        ttl,
        recipients=tuple(recipients),
    )
    dropped = (*derived.unknown, *derived.missing)
    return Issued(token, jti, derived.values, now, now + ttl, dropped, key_subject(key.public_jwk))
