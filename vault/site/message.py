"""Writing to a user the site knows: signed proposals, change notices, deletion confirmations and breach
notices (vault.protocol.message). Hand the token to the page (`personalVault.notify(token)`), or send it
with an acknowledgement or an access statement."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import msgspec

from vault.protocol.b64 import b64url_encode
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest
from vault.protocol.message import MessageKind, SiteMessage, sign_message
from vault.site.acknowledge import check_site_key

DEFAULT_MESSAGE_TTL = 7 * 86400


def make_message(
    site_key: SigningKey,
    *,
    manifest: Manifest,
    subject: str,
    kind: MessageKind,
    title: str,
    body: str,
    now: int,
    jti: str | None = None,
    ttl: int = DEFAULT_MESSAGE_TTL,
    purpose: str | None = None,
    effective_at: int | None = None,
    claims: Sequence[str] = (),
    url: str | None = None,
) -> str:
    """Sign a message to `subject` (the `subject` of a presentation this site received).

    `kind`: "proposal" (needs `purpose`, the purpose offered, and `url`, the page on this site where the
    user can accept it: accepting leads to the normal consent prompt there), "change" (needs
    `effective_at`), "deletion" or "breach" (`purpose` and `claims` say what they concern). `title` is
    one line of plain text (at most 100 characters), `body` plain text (at most 1000). `jti` defaults to
    a random id. Raises ValueError naming the rule broken.
    """
    check_site_key(site_key, manifest)
    message = SiteMessage(
        iss=manifest.origin,
        aud=subject,
        iat=now,
        exp=now + ttl,
        jti=jti if jti is not None else b64url_encode(secrets.token_bytes(16)),
        kind=kind,
        title=title,
        body=body,
        purpose=purpose,
        effective_at=effective_at,
        claims=tuple(claims) or None,
        url=url,
    )
    try:  # the constructor checks no lengths or patterns; a round trip through the decoder does
        msgspec.json.decode(msgspec.json.encode(message), type=SiteMessage)
    except msgspec.ValidationError as error:
        raise ValueError(str(error)) from None
    return sign_message(site_key, message)
