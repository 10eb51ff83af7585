"""Vectors of the site's acknowledgement of a presentation (SPEC.md, "Acknowledgement"), for a vault's
verifier: one file per case in vault/protocol/vectors_acknowledgement/."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import (
    ACK_HEADER,
    ATTACKER_KEY,
    ATTACKER_SUBJECT,
    HUGE,
    NOW,
    REVOCATION_ACK_HEADER,
    SITE_JWK,
    SITE_KEY,
    case,
    changed,
    fixed,
    issued,
    jsonb,
    payload_of,
    site_signed,
    splice_json,
)

from vault.protocol.acknowledgement import (
    ACK_TYP,
    Acknowledgement,
    sign_acknowledgement,
)
from vault.protocol.acknowledgement import DEFAULT_MAX_SKEW as ACK_MAX_SKEW
from vault.protocol.b64 import b64url_encode
from vault.protocol.jws import key_id
from vault.protocol.manifest import retention_seconds

PRESENTATION = issued("acknowledged")  # allows the required `stock` only (`analytics` switched off)
ACKNOWLEDGED = payload_of(PRESENTATION)
KEEP_LIMIT = ACKNOWLEDGED["iat"] + retention_seconds(ACKNOWLEDGED["retention"])
ACK = msgspec.to_builtins(
    Acknowledgement(
        iss=ACKNOWLEDGED["aud"],
        aud=ACKNOWLEDGED["sub"],
        iat=NOW + 2,
        presentation=ACKNOWLEDGED["jti"],
        purpose=ACKNOWLEDGED["purpose"]["id"],
        purpose_digest=ACKNOWLEDGED["purpose_digest"],
        claims=tuple(sorted(ACKNOWLEDGED["claims"])),
        keep_until=KEEP_LIMIT,
        recipients=tuple(ACKNOWLEDGED["recipients"]),
    )
)
BOTH_ALLOWED = issued("acknowledged both", recipients=("stock", "analytics"))


def ack_vector(
    name: str,
    comment: str,
    expect: str,
    token: str,
    *,
    presentation: str = PRESENTATION,
    now: int = NOW + 2,
    site_key: dict = SITE_JWK,
) -> dict:
    inputs = {
        "token": token,
        "site_key": site_key,
        "presentation": presentation,
        "now": now,
        "max_skew": ACK_MAX_SKEW,
    }
    output = None
    if expect == "valid":
        allowed = payload_of(presentation)["recipients"]
        named = payload_of(token)["recipients"]
        output = {
            "acknowledgement": payload_of(token),
            # Named but not allowed: valid, and the vault records a broken promise.
            "unallowed_recipients": [recipient for recipient in named if recipient not in allowed],
        }
    return case(name, comment, expect, inputs, output)


def ack(**changes: Any) -> str:
    return site_signed(ACK_HEADER, changed(ACK, **changes))


def acknowledgement_vectors() -> list[dict]:
    base = sign_acknowledgement(SITE_KEY, Acknowledgement(**ACK))
    assert base == ack()
    age = issued("acknowledged age", purpose="age-check", claims={"age_over_18": True})
    age_payload = payload_of(age)
    age_ack = changed(
        ACK,
        presentation=age_payload["jti"],
        purpose="age-check",
        purpose_digest=age_payload["purpose_digest"],
        claims=["age_over_18"],
        keep_until=age_payload["iat"] + 86400,
        recipients=[],
    )
    both = payload_of(BOTH_ALLOWED)
    both_ack = changed(ACK, presentation=both["jti"], recipients=["stock", "analytics"])
    x25519 = dict(SITE_JWK, crv="X25519")
    attacker_header = dict(ACK_HEADER, kid=key_id(ATTACKER_KEY.verifying_key))
    other_digest = b64url_encode(hashlib.sha256(b"another purpose entry").digest())
    return [
        ack_vector(
            "valid", "The site keeps the claims exactly as long as the purpose allows.", "valid", base
        ),
        ack_vector(
            "valid_shorter_keep",
            "keep_until earlier than retention allows.",
            "valid",
            ack(keep_until=NOW + 1),
        ),
        ack_vector(
            "valid_issued_at_skew_limit",
            "iat is max_skew seconds ahead of the vault's clock: still accepted.",
            "valid",
            ack(iat=NOW + 2 + ACK_MAX_SKEW),
        ),
        ack_vector(
            "valid_age_check",
            "An acknowledgement of a presentation for the manifest's second purpose.",
            "valid",
            site_signed(ACK_HEADER, age_ack),
            presentation=age,
        ),
        ack_vector("too_large", "Longer than 8192 characters.", "too_large", ack(iss=HUGE)),
        ack_vector(
            "alg_none",
            "alg none with an empty signature.",
            "unsupported_alg",
            b64url_encode(jsonb(dict(ACK_HEADER, alg="none"))) + "." + base.split(".")[1] + ".",
        ),
        ack_vector(
            "wrong_typ_revocation_ack",
            "A revocation acknowledgement's typ: one message cannot stand in for another.",
            "wrong_typ",
            site_signed(REVOCATION_ACK_HEADER, ACK),
        ),
        ack_vector(
            "wrong_typ_presentation",
            "The presentation itself, sent back as if it were the site's acknowledgement.",
            "wrong_typ",
            PRESENTATION,
        ),
        ack_vector(
            "unknown_crit",
            "crit names an extension.",
            "unsupported_crit",
            site_signed(dict(ACK_HEADER, crit=["vault-extension"]), ACK),
        ),
        ack_vector(
            "jwk_instead_of_kid",
            "The site key embedded as jwk: acknowledgements name it by kid.",
            "malformed",
            site_signed({"alg": "EdDSA", "typ": ACK_TYP, "jwk": SITE_JWK}, ACK),
        ),
        ack_vector(
            "kid_of_another_key",
            "Signed by another key and naming it: not the manifest's site key.",
            "bad_key",
            site_signed(attacker_header, ACK, ATTACKER_KEY),
        ),
        ack_vector(
            "site_key_wrong_curve",
            "The site key the vault holds is not an Ed25519 key.",
            "bad_key",
            base,
            site_key=x25519,
        ),
        ack_vector(
            "tampered_payload",
            "keep_until changed after signing.",
            "bad_signature",
            base.split(".")[0]
            + "."
            + ack(keep_until=KEEP_LIMIT - 1).split(".")[1]
            + "."
            + base.split(".")[2],
        ),
        ack_vector(
            "signed_by_another_key",
            "Signed by another key while naming the site key.",
            "bad_signature",
            site_signed(ACK_HEADER, ACK, ATTACKER_KEY),
        ),
        ack_vector(
            "unknown_member", "A payload member the protocol does not define.", "malformed", ack(exp=NOW)
        ),
        ack_vector("missing_member", "No keep_until.", "malformed", ack(keep_until=...)),
        ack_vector(
            "duplicate_member",
            "keep_until twice, the first far beyond the retention.",
            "malformed",
            splice_json(base, 1, b'"keep_until":', b'"keep_until":4102444800,"keep_until":', SITE_KEY),
        ),
        ack_vector(
            "wrong_issuer",
            "Signed for another site's origin.",
            "wrong_issuer",
            ack(iss="https://evil.example"),
        ),
        ack_vector(
            "wrong_audience", "Addressed to another user.", "wrong_audience", ack(aud=ATTACKER_SUBJECT)
        ),
        ack_vector(
            "not_yet_valid",
            "iat is one second beyond the allowed skew in the future.",
            "not_yet_valid",
            ack(iat=NOW + 2 + ACK_MAX_SKEW + 1),
        ),
        ack_vector(
            "wrong_presentation",
            "Names another presentation's jti.",
            "wrong_presentation",
            ack(presentation=fixed("jti another")),
        ),
        ack_vector("other_purpose", "Names another purpose.", "purpose_mismatch", ack(purpose="age-check")),
        ack_vector(
            "other_purpose_digest",
            "The purpose digest of another entry.",
            "purpose_mismatch",
            ack(purpose_digest=other_digest),
        ),
        ack_vector(
            "claims_repeated",
            "A claim name listed twice (the set is right).",
            "claims_mismatch",
            ack(claims=[*ACK["claims"], "age_over_18"]),
        ),
        ack_vector(
            "claims_missing",
            "One claim received is not listed.",
            "claims_mismatch",
            ack(claims=ACK["claims"][1:]),
        ),
        ack_vector(
            "claims_extra",
            "A claim that was not received is listed.",
            "claims_mismatch",
            ack(claims=sorted([*ACK["claims"], "email"])),
        ),
        ack_vector(
            "retention_exceeded",
            "keep_until one second after the presentation's iat plus the purpose's retention.",
            "retention_exceeded",
            ack(keep_until=KEEP_LIMIT + 1),
        ),
        *recipient_ack_vectors(both_ack),
    ]


def recipient_ack_vectors(both_ack: dict) -> list[dict]:
    """Which third parties the site says it passed the claims to (SPEC.md, "Acknowledgement")."""
    return [
        ack_vector(
            "valid_recipients_all",
            "The user allowed stock and analytics; the site passed the claims to both.",
            "valid",
            site_signed(ACK_HEADER, both_ack),
            presentation=BOTH_ALLOWED,
        ),
        ack_vector(
            "valid_recipients_fewer",
            "The user allowed both; the site passed the claims to stock only.",
            "valid",
            site_signed(ACK_HEADER, changed(both_ack, recipients=["stock"])),
            presentation=BOTH_ALLOWED,
        ),
        ack_vector(
            "valid_recipients_none",
            "The site passed the claims to nobody.",
            "valid",
            ack(recipients=[]),
        ),
        ack_vector(
            "valid_broken_promise",
            "The user switched analytics off, yet the site says it passed the claims to analytics: valid "
            "(it is the site's signed word), and the vault records a broken promise.",
            "valid",
            ack(recipients=["stock", "analytics"]),
        ),
        ack_vector(
            "valid_broken_promise_undeclared",
            "The site names a recipient its manifest never declared: valid, a broken promise too.",
            "valid",
            ack(recipients=["stock", "ads"]),
        ),
        ack_vector(
            "recipients_repeated", "stock named twice.", "malformed", ack(recipients=["stock", "stock"])
        ),
        ack_vector("recipients_missing_member", "No recipients member.", "malformed", ack(recipients=...)),
        ack_vector(
            "recipients_bad_id",
            "A recipient id that is not spelled like a purpose id.",
            "malformed",
            ack(recipients=["Stock Ltd"]),
        ),
    ]
