"""Site messages: what a site may tell the user after the first exchange (payload of `vault-message+jwt`).

Four kinds: a `proposal` (a new or extended purpose and what the user gets for it; accepting one only
leads to the normal consent prompt, so a proposal can never share anything by itself), a `change` notice
(a purpose, retention or recipient change to come, and from when), a `deletion` confirmation and a
`breach` notice. Each is signed with the site key of the manifest (named by `kid`) and addressed to the
pairwise subject the site was given, so a site can write only to people who shared something with it.

Messages are plain text: a title on one line, a body with line breaks and no other control or
direction-changing characters (a site cannot disguise a link or reorder what the user reads), and at
most one https link, which the vault shows as text with its origin.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

import msgspec

from vault.protocol.errors import MessageInvalid, Reason, TokenInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.jws import MAX_TOKEN_LENGTH, open_compact, sign_compact, site_verifying_key
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import MAX_CLAIMS_PER_PURPOSE, ClaimName, PurposeId, Url, url_problem
from vault.protocol.origin import same_origin_url
from vault.protocol.presentation import Jti, NumericDate
from vault.protocol.strictjson import decode_unique

MESSAGE_TYP = "vault-message+jwt"
MESSAGE_KINDS = ("proposal", "change", "deletion", "breach")
MAX_TITLE = 100
MAX_BODY = 1000
MAX_MESSAGE_LIFETIME = 30 * 86400
MAX_CARRIED_MESSAGES = 2  # in one acknowledgement or access statement
DEFAULT_MAX_SKEW = 60
# What a carrier (acknowledgement, statement) holds: the message token, checked when it is opened.
MessageToken = Annotated[str, msgspec.Meta(max_length=MAX_TOKEN_LENGTH)]
MessageKind = Literal["proposal", "change", "deletion", "breach"]
# Bidirectional controls (Trojan Source, CVE-2021-42574) and the line/paragraph separators: they make a
# text read differently from what it says.
_TRICKY = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


class SiteMessage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    iss: Annotated[str, msgspec.Meta(max_length=300)]  # the site's origin
    aud: Annotated[str, msgspec.Meta(max_length=128)]  # the pairwise subject the site was given
    iat: NumericDate
    exp: NumericDate
    jti: Jti
    kind: MessageKind
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE)]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_BODY)]
    purpose: PurposeId | None = None  # proposal: the purpose offered; others: the purpose concerned
    effective_at: NumericDate | None = None  # change: when it takes effect
    claims: Annotated[tuple[ClaimName, ...], msgspec.Meta(max_length=MAX_CLAIMS_PER_PURPOSE)] | None = None
    url: Url | None = None  # proposal: the page (on the site) where the user can accept it


_message_decoder = msgspec.json.Decoder(SiteMessage)


def text_problem(text: str, *, multiline: bool) -> str | None:
    """Why `text` is not plain text a site may show the user, or None."""
    if _TRICKY.search(text):
        return "has direction-changing or line-separator characters"
    for char in text:
        if char == "\n" and multiline:
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            return "has control or unassigned characters" + ("" if multiline else " (the title is one line)")
    if text.strip() != text or not text.strip():
        return "is empty or starts or ends with white space"
    return None


def message_problem(message: SiteMessage) -> str | None:
    """The first rule (beyond the schema) that `message` breaks, in words, or None."""
    for name, text, multiline in (("title", message.title, False), ("body", message.body, True)):
        problem = text_problem(text, multiline=multiline)
        if problem is not None:
            return f"{name} {problem}"
    if not message.iat < message.exp <= message.iat + MAX_MESSAGE_LIFETIME:
        return f"exp must follow iat by at most {MAX_MESSAGE_LIFETIME // 86400} days"
    if message.claims is not None and len(set(message.claims)) != len(message.claims):
        return "claims must be unique"
    # The schema's patterns let `$` match before a final line break (msgspec searches with Python's re).
    if any(name.endswith("\n") for name in (message.jti, message.purpose or "", *(message.claims or ()))):
        return "jti, purpose and claim names must not end in a line break"
    if message.url is not None and url_problem(message.url) is not None:
        return "url must be an https URL"
    if message.kind == "proposal":
        if message.purpose is None or message.url is None:
            return "a proposal names the purpose it offers and the url of the page where it can be accepted"
        if not same_origin_url(message.url, message.iss):
            return "a proposal's url must be on the site's own origin"
    if message.kind == "change" and message.effective_at is None:
        return "a change notice says when the change takes effect (effective_at)"
    return None


def sign_message(site_key: SigningKey, message: SiteMessage) -> str:
    """Sign a message (the site library's `make_message` builds and checks it first)."""
    problem = message_problem(message)
    if problem is not None:
        raise ValueError(problem)
    token = sign_compact(site_key, MESSAGE_TYP, msgspec.json.encode(message), embed_jwk=False)
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError(f"the signed message is longer than {MAX_TOKEN_LENGTH} characters")
    return token


def verify_message(
    token: object,
    site_key: OkpPublicJwk,
    *,
    origin: str,
    subject: str,
    now: int,
    max_skew: int = DEFAULT_MAX_SKEW,
) -> SiteMessage:
    """Verify a message from `origin` (whose manifest publishes `site_key`) to `subject`, the pairwise
    subject the vault uses there now. Raises MessageInvalid(reason); a message that breaks a rule of
    `message_problem` is `malformed`."""
    try:
        _, payload = open_compact(token, MESSAGE_TYP, site_verifying_key(site_key))
        message = decode_unique(payload, _message_decoder)
    except TokenInvalid as error:
        raise MessageInvalid(error.reason) from None
    except (ValueError, msgspec.DecodeError):
        raise MessageInvalid(Reason.MALFORMED) from None
    if message_problem(message) is not None:
        raise MessageInvalid(Reason.MALFORMED)
    if message.iss != origin:
        raise MessageInvalid(Reason.WRONG_ISSUER)
    if message.aud != subject:
        raise MessageInvalid(Reason.WRONG_AUDIENCE)
    if message.iat > now + max_skew:
        raise MessageInvalid(Reason.NOT_YET_VALID)
    if message.exp + max_skew <= now:
        raise MessageInvalid(Reason.EXPIRED)
    return message
