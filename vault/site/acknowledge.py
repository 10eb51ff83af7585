"""The site's acknowledgement of a presentation: its signed promise of what it keeps, and until when."""

from __future__ import annotations

from collections.abc import Sequence

from vault.protocol.acknowledgement import Acknowledgement, sign_acknowledgement
from vault.protocol.jws import MAX_TOKEN_LENGTH
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest, retention_seconds
from vault.protocol.message import MAX_CARRIED_MESSAGES
from vault.site.verify import VerifiedPresentation


def check_site_key(site_key: SigningKey, manifest: Manifest) -> None:
    if site_key.public_jwk["x"] != manifest.site_key.x:
        raise ValueError("site_key is not the key published in the manifest")


def acknowledge_presentation(
    site_key: SigningKey,
    presentation: VerifiedPresentation,
    *,
    manifest: Manifest,
    now: int,
    keep_until: int | None = None,
    recipients: Sequence[str] | None = None,
    messages: Sequence[str] = (),
) -> str:
    """Sign an acknowledgement of a verified presentation, for the page to hand back to the vault.

    `keep_until` (Unix time) defaults to the latest the purpose's retention allows, counted from the
    presentation's `iat`; a later date is refused (ValueError), since the vault would refuse it too.
    `recipients` are the third parties the site passes these claims to (default: every one the user
    allowed); naming one the user did not allow is refused (ValueError): the vault would record it as
    a broken promise. `messages`: up to two site messages (`make_message`) to deliver with it; more, or
    messages that make the acknowledgement longer than a token may be, are refused (ValueError), since
    the vault would refuse the acknowledgement itself.
    """
    check_site_key(site_key, manifest)
    latest = presentation.issued_at + retention_seconds(presentation.retention)
    if keep_until is None:
        keep_until = latest
    elif not presentation.issued_at <= keep_until <= latest:
        raise ValueError("keep_until must lie between the presentation's iat and the end of its retention")
    passed_to = presentation.recipients if recipients is None else tuple(dict.fromkeys(recipients))
    if not set(passed_to) <= set(presentation.recipients):
        raise ValueError("the user did not allow every recipient named: pass claims only to those allowed")
    if len(messages) > MAX_CARRIED_MESSAGES:
        raise ValueError(f"an acknowledgement carries at most {MAX_CARRIED_MESSAGES} messages")
    acknowledgement = Acknowledgement(
        iss=manifest.origin,
        aud=presentation.subject,
        iat=now,
        presentation=presentation.jti,
        purpose=presentation.purpose,
        purpose_digest=presentation.purpose_digest,
        claims=tuple(sorted(presentation.claims)),
        keep_until=keep_until,
        recipients=passed_to,
        messages=tuple(messages) or None,
    )
    token = sign_acknowledgement(site_key, acknowledgement)
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError(f"with its messages, the acknowledgement is over {MAX_TOKEN_LENGTH} characters")
    return token
