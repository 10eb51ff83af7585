"""Vectors of the site's answer to a notice (SPEC.md, "Revocation acknowledgement"), for a vault's
verifier: one file per case in vault/protocol/vectors_revocation_ack/."""

from __future__ import annotations

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
    jsonb,
    payload_of,
    site_signed,
)
from vectors_notice import WITHDRAWN, notice_token

from vault.protocol.acknowledgement import DEFAULT_MAX_SKEW as ACK_MAX_SKEW
from vault.protocol.acknowledgement import (
    REVOCATION_ACK_TYP,
    RevocationAcknowledgement,
    sign_revocation_ack,
)
from vault.protocol.b64 import b64url_encode
from vault.protocol.jws import key_id

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
        recipients=(),
    )
)
# A notice that also names both third parties (the site forwards it to each), and a full answer to it.
TOLD_NOTICE = notice_token(recipients=["stock", "analytics"], jti=fixed("jti notice told"))
TOLD = [
    {"id": "stock", "outcome": "erased", "at": NOW + 1},
    {"id": "analytics", "outcome": "forwarded", "at": NOW + 1},
]


def revocation_ack_vector(
    name: str, comment: str, expect: str, token: str, *, now: int = NOW + 1, notice: str = NOTICE
) -> dict:
    inputs = {"token": token, "site_key": SITE_JWK, "notice": notice, "now": now, "max_skew": ACK_MAX_SKEW}
    output = {"acknowledgement": payload_of(token)} if expect == "valid" else None
    return case(name, comment, expect, inputs, output)


def revocation_ack(header: dict = REVOCATION_ACK_HEADER, **changes: Any) -> str:
    return site_signed(header, changed(REVOCATION_ACK, **changes))


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
            site_signed(attacker_header, REVOCATION_ACK, ATTACKER_KEY),
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
        *recipient_outcome_vectors(),
    ]


def told(outcomes: list[dict], **changes: Any) -> str:
    """An answer to TOLD_NOTICE giving `outcomes` for its recipients."""
    return revocation_ack(notice=payload_of(TOLD_NOTICE)["jti"], recipients=outcomes, **changes)


def recipient_outcome_vectors() -> list[dict]:
    """Each recipient's outcome (SPEC.md, "Revocation acknowledgement"): exactly one per recipient named."""
    stock, analytics = TOLD
    return [
        revocation_ack_vector(
            "valid_recipient_outcomes",
            "stock erased the data; the notice was forwarded to analytics, which has not answered yet.",
            "valid",
            told(TOLD),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "valid_recipient_not_held",
            "analytics never held anything (the user had switched it off).",
            "valid",
            told([stock, dict(analytics, outcome="not_held", at=NOW)]),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "valid_recipient_outcomes_reordered",
            "The outcomes in another order than the notice names the recipients.",
            "valid",
            told([analytics, stock]),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "wrong_notice_recipient_missing",
            "No outcome for analytics, which the notice names.",
            "wrong_notice",
            told([stock]),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "wrong_notice_recipient_extra",
            "An outcome for a recipient the notice does not name.",
            "wrong_notice",
            told([*TOLD, dict(stock, id="ads")]),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "wrong_notice_recipient_repeated",
            "Two outcomes for analytics (erased and forwarded).",
            "wrong_notice",
            told([*TOLD, dict(analytics, outcome="erased")]),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "wrong_notice_outcome_for_site_only_notice",
            "The notice names no recipient, yet the answer gives an outcome for stock.",
            "wrong_notice",
            revocation_ack(recipients=[stock]),
        ),
        revocation_ack_vector(
            "outcome_unknown",
            "An outcome that is not erased, not_held or forwarded.",
            "malformed",
            told([stock, dict(analytics, outcome="deleted")]),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "outcome_without_date",
            "An outcome without at.",
            "malformed",
            told([stock, {"id": "analytics", "outcome": "forwarded"}]),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "outcome_unknown_member",
            "An outcome with a member the protocol does not define.",
            "malformed",
            told([stock, dict(analytics, note="later")]),
            notice=TOLD_NOTICE,
        ),
        revocation_ack_vector(
            "recipients_missing_member",
            "No recipients member (it is required, empty when the notice names no recipient).",
            "malformed",
            revocation_ack(recipients=...),
        ),
    ]
