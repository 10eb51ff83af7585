"""Vectors of the revocation / erasure notice (SPEC.md, "Revocation / erasure notice"), for a site's
verifier: one file per case in vault/protocol/vectors_notice/."""

from __future__ import annotations

import json
from typing import Any

import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import (
    ATTACKER_KEY,
    ATTACKER_SUBJECT,
    HUGE,
    MANIFEST,
    NOW,
    VAULT_KEY,
    VAULT_SUBJECT,
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

from tests import example
from vault.protocol.b64 import b64url_encode
from vault.protocol.jwk import jwk_thumbprint
from vault.protocol.manifest import encode_manifest
from vault.protocol.revocation import MAX_NOTICE_LIFETIME, NOTICE_TYP, sign_revocation
from vault.site.verify import DEFAULT_MAX_SKEW

WITHDRAWN = [fixed("jti withdrawn 1"), fixed("jti withdrawn 2")]
NOTICE_JTI = fixed("jti notice")


def notice_token(**changes: Any) -> str:
    arguments = {
        "origin": example.ORIGIN,
        "purpose_id": "recommendations",
        "presentations": WITHDRAWN,
        "erasure": True,
        "now": NOW,
        "jti": NOTICE_JTI,
    }
    arguments.update(changes)
    return sign_revocation(VAULT_KEY, **arguments)


def notice_vector(
    name: str, comment: str, expect: str, token: str, *, now: int = NOW, stored: dict | None = None
) -> dict:
    stored = {jti: VAULT_SUBJECT for jti in WITHDRAWN} if stored is None else stored
    inputs = {
        "token": token,
        "manifest": json.loads(encode_manifest(MANIFEST)),
        "audience": MANIFEST.origin,
        "now": now,
        "max_skew": DEFAULT_MAX_SKEW,
        "stored_subjects": stored,
    }
    output = None
    if expect == "valid":
        payload = payload_of(token)
        output = {
            "subject": payload["sub"],
            "jti": payload["jti"],
            "purpose": payload["purpose"],
            "presentations": payload["presentations"],
            "unknown": [jti for jti in payload["presentations"] if jti not in stored],
            "erasure": payload["erasure"],
            "issued_at": payload["iat"],
            "claims": payload["claims"],
            "site": payload["site"],
            "recipients": payload["recipients"],
            # The third parties the site forwards it to: those named that its manifest declares.
            "tell": [
                party.id
                for party in MANIFEST.purpose(payload["purpose"]).third_parties
                if party.id in payload["recipients"]
            ],
        }
    return case(name, comment, expect, inputs, output)


def notice_vectors() -> list[dict]:
    base = notice_token()
    head, body, signature = base.split(".")
    public = header_of(base)["jwk"]
    attacker_header = dict(header_of(base), jwk=ATTACKER_KEY.public_jwk)
    ttl = payload_of(base)["exp"] - NOW
    return [
        notice_vector("valid", "Withdraws two presentations and asks for erasure.", "valid", base),
        notice_vector(
            "valid_withdraw_only",
            "Withdraws without asking for erasure.",
            "valid",
            notice_token(erasure=False),
        ),
        notice_vector(
            "valid_unknown_presentation",
            "The site has no record of one withdrawn presentation: reported, not refused.",
            "valid",
            base,
            stored={WITHDRAWN[0]: VAULT_SUBJECT},
        ),
        notice_vector(
            "valid_issued_at_skew_limit",
            "iat is max_skew seconds ahead of the site's clock.",
            "valid",
            base,
            now=NOW - DEFAULT_MAX_SKEW,
        ),
        notice_vector(
            "valid_last_second",
            "One second before exp + max_skew.",
            "valid",
            base,
            now=NOW + ttl + DEFAULT_MAX_SKEW - 1,
        ),
        notice_vector(
            "valid_longest_lifetime",
            "exp - iat is exactly 7 days.",
            "valid",
            notice_token(ttl=MAX_NOTICE_LIFETIME),
        ),
        notice_vector("too_large", "Longer than 8192 characters.", "too_large", with_payload(base, jti=HUGE)),
        notice_vector(
            "alg_none",
            "alg none with an empty signature.",
            "unsupported_alg",
            b64url_encode(jsonb({"alg": "none", "typ": NOTICE_TYP, "jwk": public})) + f".{body}.",
        ),
        notice_vector(
            "wrong_typ_presentation",
            "A presentation sent as a notice.",
            "wrong_typ",
            issued("sent as notice"),
        ),
        notice_vector(
            "unknown_crit", "crit names an extension.", "unsupported_crit", with_header(base, crit=["x"])
        ),
        notice_vector(
            "kid_instead_of_jwk",
            "A notice must embed its key.",
            "malformed",
            with_header(base, jwk=..., kid=jwk_thumbprint(public)),
        ),
        notice_vector(
            "jwk_wrong_curve",
            "The embedded JWK is an X25519 key.",
            "bad_key",
            with_header(base, jwk=dict(public, crv="X25519")),
        ),
        notice_vector(
            "tampered_payload",
            "erasure changed after signing.",
            "bad_signature",
            f"{head}.{notice_token(erasure=False).split('.')[1]}.{signature}",
        ),
        notice_vector(
            "swapped_jwk_not_resigned",
            "Another key put in the header; the signature is the original one.",
            "bad_signature",
            f"{b64url_encode(jsonb(attacker_header))}.{body}.{signature}",
        ),
        notice_vector(
            "unknown_member",
            "A payload member the protocol does not define.",
            "malformed",
            with_payload(base, x=1),
        ),
        notice_vector(
            "presentations_repeated",
            "The same jti withdrawn twice.",
            "malformed",
            with_payload(base, presentations=[WITHDRAWN[0], WITHDRAWN[0]]),
        ),
        notice_vector(
            "presentations_empty", "Withdraws nothing.", "malformed", with_payload(base, presentations=[])
        ),
        notice_vector(
            "duplicate_member",
            "aud twice, first another site.",
            "malformed",
            splice_json(base, 1, b'"aud":', b'"aud":"https://evil.example","aud":'),
        ),
        notice_vector(
            "swapped_jwk_old_sub",
            "Re-signed by another key, keeping the victim's iss and sub.",
            "wrong_issuer",
            resigned(base, ATTACKER_KEY, header=attacker_header),
        ),
        notice_vector(
            "iss_not_sub", "iss and sub differ.", "wrong_issuer", with_payload(base, iss=ATTACKER_SUBJECT)
        ),
        notice_vector(
            "wrong_audience",
            "Sent to another site.",
            "wrong_audience",
            with_payload(base, aud="https://evil.example"),
        ),
        notice_vector(
            "audience_trailing_slash",
            "aud is the origin with a trailing slash.",
            "wrong_audience",
            with_payload(base, aud="https://shop.example/"),
        ),
        notice_vector(
            "not_yet_valid",
            "iat is one second beyond the allowed skew in the future.",
            "not_yet_valid",
            base,
            now=NOW - DEFAULT_MAX_SKEW - 1,
        ),
        notice_vector("exp_equals_iat", "exp is not after iat.", "bad_lifetime", with_payload(base, exp=NOW)),
        notice_vector(
            "lifetime_too_long",
            "exp - iat is one second more than 7 days.",
            "bad_lifetime",
            with_payload(base, exp=NOW + MAX_NOTICE_LIFETIME + 1),
        ),
        notice_vector(
            "expired",
            "The site's clock is exactly exp + max_skew.",
            "expired",
            base,
            now=NOW + ttl + DEFAULT_MAX_SKEW,
        ),
        notice_vector(
            "wrong_subject",
            "The site received one withdrawn presentation from another user: nobody may withdraw another's.",
            "wrong_subject",
            base,
            stored={WITHDRAWN[0]: VAULT_SUBJECT, WITHDRAWN[1]: ATTACKER_SUBJECT},
        ),
        *scope_vectors(base),
    ]


def scope_vectors(base: str) -> list[dict]:
    """What a notice withdraws, and from whom: `claims`, `site`, `recipients` (SPEC.md)."""
    return [
        notice_vector(
            "valid_one_recipient",
            "Withdraws from the analytics partner alone and asks it to erase; the site keeps its own copy "
            "and forwards the notice to analytics.",
            "valid",
            notice_token(site=False, recipients=["analytics"]),
        ),
        notice_vector(
            "valid_one_claim",
            "Withdraws sizes.shoe only, from the site and from analytics (which received it).",
            "valid",
            notice_token(claims=["sizes.shoe"], recipients=["analytics"]),
        ),
        notice_vector(
            "valid_site_and_every_recipient",
            "Withdraws everything from the site and both its third parties.",
            "valid",
            notice_token(recipients=["stock", "analytics"]),
        ),
        notice_vector(
            "valid_recipient_no_longer_declared",
            "Names a third party the manifest no longer declares: valid; the site has nobody to forward "
            "it to from its manifest (tell is empty) and answers for it by what it knows.",
            "valid",
            notice_token(site=False, recipients=["old-partner"]),
        ),
        notice_vector(
            "scope_nobody",
            "site is false and no recipient is named: it withdraws from nobody.",
            "malformed",
            with_payload(base, site=False),
        ),
        notice_vector(
            "recipients_repeated",
            "analytics named twice.",
            "malformed",
            with_payload(base, recipients=["analytics", "analytics"]),
        ),
        notice_vector(
            "claims_repeated",
            "sizes.shoe named twice.",
            "malformed",
            with_payload(base, claims=["sizes.shoe", "sizes.shoe"]),
        ),
        notice_vector(
            "claims_bad_name",
            "A claim name that is not spelled like one.",
            "malformed",
            with_payload(base, claims=["Sizes.Shoe"]),
        ),
        notice_vector(
            "recipients_bad_id",
            "A recipient id that is not spelled like a purpose id.",
            "malformed",
            with_payload(base, site=False, recipients=["Analytics B.V."]),
        ),
        notice_vector("site_missing", "No site member.", "malformed", with_payload(base, site=...)),
        notice_vector("site_not_boolean", "site is 1.", "malformed", with_payload(base, site=1)),
        notice_vector(
            "recipients_missing", "No recipients member.", "malformed", with_payload(base, recipients=...)
        ),
        notice_vector("claims_missing", "No claims member.", "malformed", with_payload(base, claims=...)),
    ]
