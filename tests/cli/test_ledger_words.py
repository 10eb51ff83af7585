"""`vault ledger` says each third-party record in words: whom a disclosure may go to, whom a notice
withdraws from, what the site answered for each third party, and a broken promise; and each record of the
two-way relationship: access requests, the site's answer and what differs, and messages."""

import msgspec
import pytest

from vault.cli.ledger_words import summary as _summary
from vault.consent.ledger import Entry
from vault.consent.ledger_records import (
    AccessAnswered,
    AccessRequested,
    AccessUnanswered,
    Acknowledged,
    BrokenPromise,
    ConsentRevoked,
    ContextChanged,
    DecisionChanged,
    Disclosed,
    Discrepancy,
    MessageReceived,
    NoticeAcknowledged,
    NoticeQueued,
    RecipientAnswer,
    RecipientDecided,
    Record,
    RuleAdded,
    RuleRemoved,
    encode_record,
)

HELD_TOO_LONG = Discrepancy(
    kind="held_past_retention",
    purpose="recommendations",
    claims=("sizes.shoe",),
    recipients=(),
    text="Keeps your shoe size for 400 days, but promised 30.",
)
DISCLOSED = Disclosed(
    claims={"sizes.shoe": 42},
    purpose_digest="d",
    concept="dpv:ProvidePersonalisedRecommendations",
    retention="P30D",
    expires_at=1,
    keep_until=2,
    epoch=0,
    subject="s",
    prompt=None,
    recipients={"analytics": ("sizes.shoe",)},
)


@pytest.mark.parametrize(
    ("record", "words"),
    [
        (DISCLOSED, "sizes.shoe=42; may pass on to analytics"),
        (
            Acknowledged(claims=("sizes.shoe",), keep_until=0, token="t", recipients=("analytics",)),
            "the site keeps it until 1970-01-01 00:00; passed on to analytics",
        ),
        (
            RecipientDecided(recipient="analytics", effect="deny", mode="once", expires_at=None),
            "decided third party analytics deny once",
        ),
        (
            DecisionChanged(claim=None, recipient="analytics", effect="allow"),
            "changed third party analytics to allow",
        ),
        (ConsentRevoked(purpose=None, decisions=1, recipient="analytics"), "revoked third party analytics"),
        (ConsentRevoked(purpose=None, decisions=1, claim="sizes.shoe"), "revoked sizes.shoe"),
        (
            NoticeQueued(
                presentations=("a", "b"),
                erasure=True,
                endpoint="e",
                epoch=0,
                site=False,
                recipients=("analytics",),
            ),
            "2 withdrawn from analytics, erasure asked",
        ),
        (
            NoticeQueued(
                presentations=("a",),
                erasure=False,
                endpoint="e",
                epoch=0,
                claims=("sizes.shoe",),
                recipients=("analytics",),
            ),
            "1 withdrawn (sizes.shoe) from the site, analytics",
        ),
        (
            NoticeAcknowledged(
                erased=False,
                token="t",
                recipients=(RecipientAnswer(id="analytics", outcome="not_held", at=1),),
            ),
            "the site confirmed; analytics: not held",
        ),
        (
            BrokenPromise(recipients=("analytics",), token="t"),
            "the site says it passed it to analytics, which you did not allow",
        ),
        (
            AccessRequested(reason="ask", endpoint="e", epoch=0, presentations=()),
            "asked the site what it holds",
        ),
        (
            AccessRequested(reason="retention_end", endpoint="e", epoch=0, presentations=("a",)),
            "asked the site to confirm it no longer holds 1 disclosure",
        ),
        (
            AccessAnswered(token="t", request="r", discrepancies=()),
            "the site answered; nothing differs from what it was given",
        ),
        (
            AccessAnswered(token="t", request="r", discrepancies=(HELD_TOO_LONG,)),
            "the site answered: Keeps your shoe size for 400 days, but promised 30.",
        ),
        (
            AccessUnanswered(attempts=6, error="HTTP 503", discrepancies=()),
            "no answer after 6 attempts (HTTP 503)",
        ),
        (MessageReceived(message_kind="change", via="page", token="t"), "a change notice received"),
        (
            MessageReceived(message_kind="breach", via="acknowledgement", token="t"),
            "a breach notice received with its acknowledgement",
        ),
    ],
)
def test_third_party_records_in_words(record: Record, words: str) -> None:
    body = msgspec.json.decode(encode_record(record))
    entry = Entry(
        seq=1, at=0, kind=record.kind, origin="https://shop.example", purpose_id="p", ref="r", body=body
    )
    assert _summary(entry) == words


NAMES = {"everyday": "Everyday", "c-1": "Work", "c-2": "Old"}


@pytest.mark.parametrize(
    ("record", "words"),
    [
        (
            ContextChanged(
                action="added", name="Work", separate_identity=True, gpc=True, copied_from="everyday"
            ),
            "Added the context Work (a copy of Everyday, its own identity)",
        ),
        (
            ContextChanged(action="added", name="Urgent", separate_identity=False, gpc=False),
            "Added the context Urgent (the shared identity, GPC off)",
        ),
        (
            ContextChanged(
                action="renamed", name="Office", separate_identity=True, gpc=True, old_name="Work"
            ),
            "Renamed the context Work to Office",
        ),
        (
            ContextChanged(action="changed", name="Work", separate_identity=False, gpc=False),
            "Changed the context Work: the shared identity, GPC off",
        ),
        (
            ContextChanged(action="removed", name="Old", separate_identity=False, gpc=True),
            "Removed the context Old",
        ),
        # Made in a context other than Everyday: it is named (a removed one too, by the name it had).
        (
            msgspec.structs.replace(DISCLOSED, context="c-1"),
            "sizes.shoe=42; may pass on to analytics (in Work)",
        ),
        (
            msgspec.structs.replace(DISCLOSED, context="c-2"),
            "sizes.shoe=42; may pass on to analytics (in Old)",
        ),
        (msgspec.structs.replace(DISCLOSED, context="everyday"), "sizes.shoe=42; may pass on to analytics"),
        (
            RuleAdded(rule="never", target="sizes.shoe", context="c-1"),
            "rule_added never sizes.shoe (in Work)",
        ),
        (RuleRemoved(rule="never", target="sizes.shoe"), "rule_removed never sizes.shoe"),
        (
            RecipientDecided(
                recipient="analytics", effect="deny", mode="once", expires_at=None, context="c-1"
            ),
            "decided third party analytics deny once (in Work)",
        ),
        # An id no longer known (not in the names given) is shown as it is.
        (RuleAdded(rule="ask", target="email", context="c-9"), "rule_added ask email (in c-9)"),
    ],
)
def test_context_records_in_words(record: Record, words: str) -> None:
    body = msgspec.json.decode(encode_record(record))
    entry = Entry(seq=1, at=0, kind=record.kind, origin=None, purpose_id=None, ref="c-1", body=body)
    assert _summary(entry, NAMES) == words
