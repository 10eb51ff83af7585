"""Sites the vault has dealt with: the last validated manifest of each (and every earlier version, as
evidence), its pairwise epoch, and the pairwise identities the vault used there (the shared one, and the
own identity of each context that keeps one)."""

import hashlib
from functools import lru_cache

import msgspec

from vault.consent import ledger
from vault.consent.ledger_records import SiteChanged
from vault.errors import InvalidInput
from vault.protocol.b64 import b64url_encode
from vault.protocol.jwk import jwk_thumbprint, key_subject
from vault.protocol.manifest import Manifest, decode_manifest, encode_manifest
from vault.protocol.origin import origin_problem
from vault.store import Vault
from vault.store.database import Connection
from vault.store.read_model import ReadModel, digest_keeping_the_gil

# What a site may change only in plain view: who runs it, the key it signs with, where it hears revocations.
WATCHED_FIELDS = ("controller", "site_key", "revocation_endpoint", "access_endpoint")


def checked_origin(origin: str) -> str:
    """`origin` if it is a site origin; InvalidInput naming the problem if not (for what a program sends)."""
    problem = origin_problem(origin)
    if problem is not None:
        raise InvalidInput(
            f"{str(origin)[:300]!r} is not a site origin: {problem}", "write it as https://host[:port]"
        )
    return origin


def typed_origin(origin: str) -> str:
    """A site origin as a person types it (a trailing slash is dropped); InvalidInput if it is not one."""
    problem = origin_problem(origin.rstrip("/"))
    if problem is not None:
        raise InvalidInput(f"{origin!r} is not a site origin: {problem}", "write it as https://shop.example")
    return origin.rstrip("/")


def describe_field(manifest: Manifest, field: str) -> str:
    """A watched field in words, as the ledger and the site's view show it."""
    if field == "controller":
        controller = manifest.controller
        return f"{controller.name} ({controller.contact}; {controller.privacy_policy})"
    if field == "site_key":
        return f"key {jwk_thumbprint(manifest.site_key)}"
    if field == "access_endpoint":
        return manifest.access_endpoint or "none"
    return manifest.revocation_endpoint


def remember_manifest(
    conn: Connection, manifest: Manifest, *, now: int, reads: ReadModel | None = None
) -> tuple[str, ...]:
    """Call inside a transaction. The manifest must already be validated (decode_manifest).

    Called when the user is involved (a disclosure, an answered prompt), so a site that nobody answered
    leaves nothing behind. `manifest_seen_at` is when this version was first seen; an unchanged manifest
    is not written again. A change to a watched field is recorded in the ledger (`site_changed`, before
    and after) and shown in the site's view, never adopted silently. Returns the fields that changed.
    `reads`: the daemon's read model (it keeps the stored text's digest: read once, not every disclosure)."""
    origin = manifest.origin
    if reads is not None:  # without the model, the text compared below is the one read
        stored = reads.get(("stored_manifest", origin), lambda: _stored_digest(conn, origin))
        if stored == manifest_digest(manifest):
            return ()
    text = encode_manifest(manifest).decode()
    row = conn.execute("SELECT manifest FROM sites WHERE origin = ?", (manifest.origin,)).fetchone()
    if row is not None and row[0] == text:
        return ()
    conn.execute(
        "INSERT INTO sites (origin, epoch, first_seen, manifest, manifest_seen_at) VALUES (?, 0, ?, ?, ?) "
        "ON CONFLICT (origin) DO UPDATE SET manifest = excluded.manifest, "
        "manifest_seen_at = excluded.manifest_seen_at",
        (manifest.origin, now, text, now),
    )
    _keep_version(conn, manifest.origin, text, None if row is None else row[0], now)
    if row is None or row[0] is None:
        return ()
    before = decode_manifest(row[0].encode())
    changed = tuple(f for f in WATCHED_FIELDS if getattr(before, f) != getattr(manifest, f))
    for field in changed:
        ledger.append(
            conn,
            at=now,
            origin=manifest.origin,
            body=SiteChanged(
                field=field, before=describe_field(before, field), after=describe_field(manifest, field)
            ),
        )
    return changed


@lru_cache(maxsize=64)  # manifests are immutable and hash once; the daemon hands the same one out per text
def manifest_digest(manifest: Manifest) -> bytes:
    """A digest of the manifest's encoding (what the read model keys and compares manifests by)."""
    return digest_keeping_the_gil(encode_manifest(manifest))


def _stored_digest(conn: Connection, origin: str) -> bytes | None:
    row = conn.execute("SELECT manifest FROM sites WHERE origin = ?", (origin,)).fetchone()
    return None if row is None or row[0] is None else digest_keeping_the_gil(row[0].encode())


def _digest(text: str) -> str:
    return b64url_encode(hashlib.sha256(text.encode()).digest())


def _keep_version(conn: Connection, origin: str, text: str, before: str | None, now: int) -> None:
    """Each manifest version the vault acted on, with when it was first and last in use (`vault report`)."""
    if before is not None:
        conn.execute(
            "UPDATE manifest_versions SET last_seen = ? WHERE origin = ? AND digest = ?",
            (now, origin, _digest(before)),
        )
    conn.execute(
        "INSERT INTO manifest_versions (origin, digest, manifest, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin, digest) DO UPDATE SET last_seen = excluded.last_seen",
        (origin, _digest(text), text, now, now),
    )


class ManifestVersion(msgspec.Struct, frozen=True, kw_only=True):
    digest: str
    manifest: str  # the text, as the vault stored it
    first_seen: int
    last_seen: int  # when the next version replaced it (or, for the current one, when it was last stored)


def manifest_versions(vault: Vault, origin: str) -> list[ManifestVersion]:
    """Every manifest version of `origin` the vault kept, oldest first."""
    rows = vault.conn.execute(
        "SELECT digest, manifest, first_seen, last_seen FROM manifest_versions WHERE origin = ? "
        "ORDER BY first_seen, digest",
        (origin,),
    )
    return [ManifestVersion(digest=d, manifest=m, first_seen=f, last_seen=la) for d, m, f, la in rows]


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


# -- the identities the vault used at a site ------------------------------------------------------------


def identities(vault: Vault, origin: str, epoch: int) -> list[str | None]:
    """The pairwise identities the vault disclosed under at `origin` in `epoch`, as their ledger entries
    record them: the shared one (None) first if it was used, then each context's own, sorted."""
    rows = vault.conn.execute(
        "SELECT DISTINCT json_extract(l.body, '$.identity') FROM disclosures d "
        "JOIN ledger l ON l.seq = d.seq WHERE d.origin = ? AND json_extract(l.body, '$.epoch') = ?",
        (origin, epoch),
    )
    used = {identity if isinstance(identity, str) else None for (identity,) in rows}
    return sorted(used, key=lambda identity: (identity is not None, identity or ""))


def subject_of(vault: Vault, origin: str, epoch: int, identity: str | None = None) -> str:
    """The pairwise subject (`sub`) a site sees for the vault's key of (origin, epoch, identity)."""
    return key_subject(vault.pairwise_key(origin, epoch, identity).public_jwk)


def current_subjects(vault: Vault, origin: str) -> dict[str, str | None]:
    """subject -> identity, for every subject the vault uses at `origin` now: the shared identity's, and
    that of each identity it disclosed under in the current epoch (a "forget me" replaced older ones)."""
    epoch = vault.site_epoch(origin)
    found = {subject_of(vault, origin, epoch): None}
    for identity in identities(vault, origin, epoch):
        found[subject_of(vault, origin, epoch, identity)] = identity
    return found
