"""Site messages (SPEC.md, "Site message"): plain text only, what each kind needs, and the vault's
verifier with every reason it gives."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import example
from vault.protocol import Reason, SigningKey, key_subject
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.errors import MessageInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.jws import MAX_TOKEN_LENGTH, key_id, sign_compact, sign_raw
from vault.protocol.message import (
    MAX_BODY,
    MAX_MESSAGE_LIFETIME,
    MAX_TITLE,
    MESSAGE_TYP,
    SiteMessage,
    message_problem,
    sign_message,
    text_problem,
    verify_message,
)

NOW = example.NOW
ORIGIN = example.ORIGIN
SITE_KEY = example.site_key()
SITE_JWK = OkpPublicJwk(**SITE_KEY.public_jwk)
SUBJECT = key_subject(example.pairwise_key().public_jwk)
OTHER_KEY = SigningKey.from_seed(bytes(range(32)))
BIDI = [chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))]
SEPARATORS = ["\u2028", "\u2029"]
BASE = SiteMessage(
    iss=ORIGIN,
    aud=SUBJECT,
    iat=NOW,
    exp=NOW + 86400,
    jti="m" * 16,
    kind="breach",
    title="A security incident",
    body="Our stock checker lost a file.\nYour country was in it.",
)
PROPOSAL = msgspec.structs.replace(
    BASE, kind="proposal", purpose="early-access", url=ORIGIN + "/offers/early-access"
)


def signed(message: SiteMessage | dict | bytes, key: SigningKey = SITE_KEY, typ: str = MESSAGE_TYP) -> str:
    """Signed without the signer's checks, so any rule can be broken."""
    payload = message if isinstance(message, bytes) else msgspec.json.encode(message)
    return sign_compact(key, typ, payload, embed_jwk=False)


def verify(token: object, *, now: int = NOW, origin: str = ORIGIN, subject: str = SUBJECT) -> SiteMessage:
    return verify_message(token, SITE_JWK, origin=origin, subject=subject, now=now)


def refused(token: object, **kwargs: Any) -> Reason:
    with pytest.raises(MessageInvalid) as raised:
        verify(token, **kwargs)
    return raised.value.reason


def msg(**changes: Any) -> SiteMessage:
    return msgspec.structs.replace(BASE, **changes)


# --- plain text -------------------------------------------------------------------------------------------


@given(st.text(max_size=40), st.sampled_from(BIDI + SEPARATORS), st.text(max_size=40), st.booleans())
def test_text_problem_never_accepts_a_direction_control(
    before: str, tricky: str, after: str, multiline: bool
) -> None:
    assert text_problem(before + tricky + after, multiline=multiline) is not None


@given(st.text(st.characters(categories=["Cc"], exclude_characters="\n"), min_size=1), st.booleans())
def test_text_problem_never_accepts_a_control_character(controls: str, multiline: bool) -> None:
    assert text_problem("a" + controls + "b", multiline=multiline) is not None


@given(st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=50))
def test_letters_digits_and_punctuation_are_plain_text(text: str) -> None:
    assert text_problem(text, multiline=False) is None
    assert text_problem(text + "\n" + text, multiline=True) is None


@pytest.mark.parametrize(
    ("text", "multiline", "accepted"),
    [
        ("Early access", False, True),
        ("Early\naccess", False, False),  # the title is one line
        ("Early\naccess", True, True),
        ("Early\r\naccess", True, False),
        ("Early\taccess", True, False),
        ("Early access\n", True, False),
        (" Early access", False, False),
        ("", False, False),
        ("   ", True, False),
        ("Early \ue000access", False, False),  # private use
        ("Νέα πρόταση", False, True),
        ("عرض جديد", False, True),  # right-to-left letters are fine, direction controls are not
        ("Early \u200bspace", False, True),  # a zero-width space reorders nothing
    ],
)
def test_text_problem(text: str, multiline: bool, accepted: bool) -> None:
    assert (text_problem(text, multiline=multiline) is None) is accepted


# --- the rules of each kind ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (msg(title="Early\naccess"), "title has control"),
        (msg(body="Early \u202eaccess"), "body has direction-changing"),
        (msg(exp=NOW), "exp must follow iat"),
        (msg(exp=NOW + MAX_MESSAGE_LIFETIME + 1), "at most 30 days"),
        (msg(claims=("sizes.shoe", "sizes.shoe")), "claims must be unique"),
        (msg(url="http://shop.example/x"), "url must be an https URL"),
        (msgspec.structs.replace(PROPOSAL, url=None), "a proposal names the purpose it offers"),
        (msgspec.structs.replace(PROPOSAL, purpose=None), "a proposal names the purpose it offers"),
        (msgspec.structs.replace(PROPOSAL, url="https://offers.example/x"), "site's own origin"),
        (msgspec.structs.replace(PROPOSAL, url=ORIGIN + "/offers?x=1"), "site's own origin"),
        (msg(kind="change"), "effective_at"),
    ],
)
def test_message_problem(message: SiteMessage, problem: str) -> None:
    assert problem in (message_problem(message) or "")
    with pytest.raises(ValueError, match=problem):
        sign_message(SITE_KEY, message)
    assert refused(signed(message)) == Reason.MALFORMED


@pytest.mark.parametrize(
    "message",
    [
        BASE,
        PROPOSAL,
        msg(kind="change", purpose="recommendations", effective_at=NOW + 30 * 86400),
        msg(kind="change", effective_at=NOW, url="https://elsewhere.example/changes"),
        msg(kind="deletion", purpose="recommendations", claims=("sizes.shoe",)),
        msg(exp=NOW + MAX_MESSAGE_LIFETIME),
        msgspec.structs.replace(PROPOSAL, url="http://localhost:8080/offer"),
    ],
)
def test_round_trip(message: SiteMessage) -> None:
    origin = "http://localhost:8080" if message.url == "http://localhost:8080/offer" else ORIGIN
    message = msgspec.structs.replace(message, iss=origin)
    token = sign_message(SITE_KEY, message)
    assert verify(token, origin=origin) == message
    header = msgspec.json.decode(b64url_decode(token.split(".")[0].encode()))
    assert header == {"alg": "EdDSA", "typ": MESSAGE_TYP, "kid": key_id(SITE_KEY.verifying_key)}


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"title": "T" * MAX_TITLE}, True),
        ({"title": "T" * (MAX_TITLE + 1)}, False),
        ({"body": "b" * MAX_BODY}, True),
        ({"body": "b" * (MAX_BODY + 1)}, False),
        ({"body": "é" * MAX_BODY}, True),  # characters, not bytes
    ],
)
def test_title_and_body_lengths(changes: dict, accepted: bool) -> None:
    token = signed(msg(**changes))
    if accepted:
        assert verify(token)
    else:
        assert refused(token) == Reason.MALFORMED


# --- the verifier's reasons ---------------------------------------------------------------------------------


def test_wrong_issuer_audience_and_times() -> None:
    token = signed(BASE)
    assert refused(token, origin="https://other.example") == Reason.WRONG_ISSUER
    assert refused(token, subject=key_subject(OTHER_KEY.public_jwk)) == Reason.WRONG_AUDIENCE
    assert refused(token, now=NOW - 61) == Reason.NOT_YET_VALID
    assert verify(token, now=NOW - 60)
    assert verify(token, now=NOW + 86400 + 59)
    assert refused(token, now=NOW + 86400 + 60) == Reason.EXPIRED


def test_token_refusals() -> None:
    token = signed(BASE)
    head, body, signature = token.split(".")
    assert refused(signed(BASE, OTHER_KEY)) == Reason.BAD_KEY
    assert refused(f"{head}.{signed(msg(title='Other')).split('.')[1]}.{signature}") == Reason.BAD_SIGNATURE
    assert refused(signed(BASE, typ="vault-ack+jwt")) == Reason.WRONG_TYP
    none = b64url_encode(msgspec.json.encode({"alg": "none", "typ": MESSAGE_TYP})) + f".{body}."
    assert refused(none) == Reason.UNSUPPORTED_ALG
    assert refused(signed(msg(body="b" * 990, title="t" * 100, iss="x" * 5000))) == Reason.TOO_LARGE
    assert refused(12) == Reason.MALFORMED
    wrong_curve = OkpPublicJwk(kty="OKP", crv="X25519", x=SITE_JWK.x)
    with pytest.raises(MessageInvalid) as raised:
        verify_message(token, wrong_curve, origin=ORIGIN, subject=SUBJECT, now=NOW)
    assert raised.value.reason == Reason.BAD_KEY


@pytest.mark.parametrize(
    "payload",
    [
        msgspec.json.encode(BASE).replace(b'"kind":', b'"kind":"proposal","kind":', 1),  # repeated member
        msgspec.json.encode(BASE)[:-1] + b',"purpose":null}',  # explicit null
        msgspec.json.encode(BASE)[:-1] + b',"html":"<b>"}',  # unknown member
        msgspec.json.encode(msg(kind="advert")),
        msgspec.json.encode(msg(jti="short")),
        b"[]",
        b"not json",
    ],
)
def test_malformed(payload: bytes) -> None:
    assert refused(signed(payload)) == Reason.MALFORMED


def test_sign_message_refuses_a_token_too_long() -> None:
    """Every member within its bounds, yet four-byte characters make the token longer than 8192."""
    long = msg(title="\U0001f600" * MAX_TITLE, body="\U0001f600" * MAX_BODY, url=ORIGIN + "/" + "u" * 2000)
    assert message_problem(long) is None
    with pytest.raises(ValueError, match=str(MAX_TOKEN_LENGTH)):
        sign_message(SITE_KEY, long)
    assert refused(signed(long)) == Reason.TOO_LARGE


# --- strict decoding never crashes ---------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_any_signed_bytes_are_a_message_or_refused(payload: bytes) -> None:
    with contextlib.suppress(MessageInvalid):
        verify(signed(payload))


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(sorted(BASE.__struct_fields__)), JSON, max_size=12))
def test_any_signed_json_object_is_a_message_or_refused(changes: dict) -> None:
    payload = dict(msgspec.to_builtins(BASE), **changes)
    with contextlib.suppress(MessageInvalid):
        verify(signed(payload))


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_any_string_is_a_token_or_refused(token: str) -> None:
    with pytest.raises(MessageInvalid):
        verify(token)


def test_a_message_as_raw_bytes() -> None:
    """sign_raw (used for vectors) and sign_compact give one token for one payload."""
    header = msgspec.json.encode({"alg": "EdDSA", "typ": MESSAGE_TYP, "kid": key_id(SITE_KEY.verifying_key)})
    assert sign_raw(SITE_KEY, header, msgspec.json.encode(BASE)) == signed(BASE)


@pytest.mark.parametrize(
    "changes", [{"jti": "m" * 16 + "\n"}, {"purpose": "recommendations\n"}, {"claims": ("sizes.shoe\n",)}]
)
def test_ids_ending_in_a_line_break_are_malformed(changes: dict) -> None:
    """msgspec's patterns let `$` match before a final line break; SPEC.md's ids do not."""
    message = msg(**changes)
    assert message_problem(message) == "jti, purpose and claim names must not end in a line break"
    assert refused(signed(message)) == Reason.MALFORMED
