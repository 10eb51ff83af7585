"""Duplicate JSON keys are refused wherever they are, however they are spelled."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.protocol.strictjson import _STRING_TOKEN, DuplicateKey, decode_unique, written_member_count

ANY = msgspec.json.Decoder()


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":1,"a":2}',
        b'{"a":1,"b":{"c":1,"c":1}}',
        b'{"a":[{"x":1},{"x":1,"x":2}]}',
        b'{"a":1,"\\u0061":2}',
        b'{"a" : 1 , "a"\n:\t2}',
        b'{"k\\"":1,"k\\u0022":2}',
        b'{"\\\\":1,"\\u005c":2}',
    ],
)
def test_duplicates_are_refused(text: bytes) -> None:
    with pytest.raises(DuplicateKey):
        decode_unique(text, ANY)


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":"x:y","b":"\\":"}',
        b'{"a":"\\\\","b":":"}',
        b'{"urn:a:b":1,"c":["d:e","f"]}',
        b'{"a":{"a":{"a":1}}}',
        b'{"a" :1,"b": [ {"a" :2} ]}',
        b"[]",
        b'"just a string: with a colon"',
    ],
)
def test_unique_keys_are_accepted(text: bytes) -> None:
    assert decode_unique(text, ANY) == json.loads(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


def members(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(members(item) for item in value.values())
    if isinstance(value, list):
        return sum(members(item) for item in value)
    return 0


@given(json_values, st.booleans(), st.booleans())
def test_member_count_matches_both_paths(value: Any, ascii_only: bool, spaced: bool) -> None:
    separators = (", ", " : ") if spaced else (",", ":")
    text = json.dumps(value, ensure_ascii=ascii_only, separators=separators).encode()
    assert written_member_count(text) == members(value)
    assert _STRING_TOKEN.findall(text).count(b":") == members(value)
    assert decode_unique(text, ANY) == value


@given(st.dictionaries(st.text(max_size=6), st.integers(), min_size=1, max_size=5), st.data())
def test_any_repeated_key_is_found(value: dict, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(value)))
    body = json.dumps(value)[1:-1]
    repeated = "{" + body + ", " + json.dumps(key) + ": 0}"
    with pytest.raises(DuplicateKey):
        decode_unique(repeated.encode(), ANY)
