"""The vault `vault conformance` plays: two fresh pairwise keys (the visitor, and another user), valid
claim values for one purpose, and tokens signed as a vault signs them or broken on purpose.

Broken tokens start from the valid payload and change one thing, so a site that skips the one check the
case is about accepts it, and a site that makes every check refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import msgspec

from vault.protocol.b64 import b64url_encode
from vault.protocol.claim_types import CLAIM_EXAMPLES
from vault.protocol.jwk import key_subject
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest, manifest_index
from vault.protocol.presentation import PRESENTATION_TYP, issue_presentation

Clock = Callable[[], int]
Rng = Callable[[int], bytes]
OTHER_ORIGIN = "https://another-site.example"


def purpose_problem(manifest: Manifest, purpose_id: str) -> str | None:
    """Why no vault can present this purpose (a required claim outside the vocabulary), or None."""
    entry = manifest_index(manifest).get(purpose_id)
    if entry is None:
        return f"the manifest has no purpose {purpose_id!r}"
    outside = sorted(name for name in entry.required if name not in CLAIM_EXAMPLES)
    if outside:
        names = ", ".join(outside)
        return f"purpose {purpose_id} requires {names}, outside the claim vocabulary: no vault can present it"
    return None


def default_purpose(manifest: Manifest) -> str:
    """The first purpose a vault can present (the first one, if none can)."""
    for purpose in manifest.purposes:
        if purpose_problem(manifest, purpose.id) is None:
            return purpose.id
    return manifest.purposes[0].id


class Player:
    """The visitor's vault at one site, for one purpose."""

    def __init__(self, manifest: Manifest, purpose_id: str, *, clock: Clock, rng: Rng) -> None:
        self.manifest, self.clock, self.rng = manifest, clock, rng
        self.entry = manifest_index(manifest)[purpose_id]
        self.purpose = self.entry.purpose
        self.key = SigningKey.from_seed(rng(32))
        self.other_key = SigningKey.from_seed(rng(32))
        self.subject = key_subject(self.key.public_jwk)
        # Every declared claim a vault can present, required and optional, with a valid value.
        self.claims = {
            c.name: CLAIM_EXAMPLES[c.name] for c in self.purpose.claims if c.name in CLAIM_EXAMPLES
        }
        # The user allows the third parties the purpose needs, and no optional one.
        self.recipients = tuple(party.id for party in self.purpose.third_parties if party.required)

    def jti(self) -> str:
        return b64url_encode(self.rng(16))

    def made_up_nonce(self) -> str:
        return b64url_encode(self.rng(32))

    def valid(self, nonce: str) -> str:
        return issue_presentation(
            self.key, self.manifest, self.purpose.id, self.manifest.origin, nonce, self.claims,
            now=self.clock(), jti=self.jti(), recipients=self.recipients,
        )  # fmt: skip

    def payload(self, nonce: str) -> dict[str, Any]:
        """A valid payload as plain JSON values, to change one thing of."""
        now = self.clock()
        return {
            "iss": self.subject,
            "sub": self.subject,
            "aud": self.manifest.origin,
            "nonce": nonce,
            "iat": now,
            "exp": now + 300,
            "jti": self.jti(),
            "purpose": {"id": self.purpose.id, "concept": self.purpose.concept},
            "retention": self.purpose.retention,
            "purpose_digest": self.entry.digest,
            "claims": dict(self.claims),
            "recipients": list(self.recipients),
        }

    def header(self, key: SigningKey | None = None, **changes: Any) -> dict[str, Any]:
        header = {"alg": "EdDSA", "typ": PRESENTATION_TYP, "jwk": dict((key or self.key).public_jwk)}
        header.update(changes)
        return {name: value for name, value in header.items() if value is not None}

    def signed(
        self, payload: dict[str, Any] | bytes, *, header: dict[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:  # fmt: skip
        """A compact JWS of exactly these header and payload bytes, signed with `key` (the visitor's)."""
        body = payload if isinstance(payload, bytes) else msgspec.json.encode(payload)
        head = msgspec.json.encode(header if header is not None else self.header())
        signing_input = b64url_encode(head) + "." + b64url_encode(body)
        signature = (key or self.key).sign(signing_input.encode("ascii"))
        return signing_input + "." + b64url_encode(signature)

    def hs256(self, payload: dict[str, Any]) -> str:
        """The key-confusion forgery: an HMAC keyed with the public key, which anyone has."""
        head = msgspec.json.encode(self.header(alg="HS256"))
        signing_input = b64url_encode(head) + "." + b64url_encode(msgspec.json.encode(payload))
        mac = hmac.new(self.key.public_bytes, signing_input.encode("ascii"), hashlib.sha256).digest()
        return signing_input + "." + b64url_encode(mac)

    def unsigned(self, payload: dict[str, Any]) -> str:
        head = msgspec.json.encode(self.header(alg="none"))
        return b64url_encode(head) + "." + b64url_encode(msgspec.json.encode(payload)) + "."
