"""Writing to a user the site knows: make_message (each kind, verified by the vault's own verifier, and a
ValueError naming the rule for bad input), and messages carried by acknowledge_presentation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from tests import example
from vault.protocol import Manifest, SigningKey, key_subject, verify_acknowledgement
from vault.protocol.b64 import b64url_decode
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.message import MAX_MESSAGE_LIFETIME, SiteMessage, verify_message
from vault.site import InMemoryReplayStore, acknowledge_presentation, make_message, verify_presentation

NOW = example.NOW
ORIGIN = example.ORIGIN
SITE_KEY = example.site_key()
SITE_JWK = OkpPublicJwk(**SITE_KEY.public_jwk)
SUBJECT = key_subject(example.pairwise_key().public_jwk)
PROPOSAL = {"purpose": "early-access", "url": ORIGIN + "/offers/early-access"}


def made(manifest: Manifest, **kwargs: Any) -> str:
    arguments: dict[str, Any] = {
        "subject": SUBJECT,
        "kind": "breach",
        "title": "A security incident",
        "body": "Our stock checker lost a file.\nYour country was in it.",
        "now": NOW,
    }
    arguments.update(kwargs)
    return make_message(SITE_KEY, manifest=manifest, **arguments)


def vault_reads(token: str, now: int = NOW) -> SiteMessage:
    return verify_message(token, SITE_JWK, origin=ORIGIN, subject=SUBJECT, now=now)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "proposal", **PROPOSAL},
        {"kind": "change", "purpose": "recommendations", "effective_at": NOW + 30 * 86400},
        {"kind": "deletion", "purpose": "recommendations", "claims": ["sizes.shoe"]},
        {"kind": "breach", "claims": ["location.country"]},
    ],
)
def test_each_kind_reaches_the_vault(manifest: Manifest, kwargs: dict) -> None:
    message = vault_reads(made(manifest, **kwargs))
    assert message.kind == kwargs["kind"]
    assert (message.iss, message.aud, message.iat, message.exp) == (ORIGIN, SUBJECT, NOW, NOW + 7 * 86400)
    assert message.url == kwargs.get("url")
    assert message.claims == (tuple(kwargs["claims"]) if "claims" in kwargs else None)


def test_optional_members_are_left_out(manifest: Manifest) -> None:
    payload = msgspec.json.decode(b64url_decode(made(manifest).split(".")[1].encode()))
    assert set(payload) == {"iss", "aud", "iat", "exp", "jti", "kind", "title", "body"}


def test_jti_is_random_unless_given(manifest: Manifest) -> None:
    assert vault_reads(made(manifest)).jti != vault_reads(made(manifest)).jti
    assert vault_reads(made(manifest, jti="j" * 22)).jti == "j" * 22


def test_lifetime(manifest: Manifest) -> None:
    assert vault_reads(made(manifest, ttl=MAX_MESSAGE_LIFETIME)).exp == NOW + MAX_MESSAGE_LIFETIME
    with pytest.raises(ValueError, match="at most 30 days"):
        made(manifest, ttl=MAX_MESSAGE_LIFETIME + 1)


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"title": "T" * 101}, r"length <= 100 - at `\$.title`"),
        ({"body": "b" * 1001}, r"length <= 1000 - at `\$.body`"),
        ({"title": ""}, r"\$.title"),
        ({"title": "Two\nlines"}, "title has control"),
        ({"body": "Tab\there"}, "body has control"),
        ({"body": "Read \u202eelbat\u202c"}, "body has direction-changing"),
        ({"title": "Early \u2066access\u2069"}, "title has direction-changing"),
        ({"body": " padded"}, "body is empty or starts or ends with white space"),
        ({"kind": "advert"}, r"\$.kind"),
        (
            {"kind": "proposal", "purpose": "early-access"},
            "a proposal names the purpose it offers and the url",
        ),
        ({"kind": "proposal", "url": PROPOSAL["url"]}, "a proposal names the purpose it offers"),
        ({"kind": "proposal", **PROPOSAL, "url": "https://offers.example/x"}, "site's own origin"),
        ({"kind": "change"}, "effective_at"),
        ({"url": "http://shop.example/x"}, "url must be an https URL"),
        ({"claims": ["sizes.shoe", "sizes.shoe"]}, "claims must be unique"),
        ({"claims": ["Shoe Size"]}, r"\$.claims"),
        ({"purpose": "Early Access"}, r"\$.purpose"),
        ({"jti": "short"}, r"\$.jti"),
        ({"subject": "x" * 129}, r"\$.aud"),
    ],
)
def test_bad_input_is_a_value_error_naming_the_rule(manifest: Manifest, kwargs: dict, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        made(manifest, **kwargs)


def test_another_site_key_is_refused(manifest: Manifest) -> None:
    with pytest.raises(ValueError, match="site_key"):
        make_message(
            SigningKey.from_seed(bytes(32)),
            manifest=manifest,
            subject=SUBJECT,
            kind="breach",
            title="t",
            body="b",
            now=NOW,
        )


# --- messages carried by an acknowledgement -------------------------------------------------------------


def acknowledged(manifest: Manifest, issue: Callable[..., str], messages: list[str]) -> tuple[str, str]:
    presentation = issue()
    verified = verify_presentation(
        presentation, manifest=manifest, nonce="n" * 22, now=NOW, replay=InMemoryReplayStore()
    )
    token = acknowledge_presentation(SITE_KEY, verified, manifest=manifest, now=NOW + 1, messages=messages)
    return presentation, token


def test_an_acknowledgement_carries_two_messages(manifest: Manifest, issue: Callable[..., str]) -> None:
    messages = [made(manifest, kind="proposal", **PROPOSAL), made(manifest, kind="change", effective_at=NOW)]
    presentation, token = acknowledged(manifest, issue, messages)
    ack = verify_acknowledgement(token, SITE_JWK, presentation=presentation, now=NOW + 1)
    assert ack.messages == tuple(messages)
    for carried in ack.messages:  # each is verified on its own, addressed as the acknowledgement is
        assert verify_message(carried, SITE_JWK, origin=ack.iss, subject=ack.aud, now=NOW + 1)


def test_an_acknowledgement_without_messages_has_no_member(
    manifest: Manifest, issue: Callable[..., str]
) -> None:
    _, token = acknowledged(manifest, issue, [])
    assert "messages" not in msgspec.json.decode(b64url_decode(token.split(".")[1].encode()))


def test_three_messages_are_refused(manifest: Manifest, issue: Callable[..., str]) -> None:
    """acknowledge_presentation used to sign them, and the vault then refused the acknowledgement itself."""
    with pytest.raises(ValueError, match="at most 2 messages"):
        acknowledged(manifest, issue, [made(manifest)] * 3)


def test_messages_too_long_for_the_acknowledgement_are_refused(
    manifest: Manifest, issue: Callable[..., str]
) -> None:
    long = made(manifest, title="\U0001f600" * 100, body="\U0001f600" * 900)
    assert vault_reads(long)
    with pytest.raises(ValueError, match="8192"):
        acknowledged(manifest, issue, [long, long])
