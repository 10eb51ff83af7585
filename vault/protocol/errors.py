"""The one vocabulary of failure reasons, and the exception types that carry them.

Each verifier raises exactly one exception type (a subclass of `TokenInvalid`) whose `reason` is a
`Reason`; the message is the reason alone, so logging an exception never leaks a token or a secret.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a token was refused. SPEC.md lists every member with its meaning (a test keeps them in step)."""

    TOO_LARGE = "too_large"
    MALFORMED = "malformed"
    UNSUPPORTED_ALG = "unsupported_alg"
    WRONG_TYP = "wrong_typ"
    UNSUPPORTED_CRIT = "unsupported_crit"
    BAD_KEY = "bad_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    BAD_LIFETIME = "bad_lifetime"
    WRONG_NONCE = "wrong_nonce"
    UNKNOWN_PURPOSE = "unknown_purpose"
    PURPOSE_MISMATCH = "purpose_mismatch"
    PURPOSE_DIGEST_MISMATCH = "purpose_digest_mismatch"
    UNDECLARED_CLAIM = "undeclared_claim"
    MISSING_CLAIM = "missing_claim"
    BAD_CLAIM_VALUE = "bad_claim_value"
    UNDECLARED_RECIPIENT = "undeclared_recipient"
    MISSING_RECIPIENT = "missing_recipient"
    REPLAYED = "replayed"
    REPLAY_CHECK_FAILED = "replay_check_failed"
    WRONG_SUBJECT = "wrong_subject"
    WRONG_PRESENTATION = "wrong_presentation"
    WRONG_NOTICE = "wrong_notice"
    CLAIMS_MISMATCH = "claims_mismatch"
    RETENTION_EXCEEDED = "retention_exceeded"
    WRONG_REQUEST = "wrong_request"


class TokenInvalid(Exception):
    """A token was refused. Catch the subclass that the verifier you call documents."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class PresentationInvalid(TokenInvalid):
    """Raised by the site's presentation verifier, and only by it."""


class AcknowledgementInvalid(TokenInvalid):
    """Raised by the vault when a site's acknowledgement (of a presentation or a revocation) is refused."""


class NoticeInvalid(TokenInvalid):
    """Raised by the site when a revocation / erasure notice is refused."""


class AccessRequestInvalid(TokenInvalid):
    """Raised by the site when an access request ("what do you hold about me?") is refused."""


class StatementInvalid(TokenInvalid):
    """Raised by the vault when a site's access statement (its answer to an access request) is refused."""


class MessageInvalid(TokenInvalid):
    """Raised by the vault when a site's message (proposal, change notice, ...) is refused."""


class IssueError(Exception):
    """The vault refused to sign: the request does not match the manifest or the arguments are bad.

    `reason` is a short machine-readable string; the message never includes claim values.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ManifestInvalid(Exception):
    """A site manifest failed to decode or validate. Manifests are public: the message may name the field."""
