"""The presentation vectors (vault/protocol/vectors/) that break the token itself (SPEC.md, "Verifying a
token"): its encoding, its header, its signature. Invalid vectors are built so that exactly one rule is
broken: everything else (including the signature, where the rule is not about the signature) is as a
valid token would have it, so a verifier that passes them does so for the stated reason."""

from __future__ import annotations

import hashlib
import hmac

import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import (
    ALL_CLAIMS,
    ATTACKER_KEY,
    REQUIRED_CLAIMS,
    VAULT_KEY,
    header_of,
    issued,
    jsonb,
    resigned,
    segments,
    splice_json,
    vector,
    with_header,
    with_payload,
)

from tests import example
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.presentation import PRESENTATION_TYP


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
