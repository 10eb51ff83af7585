"""What each site knows about you, folded from the ledger: every disclosure with its values, when, for
what, until when the site may keep it, whether the site acknowledged it, and whether it was withdrawn.

A withdrawal is only as good as the site's answer: until the site's signed acknowledgement of the notice
arrives, a withdrawn disclosure is `pending` (with the outbox's next try), never shown as gone."""

from collections.abc import Callable
from typing import Any, Literal

import msgspec

from vault.consent.ledger import entries
from vault.consent.ledger_records import Acknowledged, NoticeAcknowledged, NoticeQueued, SiteChanged
from vault.store import Vault

# What happened to disclosures after they were made; read from the ledger by (origin, kind).
EVENT_KINDS = ("acknowledgement", "revocation", "delivery_ack", "site_changed")
WithdrawalState = Literal["none", "pending", "confirmed"]


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
    withdrawal_state: WithdrawalState = "none"  # pending until the site's signed answer arrives
    withdrawal_next_try_at: int | None = None  # pending: when the vault next sends the notice
    withdrawal_confirmed_at: int | None = None  # confirmed: when the site's answer arrived


class SiteChange(msgspec.Struct, kw_only=True):
    """The site changed who runs it, its signing key or where it hears revocations (ledger: site_changed)."""

    at: int
    field: str  # controller | site_key | revocation_endpoint
    before: str
    after: str


class SiteReport(msgspec.Struct, kw_only=True):
    origin: str
    disclosures: list[Disclosure]
    changes: list[SiteChange] = []

    def current(self, now: int) -> list[Disclosure]:
        """What the site may still hold: not withdrawn and within its retention."""
        return [d for d in self.disclosures if d.withdrawn_at is None and d.keep_until > now]

    def pending_withdrawal(self) -> list[Disclosure]:
        """Withdrawn, but the site has not yet confirmed it (it may still hold them)."""
        return [d for d in self.disclosures if d.withdrawal_state == "pending"]


def withdrawal_words(disclosure: Disclosure, when: Callable[[int], str]) -> str | None:
    """Where a withdrawal stands, as every view says it (None: not withdrawn). Only the site's verified
    acknowledgement makes it "confirmed"; until then the site may still hold the values."""
    erase = disclosure.erasure_requested
    if disclosure.withdrawal_state == "confirmed" and disclosure.withdrawal_confirmed_at is not None:
        done = "deleted" if erase else "withdrawn"
        return f"{done}, confirmed by the site on {when(disclosure.withdrawal_confirmed_at)}"
    if disclosure.withdrawal_state == "pending":
        asked = "asked to delete" if erase else "withdrawn"
        next_try = disclosure.withdrawal_next_try_at
        later = "" if next_try is None else f" (next try {when(next_try)})"
        return f"{asked} — waiting for the site's confirmation{later}"
    return None


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
    changes: list[SiteChange] = []
    next_try = dict(
        vault.conn.execute(
            "SELECT id, next_attempt_at FROM outbox WHERE origin = ? AND delivered_at IS NULL", (origin,)
        ).fetchall()
    )
    for entry in entries(vault, origin=origin, kinds=EVENT_KINDS):
        match entry.record:
            case Acknowledged(keep_until=keep_until) if entry.ref in by_jti:
                by_jti[entry.ref].acknowledged = True
                by_jti[entry.ref].acknowledged_keep_until = keep_until
            case NoticeQueued(presentations=presentations, erasure=erasure):
                withdrawn = [by_jti[jti] for jti in presentations if jti in by_jti]
                notices[entry.ref] = withdrawn
                for disclosure in withdrawn:
                    disclosure.withdrawn_at = entry.at
                    disclosure.erasure_requested = erasure
                    disclosure.withdrawal_state = "pending"
                    disclosure.withdrawal_next_try_at = next_try.get(entry.ref)
            case NoticeAcknowledged():
                for disclosure in notices.get(entry.ref, []):
                    disclosure.withdrawal_acknowledged = True
                    disclosure.withdrawal_state = "confirmed"
                    disclosure.withdrawal_next_try_at = None
                    disclosure.withdrawal_confirmed_at = entry.at
            case SiteChanged(field=field, before=before, after=after):
                changes.append(SiteChange(at=entry.at, field=field, before=before, after=after))
    return SiteReport(origin=origin, disclosures=list(by_jti.values()), changes=changes)
