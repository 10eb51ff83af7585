"""Any change to a valid token makes the verifier refuse it with PresentationInvalid, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests import example
from vault.site import InMemoryReplayStore, PresentationInvalid, verify_presentation

MANIFEST = example.manifest()
NONCE = "n" * 22
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n\x00é{}\"'"


@pytest.fixture(scope="module")
def token() -> str:
    from vault.protocol import issue_presentation

    claims = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42, "interests": ["run"]}
    return issue_presentation(
        example.pairwise_key(),
        MANIFEST,
        "recommendations",
        example.ORIGIN,
        NONCE,
        claims,
        example.NOW,
        "f" * 16,
        recipients=("stock",),
    )


def refused(candidate: str, original: str) -> None:
    assume(candidate != original)
    try:
        verify_presentation(
            candidate, manifest=MANIFEST, nonce=NONCE, now=example.NOW, replay=InMemoryReplayStore()
        )
    except PresentationInvalid:
        return
    raise AssertionError("a modified token was accepted")


def test_the_unmodified_token_is_valid(token: str) -> None:
    verify_presentation(token, manifest=MANIFEST, nonce=NONCE, now=example.NOW, replay=InMemoryReplayStore())


fuzz = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(st.data())
def test_character_replaced(token: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(TOKEN_CHARS))
    refused(token[:position] + replacement + token[position + 1 :], token)


@fuzz
@given(st.data())
def test_bit_flipped_in_decoded_segment(token: str, data: st.DataObject) -> None:
    from vault.protocol.b64 import b64url_decode, b64url_encode

    segments = token.split(".")
    index = data.draw(st.integers(0, 2))
    raw = bytearray(b64url_decode(segments[index]))
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= 1 << data.draw(st.integers(0, 7))
    segments[index] = b64url_encode(bytes(raw))
    refused(".".join(segments), token)


@fuzz
@given(st.data())
def test_truncated(token: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(token)))
    end = data.draw(st.integers(start, len(token)))
    refused(token[:start] + token[end:], token)


@fuzz
@given(st.data())
def test_inserted(token: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(token)))
    inserted = data.draw(st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=8))
    refused(token[:position] + inserted + token[position:], token)


@fuzz
@given(st.permutations(range(3)), st.integers(1, 3))
def test_segments_swapped_or_repeated(token: str, order: list[int], count: int) -> None:
    segments = token.split(".")
    refused(".".join(segments[i] for i in order[:count]), token)
    refused(".".join([*segments, segments[order[0]]]), token)


@fuzz
@given(st.text(alphabet=TOKEN_CHARS, max_size=300))
def test_arbitrary_text(token: str, text: str) -> None:
    refused(text, token)
