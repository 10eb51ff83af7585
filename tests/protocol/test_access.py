"""Access requests and statements (SPEC.md, "Access request", "Access statement"): the vault signs a
request with its pairwise key, and verifies the site's signed answer to it."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tests import example
from vault.protocol import Reason, SigningKey, key_subject
from vault.protocol.access import (
    ACCESS_REQUEST_TYP,
    ACCESS_STATEMENT_TYP,
    MAX_HOLDING_PRESENTATIONS,
    MAX_REQUEST_LIFETIME,
    MAX_STATEMENT_LENGTH,
    AccessStatement,
    Holding,
    open_access_request,
    sign_access_request,
    sign_access_statement,
    statement_problem,
    verify_access_statement,
)
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.errors import IssueError, StatementInvalid, TokenInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.jws import key_id, sign_compact, sign_raw
from vault.protocol.message import MESSAGE_TYP

NOW = example.NOW
ORIGIN = example.ORIGIN
SITE_KEY = example.site_key()
SITE_JWK = OkpPublicJwk(**SITE_KEY.public_jwk)
VAULT_KEY = example.pairwise_key()
SUBJECT = key_subject(VAULT_KEY.public_jwk)
OTHER_KEY = SigningKey.from_seed(bytes(range(32)))
JTI = "r" * 16
HOLDING = Holding(
    purpose="recommendations",
    claims=("age_over_18", "location.country"),
    since=NOW - 86400,
    until=NOW + 29 * 86400,
    recipients=("stock",),
    presentations=("p" * 16,),
)


def request(**changes: Any) -> str:
    arguments: dict[str, Any] = {"origin": ORIGIN, "now": NOW, "jti": JTI}
    arguments.update(changes)
    return sign_access_request(VAULT_KEY, **arguments)


def statement_payload(**changes: Any) -> AccessStatement:
    base = AccessStatement(iss=ORIGIN, aud=SUBJECT, iat=NOW + 1, request=JTI, holdings=(HOLDING,))
    return msgspec.structs.replace(base, **changes)


def signed(payload: AccessStatement | dict | bytes, key: SigningKey = SITE_KEY, typ: str = "") -> str:
    """Signed as the site would, without the signer's own checks (so any rule can be broken)."""
    if not isinstance(payload, bytes):
        payload = msgspec.json.encode(payload)
    return sign_compact(key, typ or ACCESS_STATEMENT_TYP, payload, embed_jwk=False)


def verify(token: str, *, sent: str | None = None, now: int = NOW + 1, **kwargs: Any) -> AccessStatement:
    return verify_access_statement(token, SITE_JWK, request=sent or request(), now=now, **kwargs)


def refused(token: str, **kwargs: Any) -> Reason:
    with pytest.raises(StatementInvalid) as raised:
        verify(token, **kwargs)
    return raised.value.reason


def payload_of(token: str) -> dict:
    return msgspec.json.decode(b64url_decode(token.split(".")[1].encode()))


# --- the request -----------------------------------------------------------------------------------------


def test_request_round_trip() -> None:
    header, opened = open_access_request(request(purposes=["recommendations"]))
    assert header.typ == ACCESS_REQUEST_TYP
    assert header.has_jwk and header.kid is None
    assert header.subject == SUBJECT
    assert (opened.iss, opened.sub, opened.aud) == (SUBJECT, SUBJECT, ORIGIN)
    assert (opened.iat, opened.exp, opened.jti) == (NOW, NOW + 300, JTI)
    assert opened.purposes == ("recommendations",)


def test_request_without_purposes_asks_about_everything() -> None:
    assert payload_of(request())["purposes"] == []


@pytest.mark.parametrize(
    ("ttl", "accepted"), [(1, True), (MAX_REQUEST_LIFETIME, True), (0, False), (601, False)]
)
def test_request_lifetime_is_at_most_600_seconds(ttl: int, accepted: bool) -> None:
    if accepted:
        assert payload_of(request(ttl=ttl))["exp"] == NOW + ttl
    else:
        with pytest.raises(IssueError) as raised:
            request(ttl=ttl)
        assert raised.value.reason == "bad_time"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"origin": "https://shop.example/"}, "wrong_audience"),
        ({"origin": "shop.example"}, "wrong_audience"),
        ({"jti": "short"}, "bad_jti"),
        ({"jti": "r" * 15 + "!"}, "bad_jti"),
        ({"purposes": ["recommendations", "recommendations"]}, "unknown_purpose"),
        ({"purposes": ["Recommendations"]}, "unknown_purpose"),
        ({"purposes": [f"p{i}" for i in range(33)]}, "unknown_purpose"),
        ({"now": True}, "bad_time"),
        ({"now": float(NOW)}, "bad_time"),
        ({"now": -1}, "bad_time"),
    ],
)
def test_the_vault_refuses_to_sign_a_bad_request(changes: dict, reason: str) -> None:
    with pytest.raises(IssueError) as raised:
        request(**changes)
    assert raised.value.reason == reason


def test_open_refuses_repeated_purposes_even_when_signed() -> None:
    token = request(purposes=["recommendations", "age-check"])
    payload = dict(payload_of(token), purposes=["age-check", "age-check"])
    header = b64url_decode(token.split(".")[0].encode())
    forged = sign_raw(VAULT_KEY, header, msgspec.json.encode(payload))
    with pytest.raises(TokenInvalid) as raised:
        open_access_request(forged)
    assert raised.value.reason == Reason.MALFORMED


def test_open_refuses_a_statement_or_a_message_as_a_request() -> None:
    for typ in (ACCESS_STATEMENT_TYP, MESSAGE_TYP):
        with pytest.raises(TokenInvalid) as raised:
            open_access_request(signed(statement_payload(), typ=typ))
        assert raised.value.reason == Reason.WRONG_TYP


# --- the statement ---------------------------------------------------------------------------------------


def test_statement_round_trip() -> None:
    token = sign_access_statement(SITE_KEY, statement_payload())
    verified = verify(token)
    assert verified == statement_payload()
    header = msgspec.json.decode(b64url_decode(token.split(".")[0].encode()))
    assert header == {"alg": "EdDSA", "typ": ACCESS_STATEMENT_TYP, "kid": key_id(SITE_KEY.verifying_key)}


def test_statement_with_values_and_messages_round_trip() -> None:
    holding = msgspec.structs.replace(HOLDING, values={"age_over_18": True, "location.country": "NL"})
    payload = statement_payload(holdings=(holding,), messages=("a.b.c", "d.e.f"))
    assert verify(sign_access_statement(SITE_KEY, payload)) == payload


def test_an_empty_statement_is_valid() -> None:
    assert verify(signed(statement_payload(holdings=()))).holdings == ()


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (signed(statement_payload(), OTHER_KEY), Reason.BAD_KEY),  # kid names another key
        (signed(statement_payload(), typ=MESSAGE_TYP), Reason.WRONG_TYP),
        (signed(statement_payload(iss="https://evil.example")), Reason.WRONG_ISSUER),
        (signed(statement_payload(aud=key_subject(OTHER_KEY.public_jwk))), Reason.WRONG_AUDIENCE),
        (signed(statement_payload(iat=NOW + 1 + 61)), Reason.NOT_YET_VALID),
        (signed(statement_payload(request="x" * 16)), Reason.WRONG_REQUEST),
        (signed(statement_payload(iat=NOW - 61)), Reason.WRONG_REQUEST),  # dated before the request
    ],
)
def test_statement_refusals(token: str, reason: Reason) -> None:
    assert refused(token) == reason


def test_bad_signature() -> None:
    token = signed(statement_payload())
    head, _, signature = token.split(".")
    body = signed(statement_payload(holdings=())).split(".")[1]
    assert refused(f"{head}.{body}.{signature}") == Reason.BAD_SIGNATURE


def test_alg_none() -> None:
    head = b64url_decode(signed(statement_payload()).split(".")[0].encode())
    header = dict(msgspec.json.decode(head), alg="none")
    body = signed(statement_payload()).split(".")[1]
    assert refused(f"{b64url_encode(msgspec.json.encode(header))}.{body}.") == Reason.UNSUPPORTED_ALG


def test_skew_boundaries() -> None:
    assert verify(signed(statement_payload(iat=NOW + 1 + 60)))
    assert verify(signed(statement_payload(iat=NOW - 60)))


def test_only_the_purposes_asked_about() -> None:
    asked = request(purposes=["age-check"])
    age = msgspec.structs.replace(HOLDING, purpose="age-check", claims=("age_over_18",), recipients=())
    assert verify(signed(statement_payload(holdings=(age,))), sent=asked)
    assert verify(signed(statement_payload(holdings=())), sent=asked)
    assert refused(signed(statement_payload(holdings=(age, HOLDING))), sent=asked) == Reason.WRONG_REQUEST
    # A request that names no purpose asks about every one.
    assert verify(signed(statement_payload(holdings=(age, HOLDING))))


def test_request_must_be_one_the_vault_signed() -> None:
    with pytest.raises(ValueError, match="access request"):
        verify(signed(statement_payload()), sent="not a token")


@pytest.mark.parametrize(
    ("holding", "problem"),
    [
        ({"claims": ("age_over_18", "age_over_18")}, "claims must be unique"),
        ({"recipients": ("stock", "stock")}, "recipients must be unique"),
        ({"presentations": ("p" * 16, "p" * 16)}, "presentations must be unique"),
        ({"values": {"sizes.shoe": 42}}, "values are given only for claims it lists"),
        ({"since": NOW, "until": NOW - 1}, "since is after until"),
    ],
)
def test_statement_rules(holding: dict, problem: str) -> None:
    payload = statement_payload(holdings=(msgspec.structs.replace(HOLDING, **holding),))
    assert problem in (statement_problem(payload) or "")
    with pytest.raises(ValueError, match=problem):
        sign_access_statement(SITE_KEY, payload)
    assert refused(signed(payload)) == Reason.MALFORMED


def test_one_holding_per_purpose() -> None:
    payload = statement_payload(holdings=(HOLDING, HOLDING))
    assert statement_problem(payload) == "one holding per purpose"
    assert refused(signed(payload)) == Reason.MALFORMED


def as_dict(payload: AccessStatement) -> dict:
    return msgspec.to_builtins(payload)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p | {"exp": NOW},  # unknown member
        lambda p: p | {"messages": None},  # explicit null for an optional member
        lambda p: p | {"messages": ["a.b.c"] * 3},  # at most two carried messages
        lambda p: p | {"holdings": [p["holdings"][0] | {"claims": []}]},
        lambda p: p | {"holdings": [p["holdings"][0] | {"values": None}]},
        lambda p: p | {"holdings": [p["holdings"][0] | {"claims": ["Bad Name"]}]},
        lambda p: p | {"holdings": [p["holdings"][0] | {"presentations": [f"{i:016d}" for i in range(65)]}]},
        lambda p: p | {"holdings": [p["holdings"][0] | {"values": {"age_over_18": {"nested": True}}}]},
        lambda p: {k: v for k, v in p.items() if k != "request"},
    ],
)
def test_malformed_statements(change: Any) -> None:
    assert refused(signed(change(as_dict(statement_payload())))) == Reason.MALFORMED


def test_two_carried_messages_are_accepted_three_are_not() -> None:
    assert verify(signed(statement_payload(messages=("a.b.c", "d.e.f")))).messages == ("a.b.c", "d.e.f")
    with pytest.raises(ValueError):
        sign_access_statement(SITE_KEY, statement_payload(messages=("a.b.c",) * 3))


def test_duplicate_member() -> None:
    text = msgspec.json.encode(statement_payload())
    twice = text.replace(b'"request":', b'"request":"' + b"x" * 16 + b'","request":', 1)
    assert refused(signed(twice)) == Reason.MALFORMED


def test_64_presentations_per_holding() -> None:
    jtis = tuple(f"{i:016d}" for i in range(MAX_HOLDING_PRESENTATIONS))
    payload = statement_payload(holdings=(msgspec.structs.replace(HOLDING, presentations=jtis),))
    assert len(verify(sign_access_statement(SITE_KEY, payload)).holdings[0].presentations) == 64


# --- the length limit: 32768 characters, beyond every other token's 8192 ---------------------------------


def statement_of_length(length: int) -> str | None:
    """A signed statement exactly `length` characters long (None if no padding gives that length: base64url
    skips one length in four)."""
    jtis = tuple(f"{n:064d}" for n in range(MAX_HOLDING_PRESENTATIONS))

    def token(full: int, partial: int, padding: int) -> str:
        holdings = [
            msgspec.structs.replace(HOLDING, purpose=f"purpose-{i:02d}", presentations=jtis)
            for i in range(full)
        ]
        first, second = "x" * min(padding, 256), "y" * max(padding - 256, 0)
        holdings.append(
            msgspec.structs.replace(
                HOLDING,
                claims=("family_name", "given_name"),
                presentations=jtis[:partial],
                values={"family_name": first, "given_name": second},
            )
        )
        return signed(statement_payload(holdings=tuple(holdings)))

    full = 0
    while len(token(full + 1, 0, 0)) < length:
        full += 1
    partial = 0
    while partial < len(jtis) and len(token(full, partial + 1, 0)) < length:
        partial += 1
    for padding in range(513):
        built = token(full, partial, padding)
        if len(built) >= length:
            return built if len(built) == length else None
    return None


@pytest.fixture(scope="module")
def longest() -> str:
    for length in (MAX_STATEMENT_LENGTH, MAX_STATEMENT_LENGTH - 1):
        token = statement_of_length(length)
        if token is not None:
            return token
    raise AssertionError("no padding reaches the limit")


def test_a_statement_of_the_longest_length_verifies(longest: str) -> None:
    assert len(longest) >= MAX_STATEMENT_LENGTH - 1
    assert verify(longest).holdings


def test_one_character_more_is_too_large(longest: str) -> None:
    over = statement_of_length(MAX_STATEMENT_LENGTH + 1) or statement_of_length(MAX_STATEMENT_LENGTH + 2)
    assert over is not None
    assert refused(over) == Reason.TOO_LARGE


def test_the_site_cannot_sign_a_statement_too_long() -> None:
    jtis = tuple(f"{n:064d}" for n in range(64))
    holdings = tuple(
        msgspec.structs.replace(HOLDING, purpose=f"purpose-{i:02d}", presentations=jtis) for i in range(32)
    )
    with pytest.raises(ValueError, match="longer than 32768"):
        sign_access_statement(SITE_KEY, statement_payload(holdings=holdings))


# --- regressions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 600, 5000])
def test_deeply_nested_values_are_malformed_not_a_crash(depth: int) -> None:
    """A site's signed statement with `values` nested deep made strict decoding raise RecursionError."""
    payload = msgspec.json.encode(statement_payload())
    nested = b"[" * depth + b"]" * depth
    holding = b'"presentations":["' + b"p" * 16 + b'"]'
    payload = payload.replace(holding, holding + b',"values":{"age_over_18":' + nested + b"}", 1)
    assert refused(signed(payload)) == Reason.MALFORMED


@pytest.mark.parametrize(
    "holding",
    [
        {"claims": ()},
        {"claims": ("Bad Name",)},
        {"purpose": "Not An Id"},
        {"presentations": ("short",)},
        {"values": {"age_over_18": {"nested": True}}},
    ],
)
def test_the_site_cannot_sign_what_the_vault_would_refuse(holding: dict) -> None:
    """sign_access_statement checked its own rules but not the schema's, and signed statements the vault
    then refused as malformed."""
    payload = statement_payload(holdings=(msgspec.structs.replace(HOLDING, **holding),))
    assert refused(signed(payload)) == Reason.MALFORMED
    with pytest.raises(ValueError):
        sign_access_statement(SITE_KEY, payload)


def test_ids_ending_in_a_line_break_are_malformed() -> None:
    """msgspec's patterns let `$` match before a final line break: a request or statement naming
    "recommendations\\n" decoded, though SPEC.md's purpose ids (and the JavaScript check) refuse it."""
    token = request(purposes=["recommendations"])
    header = b64url_decode(token.split(".")[0].encode())
    for changes in ({"jti": JTI + "\n"}, {"purposes": ["recommendations\n"]}):
        forged = sign_raw(VAULT_KEY, header, msgspec.json.encode(dict(payload_of(token), **changes)))
        with pytest.raises(TokenInvalid) as raised:
            open_access_request(forged)
        assert raised.value.reason == Reason.MALFORMED
    for holding in (
        {"purpose": "recommendations\n"},
        {"claims": ("age_over_18\n",)},
        {"recipients": ("stock\n",)},
    ):
        payload = statement_payload(holdings=(msgspec.structs.replace(HOLDING, **holding),))
        assert refused(signed(payload)) == Reason.MALFORMED
        with pytest.raises(ValueError, match="line break"):
            sign_access_statement(SITE_KEY, payload)
    assert refused(signed(statement_payload(request=JTI + "\n"))) == Reason.MALFORMED
