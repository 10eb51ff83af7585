"""Sites built on `vault.site.VaultEndpoints`, each right but for one flaw, for `vault conformance` to catch.

`create_site()` is a uvicorn factory configured by the environment: CONFORMANCE_SITE_ORIGIN (the origin
it is reached at) and CONFORMANCE_SITE_FLAW, one of FLAWS:

- `none`: a correct site (the control: every case passes);
- `no_replay_store`: a replay store that remembers nothing, so tokens, nonces and requests repeat;
- `no_nonce_check`: takes whatever nonce a presentation carries, any number of times;
- `audience_unchecked`: verifies presentations against whatever origin they name;
- `wrong_ack_key`: publishes one site key and signs with another;
- `crash_on_garbage`: reads request bodies with json.loads itself, so a body that is not JSON is a 500;
- `manifest_other_origin`: serves a manifest made for another origin;
- `subject_unchecked`: tells the notice verifier it knows no presentation, so anyone may withdraw any.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from typing import Any

import msgspec

import vault.site.endpoints as endpoints
from tests import example
from vault.protocol.manifest import retention_seconds
from vault.site import (
    Controller,
    HeldRecord,
    InMemoryReplayStore,
    SigningKey,
    VaultEndpoints,
    Withdrawn,
    build_manifest,
    manifest_json,
    recipients_to_tell,
)
from vault.site.nonces import CheckedNonce, SessionNonces

FLAWS = (
    "none",
    "no_replay_store",
    "no_nonce_check",
    "audience_unchecked",
    "wrong_ack_key",
    "crash_on_garbage",
    "manifest_other_origin",
    "subject_unchecked",
)
SITE_KEY = SigningKey.from_seed(hashlib.sha256(b"vault conformance test site").digest())
OTHER_KEY = SigningKey.from_seed(hashlib.sha256(b"vault conformance test site, another key").digest())


def site_manifest(origin: str, key: SigningKey = SITE_KEY) -> Any:
    return build_manifest(
        origin=origin,
        controller=Controller(
            name="Flawed Shoes", contact="privacy@flawed.example", privacy_policy=origin + "/p"
        ),
        site_key=key,
        revocation_endpoint=origin + "/vault/revocation",
        access_endpoint=origin + "/vault/access",
        purposes=[example.RECOMMENDATIONS, example.AGE_CHECK],
    )


class RemembersNothing:
    def remember(self, key: str, expires_at: int, now: int) -> bool:
        return True


class AnyNonce(SessionNonces):
    def check(self, nonce: object, session: str | None, *, now: int) -> CheckedNonce | None:
        # Any string will do, and each use looks new to the replay store.
        return CheckedNonce(str(nonce), now, secrets.token_urlsafe(16))


def _verify_for_any_audience(header: Any, payload: Any, *, manifest: Any, **options: Any) -> Any:
    # The token was opened (its signature checked) already: only the audience check is skipped.
    manifest = msgspec.structs.replace(manifest, origin=str(payload.aud))
    return _real_verify(header, payload, manifest=manifest, **options)


_real_verify = endpoints.verify_opened_presentation


def create_site() -> Any:
    origin = os.environ["CONFORMANCE_SITE_ORIGIN"]
    flaw = os.environ.get("CONFORMANCE_SITE_FLAW", "none")
    if flaw not in FLAWS:
        raise ValueError(f"unknown flaw {flaw}")
    manifest = site_manifest(origin)
    signing_key = OTHER_KEY if flaw == "wrong_ack_key" else SITE_KEY
    held: dict[str, HeldRecord] = {}
    subjects: dict[str, str] = {}

    def on_presentation(seen: Any, session: str) -> dict[str, Any]:
        keep_until = seen.issued_at + retention_seconds(seen.retention)
        held[seen.jti] = HeldRecord(
            presentation=seen.jti, purpose=seen.purpose, claims=seen.claims, received_at=int(time.time()),
            keep_until=keep_until, recipients=seen.recipients,
        )  # fmt: skip
        subjects[seen.jti] = seen.subject
        return {"shown": sorted(seen.claims)}

    def on_notice(notice: Any) -> Withdrawn:
        if notice.site:
            for jti in notice.presentations:
                held.pop(jti, None)
        now = int(time.time())
        return Withdrawn(
            erased=notice.site,
            recipients={p.id: ("erased", now) for p in recipients_to_tell(notice, manifest)},
        )

    def held_for(request: Any) -> list[HeldRecord]:
        return [record for jti, record in held.items() if subjects.get(jti) == request.subject]

    site = VaultEndpoints(
        manifest=site_manifest(origin, signing_key), site_key=signing_key,
        replay=RemembersNothing() if flaw == "no_replay_store" else InMemoryReplayStore(),
        on_presentation=on_presentation, on_notice=on_notice,
        stored_subject=(lambda jti: None) if flaw == "subject_unchecked" else subjects.get, held=held_for,
    )  # fmt: skip
    if flaw == "no_nonce_check":
        site.nonces = AnyNonce(b"\0" * 32)
    if flaw == "audience_unchecked":
        # This process is the flawed site alone.
        endpoints.verify_opened_presentation = _verify_for_any_audience
    served = manifest_json(
        site_manifest("https://another-site.example") if flaw == "manifest_other_origin" else manifest
    )
    return _serving_manifest(served, _crashing_on_garbage(site) if flaw == "crash_on_garbage" else site)


def _serving_manifest(manifest_bytes: bytes, app: Any) -> Any:
    """`app`, with the manifest it publishes replaced by `manifest_bytes` (for the flaws in its keys)."""

    async def serve(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/.well-known/vault-manifest.json":
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": manifest_bytes})
            return
        await app(scope, receive, send)

    return serve


def _crashing_on_garbage(app: Any) -> Any:
    async def serve(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        json.loads(body)  # the flaw: a body that is not JSON raises, and the server answers 500

        async def replayed() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replayed, send)

    return serve
