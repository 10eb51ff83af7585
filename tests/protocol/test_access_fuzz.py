"""Strict decoding of access requests and statements never crashes: whatever a site signs (or a vault, for
the site's side), the verifier returns or refuses with a reason."""

from __future__ import annotations

import contextlib

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.protocol.test_access import HOLDING, NOW, SITE_JWK, VAULT_KEY, request, signed, statement_payload
from vault.protocol.access import ACCESS_REQUEST_TYP, open_access_request, verify_access_statement
from vault.protocol.b64 import b64url_decode
from vault.protocol.errors import StatementInvalid, TokenInvalid
from vault.protocol.jws import sign_raw

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
SENT = request()


def verify(token: str) -> None:
    with contextlib.suppress(StatementInvalid):
        verify_access_statement(token, SITE_JWK, request=SENT, now=NOW + 1)


@settings(max_examples=100)
@given(st.binary(max_size=300))
def test_any_signed_bytes_are_a_statement_or_refused(payload: bytes) -> None:
    verify(signed(payload))


@settings(max_examples=100)
@given(st.dictionaries(st.sampled_from(["iss", "aud", "iat", "request", "holdings", "messages", "x"]), JSON))
def test_any_signed_statement_object_is_verified_or_refused(changes: dict) -> None:
    verify(signed(dict(msgspec.to_builtins(statement_payload()), **changes)))


@settings(max_examples=100)
@given(st.dictionaries(st.sampled_from([*HOLDING.__struct_fields__, "x"]), JSON))
def test_any_holding_is_verified_or_refused(changes: dict) -> None:
    holding = dict(msgspec.to_builtins(HOLDING), **changes)
    verify(signed(dict(msgspec.to_builtins(statement_payload()), holdings=[holding])))


@settings(max_examples=40)
@given(st.integers(min_value=2, max_value=5_000), st.sampled_from(["values", "unknown member", "messages"]))
def test_nesting_of_any_depth_is_refused(depth: int, where: str) -> None:
    """Deep nesting in `values` once crashed strict decoding (RecursionError); nowhere may it now. (`[]`
    alone is a valid list.)"""
    nested = b"[" * depth + b"]" * depth
    payload = msgspec.json.encode(statement_payload())
    if where == "values":
        end = b'"presentations":["' + b"p" * 16 + b'"]'
        payload = payload.replace(end, end + b',"values":{"age_over_18":' + nested + b"}", 1)
    else:
        payload = payload[:-1] + (b',"x":' if where == "unknown member" else b',"messages":') + nested + b"}"
    with pytest.raises(StatementInvalid):
        verify_access_statement(signed(payload), SITE_JWK, request=SENT, now=NOW + 1)


@settings(max_examples=100)
@given(st.dictionaries(st.sampled_from(["iss", "sub", "aud", "iat", "exp", "jti", "purposes", "x"]), JSON))
def test_any_signed_request_object_opens_or_is_refused(changes: dict) -> None:
    header = b64url_decode(SENT.split(".")[0].encode())
    payload = msgspec.json.decode(b64url_decode(SENT.split(".")[1].encode()))
    token = sign_raw(VAULT_KEY, header, msgspec.json.encode(dict(payload, **changes)))
    with contextlib.suppress(TokenInvalid):
        header_opened, _ = open_access_request(token)
        assert header_opened.typ == ACCESS_REQUEST_TYP
