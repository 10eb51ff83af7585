"""The inbox: signed messages from sites (proposals, change notices, deletion confirmations, breach notices).

A site can write only to someone who dealt with it: the vault must hold its manifest (whose key signs the
message), and the message must be addressed to a pairwise subject the vault uses there now: the shared
identity's, or that of a context's own identity it disclosed under in the current epoch. Every
refusal is one exception, MessageRefused, with a code and words, and changes nothing in the vault. A kept
message is one transaction: its inbox row and its `message` ledger entry.

Bounds, so that a site cannot flood the user or the vault: at most 3 kept messages per site in 24 hours
and 20 in 30 days (counted in the ledger, so hiding one does not make room), at most 100 visible per site
(the oldest read one is hidden to make room, else `inbox_full`) and 1000 rows in all. A hidden row stays
as a replay guard until its token has expired, then it is removed.

Muting a site drops its proposals and change notices after they verify (not kept, not in the ledger);
deletion confirmations and breach notices are always kept: the user needs to know those.

Accepting a proposal shares nothing: it returns the page on the site where the user can accept it, and
that page's own request brings the normal consent prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from typing import Literal

import msgspec

from vault.consent import ledger
from vault.consent.ledger_records import MessageReceived
from vault.consent.sites import current_subjects, stored_manifest
from vault.errors import InvalidInput, VaultError
from vault.protocol.b64 import b64url_decode
from vault.protocol.errors import MessageInvalid
from vault.protocol.jwk import key_subject
from vault.protocol.jws import MAX_TOKEN_LENGTH
from vault.protocol.manifest import Manifest
from vault.protocol.message import DEFAULT_MAX_SKEW, MESSAGE_KINDS, SiteMessage, verify_message
from vault.store import Vault
from vault.store.database import Connection

log = logging.getLogger("vault.consent")

DAY = 86400
MAX_PER_DAY = 3
MAX_PER_30_DAYS = 20
MAX_VISIBLE_PER_SITE = 100
MAX_ROWS = 1000
MUTABLE_KINDS = ("proposal", "change")  # what muting a site drops; deletions and breaches always arrive
Via = Literal["page", "acknowledgement", "statement"]

KIND_WORDS = {
    "proposal": "Proposal",
    "change": "Change notice",
    "deletion": "Deletion confirmation",
    "breach": "Breach notice",
}
assert set(KIND_WORDS) == set(MESSAGE_KINDS)

# Why a message was refused, in words (the code is the protocol's reason or one of the inbox's own).
REFUSAL_WORDS = {
    "too_large": "it is longer than a site message may be (8192 characters)",
    "malformed": "it is not a well-formed site message (plain text of bounded size; a proposal names its "
    "purpose and a page on the site's own origin; a change notice says when)",
    "unsupported_alg": "it is not signed with Ed25519",
    "wrong_typ": "it is not a site message",
    "unsupported_crit": "it uses a signature extension the vault does not support",
    "bad_key": "it is not signed with the key the site's manifest publishes",
    "bad_signature": "its signature does not verify with the site's key",
    "wrong_issuer": "it says it comes from another site than the one that sent it",
    "wrong_audience": "it is addressed to someone else, not to the identity this vault uses at the site",
    "not_yet_valid": "it is dated in the future",
    "expired": "it has expired",
    "replayed": "this message was already received",
    "rate_limited": f"the site sent too many messages (at most {MAX_PER_DAY} a day and {MAX_PER_30_DAYS} "
    "in 30 days are kept)",
    "unknown_site": "the vault has never shared anything with this site, so it cannot write to you",
    "inbox_full": "the inbox is full of unread messages; read or delete some first",
}


class MessageRefused(VaultError):
    """A site message the vault did not keep. `code`: the protocol's reason (`malformed`, `bad_signature`,
    `wrong_audience`, `expired`, ...) or `replayed`, `rate_limited`, `unknown_site`, `inbox_full`. The
    message is the code in words; it never holds the token."""

    def __init__(self, code: str) -> None:
        words = REFUSAL_WORDS.get(code, code.replace("_", " "))
        super().__init__(f"the site's message was refused: {words}")
        self.code = code


class Kept(msgspec.Struct, frozen=True, kw_only=True, tag_field="outcome", tag="kept"):
    jti: str
    kind: str


class Muted(msgspec.Struct, frozen=True, kw_only=True, tag_field="outcome", tag="muted"):
    """The site is muted: its proposal or change notice verified and was dropped (nothing was written)."""


Received = Kept | Muted


def current_subject(vault: Vault, origin: str) -> str:
    """The shared identity's pairwise subject at `origin` now (a "forget me" replaced older ones)."""
    return key_subject(vault.pairwise_key(origin, vault.site_epoch(origin)).public_jwk)


def _addressee(vault: Vault, origin: str, token: object) -> str:
    """The subject to verify `token` against: the one it names if the vault uses it at `origin` now, else
    the shared one (which then fails as `wrong_audience`, or earlier for a worse fault). The name is read
    unverified only to choose; verify_message checks everything, that name included."""
    named = None
    if isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH:
        with suppress(ValueError, IndexError, msgspec.DecodeError):
            named = msgspec.json.decode(b64url_decode(token.split(".")[1]), type=_Addressed).aud
    return named if named in current_subjects(vault, origin) else current_subject(vault, origin)


class _Addressed(msgspec.Struct):
    aud: str | None = None


def receive(vault: Vault, origin: str, token: object, *, via: Via, now: int) -> Received:
    """Verify a message from `origin` and keep it (or drop it, if the site is muted). Raises
    MessageRefused, and then nothing in the vault has changed."""
    manifest = stored_manifest(vault, origin)
    if manifest is None:
        raise MessageRefused("unknown_site")
    try:
        message = verify_message(
            token, manifest.site_key, origin=origin, subject=_addressee(vault, origin, token), now=now
        )
    except MessageInvalid as error:
        raise MessageRefused(error.reason.value) from None
    assert isinstance(token, str)  # verify_message accepts only strings
    if vault.conn.execute("SELECT 1 FROM inbox WHERE jti = ?", (message.jti,)).fetchone() is not None:
        raise MessageRefused("replayed")
    if message.kind in MUTABLE_KINDS and is_muted(vault, origin):
        return Muted()
    _check_rate(vault, origin, now)
    with vault.transaction() as conn:
        _make_room(conn, origin, now)
        _keep(conn, message, token, via=via, now=now)
    return Kept(jti=message.jti, kind=message.kind)


def receive_carried(vault: Vault, origin: str, tokens: Sequence[str], *, via: Via, now: int) -> int:
    """Receive the messages an acknowledgement or a statement carried, each on its own: a refused one is
    dropped (logged by its reason, never the token) and never fails its carrier. Returns how many were
    kept."""
    kept = 0
    for token in tokens:
        try:
            kept += isinstance(receive(vault, origin, token, via=via, now=now), Kept)
        except MessageRefused as refused:
            log.debug("a message carried in an %s was dropped: %s", via, refused.code)
    return kept


def _check_rate(vault: Vault, origin: str, now: int) -> None:
    # The ledger counts every kept message, hidden or not, and is never trimmed.
    for window, limit in ((DAY, MAX_PER_DAY), (30 * DAY, MAX_PER_30_DAYS)):
        (kept,) = vault.conn.execute(
            "SELECT count(*) FROM ledger WHERE origin = ? AND kind = 'message' AND at > ?",
            (origin, now - window),
        ).fetchone()
        if kept >= limit:
            raise MessageRefused("rate_limited")


def _make_room(conn: Connection, origin: str, now: int) -> None:
    """Inside the keeping transaction; raises MessageRefused("inbox_full") (rolled back) if no room."""
    # Hidden rows whose token can no longer verify guard against nothing: removed (bounded storage).
    conn.execute(
        "DELETE FROM inbox WHERE deleted_at IS NOT NULL AND expires_at + ? <= ?", (DEFAULT_MAX_SKEW, now)
    )
    (rows,) = conn.execute("SELECT count(*) FROM inbox").fetchone()
    if rows >= MAX_ROWS:
        raise MessageRefused("inbox_full")
    (visible,) = conn.execute(
        "SELECT count(*) FROM inbox WHERE origin = ? AND deleted_at IS NULL", (origin,)
    ).fetchone()
    if visible < MAX_VISIBLE_PER_SITE:
        return
    oldest_read = conn.execute(
        "SELECT jti FROM inbox WHERE origin = ? AND deleted_at IS NULL AND read_at IS NOT NULL "
        "ORDER BY received_at, jti LIMIT 1",
        (origin,),
    ).fetchone()
    if oldest_read is None:
        raise MessageRefused("inbox_full")
    conn.execute("UPDATE inbox SET deleted_at = ? WHERE jti = ?", (now, oldest_read[0]))


def _keep(conn: Connection, message: SiteMessage, token: str, *, via: Via, now: int) -> None:
    conn.execute(
        "INSERT INTO inbox (jti, origin, kind, title, body, purpose_id, effective_at, claims, url, via, "
        "received_at, expires_at, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message.jti,
            message.iss,
            message.kind,
            message.title,
            message.body,
            message.purpose,
            message.effective_at,
            msgspec.json.encode(list(message.claims or ())).decode(),
            message.url,
            via,
            now,
            message.exp,
            token,
        ),
    )
    ledger.append(
        conn,
        at=now,
        origin=message.iss,
        purpose_id=message.purpose,
        ref=message.jti,
        body=MessageReceived(message_kind=message.kind, via=via, token=token),
    )


# -- what the user sees and does -----------------------------------------------------------------------


class InboxMessage(msgspec.Struct, frozen=True, kw_only=True):
    jti: str
    origin: str
    kind: str
    title: str
    body: str
    purpose: str | None
    purpose_title: str | None  # from the site's stored manifest; None for a purpose it does not declare
    effective_at: int | None
    claims: list[str]
    url: str | None
    url_origin: str | None  # where the link really goes: shown beside it
    via: str
    received_at: int
    read: bool
    accepted_at: int | None


class Inbox(msgspec.Struct, frozen=True, kw_only=True):
    messages: list[InboxMessage]  # newest first; hidden ones left out
    unread: int  # the whole inbox's (the badge), even when one site's messages are listed
    unread_by_site: dict[str, int]
    muted: list[str]


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    """A proposal the user chose to look at: open `url`; its page asks through the normal prompt."""

    url: str
    origin: str
    purpose: str


def url_origin(url: str | None) -> str | None:
    """The origin of an https URL the protocol accepted (url_problem): everything before its path."""
    if url is None:
        return None
    path_start = url.find("/", url.find("://") + 3)
    return url if path_start < 0 else url[:path_start]


def _purpose_title(manifests: dict[str, Manifest | None], vault: Vault, origin: str, purpose: str | None):
    if origin not in manifests:
        manifests[origin] = stored_manifest(vault, origin)
    manifest = manifests[origin]
    if purpose is None or manifest is None:
        return None
    return next((p.title for p in manifest.purposes if p.id == purpose), None)


_LISTED = (
    "jti, origin, kind, title, body, purpose_id, effective_at, claims, url, via, received_at, read_at, "
    "accepted_at"
)


def inbox(vault: Vault, origin: str | None = None) -> Inbox:
    """The visible messages (of one site, or all), newest first, with the unread counts and muted sites."""
    where, args = ("AND origin = ?", (origin,)) if origin is not None else ("", ())
    # Only fixed text is joined in; the origin is a bound parameter.
    sql = f"SELECT {_LISTED} FROM inbox WHERE deleted_at IS NULL {where} ORDER BY received_at DESC, jti"  # noqa: S608
    manifests: dict[str, Manifest | None] = {}
    messages = []
    for row in vault.conn.execute(sql, args).fetchall():
        jti, site, kind, title, body, purpose, effective_at, claims = row[:8]
        url, via, received_at, read_at, accepted = row[8:]
        messages.append(
            InboxMessage(
                jti=jti,
                origin=site,
                kind=kind,
                title=title,
                body=body,
                purpose=purpose,
                purpose_title=_purpose_title(manifests, vault, site, purpose),
                effective_at=effective_at,
                claims=msgspec.json.decode(claims),
                url=url,
                url_origin=url_origin(url),
                via=via,
                received_at=received_at,
                read=read_at is not None,
                accepted_at=accepted,
            )
        )
    by_site = unread_counts(vault)  # of the whole inbox, even when one site's messages are listed
    muted = [row[0] for row in vault.conn.execute("SELECT origin FROM muted_sites ORDER BY origin")]
    return Inbox(messages=messages, unread=sum(by_site.values()), unread_by_site=by_site, muted=muted)


def unread_counts(vault: Vault) -> dict[str, int]:
    """Unread visible messages per site (the badge shows their sum)."""
    rows = vault.conn.execute(
        "SELECT origin, count(*) FROM inbox WHERE deleted_at IS NULL AND read_at IS NULL GROUP BY origin "
        "ORDER BY origin"
    )
    return dict(rows.fetchall())


def _placeholders(jtis: Sequence[str]) -> str:
    return ", ".join("?" * len(jtis))


def mark_read(vault: Vault, *, now: int, jtis: Sequence[str] = (), origin: str | None = None) -> int:
    """Mark visible messages read, named by jti or all of one site. Returns how many were unread."""
    if bool(jtis) == (origin is not None):
        raise InvalidInput("name the messages to mark read, or the site whose messages to mark read")
    if origin is not None:
        where, args = "origin = ?", (origin,)
    else:
        where, args = f"jti IN ({_placeholders(jtis)})", tuple(jtis)
    with vault.transaction() as conn:
        changed = conn.execute(
            f"UPDATE inbox SET read_at = ? WHERE {where} AND read_at IS NULL AND deleted_at IS NULL",  # noqa: S608
            (now, *args),
        ).rowcount
    return changed


def delete_messages(vault: Vault, jtis: Sequence[str], *, now: int) -> int:
    """Hide visible messages; each stays as a replay guard until its token expires. Returns how many."""
    if not jtis:
        return 0
    with vault.transaction() as conn:
        changed = conn.execute(
            f"UPDATE inbox SET deleted_at = ? WHERE jti IN ({_placeholders(jtis)}) AND deleted_at IS NULL",  # noqa: S608
            (now, *jtis),
        ).rowcount
        conn.execute(
            "DELETE FROM inbox WHERE deleted_at IS NOT NULL AND expires_at + ? <= ?", (DEFAULT_MAX_SKEW, now)
        )
    return changed


def is_muted(vault: Vault, origin: str) -> bool:
    return vault.conn.execute("SELECT 1 FROM muted_sites WHERE origin = ?", (origin,)).fetchone() is not None


def set_muted(vault: Vault, origin: str, muted: bool, *, now: int) -> bool:
    """Mute or unmute a site. Returns whether anything changed."""
    with vault.transaction() as conn:
        if muted:
            sql, args = "INSERT OR IGNORE INTO muted_sites (origin, muted_at) VALUES (?, ?)", (origin, now)
        else:
            sql, args = "DELETE FROM muted_sites WHERE origin = ?", (origin,)
        return conn.execute(sql, args).rowcount > 0


def accept_proposal(vault: Vault, jti: str, *, now: int) -> Accepted:
    """The user chose to look at a proposal: marks it accepted (and read) and returns its page. Shares
    nothing: that page asks through the normal prompt, like any request."""
    row = vault.conn.execute(
        "SELECT origin, kind, url, purpose_id FROM inbox WHERE jti = ? AND deleted_at IS NULL", (jti,)
    ).fetchone()
    if row is None:
        raise InvalidInput(f"there is no message {jti[:64]!r} in the inbox", "see: vault inbox --all")
    origin, kind, url, purpose = row
    if kind != "proposal" or url is None or purpose is None:
        raise InvalidInput(f"only a proposal can be accepted; this message is a {KIND_WORDS[kind].lower()}")
    with vault.transaction() as conn:
        conn.execute(
            "UPDATE inbox SET accepted_at = coalesce(accepted_at, ?), read_at = coalesce(read_at, ?) "
            "WHERE jti = ?",
            (now, now, jti),
        )
    return Accepted(url=url, origin=origin, purpose=purpose)
