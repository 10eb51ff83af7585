"""Strict, canonical base64url without padding (RFC 7515 section 2, RFC 4648 section 5).

Decoding refuses anything that is not the one canonical encoding of some byte string: padding, the
standard alphabet's `+` and `/`, whitespace, a length of 1 mod 4, and a last character whose unused
bits are non-zero. So a token has exactly one spelling, and a re-encoded segment cannot slip past a
replay record or a cache keyed by the text.
"""

from __future__ import annotations

import binascii

# `+`, `/` and `=` become `!`, which the strict decoder refuses; `-` and `_` become the standard alphabet.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")

# A final character may only carry zero bits where the encoding has no data: 4 unused bits after two
# characters' worth of a last group (12 bits for 8), 2 unused bits after three (18 bits for 16).
CANONICAL_LAST = {
    2: frozenset(b"AQgw"),
    3: frozenset(b"AEIMQUYcgkosw048"),
}
_PADDING = {0: b"", 2: b"==", 3: b"="}


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url_encode(data: bytes) -> str:
    # base64.urlsafe_b64encode, without its two Python-level calls (three per token issued)
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode canonical unpadded base64url. Raises ValueError on anything else."""
    return b64url_decode_bytes(text.encode("ascii") if isinstance(text, str) else text)


def b64url_decode_bytes(raw: bytes) -> bytes:
    """`b64url_decode` for bytes (the token verifier's hot path). Raises ValueError."""
    remainder = len(raw) % 4
    if remainder == 1:
        raise ValueError("base64url length")
    if remainder and raw[-1] not in CANONICAL_LAST[remainder]:
        raise ValueError("non-canonical base64url")
    return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PADDING[remainder], strict_mode=True)
