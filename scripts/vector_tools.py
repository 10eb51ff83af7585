"""What the vector generators share: the example shop's keys and manifest, a fixed clock, and ways to
issue a token and then break exactly one thing about it (re-signing it afterwards where the broken rule
is not about the signature)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)

from tests import example
from vault.protocol.acknowledgement import ACK_TYP, REVOCATION_ACK_TYP
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.jwk import key_subject
from vault.protocol.jws import key_id, sign_raw
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest, encode_manifest, manifest_index
from vault.protocol.presentation import issue_presentation
from vault.site.verify import DEFAULT_MAX_LIFETIME, DEFAULT_MAX_SKEW, replay_key

NOW = example.NOW
VAULT_KEY = example.pairwise_key()
ATTACKER_KEY = SigningKey.from_seed(hashlib.sha256(b"vault example attacker key").digest())
MANIFEST = example.manifest()
ALL_CLAIMS = {
    "age_over_18": True,
    "location.country": "NL",
    "sizes.shoe": 42,
    "interests": ["running", "hiking"],
}
REQUIRED_CLAIMS = {"age_over_18": True, "location.country": "NL"}


def required_recipients(manifest: Manifest, purpose: str, claims: dict) -> tuple[str, ...]:
    """The third parties a presentation of `claims` must list: the required ones receiving any of them."""
    entry = manifest_index(manifest).get(purpose)
    if entry is None:
        return ()
    return tuple(sorted(r for r in entry.required_recipients if entry.recipients[r] & claims.keys()))


def fixed(label: str, size: int = 16) -> str:
    """A reproducible base64url value standing in for random bytes."""
    return b64url_encode(hashlib.sha256(label.encode()).digest()[:size])


NONCE = fixed("nonce")


def jsonb(value: Any) -> bytes:
    return msgspec.json.encode(value)


def segments(token: str) -> list[str]:
    return token.split(".")


def issued(
    name: str,
    *,
    purpose: str = "recommendations",
    claims: dict | None = None,
    manifest: Manifest = MANIFEST,
    recipients: tuple[str, ...] | None = None,
    **kwargs: Any,
) -> str:
    """A presentation by the example vault; `recipients` defaults to the required third parties only."""
    claims = ALL_CLAIMS if claims is None else claims
    return issue_presentation(
        VAULT_KEY,
        manifest,
        purpose,
        example.ORIGIN,
        kwargs.pop("nonce", NONCE),
        claims,
        kwargs.pop("now", NOW),
        fixed("jti " + name),
        recipients=required_recipients(manifest, purpose, claims) if recipients is None else recipients,
        **kwargs,
    )


def replay_records(token: str) -> list[dict]:
    """What a site's replay store holds once it has accepted `token` (the `seen` input of a vector)."""
    payload = payload_of(token)
    key = replay_key(payload["sub"], payload["jti"])
    return [{"key": key, "expires_at": payload["exp"] + DEFAULT_MAX_SKEW}]


def header_of(token: str) -> dict:
    return json.loads(b64url_decode(segments(token)[0]))


def payload_of(token: str) -> dict:
    return json.loads(b64url_decode(segments(token)[1]))


def resigned(token: str, key: SigningKey = VAULT_KEY, *, header: Any = None, payload: Any = None) -> str:
    """`token` with its header and/or payload replaced (dicts are encoded compactly) and signed anew."""
    header = header_of(token) if header is None else header
    payload = payload_of(token) if payload is None else payload
    return sign_raw(
        key,
        header if isinstance(header, bytes) else jsonb(header),
        payload if isinstance(payload, bytes) else jsonb(payload),
    )


def with_payload(token: str, **changes: Any) -> str:
    """Re-signed by the vault's key with payload members changed (a value of ... removes the member)."""
    payload = payload_of(token)
    for name, value in changes.items():
        if value is ...:
            del payload[name]
        else:
            payload[name] = value
    return resigned(token, payload=payload)


def with_header(token: str, key: SigningKey = VAULT_KEY, **changes: Any) -> str:
    header = header_of(token)
    for name, value in changes.items():
        if value is ...:
            del header[name]
        else:
            header[name] = value
    return resigned(token, key, header=header)


def splice_json(token: str, segment: int, old: bytes, new: bytes, key: SigningKey = VAULT_KEY) -> str:
    """Edit the JSON text of one segment (for what a dict cannot express, such as repeated keys)."""
    parts = [b64url_decode(part) for part in segments(token)[:2]]
    if old not in parts[segment]:
        raise AssertionError(f"{old!r} not in segment {segment}")
    parts[segment] = parts[segment].replace(old, new, 1)
    return sign_raw(key, parts[0], parts[1])


def vector(name: str, comment: str, expect: str, token: str, **inputs: Any) -> dict:
    manifest: Manifest = inputs.pop("manifest", MANIFEST)
    case = {
        "name": name,
        "comment": comment,
        "expect": expect,
        "inputs": {
            "token": token,
            "manifest": json.loads(encode_manifest(manifest)),
            "audience": manifest.origin,
            "nonce": inputs.pop("nonce", NONCE),
            "now": inputs.pop("now", NOW),
            "max_skew": DEFAULT_MAX_SKEW,
            "max_lifetime": DEFAULT_MAX_LIFETIME,
            "seen": inputs.pop("seen", []),
        },
    }
    if expect == "valid":
        payload = payload_of(token)
        case["subject"] = payload["sub"]
        case["claims"] = payload["claims"]
        case["recipients"] = payload["recipients"]
    if inputs:
        raise TypeError(f"unknown inputs {sorted(inputs)}")
    return case


# The messages other than the presentation -----------------------------------------------------------------

SITE_KEY = example.site_key()
SITE_JWK = SITE_KEY.public_jwk
VAULT_SUBJECT = key_subject(VAULT_KEY.public_jwk)
ATTACKER_SUBJECT = key_subject(ATTACKER_KEY.public_jwk)
ACK_HEADER = {"alg": "EdDSA", "typ": ACK_TYP, "kid": key_id(SITE_KEY.verifying_key)}
REVOCATION_ACK_HEADER = {"alg": "EdDSA", "typ": REVOCATION_ACK_TYP, "kid": ACK_HEADER["kid"]}
HUGE = "x" * 9000  # pushes a token past 8192 characters


def case(name: str, comment: str, expect: str, inputs: dict, output: dict | None) -> dict:
    """A vector of one of those messages: a valid case says what the verifier returns (`output`)."""
    built: dict[str, Any] = {"name": name, "comment": comment, "expect": expect, "inputs": inputs}
    if expect == "valid":
        if output is None:
            raise AssertionError(f"{name}: a valid case says what the verifier returns")
        built.update(output)
    return built


def site_signed(header: dict, payload: dict | bytes, key: Any = SITE_KEY) -> str:
    return sign_raw(key, jsonb(header), payload if isinstance(payload, bytes) else jsonb(payload))


def changed(payload: dict, **changes: Any) -> dict:
    changed = dict(payload)
    for name, value in changes.items():
        if value is ...:
            del changed[name]
        else:
            changed[name] = value
    return changed
