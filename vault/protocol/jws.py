"""Compact JWS (RFC 7515) with EdDSA / Ed25519 (RFC 8037): the only signature format we produce or accept.

`open_compact` does every check that does not depend on the message type's payload, in a fixed order
(SPEC.md, "Verifying a token"), and returns the payload bytes only once the signature has verified, so
no payload is ever parsed before it is authenticated.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import msgspec

from vault.protocol.b64 import CANONICAL_LAST, b64url_decode, b64url_encode
from vault.protocol.errors import Reason, TokenInvalid
from vault.protocol.jwk import OkpPublicJwk, jwk_thumbprint, thumbprint_uri
from vault.protocol.keys import BadSignature, SigningKey, VerifyingKey
from vault.protocol.strictjson import decode_unique

MAX_TOKEN_LENGTH = 8192
ALG = "EdDSA"

_Short = Annotated[str, msgspec.Meta(max_length=64)]


class Header(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The JOSE header. Optional members default to None (an explicit null is refused as malformed)."""

    alg: _Short
    typ: _Short | None = None
    crit: Annotated[list[_Short], msgspec.Meta(max_length=8)] | None = None
    jwk: OkpPublicJwk | None = None
    kid: _Short | None = None


class OpenedHeader:
    """A header that decoded and names EdDSA, with its embedded key loaded if it is a usable one."""

    __slots__ = ("crit", "has_jwk", "key", "kid", "subject", "thumbprint", "typ")

    def __init__(self, header: Header, key: VerifyingKey | None, subject: str | None) -> None:
        self.typ = header.typ
        self.crit = header.crit
        self.kid = header.kid
        self.has_jwk = header.jwk is not None
        self.key = key  # the embedded public key; None if there is none or it is not an Ed25519 key
        self.subject = subject  # thumbprint URI of that key
        self.thumbprint = None if subject is None else subject.rsplit(":", 1)[1]


_header_decoder = msgspec.json.Decoder(Header)

# The payload and signature segments are decoded by msgspec's base64 decoder (as a JSON array of two
# strings: one C call, about a third of binascii's time for a token's payload). It is strict (its
# alphabet only, padding only at the end, length a multiple of 4) but reads the standard alphabet: this
# table turns base64url into it, and turns `+`, `/` and `=` (not base64url) and `"` and `\` (which would
# end or escape the JSON string) into `!`, which it refuses. What remains for a canonical encoding is
# checked before: the length (not 1 mod 4) and the unused bits of the last character.
_TO_STANDARD = bytes.maketrans(b'-_+/="\\', b"+/!!!!!")
_CLOSE_PAYLOAD = (b'","', None, b'==","', b'=","')  # the payload's padding (by length mod 4), then a comma
_SIGNATURE_SEGMENT_LENGTH = 86  # an Ed25519 signature: 64 bytes, 86 characters unpadded
_decode_payload_and_signature = msgspec.json.Decoder(tuple[bytes, bytes]).decode


def _fail(reason: Reason) -> TokenInvalid:
    return TokenInvalid(reason)


# Keyed by the header's text, so a result depends on nothing else. Bounded (headers are small: every
# member is bounded and no others are allowed); failures are not cached.
# This is what makes verifying the next token from the same pairwise key cheap: no JSON, no key load,
# no thumbprint.
@lru_cache(maxsize=1024)
def _open_header(segment: bytes) -> OpenedHeader:
    try:
        header = decode_unique(b64url_decode(segment), _header_decoder)
    except (ValueError, msgspec.DecodeError):  # ValidationError and DuplicateKey are ValueErrors
        raise _fail(Reason.MALFORMED) from None
    if header.alg != ALG:
        raise _fail(Reason.UNSUPPORTED_ALG)
    return OpenedHeader(header, *_embedded_key(header.jwk))


def _embedded_key(jwk: OkpPublicJwk | None) -> tuple[VerifyingKey | None, str | None]:
    # An unusable key is reported (`bad_key`) only after `typ` and `crit`, in the order of SPEC.md.
    if jwk is None or jwk.kty != "OKP" or jwk.crv != "Ed25519":
        return None, None
    try:
        return VerifyingKey.from_bytes(b64url_decode(jwk.x)), thumbprint_uri(jwk)
    except ValueError:
        return None, None


def decode_signed_segments(payload_segment: bytes, signature_segment: bytes) -> tuple[bytes, bytes]:
    """A compact JWS's payload and Ed25519 signature segments, decoded as `b64url_decode` decodes each
    (canonical unpadded base64url only); the signature must be 86 characters. Raises ValueError."""
    remainder = len(payload_segment) % 4
    if (
        remainder == 1
        or (remainder and payload_segment[-1] not in CANONICAL_LAST[remainder])
        or len(signature_segment) != _SIGNATURE_SEGMENT_LENGTH
        or signature_segment[-1] not in CANONICAL_LAST[2]
    ):
        raise ValueError("not canonical base64url, or not an Ed25519 signature")
    try:
        return _decode_payload_and_signature(
            b"".join(
                (
                    b'["',
                    payload_segment.translate(_TO_STANDARD),
                    _CLOSE_PAYLOAD[remainder],
                    signature_segment.translate(_TO_STANDARD),
                    b'=="]',
                )
            )
        )
    except msgspec.DecodeError:  # ValidationError included
        raise ValueError("not base64url") from None


def open_compact(
    token: object, typ: str, key: VerifyingKey | None = None, *, max_length: int = MAX_TOKEN_LENGTH
) -> tuple[OpenedHeader, bytes]:
    """Check a compact JWS up to and including its signature; return the header and the payload bytes.

    With `key=None` the header must embed the signer's key (`jwk`, no `kid`); with a key, the header must
    name it by thumbprint (`kid`, no `jwk`). `max_length`: the longest token accepted (only an access
    statement may be longer than MAX_TOKEN_LENGTH). Raises TokenInvalid with the first reason that applies.
    """
    if not isinstance(token, str):
        raise _fail(Reason.MALFORMED)
    if len(token) > max_length:
        raise _fail(Reason.TOO_LARGE)
    try:
        text = token.encode("ascii")
    except UnicodeEncodeError:
        raise _fail(Reason.MALFORMED) from None
    segments = text.split(b".")
    if len(segments) != 3:
        raise _fail(Reason.MALFORMED)
    header_segment, payload_segment, signature_segment = segments
    header = _open_header(header_segment)
    if header.typ != typ:
        raise _fail(Reason.WRONG_TYP)
    if header.crit is not None:
        raise _fail(Reason.UNSUPPORTED_CRIT)  # we implement no extensions, so any `crit` is unknown
    if key is None:
        if not header.has_jwk or header.kid is not None:
            raise _fail(Reason.MALFORMED)
        if header.key is None:
            raise _fail(Reason.BAD_KEY)
        key = header.key
    elif header.has_jwk or header.kid is None:
        raise _fail(Reason.MALFORMED)
    elif header.kid != _kid(key):
        raise _fail(Reason.BAD_KEY)
    try:
        payload, signature = decode_signed_segments(payload_segment, signature_segment)
    except ValueError:
        raise _fail(Reason.MALFORMED) from None
    try:
        key.check(signature, text[: len(header_segment) + 1 + len(payload_segment)])
    except BadSignature:
        raise _fail(Reason.BAD_SIGNATURE) from None
    return header, payload


@lru_cache(maxsize=256)
def _kid(key: VerifyingKey) -> str:
    return jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(key.raw)})


def recorded_payload(token: str, type: Any = dict) -> Any:
    """The payload of a token this program verified earlier and kept (in the ledger, say), decoded again
    as `type` without checking the signature again; None if it is not one. Never for a token not yet
    verified: that goes through its verifier."""
    try:
        return msgspec.json.decode(b64url_decode(token.split(".")[1]), type=type)
    except (ValueError, IndexError, msgspec.DecodeError):
        return None


def site_verifying_key(site_key: OkpPublicJwk) -> VerifyingKey:
    """The key a manifest's `site_key` names; TokenInvalid(bad_key) if it is not a usable Ed25519 key."""
    if site_key.kty != "OKP" or site_key.crv != "Ed25519":
        raise _fail(Reason.BAD_KEY)
    try:
        return VerifyingKey.from_bytes(b64url_decode(site_key.x))
    except ValueError:
        raise _fail(Reason.BAD_KEY) from None


def key_id(key: VerifyingKey) -> str:
    """The `kid` that names a site key: its RFC 7638 thumbprint."""
    return _kid(key)


# Keyed by public values only, so no private key is kept alive by the cache.
@lru_cache(maxsize=1024)
def _header_prefix(public_x: str, typ: str, embed_jwk: bool, kid: str | None) -> str:
    header: dict[str, object] = {"alg": ALG, "typ": typ}
    if embed_jwk:
        header["jwk"] = {"kty": "OKP", "crv": "Ed25519", "x": public_x}
    else:
        header["kid"] = kid
    return b64url_encode(msgspec.json.encode(header)) + "."


def sign_compact(key: SigningKey, typ: str, payload: bytes, *, embed_jwk: bool) -> str:
    """Sign `payload` as a compact JWS whose header embeds the public key (`jwk`) or names it (`kid`)."""
    kid = None if embed_jwk else _kid(key.verifying_key)
    signing_input = _header_prefix(key.public_jwk["x"], typ, embed_jwk, kid) + b64url_encode(payload)
    signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def sign_raw(key: SigningKey, header: bytes, payload: bytes) -> str:
    """Sign arbitrary header and payload bytes. Only for building test vectors and interop tests."""
    signing_input = b64url_encode(header) + "." + b64url_encode(payload)
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))
