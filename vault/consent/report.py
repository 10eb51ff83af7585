"""What each site knows about you, folded from the ledger: every disclosure with its values, when, for
what, until when the site may keep it, whether the site acknowledged it, and whether it was withdrawn."""

from typing import Any

import msgspec

from vault.consent.ledger import entries
from vault.store import Vault

# What happened to disclosures after they were made; read from the ledger by (origin, kind).
EVENT_KINDS = ("acknowledgement", "revocation", "delivery_ack")


class Disclosure(msgspec.Struct, kw_only=True):
    jti: str
    purpose: str
    claims: dict[str, Any]
    disclosed_at: int
    expires_at: int  # the token's own expiry
    keep_until: int  # what the purpose's retention allows, counted from disclosure
    acknowledged: bool = False
    acknowledged_keep_until: int | None = None  # the site's own signed promise
    withdrawn_at: int | None = None  # a revocation notice naming it was signed
    withdrawal_acknowledged: bool = False
    erasure_requested: bool = False


class SiteReport(msgspec.Struct, kw_only=True):
    origin: str
    disclosures: list[Disclosure]

    def current(self, now: int) -> list[Disclosure]:
        """What the site may still hold: not withdrawn and within its retention."""
        return [d for d in self.disclosures if d.withdrawn_at is None and d.keep_until > now]


def site_report(vault: Vault, origin: str) -> SiteReport:
    rows = vault.conn.execute(
        "SELECT jti, purpose_id, claims, disclosed_at, expires_at, keep_until FROM disclosures "
        "WHERE origin = ? ORDER BY seq",
        (origin,),
    )
    by_jti = {
        jti: Disclosure(
            jti=jti,
            purpose=purpose_id,
            claims=msgspec.json.decode(claims),
            disclosed_at=at,
            expires_at=expires_at,
            keep_until=keep_until,
        )
        for jti, purpose_id, claims, at, expires_at, keep_until in rows
    }
    notices: dict[str, list[Disclosure]] = {}
    for entry in entries(vault, origin=origin, kinds=EVENT_KINDS):
        body = entry.body
        if entry.kind == "acknowledgement" and entry.ref in by_jti:
            by_jti[entry.ref].acknowledged = True
            by_jti[entry.ref].acknowledged_keep_until = body.get("keep_until")
        elif entry.kind == "revocation":
            withdrawn = [by_jti[jti] for jti in body["presentations"] if jti in by_jti]
            notices[entry.ref] = withdrawn
            for disclosure in withdrawn:
                disclosure.withdrawn_at = entry.at
                disclosure.erasure_requested = bool(body.get("erasure"))
        elif entry.kind == "delivery_ack":
            for disclosure in notices.get(entry.ref, []):
                disclosure.withdrawal_acknowledged = True
    return SiteReport(origin=origin, disclosures=list(by_jti.values()))
