"""The ledger's typed records (vault/consent/ledger_records.py): each encodes exactly as the untyped writers
did, decodes strictly enough to catch a wrong body and loosely enough for a newer version's rows, and is
written through ledger.append with the kind it belongs to. Old rows: test_ledger_records_vectors.py."""

from pathlib import Path

import msgspec
import pytest

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger, ledger_records
from vault.consent.ledger_records import (
    KINDS,
    RECORDS,
    AccessAnswered,
    AccessRequested,
    AccessUnanswered,
    Acknowledged,
    BrokenPromise,
    ConsentRevoked,
    ContextChanged,
    Decided,
    DecisionChanged,
    Disclosed,
    Discrepancy,
    Forgotten,
    MessageReceived,
    NoticeAcknowledged,
    NoticeDelivered,
    NoticeNotDelivered,
    NoticeQueued,
    RecipientAnswer,
    RecipientDecided,
    RecordInvalid,
    RuleAdded,
    RuleRemoved,
    SiteChanged,
    decode_record,
    encode_record,
)
from vault.store import Vault

DISCLOSED = Disclosed(
    claims={"age_over_18": True, "sizes.shoe": 42},
    purpose_digest="digest",
    concept="dpv:ProvidePersonalisedRecommendations",
    retention="P30D",
    expires_at=NOW + 300,
    keep_until=NOW + 30 * 86400,
    epoch=0,
    subject="urn:subject",
    prompt=None,
)

NEVER_DISCLOSED = Discrepancy(
    kind="never_disclosed", purpose="recommendations", claims=("diet",), recipients=(), text="words"
)
NEVER_DISCLOSED_WRITTEN = {
    "kind": "never_disclosed",
    "purpose": "recommendations",
    "claims": ["diet"],
    "recipients": [],
    "text": "words",
}

# Each record beside the dict the writers built before the records were typed, in its key order.
AS_WRITTEN = [
    (
        DISCLOSED,
        {
            "claims": {"age_over_18": True, "sizes.shoe": 42},
            "purpose_digest": "digest",
            "concept": "dpv:ProvidePersonalisedRecommendations",
            "retention": "P30D",
            "expires_at": NOW + 300,
            "keep_until": NOW + 30 * 86400,
            "epoch": 0,
            "subject": "urn:subject",
            "prompt": None,
        },
    ),
    (
        Acknowledged(claims=("age_over_18",), keep_until=NOW, token="a.b.c"),
        {"claims": ["age_over_18"], "keep_until": NOW, "token": "a.b.c"},
    ),
    (
        Decided(claim="age_over_18", effect="allow", mode="once", expires_at=None),
        {"action": "decided", "claim": "age_over_18", "effect": "allow", "mode": "once", "expires_at": None},
    ),
    (
        RuleAdded(rule="never", target="email"),
        {"action": "rule_added", "rule": "never", "target": "email"},
    ),
    (
        RuleRemoved(rule="never", target="email"),
        {"action": "rule_removed", "rule": "never", "target": "email"},
    ),
    (
        ConsentRevoked(purpose=None, decisions=3),
        {"action": "revoked", "purpose": None, "decisions": 3},
    ),
    (
        NoticeQueued(presentations=("j1", "j2"), erasure=True, endpoint="https://s.example/r", epoch=2),
        {"presentations": ["j1", "j2"], "erasure": True, "endpoint": "https://s.example/r", "epoch": 2},
    ),
    (
        NoticeDelivered(attempt=2, outcome="delivered", status=None),
        {"attempt": 2, "outcome": "delivered", "status": None},
    ),
    (
        NoticeNotDelivered(attempt=1, outcome="failed", error="HTTP 503", next_attempt_at=NOW, status=503),
        {"attempt": 1, "outcome": "failed", "error": "HTTP 503", "next_attempt_at": NOW, "status": 503},
    ),
    (  # no HTTP answer: the writer left `status` out
        NoticeNotDelivered(attempt=1, outcome="failed", error="refused", next_attempt_at=NOW),
        {"attempt": 1, "outcome": "failed", "error": "refused", "next_attempt_at": NOW},
    ),
    (
        NoticeAcknowledged(erased=False, token="a.b.c"),
        {"erased": False, "token": "a.b.c"},
    ),
    (Forgotten(old_epoch=0, new_epoch=1), {"old_epoch": 0, "new_epoch": 1}),
    # Third parties (schema v5): new records, and new fields written only when they are not the default, so
    # that every row above (written before them) still encodes as it was hashed.
    (
        Acknowledged(claims=("sizes.shoe",), keep_until=NOW, token="a.b.c", recipients=("analytics",)),
        {"claims": ["sizes.shoe"], "keep_until": NOW, "token": "a.b.c", "recipients": ["analytics"]},
    ),
    (
        BrokenPromise(recipients=("analytics",), token="a.b.c"),
        {"recipients": ["analytics"], "token": "a.b.c"},
    ),
    (
        RecipientDecided(recipient="stock", effect="allow", mode="remember", expires_at=NOW),
        {
            "action": "recipient_decided",
            "recipient": "stock",
            "effect": "allow",
            "mode": "remember",
            "expires_at": NOW,
        },
    ),
    (
        DecisionChanged(claim=None, recipient="analytics", effect="deny"),
        {"action": "changed", "claim": None, "recipient": "analytics", "effect": "deny"},
    ),
    (
        ConsentRevoked(purpose="recommendations", decisions=1, recipient="analytics"),
        {"action": "revoked", "purpose": "recommendations", "decisions": 1, "recipient": "analytics"},
    ),
    (
        NoticeQueued(
            presentations=("j1",),
            erasure=True,
            endpoint="https://s.example/r",
            epoch=0,
            site=False,
            recipients=("analytics",),
        ),
        {
            "presentations": ["j1"],
            "erasure": True,
            "endpoint": "https://s.example/r",
            "epoch": 0,
            "site": False,
            "recipients": ["analytics"],
        },
    ),
    (
        NoticeAcknowledged(
            erased=False,
            token="a.b.c",
            recipients=(RecipientAnswer(id="analytics", outcome="erased", at=NOW),),
        ),
        {
            "erased": False,
            "token": "a.b.c",
            "recipients": [{"id": "analytics", "outcome": "erased", "at": NOW}],
        },
    ),
    (
        SiteChanged(field="controller", before="A B.V.", after="C Ltd"),
        {"field": "controller", "before": "A B.V.", "after": "C Ltd"},
    ),
    (
        AccessRequested(
            reason="retention_end", endpoint="https://s.example/a", epoch=0, presentations=("j1",)
        ),
        {"reason": "retention_end", "endpoint": "https://s.example/a", "epoch": 0, "presentations": ["j1"]},
    ),
    (
        AccessAnswered(token="a.b.c", request="r1", discrepancies=(NEVER_DISCLOSED,)),
        {"token": "a.b.c", "request": "r1", "discrepancies": [NEVER_DISCLOSED_WRITTEN]},
    ),
    (
        AccessUnanswered(attempts=6, error="HTTP 503", discrepancies=()),
        {"attempts": 6, "error": "HTTP 503", "discrepancies": []},
    ),
    (
        MessageReceived(message_kind="proposal", via="page", token="a.b.c"),
        {"message_kind": "proposal", "via": "page", "token": "a.b.c"},
    ),
    (
        ContextChanged(
            action="added", name="Family", separate_identity=True, gpc=True, copied_from="everyday"
        ),
        {
            "action": "added",
            "name": "Family",
            "separate_identity": True,
            "gpc": True,
            "copied_from": "everyday",
        },
    ),
    (
        ContextChanged(action="renamed", name="Office", separate_identity=False, gpc=False, old_name="Work"),
        {"action": "renamed", "name": "Office", "separate_identity": False, "gpc": False, "old_name": "Work"},
    ),
]


@pytest.mark.parametrize(("record", "written"), AS_WRITTEN, ids=lambda v: type(v).__name__)
def test_a_record_encodes_as_the_untyped_writer_did(record, written: dict) -> None:
    text = msgspec.json.encode(written).decode()
    assert encode_record(record) == text
    assert decode_record(record.kind, msgspec.json.decode(text)) == record


def test_every_kind_has_a_record_and_is_documented() -> None:
    assert set(RECORDS) == set(KINDS)
    assert {record.kind for record, _ in AS_WRITTEN} == set(KINDS)
    table = ledger_records.__doc__.split("Encoding.")[0]
    for record, _ in AS_WRITTEN:
        assert record.kind in table and type(record).__name__ in table


def test_fields_a_newer_version_added_are_ignored() -> None:
    body = {"old_epoch": 0, "new_epoch": 1, "reason": "asked by the user"}
    assert decode_record("forget", body) == Forgotten(old_epoch=0, new_epoch=1)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("forget", {"old_epoch": 0}),  # a field missing
        ("forget", {"old_epoch": "0", "new_epoch": 1}),  # a field of another type
        ("consent", {"action": "reconsidered", "claim": "x"}),  # an action no version wrote
        ("consent", {"n": 1}),  # no action at all
        ("delivery", {"attempt": 1, "outcome": "lost", "error": "x", "next_attempt_at": 0}),
        ("revocation", ["j1"]),  # not an object
        ("archived", {}),  # not a kind
    ],
)
def test_a_body_that_is_not_its_kinds_record_is_refused(kind: str, body: object) -> None:
    with pytest.raises(RecordInvalid):
        decode_record(kind, body)  # type: ignore[arg-type]


def test_records_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DISCLOSED.epoch = 1  # type: ignore[misc]


def test_append_takes_the_kind_from_the_record(vault_home: Path) -> None:
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        with vault.transaction() as conn:
            ledger.append(conn, at=NOW, origin="https://s.example", body=Forgotten(old_epoch=0, new_epoch=1))
            ledger.append_disclosure(
                conn, origin="https://s.example", purpose_id="p", jti="j1", at=NOW, body=DISCLOSED
            )
            with pytest.raises(ValueError, match="'forget' entry, not 'consent'"):
                ledger.append(conn, at=NOW, kind="consent", body=Forgotten(old_epoch=0, new_epoch=1))
            with pytest.raises(ValueError, match="append_disclosure"):
                ledger.append(conn, at=NOW, body=DISCLOSED)
            with pytest.raises(ValueError, match="unknown ledger kind"):
                ledger.append(conn, at=NOW, body={"old_epoch": 0, "new_epoch": 1})
        first, second = ledger.entries(vault)
        assert (first.kind, first.record) == ("forget", Forgotten(old_epoch=0, new_epoch=1))
        assert (second.kind, second.ref, second.record) == ("disclosure", "j1", DISCLOSED)
        assert ledger.verify(vault).ok  # the by-site copy was written from the record
