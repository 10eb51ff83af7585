"""Storing a site's acknowledgement: its signed promise about one disclosure (which claims it keeps, until
when, and which third parties it passed them to), verified against the presentation it names before it is
recorded beside it in the ledger. Naming a third party the user did not allow is recorded as a broken
promise (kind `broken_promise`), with the site's token as evidence.

An acknowledgement may carry site messages (at most 2): each is received into the inbox like one sent
through the page. A refused one is dropped; it never fails the acknowledgement, and the answer says
nothing about messages."""

import logging
from typing import Any

import msgspec

from vault.consent import inbox, ledger
from vault.consent.disclosures import ACKNOWLEDGED_WITHIN
from vault.consent.ledger_records import Acknowledged, BrokenPromise, Disclosed
from vault.consent.sites import stored_manifest
from vault.protocol.acknowledgement import Presented, unallowed_recipients, verify_acknowledgement
from vault.protocol.b64 import b64url_decode
from vault.protocol.errors import AcknowledgementInvalid, Reason
from vault.store import Vault

log = logging.getLogger("vault.consent")


class _AckRouting(msgspec.Struct):
    presentation: str


def store_acknowledgement(
    vault: Vault, token: str, *, now: int, carried: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Verifies the site's signed promise against the presentation it names, and records it.

    The messages it carries go to the inbox (`inbox.receive_carried`), or, given a `carried` list, are put
    there, as (origin, token), for the caller to receive after answering the page: the page's answer then
    takes the same time whether they were kept, dropped as muted or refused (it must not learn which).

    Raises AcknowledgementInvalid (one type, with a reason) for anything that does not verify.
    """
    try:  # Only to find the presentation; nothing is trusted until verify_acknowledgement passes.
        payload = b64url_decode(token.split(".")[1]) if isinstance(token, str) and len(token) < 16384 else b""
        jti = msgspec.json.decode(payload, type=_AckRouting).presentation
    except (ValueError, IndexError, msgspec.DecodeError):
        raise AcknowledgementInvalid(Reason.MALFORMED) from None
    disclosure = next(ledger.entries(vault, ref=jti, kinds=("disclosure",)), None)
    if disclosure is None or now > disclosure.at + ACKNOWLEDGED_WITHIN:
        raise AcknowledgementInvalid(Reason.WRONG_PRESENTATION)
    manifest = stored_manifest(vault, disclosure.origin)
    if manifest is None:
        raise AcknowledgementInvalid(Reason.WRONG_PRESENTATION)
    record = disclosure.record
    assert isinstance(record, Disclosed)  # the entry's kind is "disclosure"
    # Checked against what the ledger recorded of the presentation: the vault keeps no copy of the token.
    issued = Presented(
        aud=disclosure.origin,
        sub=record.subject,
        jti=jti,
        purpose=disclosure.purpose_id,
        purpose_digest=record.purpose_digest,
        claims=frozenset(record.claims),
        iat=disclosure.at,
        retention=record.retention,
    )
    ack = verify_acknowledgement(token, manifest.site_key, presentation=issued, now=now)
    # Its signed word that it passed claims to someone the user did not allow: kept as evidence.
    broken = unallowed_recipients(ack, record.recipients)
    # The first acknowledgement is the promise kept; a repeat is not recorded twice. A later one that names
    # someone not allowed is still evidence: each such token is recorded once.
    first = next(ledger.entries(vault, ref=jti, kinds=("acknowledgement",)), None) is None
    recorded = {e.body.get("token") for e in ledger.entries(vault, ref=jti, kinds=("broken_promise",))}
    if first or (broken and token not in recorded):
        with vault.transaction() as conn:
            where = {"origin": disclosure.origin, "purpose_id": disclosure.purpose_id, "ref": jti}
            if first:
                ledger.append(
                    conn,
                    at=now,
                    **where,
                    body=Acknowledged(
                        claims=tuple(ack.claims),
                        keep_until=ack.keep_until,
                        token=token,
                        recipients=ack.recipients,
                    ),
                )
            if broken and token not in recorded:
                ledger.append(conn, at=now, **where, body=BrokenPromise(recipients=broken, token=token))
    if carried is None:
        inbox.receive_carried(vault, disclosure.origin, ack.messages or (), via="acknowledgement", now=now)
    else:
        carried.extend((disclosure.origin, message) for message in ack.messages or ())
    return {
        "presentation": jti,
        "claims": list(ack.claims),
        "keep_until": ack.keep_until,
        "recipients": list(ack.recipients),
        "not_allowed": list(broken),
    }
