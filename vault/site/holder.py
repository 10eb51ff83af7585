"""The checks every message the visitor's vault signs with its pairwise key shares (revocation notices,
access requests): who signed it, whom it is for, and when it is valid."""

from __future__ import annotations

from typing import Protocol

from vault.protocol.errors import Reason


class HolderSigned(Protocol):
    iss: str
    sub: str
    aud: str
    iat: int
    exp: int


def holder_problem(
    message: HolderSigned, signer: str | None, *, origin: str, now: int, max_skew: int, max_lifetime: int
) -> Reason | None:
    """Why `message` (its signature already checked, by the key whose thumbprint URI is `signer`) is not
    valid for this site now, or None. In this order: issued and about that key, addressed to `origin`,
    not dated in the future, a lifetime of at most `max_lifetime`, not expired (both with `max_skew`)."""
    if message.iss != signer or message.sub != signer:
        return Reason.WRONG_ISSUER
    if message.aud != origin:
        return Reason.WRONG_AUDIENCE
    if message.iat > now + max_skew:
        return Reason.NOT_YET_VALID
    if not message.iat < message.exp <= message.iat + max_lifetime:
        return Reason.BAD_LIFETIME
    if message.exp + max_skew <= now:
        return Reason.EXPIRED
    return None
