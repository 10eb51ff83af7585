"""Vectors of the access request (SPEC.md, "Access request"), for a site's verifier: one file per case in
vault/protocol/vectors_access_request/."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import (
    ACK_HEADER,
    ATTACKER_KEY,
    ATTACKER_SUBJECT,
    HUGE,
    MANIFEST,
    NOW,
    VAULT_KEY,
    case,
    fixed,
    header_of,
    issued,
    jsonb,
    payload_of,
    resigned,
    splice_json,
    with_header,
    with_payload,
)
from vectors_notice import notice_token

from tests import example
from vault.protocol.access import (
    ACCESS_STATEMENT_TYP,
    MAX_REQUEST_LIFETIME,
    sign_access_request,
)
from vault.protocol.b64 import b64url_encode
from vault.protocol.jwk import jwk_thumbprint
from vault.protocol.manifest import decode_manifest, encode_manifest
from vault.site.verify import DEFAULT_MAX_SKEW

ACCESS_MANIFEST = decode_manifest(
    msgspec.json.encode(
        msgspec.structs.replace(MANIFEST, access_endpoint=example.ORIGIN + "/.well-known/vault-access")
    )
)
REQUEST_JTI = fixed("jti access request")
STATEMENT_HEADER = {"alg": "EdDSA", "typ": ACCESS_STATEMENT_TYP, "kid": ACK_HEADER["kid"]}


def request_token(**changes: Any) -> str:
    arguments: dict[str, Any] = {"origin": example.ORIGIN, "now": NOW, "jti": REQUEST_JTI}
    arguments.update(changes)
    return sign_access_request(VAULT_KEY, **arguments)


def replay_record(token: str) -> dict:
    """What the site's replay store holds once it has answered `token`."""
    payload = payload_of(token)
    thumbprint = payload["sub"].rsplit(":", 1)[1]
    return {"key": f"access.{thumbprint}.{payload['jti']}", "expires_at": payload["exp"] + DEFAULT_MAX_SKEW}


def request_vector(
    name: str, comment: str, expect: str, token: str, *, now: int = NOW, seen: list | None = None
) -> dict:
    inputs = {
        "token": token,
        "manifest": json.loads(encode_manifest(ACCESS_MANIFEST)),
        "audience": ACCESS_MANIFEST.origin,
        "now": now,
        "max_skew": DEFAULT_MAX_SKEW,
        "seen": seen or [],
    }
    output = None
    if expect == "valid":
        payload = payload_of(token)
        output = {
            "subject": payload["sub"],
            "jti": payload["jti"],
            "purposes": payload["purposes"],
            "issued_at": payload["iat"],
        }
    return case(name, comment, expect, inputs, output)


def access_request_vectors() -> list[dict]:
    base = request_token()
    head, body, signature = base.split(".")
    public = header_of(base)["jwk"]
    attacker_header = dict(header_of(base), jwk=ATTACKER_KEY.public_jwk)
    ttl = payload_of(base)["exp"] - NOW
    other = request_token(jti=fixed("jti access request other"))
    return [
        request_vector("valid", "Asks what the site holds about every purpose.", "valid", base),
        request_vector(
            "valid_some_purposes",
            "Asks about the recommendations purpose only.",
            "valid",
            request_token(purposes=["recommendations"]),
        ),
        request_vector(
            "valid_issued_at_skew_limit",
            "iat is max_skew seconds ahead of the site's clock.",
            "valid",
            base,
            now=NOW - DEFAULT_MAX_SKEW,
        ),
        request_vector(
            "valid_last_second", "One second before exp + max_skew.", "valid", base, now=NOW + ttl + 59
        ),
        request_vector(
            "valid_longest_lifetime",
            "exp - iat is exactly 600 seconds.",
            "valid",
            request_token(ttl=MAX_REQUEST_LIFETIME),
        ),
        request_vector(
            "valid_other_request_seen",
            "The site answered another request of the same user before: a new jti is a new request.",
            "valid",
            base,
            seen=[replay_record(other)],
        ),
        request_vector(
            "too_large", "Longer than 8192 characters.", "too_large", with_payload(base, jti=HUGE)
        ),
        request_vector(
            "alg_none",
            "alg none with an empty signature.",
            "unsupported_alg",
            b64url_encode(jsonb(dict(header_of(base), alg="none"))) + f".{body}.",
        ),
        request_vector(
            "wrong_typ_notice",
            "A revocation notice (same key, same audience) sent as an access request.",
            "wrong_typ",
            notice_token(),
        ),
        request_vector(
            "wrong_typ_presentation", "A presentation sent as an access request.", "wrong_typ", issued("asks")
        ),
        request_vector(
            "unknown_crit", "crit names an extension.", "unsupported_crit", with_header(base, crit=["x"])
        ),
        request_vector(
            "kid_instead_of_jwk",
            "An access request must embed its key.",
            "malformed",
            with_header(base, jwk=..., kid=jwk_thumbprint(public)),
        ),
        request_vector(
            "jwk_wrong_curve",
            "The embedded JWK is an X25519 key.",
            "bad_key",
            with_header(base, jwk=dict(public, crv="X25519")),
        ),
        request_vector(
            "tampered_payload",
            "The purposes changed after signing.",
            "bad_signature",
            f"{head}.{request_token(purposes=['age-check']).split('.')[1]}.{signature}",
        ),
        request_vector(
            "swapped_jwk_not_resigned",
            "Another key put in the header; the signature is the original one.",
            "bad_signature",
            f"{b64url_encode(jsonb(attacker_header))}.{body}.{signature}",
        ),
        request_vector(
            "unknown_member",
            "A payload member the protocol does not define.",
            "malformed",
            with_payload(base, x=1),
        ),
        request_vector(
            "missing_member", "No purposes member.", "malformed", with_payload(base, purposes=...)
        ),
        request_vector(
            "purposes_null",
            "purposes is null (it is required).",
            "malformed",
            with_payload(base, purposes=None),
        ),
        request_vector(
            "purposes_repeated",
            "The same purpose asked about twice.",
            "malformed",
            with_payload(base, purposes=["recommendations", "recommendations"]),
        ),
        request_vector(
            "purposes_bad_id",
            "A purpose id that is not spelled like one.",
            "malformed",
            with_payload(base, purposes=["Recommendations"]),
        ),
        request_vector("bad_jti", "A jti of 8 characters.", "malformed", with_payload(base, jti="abcdefgh")),
        request_vector(
            "jti_trailing_line_break",
            "The jti followed by a line break (a pattern's $ may match before one).",
            "malformed",
            with_payload(base, jti=REQUEST_JTI + "\n"),
        ),
        request_vector(
            "purposes_trailing_line_break",
            "A purpose id followed by a line break.",
            "malformed",
            with_payload(base, purposes=["recommendations\n"]),
        ),
        request_vector(
            "duplicate_member",
            "aud twice, first another site.",
            "malformed",
            splice_json(base, 1, b'"aud":', b'"aud":"https://evil.example","aud":'),
        ),
        request_vector(
            "swapped_jwk_old_sub",
            "Re-signed by another key, keeping the victim's iss and sub: asks about someone else.",
            "wrong_issuer",
            resigned(base, ATTACKER_KEY, header=attacker_header),
        ),
        request_vector(
            "iss_not_sub", "iss and sub differ.", "wrong_issuer", with_payload(base, iss=ATTACKER_SUBJECT)
        ),
        request_vector(
            "wrong_audience",
            "Sent to another site.",
            "wrong_audience",
            with_payload(base, aud="https://evil.example"),
        ),
        request_vector(
            "not_yet_valid",
            "iat is one second beyond the allowed skew in the future.",
            "not_yet_valid",
            base,
            now=NOW - DEFAULT_MAX_SKEW - 1,
        ),
        request_vector(
            "exp_equals_iat", "exp is not after iat.", "bad_lifetime", with_payload(base, exp=NOW)
        ),
        request_vector(
            "lifetime_too_long",
            "exp - iat is 601 seconds.",
            "bad_lifetime",
            with_payload(base, exp=NOW + MAX_REQUEST_LIFETIME + 1),
        ),
        request_vector(
            "expired", "The site's clock is exactly exp + max_skew.", "expired", base, now=NOW + ttl + 60
        ),
        request_vector(
            "replayed",
            "The site answered this very request before (its answer may carry values).",
            "replayed",
            base,
            seen=[replay_record(base)],
        ),
    ]
