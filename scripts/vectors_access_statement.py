"""Vectors of the access statement (SPEC.md, "Access statement"), for a vault's verifier: one file per case
in vault/protocol/vectors_access_statement/."""

from __future__ import annotations

from typing import Any

import msgspec
import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import (
    ACK_HEADER,
    ATTACKER_KEY,
    ATTACKER_SUBJECT,
    NOW,
    SITE_JWK,
    SITE_KEY,
    VAULT_SUBJECT,
    case,
    changed,
    fixed,
    jsonb,
    payload_of,
    site_signed,
    splice_json,
)
from vectors_access_request import REQUEST_JTI, request_token

from tests import example
from vault.protocol.access import (
    ACCESS_STATEMENT_TYP,
    MAX_HOLDING_PRESENTATIONS,
    AccessStatement,
    Holding,
    sign_access_statement,
)
from vault.protocol.access import DEFAULT_MAX_SKEW as STATEMENT_MAX_SKEW
from vault.protocol.b64 import b64url_encode
from vault.protocol.jws import key_id
from vault.protocol.message import MESSAGE_TYP

STATEMENT_HEADER = {"alg": "EdDSA", "typ": ACCESS_STATEMENT_TYP, "kid": ACK_HEADER["kid"]}

REQUEST = request_token()
ASKED = request_token(purposes=["age-check"], jti=fixed("jti access request age"))
HELD = [fixed(f"jti held {n}") for n in range(3)]
HOLDING = msgspec.to_builtins(
    Holding(
        purpose="recommendations",
        claims=("age_over_18", "location.country", "sizes.shoe"),
        since=NOW - 10 * 86400,
        until=NOW + 20 * 86400,
        recipients=("stock",),
        presentations=tuple(HELD[:2]),
    )
)
AGE_HOLDING = {
    "purpose": "age-check",
    "claims": ["age_over_18"],
    "since": NOW - 3600,
    "until": NOW + 82800,
    "recipients": [],
    "presentations": [HELD[2]],
}
STATEMENT = {
    "iss": example.ORIGIN,
    "aud": VAULT_SUBJECT,
    "iat": NOW + 1,
    "request": REQUEST_JTI,
    "holdings": [HOLDING],
}


def statement(header: dict = STATEMENT_HEADER, key: Any = SITE_KEY, **changes: Any) -> str:
    return site_signed(header, changed(STATEMENT, **changes), key)


def holding(**changes: Any) -> list[dict]:
    return [changed(HOLDING, **changes)]


def statement_vector(
    name: str,
    comment: str,
    expect: str,
    token: str,
    *,
    request: str = REQUEST,
    now: int = NOW + 1,
    site_key: dict = SITE_JWK,
) -> dict:
    inputs = {
        "token": token,
        "site_key": site_key,
        "request": request,
        "now": now,
        "max_skew": STATEMENT_MAX_SKEW,
    }
    output = {"statement": payload_of(token)} if expect == "valid" else None
    return case(name, comment, expect, inputs, output)


def access_statement_vectors(messages: tuple[str, str]) -> list[dict]:
    """`messages`: two valid site messages to this user (vectors_message.py), carried by one case."""
    base = sign_access_statement(SITE_KEY, msgspec.convert(STATEMENT, AccessStatement))
    assert base == statement()
    head, body, signature = base.split(".")
    many = [
        changed(
            HOLDING, purpose=f"purpose-{n}", presentations=[fixed(f"jti many {n} {i}") for i in range(64)]
        )
        for n in range(5)
    ]
    return [
        statement_vector("valid", "The site holds three claims for recommendations.", "valid", base),
        statement_vector(
            "valid_with_values",
            "The site also shows the values it holds.",
            "valid",
            statement(
                holdings=holding(values={"age_over_18": True, "location.country": "NL", "sizes.shoe": 42})
            ),
        ),
        statement_vector(
            "valid_nothing_held", "The site holds nothing about this user.", "valid", statement(holdings=[])
        ),
        statement_vector(
            "valid_two_purposes",
            "Holdings for both purposes.",
            "valid",
            statement(holdings=[HOLDING, AGE_HOLDING]),
        ),
        statement_vector(
            "valid_asked_purposes",
            "The request asked about age-check only; the answer covers only it.",
            "valid",
            statement(holdings=[AGE_HOLDING], request=payload_of(ASKED)["jti"]),
            request=ASKED,
        ),
        statement_vector(
            "valid_carries_messages",
            "Two site messages ride along (each is verified on its own).",
            "valid",
            statement(messages=list(messages)),
        ),
        statement_vector(
            "valid_issued_at_skew_limit",
            "iat is max_skew seconds ahead of the vault's clock.",
            "valid",
            statement(iat=NOW + 1 + STATEMENT_MAX_SKEW),
        ),
        statement_vector(
            "valid_held_past_retention",
            "The site says it keeps the claims a year: valid (its signed word); the vault names the "
            "discrepancy.",
            "valid",
            statement(holdings=holding(until=NOW + 365 * 86400)),
        ),
        statement_vector(
            "valid_most_presentations",
            "64 presentations in one holding, the most it may list.",
            "valid",
            statement(holdings=holding(presentations=[fixed(f"jti most {i}") for i in range(64)])),
        ),
        statement_vector(
            "valid_longer_than_8192",
            "Five holdings of 64 presentations: longer than any other token may be, within 32768.",
            "valid",
            statement(holdings=many),
        ),
        statement_vector(
            "too_large", "Longer than 32768 characters.", "too_large", statement(iss="x" * 33000)
        ),
        statement_vector(
            "alg_none",
            "alg none with an empty signature.",
            "unsupported_alg",
            b64url_encode(jsonb(dict(STATEMENT_HEADER, alg="none"))) + f".{body}.",
        ),
        statement_vector(
            "wrong_typ_ack",
            "An acknowledgement's typ: one message cannot stand in for another.",
            "wrong_typ",
            statement(ACK_HEADER),
        ),
        statement_vector(
            "wrong_typ_message",
            "A site message's typ.",
            "wrong_typ",
            statement(dict(STATEMENT_HEADER, typ=MESSAGE_TYP)),
        ),
        statement_vector(
            "wrong_typ_request", "The vault's own request sent back as the answer.", "wrong_typ", REQUEST
        ),
        statement_vector(
            "unknown_crit",
            "crit names an extension.",
            "unsupported_crit",
            statement(dict(STATEMENT_HEADER, crit=["vault-extension"])),
        ),
        statement_vector(
            "jwk_instead_of_kid",
            "The site key embedded as jwk: statements name it by kid.",
            "malformed",
            statement({"alg": "EdDSA", "typ": ACCESS_STATEMENT_TYP, "jwk": SITE_JWK}),
        ),
        statement_vector(
            "kid_of_another_key",
            "Signed by another key and naming it.",
            "bad_key",
            statement(dict(STATEMENT_HEADER, kid=key_id(ATTACKER_KEY.verifying_key)), ATTACKER_KEY),
        ),
        statement_vector(
            "site_key_wrong_curve",
            "The site key the vault holds is not an Ed25519 key.",
            "bad_key",
            base,
            site_key=dict(SITE_JWK, crv="X25519"),
        ),
        statement_vector(
            "tampered_payload",
            "The holdings emptied after signing.",
            "bad_signature",
            f"{head}.{statement(holdings=[]).split('.')[1]}.{signature}",
        ),
        statement_vector(
            "signed_by_another_key",
            "Signed by another key while naming the site key.",
            "bad_signature",
            statement(key=ATTACKER_KEY),
        ),
        *statement_schema_vectors(base),
        statement_vector(
            "wrong_issuer",
            "Signed for another site's origin.",
            "wrong_issuer",
            statement(iss="https://evil.example"),
        ),
        statement_vector(
            "wrong_audience", "Addressed to another user.", "wrong_audience", statement(aud=ATTACKER_SUBJECT)
        ),
        statement_vector(
            "not_yet_valid",
            "iat is one second beyond the allowed skew in the future.",
            "not_yet_valid",
            statement(iat=NOW + 1 + STATEMENT_MAX_SKEW + 1),
        ),
        statement_vector(
            "wrong_request_jti",
            "Answers another request.",
            "wrong_request",
            statement(request=fixed("jti another request")),
        ),
        statement_vector(
            "wrong_request_before_request",
            "Dated before the request was made (more than max_skew): an old answer replayed.",
            "wrong_request",
            statement(iat=NOW - STATEMENT_MAX_SKEW - 1),
        ),
        statement_vector(
            "wrong_request_purpose_not_asked",
            "The request asked about age-check only; the answer also covers recommendations.",
            "wrong_request",
            statement(holdings=[AGE_HOLDING, HOLDING], request=payload_of(ASKED)["jti"]),
            request=ASKED,
        ),
    ]


def statement_schema_vectors(base: str) -> list[dict]:
    """Statements that break the schema or a rule of `statement_problem` (SPEC.md): `malformed`."""
    return [
        statement_vector(
            "unknown_member", "A member the protocol does not define.", "malformed", statement(exp=NOW)
        ),
        statement_vector("missing_member", "No request member.", "malformed", statement(request=...)),
        statement_vector(
            "duplicate_member",
            "request twice, the first another request's jti.",
            "malformed",
            splice_json(
                base, 1, b'"request":', b'"request":"' + fixed("x").encode() + b'","request":', SITE_KEY
            ),
        ),
        statement_vector(
            "messages_null", "messages is null (omit it instead).", "malformed", statement(messages=None)
        ),
        statement_vector(
            "messages_three",
            "Three carried messages; at most two.",
            "malformed",
            statement(messages=["a.b.c"] * 3),
        ),
        statement_vector(
            "values_null",
            "values is null (omit it instead).",
            "malformed",
            statement(holdings=holding(values=None)),
        ),
        statement_vector(
            "holding_purpose_repeated",
            "Two holdings for one purpose.",
            "malformed",
            statement(holdings=[HOLDING, HOLDING]),
        ),
        statement_vector(
            "holding_purpose_trailing_line_break",
            "The purpose id followed by a line break (a pattern's $ may match before one).",
            "malformed",
            statement(holdings=holding(purpose="recommendations\n")),
        ),
        statement_vector(
            "request_trailing_line_break",
            "The request's jti followed by a line break.",
            "malformed",
            statement(request=REQUEST_JTI + "\n"),
        ),
        statement_vector(
            "holding_no_claims",
            "A holding of no claims.",
            "malformed",
            statement(holdings=holding(claims=[])),
        ),
        statement_vector(
            "holding_claims_repeated",
            "age_over_18 listed twice.",
            "malformed",
            statement(holdings=holding(claims=["age_over_18", "age_over_18"])),
        ),
        statement_vector(
            "holding_bad_claim_name",
            "A claim name not spelled like one.",
            "malformed",
            statement(holdings=holding(claims=["Age Over 18"])),
        ),
        statement_vector(
            "holding_recipients_repeated",
            "stock listed twice.",
            "malformed",
            statement(holdings=holding(recipients=["stock", "stock"])),
        ),
        statement_vector(
            "holding_since_after_until",
            "since is after until.",
            "malformed",
            statement(holdings=holding(since=NOW + 1, until=NOW)),
        ),
        statement_vector(
            "holding_too_many_presentations",
            f"{MAX_HOLDING_PRESENTATIONS + 1} presentations in one holding.",
            "malformed",
            statement(holdings=holding(presentations=[fixed(f"jti most {i}") for i in range(65)])),
        ),
        statement_vector(
            "values_unlisted_claim",
            "A value for a claim the holding does not list.",
            "malformed",
            statement(holdings=holding(values={"interests": ["running"]})),
        ),
        statement_vector(
            "values_nested",
            "A value that is an object: claim values are booleans, numbers, strings or lists of strings.",
            "malformed",
            statement(holdings=holding(values={"age_over_18": {"value": True}})),
        ),
    ]
