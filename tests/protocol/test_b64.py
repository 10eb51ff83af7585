"""Strict base64url: exactly one accepted spelling per byte string."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.protocol.b64 import b64url_decode, b64url_encode

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@given(st.binary(max_size=200))
def test_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode(text) == data
    assert b64url_decode(text.encode()) == data


@given(st.text(alphabet=ALPHABET + "+/=. \n", max_size=12))
def test_only_the_canonical_spelling_decodes(text: str) -> None:
    try:
        data = b64url_decode(text)
    except ValueError:
        return
    assert b64url_encode(data) == text


@pytest.mark.parametrize(
    "text",
    ["QQ==", "QQ=", "QUI=", "+A", "/A", "Q Q", "QQ\n", "A", "AAAAA", "QR", "QUJ", "é", "QQ\x00"],
)
def test_refused(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_every_non_canonical_last_character_is_refused() -> None:
    for prefix, unused_bits in (("Q", 4), ("QU", 2)):
        for index, last in enumerate(ALPHABET):
            text = prefix + last
            canonical = index % (1 << unused_bits) == 0
            if canonical:
                assert b64url_encode(b64url_decode(text)) == text
            else:
                # A lenient decoder accepts it as another spelling of the same bytes.
                lenient = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
                assert b64url_encode(lenient) != text
                with pytest.raises(ValueError):
                    b64url_decode(text)
