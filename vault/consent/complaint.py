"""`vault report ORIGIN`: the evidence for a complaint to a data protection authority, from the vault.

What goes in is what the site itself was told or said, under ONE pairwise identity (an epoch, and the
shared identity or a context's own one): the manifest versions
it served, the disclosures it received (the values sent), its signed acknowledgements and broken
promises, the revocation and erasure notices (and whether it answered), access requests and its signed
statements with the discrepancies found, and its messages. Nothing else: no profile attribute, no other
site, no value never sent to it, and no other identity the user had there (after "forget me" the site
cannot link the old and the new one, nor two contexts that keep their own identities, and a complaint it
may be shown must not do it either). The user
may add their own words (`note`) and files (`attachments`), which are marked as theirs.

The bundle (FORMAT) is checkable by anyone without the vault (vault.consent.complaint_check): site-signed
tokens against the site key of the manifest version that verifies them (all versions are included), the
vault's notices against their embedded pairwise key (the subject), and the ledger entries with their
stored hashes and the hash before each, so every entry's hash and the links between neighbours can be
recomputed. The Markdown is vault.consent.complaint_text.
"""

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from vault.consent import ledger
from vault.consent.contexts import names
from vault.consent.sites import ManifestVersion, manifest_versions, stored_manifest, typed_origin
from vault.errors import InvalidInput
from vault.protocol.b64 import b64url_encode
from vault.protocol.errors import TokenInvalid
from vault.protocol.jwk import key_subject
from vault.protocol.jws import key_id, open_compact, recorded_payload, site_verifying_key
from vault.protocol.manifest import Manifest, decode_manifest
from vault.store import Vault
from vault.words import count

FORMAT = "vault-complaint/1"
MAX_NOTE = 8000  # characters of the user's own statement
MAX_ATTACHMENTS = 8
MAX_ATTACHMENT_BYTES = 1024 * 1024  # each; the bundle stays something one can mail to an authority

# Ledger kinds that are about what the site was told or said. `consent` (the user's own decisions) and
# `forget` (which links two identities) stay out.
EVIDENCE_KINDS = (
    "disclosure",
    "acknowledgement",
    "broken_promise",
    "revocation",
    "delivery",
    "delivery_ack",
    "site_changed",
    "access_request",
    "access_answer",
    "access_unanswered",
    "message",
)
# Entries that embed a token signed by the site, and its `typ`.
SITE_SIGNED = {
    "acknowledgement": "vault-ack+jwt",
    "broken_promise": "vault-ack+jwt",
    "delivery_ack": "vault-revocation-ack+jwt",
    "access_answer": "vault-access-statement+jwt",
    "message": "vault-message+jwt",
}


@dataclass
class Complaint:
    """The bundle (`bundle`, JSON-ready) and what the Markdown needs beyond it."""

    bundle: dict[str, Any]
    manifest: Manifest  # the current one (controller, purpose titles)
    versions: list[tuple[ManifestVersion, Manifest]]
    other_identities: int = 0  # earlier (or later) identities at this site, left out


def read_attachment(path: Path) -> dict[str, Any]:
    """One of the user's own files, bounded: name, size, SHA-256 and the bytes (base64)."""
    try:
        size = path.stat().st_size
        if size > MAX_ATTACHMENT_BYTES:
            raise InvalidInput(
                f"{path} is {size} bytes; an attachment may have at most {MAX_ATTACHMENT_BYTES}",
                "attach a smaller file, or send it to the authority separately",
            )
        data = path.read_bytes()[: MAX_ATTACHMENT_BYTES + 1]
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}", "check the file name") from None
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput(f"{path} grew past {MAX_ATTACHMENT_BYTES} bytes while it was read")
    return {
        "name": path.name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_base64": base64.b64encode(data).decode(),
    }


def _payload(token: str) -> dict[str, Any]:
    """A recorded token's payload, unverified (check-report verifies every token in a bundle)."""
    return recorded_payload(token) or {}


Pair = tuple[int, str | None]  # (epoch, identity): one pairwise identity at a site


def _pair(body: dict[str, Any]) -> Pair | None:
    """The identity an entry's body was signed or given under (disclosures, notices, access requests)."""
    epoch, identity = body.get("epoch"), body.get("identity")
    return (epoch, identity if isinstance(identity, str) else None) if isinstance(epoch, int) else None


def _select(entries: list[ledger.Entry], pair: Pair, subject: str) -> list[ledger.Entry]:
    """The entries about this identity (and the site's public manifest changes), in ledger order."""
    presentations = {e.ref for e in entries if e.kind == "disclosure" and _pair(e.body) == pair}
    notices = {e.ref for e in entries if e.kind == "revocation" and _pair(e.body) == pair}
    requests = {e.ref for e in entries if e.kind == "access_request" and _pair(e.body) == pair}
    return [
        entry
        for entry in entries
        if entry.kind == "site_changed"
        or (entry.kind in ("disclosure", "acknowledgement", "broken_promise") and entry.ref in presentations)
        or (entry.kind in ("revocation", "delivery", "delivery_ack") and entry.ref in notices)
        or (entry.kind in ("access_request", "access_answer", "access_unanswered") and entry.ref in requests)
        or (entry.kind == "message" and _payload(str(entry.body.get("token", ""))).get("aud") == subject)
    ]


def _used(entries: list[ledger.Entry]) -> list[Pair]:
    """Every identity the site saw, latest epoch first, the shared one before a context's own."""
    pairs = {pair for e in entries if (pair := _pair(e.body)) is not None}
    return sorted(pairs, key=lambda p: (-p[0], p[1] is not None, p[1] or ""))


def _choose(vault: Vault, origin: str, used: list[Pair], epoch: int | None, identity: str | None) -> Pair:
    """The identity the complaint is about: the one asked for (`identity` a context's name or id, or
    "shared"), in `epoch` or the latest it was used in; by default the current epoch's if the site saw
    anything under it, else the latest it did, the shared identity first."""
    current = vault.site_epoch(origin)
    if identity is None and epoch is None:
        return ([p for p in used if p[0] == current] or used or [(current, None)])[0]
    known = used if (current, None) in used else [*used, (current, None)]
    named = names(vault)
    wanted = (identity or "").strip().casefold()
    label = (
        None
        if wanted in ("", "shared")
        else next((i for i, n in named.items() if wanted in (i, n.casefold())), wanted)
    )
    for pair in known:
        if (epoch is None or pair[0] == epoch) and (identity is None or pair[1] == label):
            return pair
    what = f"identity {epoch}" if identity is None else f"the identity {identity!r}"
    what += "" if identity is None or epoch is None else f" in epoch {epoch}"
    raise InvalidInput(
        f"the vault has nothing under {what} at {origin}",
        "identities there: "
        + ", ".join(
            str(e) if i is None else f"{e} ({named.get(i, i)}'s own)" for e, i in sorted(known, key=str)
        ),
    )


def _raw_ledger(vault: Vault, seqs: list[int]) -> list[dict[str, Any]]:
    """The chosen entries as stored (body text, hash), each with the hash of the entry before it, so a
    reader can recompute its hash without the rest of the ledger."""
    rows = []
    for seq in seqs:
        row = vault.conn.execute(
            "SELECT seq, at, kind, origin, purpose_id, ref, body, hash FROM ledger WHERE seq = ?", (seq,)
        ).fetchone()
        before = vault.conn.execute("SELECT hash FROM ledger WHERE seq = ?", (seq - 1,)).fetchone()
        # The first entry chains to the vault's genesis value (a hash of its id, nothing readable).
        previous = bytes(before[0]) if before is not None else ledger._genesis(vault.conn)
        rows.append(
            {
                "seq": row[0],
                "at": row[1],
                "kind": row[2],
                "origin": row[3],
                "purpose_id": row[4],
                "ref": row[5],
                "body": row[6],
                "previous_hash": b64url_encode(previous),
                "hash": b64url_encode(bytes(row[7])),
            }
        )
    return rows


def _signing_version(token: str, typ: str, at: int, versions: list[tuple[ManifestVersion, Manifest]]):
    """The manifest version whose site key verifies `token`: the one in force at `at` first, then the
    others (a version first stored after its key was in use, e.g. by a schema upgrade). None if none."""
    in_force = [v for v in versions if v[0].first_seen <= at]
    ordered = list(reversed(in_force)) + [v for v in versions if v not in in_force]
    for version, manifest in ordered:
        try:
            open_compact(token, typ, site_verifying_key(manifest.site_key), max_length=32768)
        except TokenInvalid:
            continue
        return version
    return None


def _notices(vault: Vault, origin: str, notice_ids: set[str]) -> list[dict[str, Any]]:
    rows = vault.conn.execute(
        "SELECT id, purpose_id, endpoint, notice, created_at, attempts, next_attempt_at, last_error, "
        "delivered_at FROM outbox WHERE origin = ? ORDER BY created_at, id",
        (origin,),
    )
    items = []
    for jti, purpose, endpoint, token, created, attempts, due, error, delivered in rows:
        if jti not in notice_ids:
            continue
        state = "delivered" if delivered is not None else ("failing" if attempts else "queued")
        record = {
            "purpose": purpose,
            "endpoint": endpoint,
            "state": state,
            "attempts": attempts,
            "last_error": error,
            "next_attempt_at": None if delivered is not None else due,
            "delivered_at": delivered,
        }
        items.append({"kind": "notice", "at": created, "ref": jti, "token": token, "record": record})
    return items


def collect(
    vault: Vault,
    origin: str,
    *,
    now: int,
    epoch: int | None = None,
    identity: str | None = None,
    note: str | None = None,
    attachments: Sequence[dict[str, Any]] = (),
) -> Complaint:
    """The complaint's evidence about `origin` under one identity: `epoch` and `identity` (a context's
    name or id, for its own identity, or "shared"), by default the current epoch's if the site saw
    anything under it, else the latest it did (the shared identity first). InvalidInput for a site the
    vault never dealt with, or an identity it has nothing under."""
    origin = typed_origin(origin)
    manifest = stored_manifest(vault, origin)
    all_entries = [e for e in ledger.entries(vault, origin=origin) if e.kind in EVIDENCE_KINDS]
    if manifest is None:
        raise InvalidInput(
            f"the vault has no record of {origin}: it never disclosed anything to it",
            "`vault sites` lists the sites it has dealt with",
        )
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"the note has {len(note)} characters; at most {MAX_NOTE}", "shorten it")
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments", "attach fewer files")
    used = _used(all_entries)
    pair = _choose(vault, origin, used, epoch, identity)
    subject = key_subject(vault.pairwise_key(origin, *pair).public_jwk)
    chosen = _select(all_entries, pair, subject)
    versions = [(v, decode_manifest(v.manifest.encode())) for v in manifest_versions(vault, origin)]
    evidence: list[dict[str, Any]] = []
    for entry in chosen:
        item: dict[str, Any] = {"kind": entry.kind, "at": entry.at, "ref": entry.ref, "seq": entry.seq}
        item["purpose"] = entry.purpose_id
        token = entry.body.get("token")
        if entry.kind in SITE_SIGNED and isinstance(token, str):
            item["token"] = token
            version = _signing_version(token, SITE_SIGNED[entry.kind], entry.at, versions)
            item["manifest"] = None if version is None else version.digest
        item["record"] = entry.body
        evidence.append(item)
    notice_ids = {e.ref for e in chosen if e.kind == "revocation" and e.ref is not None}
    evidence.extend(_notices(vault, origin, notice_ids))
    evidence.sort(key=lambda item: (item["at"], item.get("seq") or 0))
    other = len(set(used) - {pair})
    bundle = {
        "format": FORMAT,
        "origin": origin,
        "generated_at": now,
        "subject": subject,
        "controller": msgspec.to_builtins(manifest.controller),
        "manifests": [
            {
                "digest": v.digest,
                "first_seen": v.first_seen,
                "last_seen": v.last_seen,
                "site_key": msgspec.to_builtins(m.site_key),
                "site_key_id": key_id(site_verifying_key(m.site_key)),
                "text": v.manifest,
            }
            for v, m in versions
        ],
        "evidence": evidence,
        "discrepancies": discrepancies(chosen, evidence, manifest, now),
        "note": note,
        "attachments": list(attachments),
        "ledger": {"entries": _raw_ledger(vault, [e.seq for e in chosen])},
    }
    return Complaint(bundle, manifest, versions, other)


# A notice just queued is not yet the site's fault: it is named once delivery failed, or after this long.
ERASURE_GRACE = 86400


def discrepancies(
    chosen: list[ledger.Entry], evidence: list[dict[str, Any]], manifest: Manifest, now: int
) -> list[dict[str, Any]]:
    """Every way the site did not keep its word, in plain words: what the access comparison found (the
    sentence fixed when it was found), broken promises, and erasures it refused or never confirmed."""
    from vault.consent.complaint_text import day, purpose_title  # words live with the Markdown

    found: list[dict[str, Any]] = []
    for entry in chosen:
        if entry.kind in ("access_answer", "access_unanswered"):
            for d in entry.body.get("discrepancies", []):
                found.append({**d, "at": entry.at, "ref": entry.ref, "source": entry.kind})
        elif entry.kind == "broken_promise":
            whom = ", ".join(_recipient_name(manifest, entry.purpose_id, r) for r in entry.body["recipients"])
            found.append(
                {
                    "kind": "unallowed_recipient",
                    "purpose": entry.purpose_id,
                    "claims": [],
                    "recipients": list(entry.body["recipients"]),
                    "text": f"Said in its signed acknowledgement of {day(entry.at)} that it passed what you "
                    f"shared for {purpose_title(manifest, entry.purpose_id)} to {whom}, which you did "
                    "not allow.",
                    "at": entry.at,
                    "ref": entry.ref,
                    "source": entry.kind,
                }
            )
    erasures = {e.ref: e for e in chosen if e.kind == "revocation" and e.body.get("erasure")}
    for entry in chosen:
        if entry.kind == "delivery_ack" and entry.ref in erasures and not entry.body.get("erased"):
            asked = erasures[entry.ref]
            found.append(
                _erasure(
                    "erasure_refused",
                    asked,
                    manifest,
                    f"Answered on {day(entry.at)} your request of {day(asked.at)} to erase what you shared "
                    f"for {purpose_title(manifest, asked.purpose_id)}, but says it did not erase it.",
                )
            )
    # A signed deletion message (for that purpose, or for everything) after the request confirms it too.
    deletions = [
        (e.at, _payload(str(e.body.get("token", ""))).get("purpose"))
        for e in chosen
        if e.kind == "message" and e.body.get("message_kind") == "deletion"
    ]
    for item in evidence:
        if item["kind"] != "notice" or item["ref"] not in erasures or item["record"]["state"] == "delivered":
            continue
        asked, record = erasures[item["ref"]], item["record"]
        confirmed = any(at >= asked.at and purpose in (None, asked.purpose_id) for at, purpose in deletions)
        if not confirmed and (record["attempts"] or now - item["at"] >= ERASURE_GRACE):
            tried = (
                f"{count(record['attempts'], 'delivery attempt')} failed, the last: {record['last_error']}"
                if record["attempts"]
                else "it has not been delivered yet"
            )
            found.append(
                _erasure(
                    "erasure_unconfirmed",
                    asked,
                    manifest,
                    f"Has not confirmed your request of {day(asked.at)} to erase what you shared for "
                    f"{purpose_title(manifest, asked.purpose_id)} ({tried}).",
                )
            )
    return found


def _erasure(kind: str, asked: ledger.Entry, manifest: Manifest, text: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "purpose": asked.purpose_id,
        "claims": list(asked.body.get("claims", [])),
        "recipients": list(asked.body.get("recipients", [])),
        "text": text,
        "at": asked.at,
        "ref": asked.ref,
        "source": "revocation",
    }


def _recipient_name(manifest: Manifest, purpose_id: str | None, recipient: str) -> str:
    for purpose in manifest.purposes:
        if purpose.id == purpose_id:
            for party in purpose.third_parties:
                if party.id == recipient:
                    return f"{party.name} ({recipient})"
    return recipient
