"""Acknowledgements: the site's signed promises, kept by the vault beside each disclosure.

Two messages, told apart by `typ` so that neither can stand in for the other:
- `vault-ack+jwt` answers a presentation: these claims, this purpose, kept until this date;
- `vault-revocation-ack+jwt` answers a revocation / erasure notice.
Both are signed with the site key from the manifest and name it by thumbprint (`kid`). Signing is here
(the site library calls it); verifying is the vault's side.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Literal, TypeVar

import msgspec

from vault.protocol.errors import AcknowledgementInvalid, Reason, TokenInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.jws import open_compact, sign_compact, site_verifying_key
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import MAX_THIRD_PARTIES, ClaimName, PurposeId, RecipientId, retention_seconds
from vault.protocol.message import MAX_CARRIED_MESSAGES, MessageToken
from vault.protocol.presentation import MAX_CLAIMS, Jti, NumericDate, open_presentation
from vault.protocol.revocation import MAX_WITHDRAWN, open_notice
from vault.protocol.strictjson import decode_unique

ACK_TYP = "vault-ack+jwt"
REVOCATION_ACK_TYP = "vault-revocation-ack+jwt"
DEFAULT_MAX_SKEW = 60
T = TypeVar("T")


class Acknowledgement(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """The site's promise about one presentation (payload of `vault-ack+jwt`)."""

    iss: Annotated[str, msgspec.Meta(max_length=300)]
    aud: Annotated[str, msgspec.Meta(max_length=128)]
    iat: NumericDate
    presentation: Jti
    purpose: PurposeId
    purpose_digest: Annotated[str, msgspec.Meta(max_length=43)]
    claims: Annotated[tuple[ClaimName, ...], msgspec.Meta(max_length=MAX_CLAIMS)]
    keep_until: NumericDate
    # The third parties the site passed (or will pass) these claims to. Naming one the presentation does
    # not allow is not refused here: it is the site's signed word that it broke its promise, and the
    # vault records it as such (`unallowed_recipients`).
    recipients: Annotated[tuple[RecipientId, ...], msgspec.Meta(max_length=MAX_THIRD_PARTIES)]
    # Site messages (`vault-message+jwt` tokens, vault.protocol.message) riding along; each is verified
    # on its own, and one that is refused does not make the acknowledgement fail.
    messages: Annotated[tuple[MessageToken, ...], msgspec.Meta(max_length=MAX_CARRIED_MESSAGES)] | None = None


RecipientOutcomeKind = Literal["erased", "not_held", "forwarded"]


class RecipientOutcome(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What became of a notice at one third party: it erased the data, never held it, or the site
    forwarded the notice and has no answer yet; `at` is when the site learned it."""

    id: RecipientId
    outcome: RecipientOutcomeKind
    at: NumericDate


class RevocationAcknowledgement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The site's answer to a notice (payload of `vault-revocation-ack+jwt`)."""

    iss: Annotated[str, msgspec.Meta(max_length=300)]
    aud: Annotated[str, msgspec.Meta(max_length=128)]
    iat: NumericDate
    notice: Jti
    presentations: Annotated[tuple[Jti, ...], msgspec.Meta(min_length=1, max_length=MAX_WITHDRAWN)]
    erased: bool  # the site erased its own copy
    recipients: Annotated[tuple[RecipientOutcome, ...], msgspec.Meta(max_length=MAX_THIRD_PARTIES)]


_ack_decoder = msgspec.json.Decoder(Acknowledgement)
_revocation_ack_decoder = msgspec.json.Decoder(RevocationAcknowledgement)


def sign_acknowledgement(site_key: SigningKey, acknowledgement: Acknowledgement) -> str:
    return sign_compact(site_key, ACK_TYP, msgspec.json.encode(acknowledgement), embed_jwk=False)


def sign_revocation_ack(site_key: SigningKey, acknowledgement: RevocationAcknowledgement) -> str:
    return sign_compact(site_key, REVOCATION_ACK_TYP, msgspec.json.encode(acknowledgement), embed_jwk=False)


def _open(token: object, typ: str, site_key: OkpPublicJwk, decoder: msgspec.json.Decoder[T]) -> T:
    try:
        _, payload = open_compact(token, typ, site_verifying_key(site_key))
        return decode_unique(payload, decoder)
    except TokenInvalid as error:
        raise AcknowledgementInvalid(error.reason) from None
    except (ValueError, msgspec.DecodeError):
        raise AcknowledgementInvalid(Reason.MALFORMED) from None


def _require(condition: bool, reason: Reason) -> None:
    if not condition:
        raise AcknowledgementInvalid(reason)


class Presented(msgspec.Struct, frozen=True, kw_only=True):
    """What an acknowledgement is checked against: the members of the presentation it answers. The vault
    builds them from the disclosure's ledger entry, which records each of them, so it need not keep the
    token (a bearer credential) at all; `presented` takes them from a token."""

    aud: str
    sub: str
    jti: str
    purpose: str
    purpose_digest: str
    claims: frozenset[str]
    iat: int
    retention: str


def presented(presentation: str) -> Presented:
    """The members of a presentation token (any this vault issued). ValueError if it is not one."""
    try:
        _, issued = open_presentation(presentation)
    except TokenInvalid:
        raise ValueError("`presentation` must be a presentation token this vault issued") from None
    return Presented(
        aud=issued.aud,
        sub=issued.sub,
        jti=issued.jti,
        purpose=issued.purpose.id,
        purpose_digest=issued.purpose_digest,
        claims=frozenset(issued.claims),
        iat=issued.iat,
        retention=issued.retention,
    )


def verify_acknowledgement(
    token: str,
    site_key: OkpPublicJwk,
    *,
    presentation: str | Presented,
    now: int,
    max_skew: int = DEFAULT_MAX_SKEW,
) -> Acknowledgement:
    """Verify the site's acknowledgement of `presentation` (the token the vault issued, or its members).

    `site_key` is the `site_key` of the manifest the presentation was issued against. Checks the
    signature, that the site (`iss`) is the presentation's audience, that it is addressed to the
    presentation's `sub`, names its `jti`, purpose, digest and exactly its claim names, and that
    `keep_until` does not pass the purpose's retention counted from the presentation's `iat`. Recipients
    beyond those the presentation allows are returned, not refused (see `unallowed_recipients`).
    Raises AcknowledgementInvalid(reason).
    """
    ack = _open(token, ACK_TYP, site_key, _ack_decoder)
    _require(len(set(ack.recipients)) == len(ack.recipients), Reason.MALFORMED)  # schema: unique ids
    # The schema's patterns let `$` match before a final line break (msgspec searches with Python's re).
    names = (ack.presentation, ack.purpose, *ack.claims, *ack.recipients)
    _require(not any(name.endswith("\n") for name in names), Reason.MALFORMED)
    issued = presented(presentation) if isinstance(presentation, str) else presentation
    _require(ack.iss == issued.aud, Reason.WRONG_ISSUER)
    _require(ack.aud == issued.sub, Reason.WRONG_AUDIENCE)
    _require(ack.iat <= now + max_skew, Reason.NOT_YET_VALID)
    _require(ack.presentation == issued.jti, Reason.WRONG_PRESENTATION)
    same_purpose = ack.purpose == issued.purpose and ack.purpose_digest == issued.purpose_digest
    _require(same_purpose, Reason.PURPOSE_MISMATCH)
    same_claims = len(set(ack.claims)) == len(ack.claims) and set(ack.claims) == issued.claims
    _require(same_claims, Reason.CLAIMS_MISMATCH)
    _require(ack.keep_until <= issued.iat + retention_seconds(issued.retention), Reason.RETENTION_EXCEEDED)
    return ack


def verify_revocation_ack(
    token: str,
    site_key: OkpPublicJwk,
    *,
    notice: str,
    now: int,
    max_skew: int = DEFAULT_MAX_SKEW,
) -> RevocationAcknowledgement:
    """Verify the site's answer to `notice` (the notice token the vault sent). Raises AcknowledgementInvalid.

    A valid answer with `erased: false` to a notice that asked for erasure is returned, not refused: it
    is the site's signed statement, and the vault records it as such. It must give exactly one outcome
    for each recipient the notice names (`wrong_notice` otherwise).
    """
    ack = _open(token, REVOCATION_ACK_TYP, site_key, _revocation_ack_decoder)
    names = (ack.notice, *ack.presentations, *(outcome.id for outcome in ack.recipients))
    _require(not any(name.endswith("\n") for name in names), Reason.MALFORMED)  # as in verify_acknowledgement
    try:
        _, sent = open_notice(notice)
    except TokenInvalid:
        raise ValueError("`notice` must be a notice token this vault signed") from None
    _require(ack.iss == sent.aud, Reason.WRONG_ISSUER)
    _require(ack.aud == sent.sub, Reason.WRONG_AUDIENCE)
    _require(ack.iat <= now + max_skew, Reason.NOT_YET_VALID)
    _require(
        ack.notice == sent.jti and set(ack.presentations) == set(sent.presentations), Reason.WRONG_NOTICE
    )
    answered = [outcome.id for outcome in ack.recipients]  # exactly one outcome per recipient told
    _require(
        len(set(answered)) == len(answered) and set(answered) == set(sent.recipients), Reason.WRONG_NOTICE
    )
    return ack


def unallowed_recipients(ack: Acknowledgement, allowed: Collection[str]) -> tuple[str, ...]:
    """The recipients `ack` names beyond `allowed` (the `recipients` of the presentation it answers)."""
    if isinstance(allowed, str):  # a token passed by mistake would be read as a set of letters
        raise TypeError("allowed: the presentation's recipient ids, not a token")
    return tuple(r for r in ack.recipients if r not in allowed)
