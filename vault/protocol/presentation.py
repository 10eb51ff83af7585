"""The presentation: what the vault signs for one site, one purpose, one moment.

Issuing is pure: the clock (`now`) and the token id (`jti`) are arguments, and everything that does not
change between tokens (header text, thumbprint, purpose digest, claim sets) is computed once and cached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

import msgspec

from vault.protocol.claim_types import claim_values_ok
from vault.protocol.errors import IssueError, Reason, TokenInvalid
from vault.protocol.jwk import key_subject
from vault.protocol.jws import MAX_TOKEN_LENGTH, OpenedHeader, open_compact, sign_compact
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import MAX_THIRD_PARTIES, Manifest, manifest_index, recipients_problem
from vault.protocol.strictjson import written_member_count

PRESENTATION_TYP = "vault-presentation+jwt"
DEFAULT_TTL = 300
MAX_TTL = 600
MAX_CLAIMS = 32
MAX_CLAIM_STRING = 256
MAX_LIST_ITEMS = 32
MAX_LIST_ITEM = 128
MAX_SAFE_INTEGER = 2**53 - 1  # integers beyond this lose precision in JavaScript verifiers
MAX_NUMERIC_DATE = 2**40

NONCE_PATTERN = r"^[A-Za-z0-9_-]{22,128}$"
JTI_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_NONCE = re.compile(NONCE_PATTERN)
_JTI = re.compile(JTI_PATTERN)

Jti = Annotated[str, msgspec.Meta(pattern=JTI_PATTERN)]
NumericDate = Annotated[int, msgspec.Meta(ge=0, le=MAX_NUMERIC_DATE)]

# The presentation payload schema bounds every length but checks formats only where no later equality
# check does: `iss`, `sub`, `aud`, `nonce`, the purpose, retention and digest are each compared with a
# value the verifier trusts, so a regex on them would only cost time (about 10 us a token, measured). The
# jti's alphabet is checked in `open_presentation` (a pattern here costs more than the rest of the decode).
_JtiLength = Annotated[str, msgspec.Meta(min_length=16, max_length=64)]
_Bounded = Annotated[str, msgspec.Meta(max_length=128)]
_ClaimKey = Annotated[str, msgspec.Meta(max_length=64)]
# Any claim value's JSON shape and size, checked while decoding (breaking it is `malformed`). Each claim's
# own type is narrower and checked after the claim names (vault/protocol/claim_types.py).
ClaimValue = (
    bool
    | Annotated[int, msgspec.Meta(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)]
    | float
    | Annotated[str, msgspec.Meta(max_length=MAX_CLAIM_STRING)]
    | Annotated[
        list[Annotated[str, msgspec.Meta(max_length=MAX_LIST_ITEM)]], msgspec.Meta(max_length=MAX_LIST_ITEMS)
    ]
)


# gc=False: these hold no cycles, and untracked objects are cheaper to make (one per verified token).
class PurposeRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    id: _Bounded
    concept: _Bounded


class PresentationPayload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Every member is required, so the decoded object has exactly 12 + 2 + len(claims) members."""

    iss: _Bounded
    sub: _Bounded
    aud: Annotated[str, msgspec.Meta(max_length=300)]
    nonce: _Bounded
    iat: NumericDate
    exp: NumericDate
    jti: _JtiLength
    purpose: PurposeRef
    retention: Annotated[str, msgspec.Meta(max_length=40)]
    purpose_digest: Annotated[str, msgspec.Meta(max_length=43)]
    claims: Annotated[dict[_ClaimKey, ClaimValue], msgspec.Meta(max_length=MAX_CLAIMS)]
    # The purpose's third parties the user allows to receive these claims (their manifest ids).
    recipients: Annotated[tuple[_ClaimKey, ...], msgspec.Meta(max_length=MAX_THIRD_PARTIES)]


_payload_decoder = msgspec.json.Decoder(PresentationPayload)
_payload_encoder = msgspec.json.Encoder()


def open_presentation(token: object) -> tuple[OpenedHeader, PresentationPayload]:
    """Signature-check a presentation and decode its payload strictly. Raises TokenInvalid.

    This checks the JWS and the schema only; `vault.site.verify_presentation` checks everything else.
    """
    header, payload_bytes = open_compact(token, PRESENTATION_TYP)
    try:
        payload = _payload_decoder.decode(payload_bytes)
    except (ValueError, msgspec.DecodeError):
        raise TokenInvalid(Reason.MALFORMED) from None
    # Repeated keys: if re-encoding gives back the exact text, every key was unique (the usual case: our
    # issuer writes what msgspec writes). Otherwise count: every member is required and unknown ones are
    # refused, so there are exactly 14 + len(claims) distinct members; more written means a repeat.
    if (
        (
            _payload_encoder.encode(payload) != payload_bytes
            and written_member_count(payload_bytes) != 14 + len(payload.claims)
        )
        or payload.jti.strip(_B64URL_ALPHABET)
        or len(set(payload.recipients)) != len(payload.recipients)
    ):
        raise TokenInvalid(Reason.MALFORMED)
    return header, payload


def issue_presentation(
    key: SigningKey,
    manifest: Manifest,
    purpose_id: str,
    audience: str,
    nonce: str,
    claims: Mapping[str, ClaimValue],
    now: int,
    jti: str,
    ttl: int = DEFAULT_TTL,
    recipients: tuple[str, ...] = (),
) -> str:
    """Sign a presentation of `claims` for one purpose of `manifest`, to the site at `audience`.

    `recipients` are the purpose's third parties (ids) the user allows to receive them: each declared,
    and every required one that receives any of `claims` included.

    `key` is the pairwise key for that origin; `audience` is the origin the browser reported, which must
    be the manifest's. Raises IssueError(reason) and signs nothing if any argument is wrong.
    """
    if manifest.origin != audience:
        raise IssueError("wrong_audience")
    entry = manifest_index(manifest).get(purpose_id)
    if entry is None:
        raise IssueError("unknown_purpose")
    if not isinstance(nonce, str) or _NONCE.fullmatch(nonce) is None:
        raise IssueError("bad_nonce")
    if not isinstance(jti, str) or _JTI.fullmatch(jti) is None:
        raise IssueError("bad_jti")
    if (
        type(now) is not int
        or type(ttl) is not int
        or not 0 <= now <= MAX_NUMERIC_DATE - MAX_TTL
        or not 0 < ttl <= MAX_TTL
    ):
        raise IssueError("bad_time")
    names = claims.keys()
    if not names <= entry.declared:
        raise IssueError("undeclared_claim")
    if not entry.required <= names:
        raise IssueError("missing_claim")
    if not claim_values_ok(claims):  # a value no site would accept: never sign it
        raise IssueError("bad_claim_value")
    recipients = tuple(recipients)
    problem = recipients_problem(entry, recipients, frozenset(names))
    if problem is not None:
        raise IssueError(problem)
    purpose = entry.purpose
    subject = key_subject(key.public_jwk)
    payload = PresentationPayload(
        iss=subject,
        sub=subject,
        aud=audience,
        nonce=nonce,
        iat=now,
        exp=now + ttl,
        jti=jti,
        purpose=PurposeRef(id=purpose.id, concept=purpose.concept),
        retention=purpose.retention,
        purpose_digest=entry.digest,
        claims=dict(claims),
        recipients=recipients,
    )
    token = sign_compact(key, PRESENTATION_TYP, msgspec.json.encode(payload), embed_jwk=True)
    if len(token) > MAX_TOKEN_LENGTH:
        raise IssueError("too_large")  # every verifier would refuse it: fewer or shorter claims
    return token
