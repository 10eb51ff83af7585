"""Vectors of the site message (SPEC.md, "Site message"), for a vault's verifier: one file per case in
vault/protocol/vectors_message/; and the acknowledgements that carry messages (vectors_acknowledgement/)."""

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
    SITE_JWK,
    SITE_KEY,
    VAULT_SUBJECT,
    case,
    changed,
    fixed,
    jsonb,
    payload_of,
    site_signed,
)

from tests import example
from vault.protocol.access import ACCESS_STATEMENT_TYP
from vault.protocol.b64 import b64url_encode
from vault.protocol.jws import key_id
from vault.protocol.message import DEFAULT_MAX_SKEW as MESSAGE_MAX_SKEW
from vault.protocol.message import (
    MAX_BODY,
    MAX_MESSAGE_LIFETIME,
    MAX_TITLE,
    MESSAGE_TYP,
    SiteMessage,
    sign_message,
)

MESSAGE_HEADER = {"alg": "EdDSA", "typ": MESSAGE_TYP, "kid": ACK_HEADER["kid"]}
WEEK = 7 * 86400
PROPOSAL = {
    "iss": example.ORIGIN,
    "aud": VAULT_SUBJECT,
    "iat": NOW,
    "exp": NOW + WEEK,
    "jti": fixed("jti message proposal"),
    "kind": "proposal",
    "title": "Early access to our sales",
    "body": "Tell us your interests and we will show you our sales two days before everyone else.\n"
    "Accepting opens our page, where your vault asks you as usual.",
    "purpose": "early-access",
    "url": example.ORIGIN + "/offers/early-access",
}
CHANGE = {
    "iss": example.ORIGIN,
    "aud": VAULT_SUBJECT,
    "iat": NOW,
    "exp": NOW + WEEK,
    "jti": fixed("jti message change"),
    "kind": "change",
    "title": "We will keep recommendations data for 60 days",
    "body": "From 1 March 2026 we keep what you share for recommendations for 60 days instead of 30.",
    "purpose": "recommendations",
    "effective_at": NOW + 59 * 86400,
}
DELETION = {
    "iss": example.ORIGIN,
    "aud": VAULT_SUBJECT,
    "iat": NOW,
    "exp": NOW + WEEK,
    "jti": fixed("jti message deletion"),
    "kind": "deletion",
    "title": "We erased your shoe size",
    "body": "As you asked, we erased your shoe size and told our analytics partner to do the same.",
    "purpose": "recommendations",
    "claims": ["sizes.shoe"],
}
BREACH = {
    "iss": example.ORIGIN,
    "aud": VAULT_SUBJECT,
    "iat": NOW,
    "exp": NOW + WEEK,
    "jti": fixed("jti message breach"),
    "kind": "breach",
    "title": "A security incident at our stock checker",
    "body": "On 30 December our stock checker lost a file with delivery countries.\nYour country was in it.",
    "claims": ["location.country"],
}


def message(base: dict = PROPOSAL, header: dict = MESSAGE_HEADER, key: Any = SITE_KEY, **changes: Any) -> str:
    return site_signed(header, changed(base, **changes), key)


def signed_message(base: dict) -> str:
    token = sign_message(SITE_KEY, msgspec.convert(base, SiteMessage))
    assert token == message(base)
    return token


def message_vector(
    name: str, comment: str, expect: str, token: str, *, now: int = NOW, site_key: dict = SITE_JWK
) -> dict:
    inputs = {
        "token": token,
        "site_key": site_key,
        "origin": example.ORIGIN,
        "subject": VAULT_SUBJECT,
        "now": now,
        "max_skew": MESSAGE_MAX_SKEW,
    }
    output = {"message": payload_of(token)} if expect == "valid" else None
    return case(name, comment, expect, inputs, output)


def message_vectors() -> list[dict]:
    base = signed_message(PROPOSAL)
    head, body, signature = base.split(".")
    return [
        message_vector(
            "valid_proposal",
            "A proposal: a new purpose and what the user gets for it; accepting opens the url.",
            "valid",
            base,
        ),
        message_vector(
            "valid_change", "A change notice, with the date it takes effect.", "valid", signed_message(CHANGE)
        ),
        message_vector(
            "valid_deletion",
            "A deletion confirmation naming the claim erased.",
            "valid",
            signed_message(DELETION),
        ),
        message_vector("valid_breach", "A breach notice.", "valid", signed_message(BREACH)),
        message_vector(
            "valid_change_link_elsewhere",
            "A change notice may link to another https origin (only a proposal's url must be the site's).",
            "valid",
            message(CHANGE, url="https://stock-new.example/privacy"),
        ),
        message_vector(
            "valid_longest_title",
            f"A title of {MAX_TITLE} characters.",
            "valid",
            message(title="T" * MAX_TITLE),
        ),
        message_vector(
            "valid_longest_body",
            f"A body of {MAX_BODY} characters, line breaks included.",
            "valid",
            message(body=("b" * 99 + "\n") * 9 + "b" * 100),
        ),
        message_vector(
            "valid_non_latin_text",
            "Plain text in any script (here Greek and a right-to-left script without direction controls).",
            "valid",
            message(title="Νέα πρόταση", body="عرض جديد لك"),
        ),
        message_vector(
            "valid_longest_lifetime",
            "exp - iat is exactly 30 days.",
            "valid",
            message(exp=NOW + MAX_MESSAGE_LIFETIME),
        ),
        message_vector(
            "valid_issued_at_skew_limit",
            "iat is max_skew seconds ahead of the vault's clock.",
            "valid",
            base,
            now=NOW - MESSAGE_MAX_SKEW,
        ),
        message_vector(
            "valid_last_second",
            "One second before exp + max_skew.",
            "valid",
            base,
            now=NOW + WEEK + MESSAGE_MAX_SKEW - 1,
        ),
        message_vector("too_large", "Longer than 8192 characters.", "too_large", message(iss=HUGE)),
        message_vector(
            "alg_none",
            "alg none with an empty signature.",
            "unsupported_alg",
            b64url_encode(jsonb(dict(MESSAGE_HEADER, alg="none"))) + f".{body}.",
        ),
        message_vector("wrong_typ_ack", "An acknowledgement's typ.", "wrong_typ", message(header=ACK_HEADER)),
        message_vector(
            "wrong_typ_statement",
            "An access statement's typ.",
            "wrong_typ",
            message(header=dict(MESSAGE_HEADER, typ=ACCESS_STATEMENT_TYP)),
        ),
        message_vector(
            "unknown_crit",
            "crit names an extension.",
            "unsupported_crit",
            message(header=dict(MESSAGE_HEADER, crit=["vault-extension"])),
        ),
        message_vector(
            "jwk_instead_of_kid",
            "The site key embedded as jwk: messages name it by kid.",
            "malformed",
            message(header={"alg": "EdDSA", "typ": MESSAGE_TYP, "jwk": SITE_JWK}),
        ),
        message_vector(
            "kid_of_another_key",
            "Signed by another key and naming it: not the manifest's site key.",
            "bad_key",
            message(header=dict(MESSAGE_HEADER, kid=key_id(ATTACKER_KEY.verifying_key)), key=ATTACKER_KEY),
        ),
        message_vector(
            "site_key_wrong_curve",
            "The site key the vault holds is not an Ed25519 key.",
            "bad_key",
            base,
            site_key=dict(SITE_JWK, crv="X25519"),
        ),
        message_vector(
            "tampered_payload",
            "The url changed after signing.",
            "bad_signature",
            f"{head}.{message(url=example.ORIGIN + '/elsewhere').split('.')[1]}.{signature}",
        ),
        message_vector(
            "signed_by_another_key",
            "Signed by another key while naming the site key.",
            "bad_signature",
            message(key=ATTACKER_KEY),
        ),
        message_vector(
            "wrong_issuer",
            "Signed for another origin than the one the vault received it from.",
            "wrong_issuer",
            message(iss="https://evil.example", url="https://evil.example/offer"),
        ),
        message_vector(
            "wrong_audience", "Addressed to another user.", "wrong_audience", message(aud=ATTACKER_SUBJECT)
        ),
        message_vector(
            "not_yet_valid",
            "iat is one second beyond the allowed skew in the future.",
            "not_yet_valid",
            base,
            now=NOW - MESSAGE_MAX_SKEW - 1,
        ),
        message_vector(
            "expired",
            "The vault's clock is exactly exp + max_skew.",
            "expired",
            base,
            now=NOW + WEEK + MESSAGE_MAX_SKEW,
        ),
    ]


def statement_messages() -> tuple[str, str]:
    """The two messages an access statement vector carries."""
    return signed_message(PROPOSAL), signed_message(CHANGE)
