"""Any change to a valid access request, access statement or site message makes its verifier refuse it
with the verifier's one exception type, and nothing else (no crash, no acceptance)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests import example
from vault.protocol import key_subject
from vault.protocol.access import sign_access_request, verify_access_statement
from vault.protocol.errors import AccessRequestInvalid, MessageInvalid, StatementInvalid, TokenInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.message import verify_message
from vault.site import (
    HeldRecord,
    InMemoryReplayStore,
    answer_access_request,
    make_message,
    verify_access_request,
)

MANIFEST = example.manifest()
NOW = example.NOW
SITE_KEY = example.site_key()
SITE_JWK = OkpPublicJwk(**SITE_KEY.public_jwk)
SUBJECT = key_subject(example.pairwise_key().public_jwk)
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n\x00é{}\"'"
REQUEST = sign_access_request(example.pairwise_key(), origin=example.ORIGIN, now=NOW, jti="q" * 16)


def site_reads_request(token: str) -> None:
    verify_access_request(token, manifest=MANIFEST, now=NOW, replay=InMemoryReplayStore())


def vault_reads_statement(token: str) -> None:
    verify_access_statement(token, SITE_JWK, request=REQUEST, now=NOW + 1)


def vault_reads_message(token: str) -> None:
    verify_message(token, SITE_JWK, origin=example.ORIGIN, subject=SUBJECT, now=NOW)


def statement() -> str:
    verified = verify_access_request(REQUEST, manifest=MANIFEST, now=NOW, replay=InMemoryReplayStore())
    held = [
        HeldRecord(
            presentation="p" * 16,
            purpose="recommendations",
            claims={"age_over_18": True, "sizes.shoe": 42},
            received_at=NOW - 86400,
            keep_until=NOW + 86400,
            recipients=("stock",),
        )
    ]
    return answer_access_request(
        SITE_KEY, verified, manifest=MANIFEST, now=NOW + 1, held=held, show_values=True
    )


def message() -> str:
    return make_message(
        SITE_KEY,
        manifest=MANIFEST,
        subject=SUBJECT,
        kind="proposal",
        title="Early access",
        body="Share your interests.\nGet early access.",
        now=NOW,
        jti="m" * 16,
        purpose="early-access",
        url=example.ORIGIN + "/offers",
    )


CASES: list[tuple[str, Callable[[], str], Callable[[str], None], type[TokenInvalid]]] = [
    ("request", lambda: REQUEST, site_reads_request, AccessRequestInvalid),
    ("statement", statement, vault_reads_statement, StatementInvalid),
    ("message", message, vault_reads_message, MessageInvalid),
]


@pytest.mark.parametrize(("name", "build", "verify", "error"), CASES, ids=[case[0] for case in CASES])
def test_the_unmodified_token_is_valid(name: str, build: Callable, verify: Callable, error: type) -> None:
    verify(build())


@pytest.mark.parametrize(("name", "build", "verify", "error"), CASES, ids=[case[0] for case in CASES])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_change_is_refused(
    name: str, build: Callable, verify: Callable, error: type, data: st.DataObject
) -> None:
    token = build()
    position = data.draw(st.integers(0, len(token) - 1))
    how = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    char = data.draw(st.sampled_from(TOKEN_CHARS))
    changed = {
        "replace": token[:position] + char + token[position + 1 :],
        "insert": token[:position] + char + token[position:],
        "delete": token[:position] + token[position + 1 :],
    }[how]
    assume(changed != token)
    with pytest.raises(error):
        verify(changed)
