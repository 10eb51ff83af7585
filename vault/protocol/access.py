"""Access requests: the vault asks a site "what do you hold about me?", and the site answers, signed.

The request (`vault-access+jwt`) is signed with the pairwise key the vault uses at that site, like a
revocation notice, so it can only ask about what that site was given under that key, and it tells the site
nothing new. It lives at most MAX_REQUEST_LIFETIME and the site remembers its `jti` until then: the
answer may carry claim values, so a captured request must not be usable again.

The answer (`vault-access-statement+jwt`) is signed with the site key of the manifest (`kid`). Per
purpose: the claims the site holds (names, and values if it chooses), since when, until when, the third
parties it passed them to, and the presentations they came from. The vault compares it with its ledger
(vault.consent.access); here only its form is checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

import msgspec

from vault.protocol.errors import IssueError, Reason, StatementInvalid, TokenInvalid
from vault.protocol.jwk import OkpPublicJwk, key_subject
from vault.protocol.jws import OpenedHeader, open_compact, sign_compact, site_verifying_key
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import (
    MAX_CLAIMS_PER_PURPOSE,
    MAX_PURPOSE_ID,
    MAX_PURPOSES,
    MAX_THIRD_PARTIES,
    PURPOSE_ID_PATTERN,
    ClaimName,
    PurposeId,
    RecipientId,
)
from vault.protocol.message import MAX_CARRIED_MESSAGES, MessageToken
from vault.protocol.origin import is_origin
from vault.protocol.presentation import JTI_PATTERN, MAX_NUMERIC_DATE, ClaimValue, Jti, NumericDate
from vault.protocol.strictjson import decode_unique

ACCESS_REQUEST_TYP = "vault-access+jwt"
ACCESS_STATEMENT_TYP = "vault-access-statement+jwt"
DEFAULT_REQUEST_TTL = 300
MAX_REQUEST_LIFETIME = 600
MAX_STATEMENT_LENGTH = 32768  # a statement may list many holdings; every other token is at most 8192
MAX_HOLDING_PRESENTATIONS = 64  # per holding: the most recent ones, if the site holds more
DEFAULT_MAX_SKEW = 60
_JTI = re.compile(JTI_PATTERN)
_PURPOSE_ID = re.compile(PURPOSE_ID_PATTERN)
_HeldValues = Annotated[dict[ClaimName, ClaimValue], msgspec.Meta(max_length=MAX_CLAIMS_PER_PURPOSE)]


class AccessRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    iss: Annotated[str, msgspec.Meta(max_length=128)]
    sub: Annotated[str, msgspec.Meta(max_length=128)]
    aud: Annotated[str, msgspec.Meta(max_length=300)]
    iat: NumericDate
    exp: NumericDate
    jti: Jti
    # Only these purposes (empty: everything the site holds under this subject).
    purposes: Annotated[tuple[PurposeId, ...], msgspec.Meta(max_length=MAX_PURPOSES)]


class Holding(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """What the site holds for one purpose."""

    purpose: PurposeId
    claims: Annotated[tuple[ClaimName, ...], msgspec.Meta(min_length=1, max_length=MAX_CLAIMS_PER_PURPOSE)]
    since: NumericDate  # when the site first received any of them
    until: NumericDate  # the latest date it means to keep any of them
    recipients: Annotated[tuple[RecipientId, ...], msgspec.Meta(max_length=MAX_THIRD_PARTIES)]
    presentations: Annotated[tuple[Jti, ...], msgspec.Meta(max_length=MAX_HOLDING_PRESENTATIONS)]
    # The values held, for the claims the site chooses to show. Claim values have the shape of a
    # presentation's (bounded, no nesting): arbitrary JSON here would let a site's signed statement nest
    # deep enough to crash the vault's strict decoding (RecursionError).
    values: _HeldValues | None = None


class AccessStatement(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    iss: Annotated[str, msgspec.Meta(max_length=300)]  # the site's origin
    aud: Annotated[str, msgspec.Meta(max_length=128)]  # the request's subject
    iat: NumericDate
    request: Jti  # the jti of the request it answers
    holdings: Annotated[tuple[Holding, ...], msgspec.Meta(max_length=MAX_PURPOSES)]
    messages: Annotated[tuple[MessageToken, ...], msgspec.Meta(max_length=MAX_CARRIED_MESSAGES)] | None = None


_request_decoder = msgspec.json.Decoder(AccessRequest)
_statement_decoder = msgspec.json.Decoder(AccessStatement)


def sign_access_request(
    key: SigningKey,
    *,
    origin: str,
    now: int,
    jti: str,
    purposes: Sequence[str] = (),
    ttl: int = DEFAULT_REQUEST_TTL,
) -> str:
    """Sign an access request to `origin` with the pairwise `key` used there. Raises IssueError(reason)."""
    if not is_origin(origin):
        raise IssueError("wrong_audience")
    if not isinstance(jti, str) or _JTI.fullmatch(jti) is None:
        raise IssueError("bad_jti")
    asked = tuple(purposes)
    if len(asked) > MAX_PURPOSES or len(set(asked)) != len(asked):
        raise IssueError("unknown_purpose")
    if not all(isinstance(p, str) and len(p) <= MAX_PURPOSE_ID and _PURPOSE_ID.fullmatch(p) for p in asked):
        raise IssueError("unknown_purpose")
    if (
        type(now) is not int
        or type(ttl) is not int
        or not 0 <= now <= MAX_NUMERIC_DATE - MAX_REQUEST_LIFETIME
    ):
        raise IssueError("bad_time")
    if not 0 < ttl <= MAX_REQUEST_LIFETIME:
        raise IssueError("bad_time")
    subject = key_subject(key.public_jwk)
    payload = AccessRequest(
        iss=subject, sub=subject, aud=origin, iat=now, exp=now + ttl, jti=jti, purposes=asked
    )
    return sign_compact(key, ACCESS_REQUEST_TYP, msgspec.json.encode(payload), embed_jwk=True)


def open_access_request(token: object) -> tuple[OpenedHeader, AccessRequest]:
    """Signature-check an access request and decode it strictly. Raises TokenInvalid.

    The JWS and the schema only; `vault.site.verify_access_request` checks the rest."""
    header, payload = open_compact(token, ACCESS_REQUEST_TYP)
    try:
        request = decode_unique(payload, _request_decoder)
    except (ValueError, msgspec.DecodeError):
        raise TokenInvalid(Reason.MALFORMED) from None
    if len(set(request.purposes)) != len(request.purposes):
        raise TokenInvalid(Reason.MALFORMED)
    # The schema's patterns let `$` match before a final line break (msgspec searches with Python's re).
    if any(name.endswith("\n") for name in (request.jti, *request.purposes)):
        raise TokenInvalid(Reason.MALFORMED)
    return header, request


def sign_access_statement(site_key: SigningKey, statement: AccessStatement) -> str:
    """Sign a statement (the site library's `answer_access_request` builds it). ValueError if it breaks a
    rule of `statement_problem` or is longer than MAX_STATEMENT_LENGTH."""
    problem = statement_problem(statement)
    if problem is not None:
        raise ValueError(problem)
    payload = msgspec.json.encode(statement)
    try:  # the constructor checks no lengths or patterns; the vault's decoder does, so run it first
        _statement_decoder.decode(payload)
    except msgspec.ValidationError as error:
        raise ValueError(str(error)) from None
    token = sign_compact(site_key, ACCESS_STATEMENT_TYP, payload, embed_jwk=False)
    if len(token) > MAX_STATEMENT_LENGTH:
        raise ValueError(f"the signed statement is longer than {MAX_STATEMENT_LENGTH} characters")
    return token


def statement_problem(statement: AccessStatement) -> str | None:
    """The first rule (beyond the schema) that `statement` breaks, in words, or None."""
    purposes = [holding.purpose for holding in statement.holdings]
    if len(set(purposes)) != len(purposes):
        return "one holding per purpose"
    # The schema's patterns let `$` match before a final line break (msgspec searches with Python's re).
    names = [statement.request, *purposes]
    for holding in statement.holdings:
        names += [*holding.claims, *holding.recipients, *holding.presentations]
    if any(name.endswith("\n") for name in names):
        return "ids and claim names must not end in a line break"
    for holding in statement.holdings:
        for name, items in (
            ("claims", holding.claims),
            ("recipients", holding.recipients),
            ("presentations", holding.presentations),
        ):
            if len(set(items)) != len(items):
                return f"holding {holding.purpose}: {name} must be unique"
        if not set(holding.values or ()) <= set(holding.claims):
            return f"holding {holding.purpose}: values are given only for claims it lists"
        if holding.since > holding.until:
            return f"holding {holding.purpose}: since is after until"
    return None


def verify_access_statement(
    token: str, site_key: OkpPublicJwk, *, request: str, now: int, max_skew: int = DEFAULT_MAX_SKEW
) -> AccessStatement:
    """Verify the site's answer to `request` (the request token the vault sent), signed with `site_key`
    from the site's manifest. Checks the signature, that the site (`iss`) is the request's audience and
    the answer is addressed to its subject, names its `jti`, is not dated before it, covers only the
    purposes asked about, and keeps the rules of `statement_problem`. Raises StatementInvalid(reason).

    What the statement says is not judged here: holding too long, or what was never given, is the
    site's signed word, and the vault records it as a discrepancy.
    """
    try:
        _, payload = open_compact(
            token, ACCESS_STATEMENT_TYP, site_verifying_key(site_key), max_length=MAX_STATEMENT_LENGTH
        )
        statement = decode_unique(payload, _statement_decoder)
    except TokenInvalid as error:
        raise StatementInvalid(error.reason) from None
    except (ValueError, msgspec.DecodeError):
        raise StatementInvalid(Reason.MALFORMED) from None
    try:
        _, sent = open_access_request(request)
    except TokenInvalid:
        raise ValueError("`request` must be an access request this vault signed") from None
    if statement_problem(statement) is not None:
        raise StatementInvalid(Reason.MALFORMED)
    if statement.iss != sent.aud:
        raise StatementInvalid(Reason.WRONG_ISSUER)
    if statement.aud != sent.sub:
        raise StatementInvalid(Reason.WRONG_AUDIENCE)
    if statement.iat > now + max_skew:
        raise StatementInvalid(Reason.NOT_YET_VALID)
    asked = set(sent.purposes)
    outside = asked and any(holding.purpose not in asked for holding in statement.holdings)
    if statement.request != sent.jti or statement.iat + max_skew < sent.iat or outside:
        raise StatementInvalid(Reason.WRONG_REQUEST)
    return statement
