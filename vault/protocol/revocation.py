"""The revocation / erasure notice: the vault withdraws presentations it gave one site.

It is signed with the same pairwise key as the presentations it withdraws, so the site can tell it comes
from the same holder: the notice key's thumbprint URI must equal the `sub` the site stored with each
presentation. Notices are idempotent (withdrawing twice is withdrawing once), so sites need no replay
store for them; the vault re-signs a fresh notice when it retries after `exp`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

import msgspec

from vault.protocol.errors import IssueError, Reason, TokenInvalid
from vault.protocol.jwk import key_subject
from vault.protocol.jws import OpenedHeader, open_compact, sign_compact
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import (
    CLAIM_NAME_PATTERN,
    MAX_CLAIMS_PER_PURPOSE,
    MAX_PURPOSE_ID,
    MAX_THIRD_PARTIES,
    PURPOSE_ID_PATTERN,
    ClaimName,
    PurposeId,
    RecipientId,
)
from vault.protocol.origin import is_origin
from vault.protocol.presentation import JTI_PATTERN, MAX_NUMERIC_DATE, Jti, NumericDate
from vault.protocol.strictjson import decode_unique

NOTICE_TYP = "vault-revocation+jwt"
DEFAULT_NOTICE_TTL = 86400
MAX_NOTICE_LIFETIME = 7 * 86400
MAX_WITHDRAWN = 256
_JTI = re.compile(JTI_PATTERN)
_PURPOSE_ID = re.compile(PURPOSE_ID_PATTERN)
_CLAIM_NAME = re.compile(CLAIM_NAME_PATTERN)


class NoticePayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    iss: Annotated[str, msgspec.Meta(max_length=128)]
    sub: Annotated[str, msgspec.Meta(max_length=128)]
    aud: Annotated[str, msgspec.Meta(max_length=300)]
    iat: NumericDate
    exp: NumericDate
    jti: Jti
    purpose: PurposeId
    presentations: Annotated[tuple[Jti, ...], msgspec.Meta(min_length=1, max_length=MAX_WITHDRAWN)]
    erasure: bool
    # What is withdrawn from those presentations: these claims only (empty: every claim they carry)...
    claims: Annotated[tuple[ClaimName, ...], msgspec.Meta(max_length=MAX_CLAIMS_PER_PURPOSE)]
    # ...from whom: the site itself (`site`) and these third parties, to whom the site must forward it.
    site: bool
    recipients: Annotated[tuple[RecipientId, ...], msgspec.Meta(max_length=MAX_THIRD_PARTIES)]


_notice_decoder = msgspec.json.Decoder(NoticePayload)


def sign_revocation(
    key: SigningKey,
    *,
    origin: str,
    purpose_id: str,
    presentations: Sequence[str],
    erasure: bool,
    now: int,
    jti: str,
    ttl: int = DEFAULT_NOTICE_TTL,
    claims: Sequence[str] = (),
    site: bool = True,
    recipients: Sequence[str] = (),
) -> str:
    """Sign a notice withdrawing `presentations` (their `jti`s) given to `origin` for `purpose_id`.

    `key` must be the pairwise key those presentations were signed with. `erasure=True` also asks the
    site to erase what it holds. `claims` narrows the withdrawal to those claims (empty: all of them);
    `site=False` withdraws only from `recipients` (the site keeps its own copy), which then must not be
    empty. Raises IssueError(reason) on bad arguments.
    """
    if not is_origin(origin):
        raise IssueError("wrong_audience")
    if not isinstance(purpose_id, str) or len(purpose_id) > MAX_PURPOSE_ID:
        raise IssueError("unknown_purpose")
    if _PURPOSE_ID.fullmatch(purpose_id) is None:
        raise IssueError("unknown_purpose")
    withdrawn = tuple(presentations)
    if not 0 < len(withdrawn) <= MAX_WITHDRAWN or len(set(withdrawn)) != len(withdrawn):
        raise IssueError("bad_presentations")
    if not all(isinstance(item, str) and _JTI.fullmatch(item) for item in withdrawn):
        raise IssueError("bad_presentations")
    if not isinstance(jti, str) or _JTI.fullmatch(jti) is None:
        raise IssueError("bad_jti")
    claims, recipients = tuple(claims), tuple(recipients)
    for names, pattern in ((claims, _CLAIM_NAME), (recipients, _PURPOSE_ID)):
        if len(set(names)) != len(names) or not all(
            isinstance(n, str) and pattern.fullmatch(n) for n in names
        ):
            raise IssueError("bad_scope")
    if (
        len(claims) > MAX_CLAIMS_PER_PURPOSE
        or len(recipients) > MAX_THIRD_PARTIES
        or not (site or recipients)
    ):
        raise IssueError("bad_scope")
    if type(now) is not int or type(ttl) is not int or not 0 <= now <= MAX_NUMERIC_DATE - MAX_NOTICE_LIFETIME:
        raise IssueError("bad_time")
    if not 0 < ttl <= MAX_NOTICE_LIFETIME:
        raise IssueError("bad_time")
    subject = key_subject(key.public_jwk)
    payload = NoticePayload(
        iss=subject,
        sub=subject,
        aud=origin,
        iat=now,
        exp=now + ttl,
        jti=jti,
        purpose=purpose_id,
        presentations=withdrawn,
        erasure=bool(erasure),
        claims=claims,
        site=bool(site),
        recipients=recipients,
    )
    return sign_compact(key, NOTICE_TYP, msgspec.json.encode(payload), embed_jwk=True)


def open_notice(token: object) -> tuple[OpenedHeader, NoticePayload]:
    """Signature-check a notice and decode its payload strictly. Raises TokenInvalid.

    Checks the JWS and the schema only; `vault.site.verify_revocation` checks the rest.
    """
    header, payload = open_compact(token, NOTICE_TYP)
    try:
        notice = decode_unique(payload, _notice_decoder)
    except (ValueError, msgspec.DecodeError):
        raise TokenInvalid(Reason.MALFORMED) from None
    unique = all(
        len(set(items)) == len(items) for items in (notice.presentations, notice.claims, notice.recipients)
    )
    if not unique or not (notice.site or notice.recipients):
        raise TokenInvalid(Reason.MALFORMED)
    # The schema's patterns let `$` match before a final line break (msgspec searches with Python's re).
    names = (notice.jti, notice.purpose, *notice.presentations, *notice.claims, *notice.recipients)
    if any(name.endswith("\n") for name in names):
        raise TokenInvalid(Reason.MALFORMED)
    return header, notice
