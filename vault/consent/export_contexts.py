"""The export's standing settings about contexts and Global Privacy Control (`contexts`, `context_choices`,
`gpc_sites`, `gpc_default`), and the pairwise identities the vault used at each site (`Site.subjects`).

Choices are exported as stored, a timed one with its end even after it has passed (a reader sees what
was chosen and until when); `gpc_default` is the one value computed at export time."""

import json
from collections.abc import Iterator

from vault.consent.contexts import names
from vault.consent.export_format import (
    ContextChoices,
    ContextExport,
    GpcDefault,
    GpcSite,
    SiteContextChoice,
    SiteSubject,
    TimedChoice,
)
from vault.consent.gpc import default_gpc, gpc_sites
from vault.protocol.jwk import key_subject
from vault.protocol.keys import derive_pairwise_key
from vault.store import Vault


def contexts(vault: Vault) -> list[ContextExport]:
    rows = vault.conn.execute(
        "SELECT id, name, separate_identity, gpc, created_at, removed_at FROM contexts "
        "ORDER BY id != 'everyday', created_at, id"
    )
    return [
        ContextExport(
            id=id_,
            name=name,
            separate_identity=bool(separate),
            gpc=bool(gpc),
            created_at=created_at,
            removed_at=removed_at,
        )
        for id_, name, separate, gpc, created_at, removed_at in rows
    ]


def _meta_json(vault: Vault, key: str) -> dict | None:
    value = vault.meta(key)
    try:
        decoded = None if value is None else json.loads(value)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def context_choices(vault: Vault) -> ContextChoices:
    browser = _meta_json(vault, "context_default")
    timed = _meta_json(vault, "context_timed")
    sites = vault.conn.execute("SELECT origin, context, until, set_at FROM site_contexts ORDER BY origin")
    return ContextChoices(
        browser=None if browser is None else str(browser.get("context")),
        timed=None
        if timed is None or not isinstance(timed.get("until"), int)
        else TimedChoice(context=str(timed.get("context")), until=timed["until"]),
        sites=[
            SiteContextChoice(origin=origin, context=context, until=until, set_at=set_at)
            for origin, context, until, set_at in sites
        ],
    )


def gpc_switches(vault: Vault) -> list[GpcSite]:
    return [GpcSite(origin=o, enabled=enabled, set_at=at) for o, enabled, at in gpc_sites(vault)]


def gpc_default(vault: Vault, now: int) -> GpcDefault:
    """What a site without a context or switch of its own gets at export time."""
    state = default_gpc(vault, now=now)
    return GpcDefault(sent=state.sent, context=state.context, why=state.why)


def site_subjects(vault: Vault, seed: bytes, origin: str, epoch: int) -> Iterator[SiteSubject]:
    """Every (epoch, identity) the site was given or sent something under, and the current shared one."""
    rows = vault.conn.execute(
        "SELECT DISTINCT json_extract(body, '$.epoch'), json_extract(body, '$.identity') FROM ledger "
        "WHERE origin = ? AND kind IN ('disclosure', 'revocation', 'access_request')",
        (origin,),
    )
    pairs = {(e, i if isinstance(i, str) else None) for e, i in rows if isinstance(e, int)}
    pairs.add((epoch, None))
    context_names = names(vault)
    for used_epoch, identity in sorted(pairs, key=lambda p: (p[0], p[1] is not None, p[1] or "")):
        key = derive_pairwise_key(seed, origin, used_epoch, identity)
        yield SiteSubject(
            epoch=used_epoch,
            identity=identity,
            context_name=None if identity is None else context_names.get(identity, identity),
            subject=key_subject(key.public_jwk),
            current=used_epoch == epoch,
        )
