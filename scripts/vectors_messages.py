"""Vectors for the messages other than the presentation (SPEC.md, "Acknowledgement", "Revocation / erasure
notice", "Revocation acknowledgement") and known answers for the pairwise key derivation ("Keys").

Each message has its own folder beside `vectors/` (which holds the presentation vectors), one file per
case, in the presentation vectors' format: name, comment, expect ("valid" or a reason), inputs, and for
valid cases what the verifier returns. As there, an invalid case breaks exactly one rule and is signed
by the key a valid one would be signed with, unless the rule is about the signature or the key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import (
    ATTACKER_KEY,
    MANIFEST,
    NOW,
    VAULT_KEY,
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
from vault.protocol.acknowledgement import (
    ACK_TYP,
    REVOCATION_ACK_TYP,
    Acknowledgement,
    RevocationAcknowledgement,
    sign_acknowledgement,
    sign_revocation_ack,
)
from vault.protocol.acknowledgement import DEFAULT_MAX_SKEW as ACK_MAX_SKEW
from vault.protocol.b64 import b64url_encode
from vault.protocol.jwk import jwk_thumbprint, key_subject
from vault.protocol.jws import key_id, sign_raw
from vault.protocol.keys import derive_pairwise_key, pairwise_info
from vault.protocol.manifest import encode_manifest, retention_seconds
from vault.protocol.revocation import MAX_NOTICE_LIFETIME, NOTICE_TYP, sign_revocation
from vault.site.verify import DEFAULT_MAX_SKEW

SITE_KEY = example.site_key()
SITE_JWK = SITE_KEY.public_jwk
VAULT_SUBJECT = key_subject(VAULT_KEY.public_jwk)
ATTACKER_SUBJECT = key_subject(ATTACKER_KEY.public_jwk)
ACK_HEADER = {"alg": "EdDSA", "typ": ACK_TYP, "kid": key_id(SITE_KEY.verifying_key)}
REVOCATION_ACK_HEADER = {"alg": "EdDSA", "typ": REVOCATION_ACK_TYP, "kid": ACK_HEADER["kid"]}
HUGE = "x" * 9000  # pushes a token past 8192 characters


def _case(name: str, comment: str, expect: str, inputs: dict, output: dict | None) -> dict:
    case: dict[str, Any] = {"name": name, "comment": comment, "expect": expect, "inputs": inputs}
    if expect == "valid":
        if output is None:
            raise AssertionError(f"{name}: a valid case says what the verifier returns")
        case.update(output)
    return case


def _site_signed(header: dict, payload: dict | bytes, key: Any = SITE_KEY) -> str:
    return sign_raw(key, jsonb(header), payload if isinstance(payload, bytes) else jsonb(payload))


def _changed(payload: dict, **changes: Any) -> dict:
    changed = dict(payload)
    for name, value in changes.items():
        if value is ...:
            del changed[name]
        else:
            changed[name] = value
    return changed


# Acknowledgement ------------------------------------------------------------------------------------------

PRESENTATION = issued("acknowledged")
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
    )
)


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
    output = {"acknowledgement": payload_of(token)} if expect == "valid" else None
    return _case(name, comment, expect, inputs, output)


def ack(**changes: Any) -> str:
    return _site_signed(ACK_HEADER, _changed(ACK, **changes))


def acknowledgement_vectors() -> list[dict]:
    base = sign_acknowledgement(SITE_KEY, Acknowledgement(**ACK))
    assert base == ack()
    age = issued("acknowledged age", purpose="age-check", claims={"age_over_18": True})
    age_payload = payload_of(age)
    age_ack = _changed(
        ACK,
        presentation=age_payload["jti"],
        purpose="age-check",
        purpose_digest=age_payload["purpose_digest"],
        claims=["age_over_18"],
        keep_until=age_payload["iat"] + 86400,
    )
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
            _site_signed(ACK_HEADER, age_ack),
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
            _site_signed(REVOCATION_ACK_HEADER, ACK),
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
            _site_signed(dict(ACK_HEADER, crit=["vault-extension"]), ACK),
        ),
        ack_vector(
            "jwk_instead_of_kid",
            "The site key embedded as jwk: acknowledgements name it by kid.",
            "malformed",
            _site_signed({"alg": "EdDSA", "typ": ACK_TYP, "jwk": SITE_JWK}, ACK),
        ),
        ack_vector(
            "kid_of_another_key",
            "Signed by another key and naming it: not the manifest's site key.",
            "bad_key",
            _site_signed(attacker_header, ACK, ATTACKER_KEY),
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
            _site_signed(ACK_HEADER, ACK, ATTACKER_KEY),
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
    ]


# Revocation / erasure notice -------------------------------------------------------------------------------

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
        }
    return _case(name, comment, expect, inputs, output)


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
    ]


# Revocation acknowledgement --------------------------------------------------------------------------------

NOTICE = notice_token()
NOTICE_PAYLOAD = payload_of(NOTICE)
REVOCATION_ACK = msgspec.to_builtins(
    RevocationAcknowledgement(
        iss=NOTICE_PAYLOAD["aud"],
        aud=NOTICE_PAYLOAD["sub"],
        iat=NOW + 1,
        notice=NOTICE_PAYLOAD["jti"],
        presentations=tuple(NOTICE_PAYLOAD["presentations"]),
        erased=True,
    )
)


def revocation_ack_vector(name: str, comment: str, expect: str, token: str, *, now: int = NOW + 1) -> dict:
    inputs = {"token": token, "site_key": SITE_JWK, "notice": NOTICE, "now": now, "max_skew": ACK_MAX_SKEW}
    output = {"acknowledgement": payload_of(token)} if expect == "valid" else None
    return _case(name, comment, expect, inputs, output)


def revocation_ack(header: dict = REVOCATION_ACK_HEADER, **changes: Any) -> str:
    return _site_signed(header, _changed(REVOCATION_ACK, **changes))


def revocation_ack_vectors() -> list[dict]:
    base = sign_revocation_ack(SITE_KEY, RevocationAcknowledgement(**REVOCATION_ACK))
    assert base == revocation_ack()
    head, _, signature = base.split(".")
    attacker_header = dict(REVOCATION_ACK_HEADER, kid=key_id(ATTACKER_KEY.verifying_key))
    return [
        revocation_ack_vector("valid", "The site withdrew and erased.", "valid", base),
        revocation_ack_vector(
            "valid_not_erased",
            "The notice asked for erasure and the site says it did not erase: valid, recorded as such.",
            "valid",
            revocation_ack(erased=False),
        ),
        revocation_ack_vector(
            "valid_presentations_reordered",
            "The same presentations in another order.",
            "valid",
            revocation_ack(presentations=WITHDRAWN[::-1]),
        ),
        revocation_ack_vector(
            "too_large", "Longer than 8192 characters.", "too_large", revocation_ack(iss=HUGE)
        ),
        revocation_ack_vector(
            "alg_none",
            "alg none with an empty signature.",
            "unsupported_alg",
            b64url_encode(jsonb(dict(REVOCATION_ACK_HEADER, alg="none"))) + "." + base.split(".")[1] + ".",
        ),
        revocation_ack_vector(
            "unknown_crit",
            "crit names an extension.",
            "unsupported_crit",
            revocation_ack(dict(REVOCATION_ACK_HEADER, crit=["vault-extension"])),
        ),
        revocation_ack_vector(
            "jwk_instead_of_kid",
            "The site key embedded as jwk: acknowledgements name it by kid.",
            "malformed",
            revocation_ack({"alg": "EdDSA", "typ": REVOCATION_ACK_TYP, "jwk": SITE_JWK}),
        ),
        revocation_ack_vector(
            "wrong_typ_ack",
            "An acknowledgement's typ: a presentation acknowledgement cannot answer a notice.",
            "wrong_typ",
            revocation_ack(ACK_HEADER),
        ),
        revocation_ack_vector(
            "wrong_typ_notice", "The notice itself, sent back as the answer.", "wrong_typ", NOTICE
        ),
        revocation_ack_vector(
            "kid_of_another_key",
            "Signed by another key and naming it.",
            "bad_key",
            _site_signed(attacker_header, REVOCATION_ACK, ATTACKER_KEY),
        ),
        revocation_ack_vector(
            "tampered_payload",
            "erased changed after signing.",
            "bad_signature",
            f"{head}.{revocation_ack(erased=False).split('.')[1]}.{signature}",
        ),
        revocation_ack_vector(
            "unknown_member",
            "A payload member the protocol does not define.",
            "malformed",
            revocation_ack(x=1),
        ),
        revocation_ack_vector(
            "presentations_empty",
            "Answers for no presentation.",
            "malformed",
            revocation_ack(presentations=[]),
        ),
        revocation_ack_vector(
            "wrong_issuer",
            "Signed for another origin.",
            "wrong_issuer",
            revocation_ack(iss="https://evil.example"),
        ),
        revocation_ack_vector(
            "wrong_audience",
            "Addressed to another user.",
            "wrong_audience",
            revocation_ack(aud=ATTACKER_SUBJECT),
        ),
        revocation_ack_vector(
            "not_yet_valid",
            "iat one second beyond the allowed skew in the future.",
            "not_yet_valid",
            revocation_ack(iat=NOW + 1 + ACK_MAX_SKEW + 1),
        ),
        revocation_ack_vector(
            "wrong_notice_jti",
            "Answers another notice.",
            "wrong_notice",
            revocation_ack(notice=fixed("jti other")),
        ),
        revocation_ack_vector(
            "wrong_notice_fewer",
            "Answers for only one of the two withdrawn presentations.",
            "wrong_notice",
            revocation_ack(presentations=WITHDRAWN[:1]),
        ),
        revocation_ack_vector(
            "wrong_notice_more",
            "Answers for a presentation the notice did not withdraw.",
            "wrong_notice",
            revocation_ack(presentations=[*WITHDRAWN, fixed("jti not withdrawn")]),
        ),
    ]


# Pairwise keys ---------------------------------------------------------------------------------------------


def pairwise_vector(name: str, comment: str, master_seed: bytes, origin: str, epoch: int) -> dict:
    key = derive_pairwise_key(master_seed, origin, epoch)
    return {
        "name": name,
        "comment": comment,
        "expect": "valid",
        "inputs": {"master_seed": master_seed.hex(), "origin": origin, "epoch": epoch},
        "info": pairwise_info(origin, epoch).hex(),
        "private_seed": key.seed().hex(),
        "public_jwk": key.public_jwk,
        "thumbprint": jwk_thumbprint(key.public_jwk),
        "subject": key_subject(key.public_jwk),
    }


def pairwise_refused(name: str, comment: str, origin: str, epoch: int) -> dict:
    return {
        "name": name,
        "comment": comment,
        "expect": "refused",
        "inputs": {"master_seed": example.MASTER_SEED.hex(), "origin": origin, "epoch": epoch},
    }


def pairwise_vectors() -> list[dict]:
    seed = example.MASTER_SEED
    return [
        pairwise_vector(
            "example",
            "The example vault's key for the example shop (SPEC.md's examples).",
            seed,
            example.ORIGIN,
            0,
        ),
        pairwise_vector(
            "next_epoch",
            "The same site after the user asked it to forget them once.",
            seed,
            example.ORIGIN,
            1,
        ),
        pairwise_vector("last_epoch", "The largest epoch, 2^32 - 1.", seed, example.ORIGIN, 2**32 - 1),
        pairwise_vector("other_origin", "Another site: an unrelated key.", seed, "https://news.example", 0),
        pairwise_vector(
            "loopback_port", "A loopback http origin with a port.", seed, "http://localhost:8080", 0
        ),
        pairwise_vector("ipv6_loopback", "An IPv6 loopback origin.", seed, "http://[::1]:8443", 3),
        pairwise_vector(
            "punycode_origin", "An IDN host in punycode.", seed, "https://xn--caf-dma.example", 0
        ),
        pairwise_vector("zero_seed", "A master seed of 32 zero bytes.", bytes(32), example.ORIGIN, 0),
        pairwise_vector("ones_seed", "A master seed of 32 0xff bytes.", b"\xff" * 32, example.ORIGIN, 0),
        pairwise_refused("epoch_too_large", "Epoch 2^32 does not fit in uint32.", example.ORIGIN, 2**32),
        pairwise_refused("epoch_negative", "A negative epoch.", example.ORIGIN, -1),
        pairwise_refused("origin_trailing_slash", "Not a serialised origin.", "https://shop.example/", 0),
        pairwise_refused(
            "origin_upper_case", "Not a serialised origin (upper case).", "https://Shop.example", 0
        ),
    ]


# The folders beside `vectors/`, and what writes each.
MESSAGE_VECTORS = {
    "vectors_acknowledgement": acknowledgement_vectors,
    "vectors_notice": notice_vectors,
    "vectors_revocation_ack": revocation_ack_vectors,
    "vectors_pairwise_key": pairwise_vectors,
}
