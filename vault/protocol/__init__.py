"""The wire protocol between the vault and websites: formats, signatures, keys. No I/O.

SPEC.md beside this file is the normative description; `vectors/` holds its test vectors.
"""

from __future__ import annotations

from vault.protocol.acknowledgement import (
    Acknowledgement,
    RevocationAcknowledgement,
    verify_acknowledgement,
    verify_revocation_ack,
)
from vault.protocol.errors import (
    AcknowledgementInvalid,
    IssueError,
    ManifestInvalid,
    NoticeInvalid,
    PresentationInvalid,
    Reason,
    TokenInvalid,
)
from vault.protocol.jwk import jwk_thumbprint, key_subject, thumbprint_uri
from vault.protocol.keys import SigningKey, VerifyingKey, derive_pairwise_key
from vault.protocol.manifest import (
    ClaimRequest,
    Controller,
    Manifest,
    Purpose,
    ThirdParty,
    decode_manifest,
    encode_manifest,
    purpose_digest,
    retention_seconds,
)
from vault.protocol.presentation import ClaimValue, issue_presentation, open_presentation
from vault.protocol.revocation import sign_revocation

__all__ = [
    "Acknowledgement",
    "AcknowledgementInvalid",
    "ClaimRequest",
    "ClaimValue",
    "Controller",
    "IssueError",
    "Manifest",
    "ManifestInvalid",
    "NoticeInvalid",
    "PresentationInvalid",
    "Purpose",
    "Reason",
    "RevocationAcknowledgement",
    "SigningKey",
    "ThirdParty",
    "TokenInvalid",
    "VerifyingKey",
    "decode_manifest",
    "derive_pairwise_key",
    "encode_manifest",
    "issue_presentation",
    "jwk_thumbprint",
    "key_subject",
    "open_presentation",
    "purpose_digest",
    "retention_seconds",
    "sign_revocation",
    "thumbprint_uri",
    "verify_acknowledgement",
    "verify_revocation_ack",
]
