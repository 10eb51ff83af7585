"""The inbox around a real SQLCipher vault: a site that was shared something writes to the user with
signed messages (vault.site.make_message); every bad one (forged, replayed, oversized, wrongly addressed,
expired, too many, from a site never dealt with, a full inbox) is refused with its code and leaves the
vault unchanged; muting drops proposals and change notices but never deletion or breach notices; messages
carried by an acknowledgement are kept, or dropped without failing it; accepting a proposal shares nothing."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from tests import example
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.acknowledgements import store_acknowledgement
from vault.consent.export import export_vault
from vault.consent.export_format import SCHEMA_PATH
from vault.consent.inbox import (
    MAX_ROWS,
    MAX_VISIBLE_PER_SITE,
    Kept,
    MessageRefused,
    Muted,
    accept_proposal,
    current_subject,
    delete_messages,
    inbox,
    mark_read,
    receive,
    receive_carried,
    set_muted,
    unread_counts,
)
from vault.consent.ledger_records import MessageReceived
from vault.consent.policy import Answer
from vault.consent.service import Shared, decide_prompt, request_presentation
from vault.errors import InvalidInput
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.jws import sign_compact
from vault.protocol.manifest import Manifest, decode_manifest
from vault.protocol.message import MESSAGE_TYP
from vault.site import (
    InMemoryReplayStore,
    SigningKey,
    acknowledge_presentation,
    make_message,
    verify_presentation,
)
from vault.store import Vault

ORIGIN = example.ORIGIN
DAY = 86400
_ids = (f"id-{n:016d}" for n in itertools.count())
_jtis = (f"message-{n:016d}" for n in itertools.count())


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        for name, value in (("birthdate", "1990-05-17"), ("country", "NL"), ("sizes.shoe", 42)):
            vault.set_attribute(name, value, now=NOW)
        yield vault


def share(vault: Vault, manifest: Manifest | None = None, *, now: int = NOW) -> tuple[Shared, Any]:
    """The real first exchange: the site asks, the user shares; the site verifies and learns the subject."""
    manifest = manifest or example.manifest()
    nonce = "n" * 22
    asked = request_presentation(
        vault,
        manifest=manifest,
        audience=manifest.origin,
        purpose_id="recommendations",
        nonce=nonce,
        now=now,
        new_id=lambda: next(_ids),
        requested=None,
    )
    questions = frozenset(q.claim for q in asked.prompt.questions)
    shared = decide_prompt(
        vault,
        asked.prompt.id,
        Answer(True, questions, False, frozenset({"stock"})),
        now=now,
        new_id=lambda: next(_ids),
    )
    assert isinstance(shared, Shared)
    verified = verify_presentation(
        shared.token, manifest=manifest, nonce=nonce, now=now, replay=InMemoryReplayStore()
    )
    return shared, verified


@pytest.fixture
def subject(vault: Vault) -> str:
    _, verified = share(vault)
    assert verified.subject == current_subject(vault, ORIGIN)
    return verified.subject


def message(
    subject: str, kind: str = "breach", *, now: int = NOW, key: SigningKey | None = None, **extra
) -> str:
    """A message from the example shop, signed with its key (or `key`, for a forgery)."""
    if kind == "proposal":
        extra = {"purpose": "newsletter", "url": "https://shop.example/offers/newsletter"} | extra
    if kind == "change":
        extra = {"purpose": "recommendations", "effective_at": now + 30 * DAY} | extra
    manifest = example.manifest()
    signer = example.site_key()
    if key is not None:  # a manifest naming the forger's key, so that make_message signs with it
        manifest = with_key(manifest, key)
        signer = key
    return make_message(
        signer,
        manifest=manifest,
        subject=subject,
        kind=kind,
        title=f"A {kind} from the shop",
        body="Line one.\nLine two.",
        now=now,
        jti=next(_jtis),
        **extra,
    )


def with_key(manifest: Manifest, key: SigningKey, origin: str | None = None) -> Manifest:
    data = msgspec.to_builtins(manifest)
    data["site_key"] = msgspec.to_builtins(OkpPublicJwk(**key.public_jwk))
    if origin is not None:
        data["origin"] = origin
        data["revocation_endpoint"] = origin + "/.well-known/vault-revocation"
    return decode_manifest(msgspec.json.encode(data))


def vault_state(vault: Vault) -> tuple[Any, ...]:
    """Everything a message could change: the ledger, every inbox row, the muted sites."""
    return (
        vault.conn.execute("SELECT count(*), max(seq) FROM ledger").fetchone(),
        vault.conn.execute("SELECT * FROM inbox ORDER BY jti").fetchall(),
        vault.conn.execute("SELECT * FROM muted_sites").fetchall(),
    )


def refused(vault: Vault, code: str, token: object, *, origin: str = ORIGIN, now: int = NOW + 10) -> None:
    before = vault_state(vault)
    with pytest.raises(MessageRefused) as error:
        receive(vault, origin, token, via="page", now=now)
    assert error.value.code == code
    assert token not in error.value.message if isinstance(token, str) else True
    assert vault_state(vault) == before
    assert ledger.verify(vault).ok


def test_a_kept_message_is_in_the_inbox_and_the_ledger(vault: Vault, subject: str) -> None:
    token = message(subject, "proposal", now=NOW + 5)
    entries_before = len(list(ledger.entries(vault)))
    kept = receive(vault, ORIGIN, token, via="page", now=NOW + 10)
    assert isinstance(kept, Kept) and kept.kind == "proposal"
    jti = kept.jti
    entries = list(ledger.entries(vault))
    assert len(entries) == entries_before + 1
    entry = entries[-1]
    assert (entry.kind, entry.origin, entry.ref, entry.purpose_id, entry.at) == (
        "message",
        ORIGIN,
        jti,
        "newsletter",
        NOW + 10,
    )
    assert entry.record == MessageReceived(message_kind="proposal", via="page", token=token)
    assert ledger.verify(vault).ok
    listed = inbox(vault)
    (shown,) = listed.messages
    assert (shown.kind, shown.title, shown.body) == (
        "proposal",
        "A proposal from the shop",
        "Line one.\nLine two.",
    )
    assert (shown.url, shown.url_origin, shown.via, shown.read) == (
        "https://shop.example/offers/newsletter",
        ORIGIN,
        "page",
        False,
    )
    assert shown.purpose == "newsletter" and shown.purpose_title is None  # not declared by the manifest
    assert listed.unread == 1 and listed.unread_by_site == {ORIGIN: 1} and listed.muted == []
    change = message(subject, "change", now=NOW + 20)
    receive(vault, ORIGIN, change, via="statement", now=NOW + 30)
    newest = inbox(vault).messages[0]
    assert newest.kind == "change" and newest.purpose_title == "Shoe recommendations"
    assert newest.effective_at == NOW + 20 + 30 * DAY and newest.via == "statement"
    assert unread_counts(vault) == {ORIGIN: 2}
    elsewhere = inbox(vault, "https://other.example")
    assert elsewhere.messages == [] and elsewhere.unread == 2  # the counts are the whole inbox's (the badge)


def test_a_forged_message_is_refused(vault: Vault, subject: str) -> None:
    forger = SigningKey.from_seed(hashlib.sha256(b"not the shop").digest())
    refused(vault, "bad_key", message(subject, key=forger))  # signed with a key the manifest does not name
    # The shop's genuine message, its text changed on the way: the signature no longer matches.
    header, payload, signature = message(subject).split(".")
    changed = msgspec.json.decode(b64url_decode(payload)) | {"body": "Send us your password."}
    refused(
        vault, "bad_signature", ".".join((header, b64url_encode(msgspec.json.encode(changed)), signature))
    )


def test_a_replayed_message_is_refused_even_after_it_was_deleted(vault: Vault, subject: str) -> None:
    token = message(subject)
    kept = receive(vault, ORIGIN, token, via="page", now=NOW + 10)
    refused(vault, "replayed", token, now=NOW + 11)
    assert delete_messages(vault, [kept.jti], now=NOW + 12) == 1
    assert inbox(vault).messages == []
    refused(vault, "replayed", token, now=NOW + 13)  # hidden, still a replay guard until it expires
    # Carried again in another way: still the same message.
    with pytest.raises(MessageRefused, match="already received"):
        receive(vault, ORIGIN, token, via="acknowledgement", now=NOW + 14)


def test_an_oversized_message_is_refused(vault: Vault, subject: str) -> None:
    payload = {
        "iss": ORIGIN,
        "aud": subject,
        "iat": NOW,
        "exp": NOW + DAY,
        "jti": next(_jtis),
        "kind": "breach",
        "title": "Long",
        "body": "x" * 7000,  # past the body's bound, and the token past 8192 characters
    }
    token = sign_compact(example.site_key(), MESSAGE_TYP, msgspec.json.encode(payload), embed_jwk=False)
    assert len(token) > 8192
    refused(vault, "too_large", token)
    payload["body"] = "x" * 1001  # a token within bounds, its body not
    token = sign_compact(example.site_key(), MESSAGE_TYP, msgspec.json.encode(payload), embed_jwk=False)
    refused(vault, "malformed", token)
    payload["body"] = "Click <here>\u202e"  # a direction-changing character: not plain text
    token = sign_compact(example.site_key(), MESSAGE_TYP, msgspec.json.encode(payload), embed_jwk=False)
    refused(vault, "malformed", token)
    refused(vault, "malformed", "not a token")
    refused(vault, "malformed", 42)


def test_a_wrongly_addressed_message_is_refused(vault: Vault, subject: str) -> None:
    other_subject = current_subject(vault, "https://other.example")  # the user's identity elsewhere
    refused(vault, "wrong_audience", message(other_subject))
    # Another site the user dealt with, signing with the same key: the message names the shop.
    other = with_key(example.manifest(), example.site_key(), origin="https://other.example")
    share(vault, other)
    refused(vault, "wrong_issuer", message(subject), origin="https://other.example")


def test_a_message_to_a_forgotten_identity_is_refused(vault: Vault, subject: str) -> None:
    vault.bump_site_epoch(ORIGIN, now=NOW + 1)  # "forget me": the site's old subject is no longer you
    refused(vault, "wrong_audience", message(subject))


def test_an_expired_or_future_message_is_refused(vault: Vault, subject: str) -> None:
    refused(vault, "expired", message(subject, ttl=DAY), now=NOW + DAY + 61)
    refused(vault, "not_yet_valid", message(subject, now=NOW + 3600), now=NOW)


def test_a_site_the_vault_never_dealt_with_cannot_write(vault: Vault, subject: str) -> None:
    stranger = "https://stranger.example"
    refused(vault, "unknown_site", message(subject), origin=stranger)
    # A site seen only as an origin (no stored manifest) is no better.
    vault.bump_site_epoch(stranger, now=NOW)
    refused(vault, "unknown_site", message(current_subject(vault, stranger)), origin=stranger)


def test_at_most_three_a_day_and_twenty_in_thirty_days(vault: Vault, subject: str) -> None:
    for n in range(3):
        receive(vault, ORIGIN, message(subject, now=NOW + n), via="page", now=NOW + n)
    refused(vault, "rate_limited", message(subject, now=NOW + 3), now=NOW + 3)
    # Deleting does not make room: the ledger counts what was kept.
    delete_messages(vault, [m.jti for m in inbox(vault).messages], now=NOW + 4)
    refused(vault, "rate_limited", message(subject, now=NOW + 5), now=NOW + 5)
    at = NOW + DAY
    for day in range(1, 7):
        for n in range(3 if day < 6 else 2):
            when = NOW + day * DAY + n
            receive(vault, ORIGIN, message(subject, now=when), via="page", now=when)
        at = NOW + day * DAY + 10
    assert len(list(ledger.entries(vault, kinds=("message",)))) == 20
    refused(vault, "rate_limited", message(subject, now=at), now=at)  # the 21st in 30 days
    later = NOW + 30 * DAY + 1  # the first three are out of the window
    assert isinstance(receive(vault, ORIGIN, message(subject, now=later), via="page", now=later), Kept)


def test_a_muted_site_cannot_propose_but_still_reports_breaches(vault: Vault, subject: str) -> None:
    assert set_muted(vault, ORIGIN, True, now=NOW) is True
    assert set_muted(vault, ORIGIN, True, now=NOW) is False
    for kind in ("proposal", "change"):
        before = vault_state(vault)
        assert receive(vault, ORIGIN, message(subject, kind), via="page", now=NOW + 1) == Muted()
        assert vault_state(vault) == before  # verified, then dropped: not kept, not in the ledger
    # A muted site's bad message is still refused for what it is.
    refused(vault, "expired", message(subject, "proposal", ttl=60), now=NOW + 200)
    for at, kind in ((NOW + 2, "deletion"), (NOW + 3, "breach")):
        assert isinstance(receive(vault, ORIGIN, message(subject, kind), via="page", now=at), Kept)
    assert [m.kind for m in inbox(vault).messages] == ["breach", "deletion"]
    assert inbox(vault).muted == [ORIGIN]
    assert set_muted(vault, ORIGIN, False, now=NOW + 3) is True
    assert isinstance(receive(vault, ORIGIN, message(subject, "proposal"), via="page", now=NOW + 4), Kept)


def test_a_full_inbox_hides_the_oldest_read_message_else_refuses(vault: Vault, subject: str) -> None:
    spacing = 36 * 3600  # 20 in 30 days, at most one a day: never rate limited
    for n in range(MAX_VISIBLE_PER_SITE):
        at = NOW + n * spacing
        receive(vault, ORIGIN, message(subject, now=at), via="page", now=at)
    at = NOW + MAX_VISIBLE_PER_SITE * spacing
    refused(vault, "inbox_full", message(subject, now=at), now=at)  # every one unread
    listed = inbox(vault).messages
    oldest, second = listed[-1], listed[-2]
    assert mark_read(vault, jtis=[second.jti, oldest.jti], now=at) == 2
    kept = receive(vault, ORIGIN, message(subject, now=at), via="page", now=at)
    shown = [m.jti for m in inbox(vault).messages]
    assert len(shown) == MAX_VISIBLE_PER_SITE and kept.jti == shown[0]
    assert oldest.jti not in shown and second.jti in shown  # the oldest read one was hidden
    assert ledger.verify(vault).ok


def test_the_inbox_holds_at_most_a_thousand_rows_and_removes_expired_hidden_ones(
    vault: Vault, subject: str
) -> None:
    # Hidden messages of other sites, still guarding against replay until they expire.
    with vault.transaction() as conn:
        conn.executemany(
            "INSERT INTO inbox (jti, origin, kind, title, body, via, received_at, expires_at, deleted_at, "
            "token) VALUES (?, 'https://elsewhere.example', 'breach', 't', 'b', 'page', ?, ?, ?, 'x')",
            [(f"hidden-{n:016d}", NOW, NOW + DAY, NOW) for n in range(MAX_ROWS)],
        )
    refused(vault, "inbox_full", message(subject))
    later = NOW + DAY + 60  # each hidden one has expired: it can no longer be replayed, so it goes
    assert isinstance(receive(vault, ORIGIN, message(subject, now=later), via="page", now=later), Kept)
    assert vault.conn.execute("SELECT count(*) FROM inbox").fetchone() == (1,)


def test_messages_are_marked_read_by_id_or_by_site(vault: Vault, subject: str) -> None:
    jtis = [
        receive(vault, ORIGIN, message(subject, now=NOW + n), via="page", now=NOW + n).jti for n in range(3)
    ]
    assert mark_read(vault, jtis=[jtis[0], "unknown-000000000000"], now=NOW + 5) == 1
    assert mark_read(vault, jtis=[jtis[0]], now=NOW + 6) == 0  # already read
    assert inbox(vault).unread == 2
    assert mark_read(vault, origin=ORIGIN, now=NOW + 7) == 2
    assert inbox(vault).unread == 0 and unread_counts(vault) == {}
    with pytest.raises(InvalidInput):
        mark_read(vault, now=NOW + 8)


def test_accepting_a_proposal_returns_its_page_and_shares_nothing(vault: Vault, subject: str) -> None:
    kept = receive(vault, ORIGIN, message(subject, "proposal"), via="page", now=NOW + 1)
    breach = receive(vault, ORIGIN, message(subject, "breach"), via="page", now=NOW + 2)
    disclosures = len(list(ledger.entries(vault, kinds=("disclosure",))))
    before = len(list(ledger.entries(vault)))
    accepted = accept_proposal(vault, kept.jti, now=NOW + 3)
    assert (accepted.url, accepted.origin, accepted.purpose) == (
        "https://shop.example/offers/newsletter",
        ORIGIN,
        "newsletter",
    )
    assert len(list(ledger.entries(vault))) == before  # nothing written to the ledger, nothing disclosed
    assert len(list(ledger.entries(vault, kinds=("disclosure",)))) == disclosures
    shown = {m.jti: m for m in inbox(vault).messages}
    assert shown[kept.jti].accepted_at == NOW + 3 and shown[kept.jti].read
    assert accept_proposal(vault, kept.jti, now=NOW + 9) == accepted  # again: the first time stays
    assert inbox(vault).messages[-1].accepted_at == NOW + 3
    with pytest.raises(InvalidInput, match="only a proposal"):
        accept_proposal(vault, breach.jti, now=NOW + 4)
    delete_messages(vault, [kept.jti], now=NOW + 5)
    with pytest.raises(InvalidInput, match="no message"):
        accept_proposal(vault, kept.jti, now=NOW + 6)


def test_messages_carried_by_an_acknowledgement(vault: Vault) -> None:
    shared, verified = share(vault)
    good = message(verified.subject, "deletion", now=NOW + 1)
    forged = message(verified.subject, key=SigningKey.from_seed(b"\x01" * 32), now=NOW + 1)
    plain = acknowledge_presentation(example.site_key(), verified, manifest=example.manifest(), now=NOW + 1)
    carrying = acknowledge_presentation(
        example.site_key(), verified, manifest=example.manifest(), now=NOW + 1, messages=[good, forged]
    )
    answer = store_acknowledgement(vault, carrying, now=NOW + 2)
    assert answer == store_acknowledgement(vault, plain, now=NOW + 3)  # it says nothing about messages
    (ack,) = ledger.entries(vault, kinds=("acknowledgement",))
    assert ack.ref == shared.jti and ack.body["token"] == carrying
    (kept,) = inbox(vault).messages
    assert (kept.kind, kept.via) == ("deletion", "acknowledgement")
    (entry,) = ledger.entries(vault, kinds=("message",))
    assert entry.record == MessageReceived(message_kind="deletion", via="acknowledgement", token=good)
    # Sent again with the same acknowledgement: the message is a replay, dropped; the ack still answers.
    assert store_acknowledgement(vault, carrying, now=NOW + 4) == answer
    assert len(inbox(vault).messages) == 1 and ledger.verify(vault).ok


def test_the_daemon_can_receive_carried_messages_after_answering(vault: Vault) -> None:
    """With a `carried` list the acknowledgement is stored and answered without touching the inbox (the
    daemon receives them once the page has its answer, so its timing says nothing about them)."""
    _, verified = share(vault)
    good = message(verified.subject, "deletion", now=NOW + 1)
    carrying = acknowledge_presentation(
        example.site_key(), verified, manifest=example.manifest(), now=NOW + 1, messages=[good]
    )
    carried: list[tuple[str, str]] = []
    store_acknowledgement(vault, carrying, now=NOW + 2, carried=carried)
    assert carried == [(example.ORIGIN, good)] and inbox(vault).messages == []
    assert (
        receive_carried(vault, example.ORIGIN, [good, "not a token"], via="acknowledgement", now=NOW + 3) == 1
    )
    (kept,) = inbox(vault).messages
    assert (kept.kind, kept.via) == ("deletion", "acknowledgement")


def test_the_export_holds_the_inbox_and_the_muted_sites(vault: Vault) -> None:
    _, verified = share(vault)
    kept = receive(vault, example.ORIGIN, message(verified.subject, "deletion"), via="page", now=NOW + 1)
    mark_read(vault, jtis=[kept.jti], now=NOW + 2)
    set_muted(vault, example.ORIGIN, True, now=NOW + 3)
    exported = json.loads(msgspec.json.encode(export_vault(vault, now=NOW + 4)))
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    assert list(validator.iter_errors(exported)) == []
    (row,) = exported["messages"]
    assert (row["jti"], row["kind"], row["read_at"], row["via"]) == (kept.jti, "deletion", NOW + 2, "page")
    assert exported["muted_sites"] == [{"origin": example.ORIGIN, "muted_at": NOW + 3}]
