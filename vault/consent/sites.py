"""Sites the vault has dealt with: the last validated manifest of each, and its pairwise epoch."""

import msgspec

from vault.protocol.manifest import Manifest, decode_manifest, encode_manifest
from vault.store import Vault
from vault.store.database import Connection


def remember_manifest(conn: Connection, manifest: Manifest, *, now: int) -> None:
    """Call inside a transaction. The manifest must already be validated (decode_manifest).

    `manifest_seen_at` is when this version of the manifest was first seen: an unchanged manifest is not
    written again (every request carries it, and rewriting it cost a third of a presentation)."""
    conn.execute(
        "INSERT INTO sites (origin, epoch, first_seen, manifest, manifest_seen_at) VALUES (?, 0, ?, ?, ?) "
        "ON CONFLICT (origin) DO UPDATE SET "
        "manifest = excluded.manifest, manifest_seen_at = excluded.manifest_seen_at "
        "WHERE sites.manifest IS NOT excluded.manifest",
        (manifest.origin, now, encode_manifest(manifest).decode(), now),
    )


def stored_manifest(vault: Vault, origin: str) -> Manifest | None:
    row = vault.conn.execute("SELECT manifest FROM sites WHERE origin = ?", (origin,)).fetchone()
    return None if row is None or row[0] is None else decode_manifest(row[0].encode())


class SiteSummary(msgspec.Struct, kw_only=True):
    origin: str
    controller: str | None
    epoch: int
    first_seen: int
    manifest_seen_at: int | None


def known_sites(vault: Vault) -> list[SiteSummary]:
    rows = vault.conn.execute(
        "SELECT origin, epoch, first_seen, manifest, manifest_seen_at FROM sites ORDER BY origin"
    )
    return [
        SiteSummary(
            origin=origin,
            epoch=epoch,
            first_seen=first_seen,
            manifest_seen_at=seen_at,
            controller=None if manifest is None else decode_manifest(manifest.encode()).controller.name,
        )
        for origin, epoch, first_seen, manifest, seen_at in rows
    ]
