"""Recording a disclosure: the ledger entry (and its by-site copy) written in the same transaction, before
the token is handed to anyone. The entry's body is a ledger_records.Disclosed."""

from vault.claims.issuer import Issued
from vault.consent import ledger
from vault.consent.ledger_records import Disclosed
from vault.protocol.manifest import Manifest, manifest_index, retention_seconds
from vault.store.database import Connection

# Long enough for the page to pass the site's acknowledgement back. It is checked against the ledger entry,
# which records every member of the presentation it needs: no copy of the token (a bearer credential) is
# kept, only the entry and its by-site copy are written per disclosure.
ACKNOWLEDGED_WITHIN = 24 * 3600


def record_disclosure(
    conn: Connection,
    *,
    issued: Issued,
    manifest: Manifest,
    purpose_id: str,
    epoch: int,
    prompt_id: str | None,
    recipients: tuple[str, ...] = (),
    context: str | None = None,
    identity: str | None = None,
) -> int:
    """Call inside the transaction that must commit before the token leaves. Returns the ledger seq.
    `context`: the context it was made in (an id; the request path always gives it); `identity`: the
    pairwise identity its key was derived with (contexts.Context.identity; None: the shared one)."""
    entry = manifest_index(manifest)[purpose_id]
    body = Disclosed(
        claims=issued.claims,
        purpose_digest=entry.digest,
        concept=entry.purpose.concept,
        retention=entry.purpose.retention,
        expires_at=issued.expires_at,
        keep_until=issued.issued_at + retention_seconds(entry.purpose.retention),
        epoch=epoch,
        subject=issued.subject,
        prompt=prompt_id,
        recipients={
            recipient: tuple(sorted(entry.recipients[recipient] & issued.claims.keys()))
            for recipient in recipients
        },
        context=context,
        identity=identity,
    )
    return ledger.append_disclosure(
        conn, origin=manifest.origin, purpose_id=purpose_id, jti=issued.jti, at=issued.issued_at, body=body
    )
