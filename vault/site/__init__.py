"""The site library: publish a manifest, hand out nonces, verify presentations, answer the vault.

The site developer's guide (vault/site/README.md) walks through all of it; `VaultEndpoints` serves it all
as one ASGI app.

Needs only cryptography, msgspec and rfc8785 (and redis, only for `RedisReplayStore`). In outline:

    site_key = SigningKey.from_seed(seed)      # generate_site_key() once; keep site_key.seed() secret
    manifest = build_manifest(origin="https://shop.example", controller=..., site_key=site_key,
                              revocation_endpoint="https://shop.example/vault/revoke", purposes=[...])
    manifest_json(manifest)                    # the bytes to serve at MANIFEST_PATH
    replay = InMemoryReplayStore()             # one process; many: RedisReplayStore(client, origin)

    nonce = make_nonce()                       # per page, kept in the server-side session
    try:
        seen = verify_presentation(token, manifest=manifest, nonce=nonce, now=int(time.time()),
                                   replay=replay)
    except PresentationInvalid as refused:
        ...                                    # refused.reason, e.g. "expired"; never holds the token
    acknowledge_presentation(site_key, seen, manifest=manifest, now=int(time.time()))

    for recipient, claims in recipient_claims(seen, manifest).items():
        ...                                    # only the third parties the user allowed, only their claims

and at the revocation endpoint: `verify_revocation(...)`; tell each of `recipients_to_tell(notice,
manifest)`; stop using (and, if asked, erase) what the notice withdraws; then `acknowledge_revocation(...)`
with each recipient's outcome.

At the access endpoint (`access_endpoint` in the manifest): `verify_access_request(...)`, then
`answer_access_request(site_key, request, manifest=..., now=..., held=[HeldRecord(...), ...])` with what
you keep under `request.subject`. To write to a user you know: `make_message(site_key, manifest=...,
subject=seen.subject, kind="proposal" | "change" | "deletion" | "breach", ...)`, handed to the page
(`personalVault.notify(token)`) or sent with an acknowledgement or a statement (`messages=[...]`).

Or let one ASGI app serve all of it, around the site's own app (or mounted in it): `VaultEndpoints`
answers the manifest, `GET /vault/nonce` (stateless nonces bound to the visitor's session: any number of
processes share them through the site key), `POST /vault/presentation`, the revocation endpoint and the
access endpoint, and calls the site back for what only it knows:

    app = VaultEndpoints(manifest=manifest, site_key=site_key, replay=replay,
                         on_presentation=keep,        # (seen, session) -> Accepted | dict | None
                         stored_subject=subject_of,   # jti -> the subject kept with it, or None
                         on_notice=withdraw,          # (notice) -> Withdrawn | None, after erasing
                         held=records_of,             # (request) -> [HeldRecord, ...] (access_endpoint)
                         app=site_app)

Two whole sites built on it, each in under 30 lines of their own code: vault/site/examples/asgi_site.py
(plain ASGI) and litestar_site.py (mounted beside a Litestar app's own routes).

What a verified presentation proves: that the visitor's own vault, with its user's consent, states these
claims to this site, for this purpose, now, and that each value has its claim's type (a boolean for
`age_over_18`, an upper-case ISO 3166-1 code for `location.country`: SPEC.md, "Claim value types"; a
value that does not is refused as `bad_claim_value`). It does not prove that anyone else checked them:
the vault states what its user keeps in it, so treat `age_over_18: true` as the user's own word, as you
would a box they tick, not as an age or identity verification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vault.protocol.errors import AccessRequestInvalid, NoticeInvalid, PresentationInvalid, Reason
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import ClaimRequest, Controller, Manifest, Purpose, ThirdParty, decode_manifest
from vault.site.access import HeldRecord, VerifiedAccessRequest, answer_access_request, verify_access_request
from vault.site.acknowledge import acknowledge_presentation
from vault.site.endpoints import NONCE_PATH, PRESENTATION_PATH, VaultEndpoints
from vault.site.endpoints_callbacks import Accepted, Withdrawn, held_record
from vault.site.manifest import MANIFEST_PATH, build_manifest, generate_site_key, make_nonce, manifest_json
from vault.site.message import make_message
from vault.site.nonces import NONCE_TTL, SessionNonces, nonce_key
from vault.site.replay import InMemoryReplayStore, ReplayStore, ReplayStoreError, ReplayStoreFull
from vault.site.revocation import (
    VerifiedNotice,
    acknowledge_revocation,
    recipients_to_tell,
    verify_revocation,
)
from vault.site.verify import VerifiedPresentation, recipient_claims, verify_presentation

if TYPE_CHECKING:
    from vault.site.redis_replay import RedisReplayStore

__all__ = [
    "MANIFEST_PATH",
    "NONCE_PATH",
    "NONCE_TTL",
    "PRESENTATION_PATH",
    "Accepted",
    "AccessRequestInvalid",
    "ClaimRequest",
    "Controller",
    "HeldRecord",
    "InMemoryReplayStore",
    "Manifest",
    "NoticeInvalid",
    "PresentationInvalid",
    "Purpose",
    "Reason",
    "RedisReplayStore",
    "ReplayStore",
    "ReplayStoreError",
    "ReplayStoreFull",
    "SessionNonces",
    "SigningKey",
    "ThirdParty",
    "VaultEndpoints",
    "VerifiedAccessRequest",
    "VerifiedNotice",
    "VerifiedPresentation",
    "Withdrawn",
    "acknowledge_presentation",
    "acknowledge_revocation",
    "answer_access_request",
    "build_manifest",
    "decode_manifest",
    "generate_site_key",
    "held_record",
    "make_message",
    "make_nonce",
    "manifest_json",
    "nonce_key",
    "recipient_claims",
    "recipients_to_tell",
    "verify_access_request",
    "verify_presentation",
    "verify_revocation",
]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `import vault.site` never needs the redis package.
    if name == "RedisReplayStore":
        from vault.site.redis_replay import RedisReplayStore

        return RedisReplayStore
    raise AttributeError(f"module 'vault.site' has no attribute {name!r}")
