"""Global Privacy Control: whether the extension sends `Sec-GPC: 1` (and tells pages
`navigator.globalPrivacyControl === true`) on a site.

GPC says one thing: "do not sell or share my personal information". It is sent where the active context's
rules refuse a purpose GPC speaks for (GPC_CONCEPTS), unless the user turned it off in that context or on
that site. These are standing settings: nothing is recorded per request or per page (the ledger must not
become a browsing history), and the extension asks for the whole state at once, not site by site.
"""

import msgspec

from vault.consent.contexts import Context, active_context, browser_context, next_change
from vault.consent.records import load_rules
from vault.store import Vault

# The DPV purposes GPC's "do not sell or share" covers: selling data, and sharing it for targeted
# advertising. Either refused is enough: GPC cannot say less than both, and sending it shares nothing.
GPC_CONCEPTS = ("dpv:SellDataToThirdParties", "dpv:TargetedAdvertising")
_CONCEPT_WORDS = {
    "dpv:SellDataToThirdParties": "selling your data",
    "dpv:TargetedAdvertising": "targeted advertising",
}


class SiteGpc(msgspec.Struct, frozen=True, kw_only=True):
    origin: str | None  # None: sites without a context or switch of their own
    sent: bool
    context: str  # the context in force there (id)
    context_name: str
    refused: tuple[str, ...]  # the GPC concepts that context's rules refuse
    context_switch: bool  # the context's own GPC switch
    site_switch: bool  # False: the user turned GPC off on this site
    why: str  # in words


class GpcState(msgspec.Struct, frozen=True, kw_only=True):
    """All the extension needs: what to do by default, the sites that differ, and when to ask again."""

    sent: bool  # on sites without a context or switch of their own
    sites: dict[str, bool]  # origin -> sent, only where it differs from `sent`
    next_change: int | None  # a timed context ends then


def _decide(vault: Vault, origin: str | None, context: Context, site_switch: bool) -> SiteGpc:
    rules = load_rules(vault, context.id)
    refused = tuple(c for c in GPC_CONCEPTS if c in rules.deny_concepts)
    sent = bool(refused) and context.gpc and site_switch
    if not site_switch:
        why = "Not sent: you turned it off for this site."
    elif not context.gpc:
        why = f"Not sent: you turned it off in the context {context.name}."
    elif not refused:
        why = f"Not sent: {context.name}'s rules refuse neither selling your data nor targeted advertising."
    else:
        refusals = " and ".join(_CONCEPT_WORDS[c] for c in refused)
        why = f"Sent: the rules of {context.name} refuse {refusals}."
    return SiteGpc(
        origin=origin,
        sent=sent,
        context=context.id,
        context_name=context.name,
        refused=refused,
        context_switch=context.gpc,
        site_switch=site_switch,
        why=why,
    )


def _site_switch(vault: Vault, origin: str) -> bool:
    row = vault.conn.execute("SELECT enabled FROM gpc_sites WHERE origin = ?", (origin,)).fetchone()
    return row is None or bool(row[0])


def site_gpc(vault: Vault, origin: str, *, now: int) -> SiteGpc:
    """Whether GPC is sent to `origin` now, and why, in words."""
    return _decide(vault, origin, active_context(vault, origin, now=now).context, _site_switch(vault, origin))


def default_gpc(vault: Vault, *, now: int) -> SiteGpc:
    """What sites without a context or switch of their own get now, and why (origin None)."""
    return _decide(vault, None, browser_context(vault, now=now).context, True)


def gpc_state(vault: Vault, *, now: int) -> GpcState:
    default = _decide(vault, None, browser_context(vault, now=now).context, True).sent
    origins = {
        row[0]
        for row in vault.conn.execute("SELECT origin FROM site_contexts UNION SELECT origin FROM gpc_sites")
    }
    differing = {}
    for origin in sorted(origins):
        sent = site_gpc(vault, origin, now=now).sent
        if sent != default:
            differing[origin] = sent
    return GpcState(sent=default, sites=differing, next_change=next_change(vault, now=now))


def set_site_gpc(vault: Vault, origin: str, *, enabled: bool, now: int) -> SiteGpc:
    """Turns GPC off on `origin` (a checked origin), or back to what its context says. A standing
    setting, exported with the others; not a ledger entry (it shares nothing and withdraws nothing)."""
    with vault.transaction() as conn:
        if enabled:
            conn.execute("DELETE FROM gpc_sites WHERE origin = ?", (origin,))
        else:
            conn.execute(
                "INSERT INTO gpc_sites (origin, enabled, set_at) VALUES (?, 0, ?) "
                "ON CONFLICT (origin) DO UPDATE SET enabled = 0, set_at = excluded.set_at",
                (origin, now),
            )
    return site_gpc(vault, origin, now=now)


def gpc_sites(vault: Vault) -> list[tuple[str, bool, int]]:
    """Every per-site switch: (origin, enabled, set at), for the export and the options page."""
    return [
        (origin, bool(enabled), set_at)
        for origin, enabled, set_at in vault.conn.execute(
            "SELECT origin, enabled, set_at FROM gpc_sites ORDER BY origin"
        )
    ]
