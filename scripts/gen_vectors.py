#!/usr/bin/env python3
"""Write the test vectors (vault/protocol/vectors*/) and the example manifest.

Deterministic: fixed seeds, a fixed clock and Ed25519's deterministic signatures, so running it twice
writes identical files (tests/protocol/test_vectors.py checks the committed files are what it writes).

    scripts/gen_vectors.py [--out DIR]     (default: vault/protocol)

Each vector says what a site's verifier must conclude, given the token, the site's manifest, the nonce
it expects, the time, and replay keys already recorded. Invalid vectors are built so that exactly one
rule is broken: everything else (including the signature, where the rule is not about the signature)
is as a valid token would have it, so a verifier that passes them does so for the stated reason.

The other messages' vectors and the pairwise key derivation's known answers go to folders beside
`vectors/` (scripts/vectors_messages.py).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

import msgspec
import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import (
    ALL_CLAIMS,
    ATTACKER_KEY,
    MANIFEST,
    NOW,
    REQUIRED_CLAIMS,
    VAULT_KEY,
    fixed,
    header_of,
    issued,
    jsonb,
    replay_records,
    resigned,
    segments,
    splice_json,
    vector,
    with_header,
    with_payload,
)
from vectors_claim_values import claim_value_vectors
from vectors_messages import MESSAGE_VECTORS

from tests import example
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.jwk import key_subject
from vault.protocol.manifest import decode_manifest, encode_manifest
from vault.protocol.presentation import PRESENTATION_TYP
from vault.site.verify import DEFAULT_MAX_LIFETIME, DEFAULT_MAX_SKEW

ROOT = Path(__file__).resolve().parent.parent


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


def encoding_vectors(base: str) -> list[dict]:
    head, body, signature = segments(base)
    last = signature[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    noncanonical = signature[:-1] + alphabet[alphabet.index(last) | 1]
    # Three '?' in a row: one lands where base64 gives '_' (63), which the standard alphabet spells '/'.
    standard = issued("standard", claims={**REQUIRED_CLAIMS, "interests": ["???"]})
    std_head, std_body, _ = segments(standard)
    std_body = std_body.replace("-", "+").replace("_", "/")
    std_input = f"{std_head}.{std_body}"
    standard_token = f"{std_input}.{b64url_encode(VAULT_KEY.sign(std_input.encode()))}"
    huge = with_payload(base, claims={**ALL_CLAIMS, "interests": ["x" * 120] * 64})
    return [
        vector("too_large", "Longer than 8192 characters: refused before any decoding.", "too_large", huge),
        vector("extra_segment", "Four segments.", "malformed", base + ".AAAA"),
        vector("two_segments", "No signature segment.", "malformed", f"{head}.{body}"),
        vector(
            "padding_in_base64url", "The signature segment ends with '==' padding.", "malformed", base + "=="
        ),
        vector(
            "noncanonical_base64url",
            "The last character of the signature has a non-zero unused bit: decodes to the same bytes "
            "in lenient decoders, so it would be a second spelling of one token.",
            "malformed",
            f"{head}.{body}.{noncanonical}",
        ),
        vector(
            "standard_base64_alphabet",
            "The payload segment uses '+' and '/' (signed as written).",
            "malformed",
            standard_token,
        ),
        vector(
            "whitespace_in_token",
            "A line break inside the payload segment.",
            "malformed",
            f"{head}.{body[:40]}\n{body[40:]}.{signature}",
        ),
        vector("not_ascii", "A non-ASCII character in the header segment.", "malformed", "é" + base),
        vector("empty_token", "The empty string.", "malformed", ""),
    ]


def header_vectors(base: str) -> list[dict]:
    public = header_of(base)["jwk"]
    hs256_header = jsonb({"alg": "HS256", "typ": PRESENTATION_TYP, "jwk": public})
    hs256_input = f"{b64url_encode(hs256_header)}.{segments(base)[1]}"
    hs256_mac = hmac.new(public["x"].encode(), hs256_input.encode(), hashlib.sha256).digest()
    x25519 = dict(public, crv="X25519")
    return [
        vector(
            "alg_none",
            "alg none with an empty signature.",
            "unsupported_alg",
            f"{b64url_encode(jsonb({'alg': 'none', 'typ': PRESENTATION_TYP}))}.{segments(base)[1]}.",
        ),
        vector(
            "alg_hs256_public_key_as_secret",
            "HS256, keyed with the public key from the header: a verifier that lets the token pick the "
            "algorithm would accept it.",
            "unsupported_alg",
            f"{hs256_input}.{b64url_encode(hs256_mac)}",
        ),
        vector(
            "alg_ed25519_fully_specified",
            "alg Ed25519 (a newer name for the same algorithm): only EdDSA is accepted.",
            "unsupported_alg",
            with_header(base, alg="Ed25519"),
        ),
        vector(
            "wrong_typ",
            "typ JWT instead of vault-presentation+jwt.",
            "wrong_typ",
            with_header(base, typ="JWT"),
        ),
        vector("missing_typ", "No typ member.", "wrong_typ", with_header(base, typ=...)),
        vector(
            "unknown_crit",
            "crit names an extension this verifier does not implement.",
            "unsupported_crit",
            with_header(base, crit=["vault-extension"]),
        ),
        vector(
            "duplicate_header_key",
            "alg appears twice; parsers that keep the first and those that keep the last disagree.",
            "malformed",
            splice_json(base, 0, b'"alg":"EdDSA"', b'"alg":"none","alg":"EdDSA"'),
        ),
        vector(
            "null_header_member",
            "An explicit null for an optional header member.",
            "malformed",
            with_header(base, kid=None),
        ),
        vector(
            "unknown_header_member",
            "A header member this protocol does not define.",
            "malformed",
            with_header(base, x5u="https://evil.example/key"),
        ),
        vector(
            "kid_instead_of_jwk",
            "A presentation must embed its key.",
            "malformed",
            with_header(base, jwk=..., kid="k1"),
        ),
        vector(
            "jwk_with_private_key",
            "The embedded JWK carries the private key (d).",
            "malformed",
            with_header(base, jwk=dict(public, d=b64url_encode(example.MASTER_SEED))),
        ),
        vector(
            "jwk_wrong_curve", "The embedded JWK is an X25519 key.", "bad_key", with_header(base, jwk=x25519)
        ),
        vector(
            "jwk_short_x",
            "The embedded key is 31 bytes.",
            "malformed",
            with_header(base, jwk=dict(public, x=public["x"][:42])),
        ),
    ]


def signature_vectors(base: str) -> list[dict]:
    head, body, signature = segments(base)
    flipped = bytearray(b64url_decode(signature))
    flipped[10] ^= 0x01
    tampered_body = splice_json(base, 1, b'"age_over_18":true', b'"age_over_18":false')
    attacker_header = dict(header_of(base), jwk=ATTACKER_KEY.public_jwk)
    return [
        vector(
            "tampered_payload",
            "age_over_18 changed to false after signing.",
            "bad_signature",
            f"{head}.{segments(tampered_body)[1]}.{signature}",
        ),
        vector(
            "tampered_signature",
            "One bit of the signature flipped.",
            "bad_signature",
            f"{head}.{body}.{b64url_encode(bytes(flipped))}",
        ),
        vector(
            "swapped_jwk_not_resigned",
            "Another key put in the header; the signature is the original one.",
            "bad_signature",
            f"{b64url_encode(jsonb(attacker_header))}.{body}.{signature}",
        ),
        vector(
            "swapped_jwk_old_sub",
            "An attacker re-signs the payload with their own key and header, keeping the victim's iss and "
            "sub: the signature verifies, but the subject is not the signing key.",
            "wrong_issuer",
            resigned(base, ATTACKER_KEY, header=attacker_header),
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


def all_vectors() -> list[dict]:
    base = issued("base")
    return [
        *valid_vectors(),
        *encoding_vectors(base),
        *header_vectors(base),
        *signature_vectors(base),
        *payload_vectors(base),
        *claim_value_vectors(),
    ]


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def write_cases(folder: Path, cases: list[dict]) -> list[Path]:
    """One file per case, named after it; files of cases no longer generated are removed."""
    names = [case["name"] for case in cases]
    if len(set(names)) != len(names):
        raise AssertionError(f"vector names in {folder.name} must be unique")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        if stale.stem not in names:
            stale.unlink()
    written = []
    for case in cases:
        path = folder / f"{case['name']}.json"
        path.write_text(dump(case), encoding="utf-8")
        written.append(path)
    return written


def write(out: Path) -> list[Path]:
    vectors_dir = out / "vectors"
    examples_dir = out / "examples"
    vectors_dir.mkdir(parents=True, exist_ok=True)
    examples_dir.mkdir(parents=True, exist_ok=True)
    cases = all_vectors()
    written = write_cases(vectors_dir, cases)
    for folder, build in MESSAGE_VECTORS.items():
        written += write_cases(out / folder, build())
    manifest_path = examples_dir / "manifest.json"
    manifest_path.write_text(dump(json.loads(encode_manifest(MANIFEST))), encoding="utf-8")
    written.append(manifest_path)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "vault" / "protocol")
    args = parser.parse_args(argv)
    written = write(args.out)
    print(f"wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
