"""The presentation vectors (vault/protocol/vectors/) whose rule is about the payload: the valid cases,
then one broken payload rule each (SPEC.md, "Verifying a presentation"). Each vector says what a site's
verifier must conclude, given the token, the site's manifest, the nonce it expects, the time, and replay
keys already recorded."""

from __future__ import annotations

import msgspec
import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import (
    ALL_CLAIMS,
    ATTACKER_KEY,
    MANIFEST,
    NOW,
    REQUIRED_CLAIMS,
    fixed,
    issued,
    replay_records,
    resigned,
    splice_json,
    vector,
    with_payload,
)
from vectors_recipients import recipient_vectors

from vault.protocol.jwk import key_subject
from vault.protocol.manifest import decode_manifest, encode_manifest
from vault.site.verify import DEFAULT_MAX_LIFETIME, DEFAULT_MAX_SKEW


def valid_vectors() -> list[dict]:
    escaped = {
        "age_over_18": True,
        "location.country": "NL",
        "interests": ['say "hi"', "back\\slash", "café"],
    }
    return [
        vector("valid_all_claims", "Every claim the purpose declares.", "valid", issued("all")),
        vector(
            "valid_required_only",
            "Optional claims may be left out.",
            "valid",
            issued("required", claims=REQUIRED_CLAIMS),
        ),
        vector(
            "valid_age_check",
            "The second purpose of the manifest.",
            "valid",
            issued("age", purpose="age-check", claims={"age_over_18": True}),
        ),
        vector(
            "valid_escaped_strings",
            "Claim strings with quotes, backslashes and non-ASCII text (JSON escapes in the payload).",
            "valid",
            issued("escaped", claims=escaped),
        ),
        vector(
            "valid_issued_at_skew_limit",
            "iat is max_skew seconds ahead of the verifier's clock: still accepted.",
            "valid",
            issued("skew", now=NOW + DEFAULT_MAX_SKEW),
        ),
        vector(
            "valid_last_second",
            "One second before exp + max_skew: still accepted.",
            "valid",
            issued("last"),
            now=NOW + 300 + DEFAULT_MAX_SKEW - 1,
        ),
        vector(
            "valid_longest_lifetime",
            "exp - iat equal to max_lifetime is allowed.",
            "valid",
            issued("longest", ttl=DEFAULT_MAX_LIFETIME),
        ),
    ]


def payload_vectors(base: str) -> list[dict]:
    other_subject = key_subject(ATTACKER_KEY.public_jwk)
    changed = MANIFEST.purposes[0]
    changed = msgspec.structs.replace(changed, description=changed.description + " Also by e-mail.")
    edited = msgspec.structs.replace(MANIFEST, purposes=(changed, *MANIFEST.purposes[1:]))
    edited = decode_manifest(encode_manifest(edited))
    replayed = issued("replayed")
    seen = replay_records(replayed)
    return [
        vector(
            "duplicate_payload_key",
            "aud appears twice (first another site, then this one).",
            "malformed",
            splice_json(base, 1, b'"aud":', b'"aud":"https://evil.example","aud":'),
        ),
        vector(
            "duplicate_claim_escaped",
            "A claim name repeated, once spelled with a JSON escape (\\u005f for '_').",
            "malformed",
            splice_json(base, 1, b'"age_over_18":true', b'"age_over_18":true,"age\\u005fover_18":false'),
        ),
        vector(
            "unknown_payload_field",
            "A payload member this protocol does not define.",
            "malformed",
            with_payload(base, role="admin"),
        ),
        vector("missing_payload_field", "No nonce member.", "malformed", with_payload(base, nonce=...)),
        vector(
            "jti_not_base64url",
            "The jti has characters outside the base64url alphabet.",
            "malformed",
            with_payload(base, jti="not a base64url jti!"),
        ),
        vector(
            "payload_not_json",
            "The signed payload is not JSON.",
            "malformed",
            resigned(base, payload=b"not json"),
        ),
        vector(
            "payload_json_array",
            "The signed payload is a JSON array.",
            "malformed",
            resigned(base, payload=b"[]"),
        ),
        vector(
            "claim_value_object",
            "A claim value that is an object (only booleans, numbers, strings and string lists are allowed).",
            "malformed",
            with_payload(base, claims={**ALL_CLAIMS, "interests": {"a": 1}}),
        ),
        vector(
            "claim_integer_too_large",
            "An integer beyond 2**53 - 1, which JavaScript verifiers cannot represent exactly.",
            "malformed",
            with_payload(base, claims={**ALL_CLAIMS, "sizes.shoe": 2**60}),
        ),
        vector("iss_not_sub", "iss and sub differ.", "wrong_issuer", with_payload(base, iss=other_subject)),
        vector(
            "wrong_audience",
            "Issued for another site.",
            "wrong_audience",
            with_payload(base, aud="https://evil.example"),
        ),
        vector(
            "audience_trailing_slash",
            "aud is the origin with a trailing slash: origins are compared exactly.",
            "wrong_audience",
            with_payload(base, aud="https://shop.example/"),
        ),
        vector(
            "not_yet_valid",
            "iat is one second beyond the allowed skew in the future.",
            "not_yet_valid",
            issued("future", now=NOW + DEFAULT_MAX_SKEW + 1),
        ),
        vector(
            "expired",
            "The verifier's clock is exactly exp + max_skew.",
            "expired",
            issued("expired"),
            now=NOW + 300 + DEFAULT_MAX_SKEW,
        ),
        vector(
            "lifetime_too_long",
            "exp - iat is one second more than max_lifetime.",
            "bad_lifetime",
            with_payload(base, exp=NOW + DEFAULT_MAX_LIFETIME + 1),
        ),
        vector("exp_before_iat", "exp is before iat.", "bad_lifetime", with_payload(base, exp=NOW - 1)),
        vector(
            "wrong_nonce",
            "The nonce is not the one this page was given.",
            "wrong_nonce",
            base,
            nonce=fixed("other nonce"),
        ),
        vector(
            "unknown_purpose",
            "A purpose the site's manifest does not declare.",
            "unknown_purpose",
            with_payload(base, purpose={"id": "marketing", "concept": "dpv:Marketing"}),
        ),
        vector(
            "purpose_digest_mismatch",
            "The site edited the purpose's description after the user consented: the token's digest is of "
            "the old entry.",
            "purpose_digest_mismatch",
            base,
            manifest=edited,
        ),
        vector(
            "purpose_concept_mismatch",
            "The digest matches but the DPV concept in the token is not the manifest's.",
            "purpose_mismatch",
            with_payload(base, purpose={"id": "recommendations", "concept": "dpv:Marketing"}),
        ),
        vector(
            "retention_mismatch",
            "The digest matches but the retention in the token is not the manifest's.",
            "purpose_mismatch",
            with_payload(base, retention="P1Y"),
        ),
        vector(
            "undeclared_claim",
            "The age-check purpose does not declare location.country.",
            "undeclared_claim",
            with_payload(
                issued("undeclared", purpose="age-check", claims={"age_over_18": True}),
                claims={"age_over_18": True, "location.country": "NL"},
            ),
        ),
        vector(
            "missing_required_claim",
            "location.country is required by the purpose.",
            "missing_claim",
            with_payload(base, claims={"age_over_18": True}),
        ),
        vector(
            "replayed", "The replay store already holds this token's key.", "replayed", replayed, seen=seen
        ),
    ]


def presentation_vectors(base: str) -> list[dict]:
    return [*valid_vectors(), *payload_vectors(base), *recipient_vectors(base)]
