"""What signing a presentation produced: the record the consent service (vault.consent.service) keeps of
each token it signs and the disclosure record it writes from it. The consent flow is the only way a token
leaves a vault in use; tests sign without a consent step through tests/issuing.py."""

from dataclasses import dataclass

from vault.claims.catalogue import ClaimValue


@dataclass(frozen=True)
class Issued:
    token: str
    jti: str
    claims: dict[str, ClaimValue]
    issued_at: int
    expires_at: int
    dropped: tuple[str, ...]  # claims asked for that the profile cannot provide
    subject: str  # the pairwise key's thumbprint URI: who the site knows this as
