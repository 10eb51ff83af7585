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
    Decided,
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
    SiteChanged,
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
        (DISCLOSED, "Shared your shoe size: 42; may pass on to analytics"),
        (
            Acknowledged(claims=("sizes.shoe",), keep_until=0, token="t", recipients=("analytics",)),
            "The site keeps it until 1970-01-01 00:00; passed on to analytics",
        ),
        (
            Decided(claim="age_over_18", effect="allow", mode="remember", expires_at=0),
            "Agreed to share whether you are 18 or older, remembered until 1970-01-01 00:00",
        ),
        (
            Decided(claim="sizes.shoe", effect="deny", mode="once", expires_at=None),
            "Refused to share your shoe size, this once",
        ),
        (
            DecisionChanged(claim="email", recipient=None, effect="forgotten"),
            "Forgot the remembered answer about your email address",
        ),
        (
            SiteChanged(
                field="revocation_endpoint", before="https://a.example/r", after="https://b.example/r"
            ),
            "The site's revocation endpoint changed from https://a.example/r to https://b.example/r",
        ),
        (
            RecipientDecided(recipient="analytics", effect="deny", mode="once", expires_at=None),
            "Refused to let the site pass it on to analytics, this once",
        ),
        (
            DecisionChanged(claim=None, recipient="analytics", effect="allow"),
            "Changed the remembered answer about passing it on to analytics to yes",
        ),
        (
            ConsentRevoked(purpose=None, decisions=1, recipient="analytics"),
            "Took back consent to pass it on to analytics (1 remembered answer)",
        ),
        (
            ConsentRevoked(purpose=None, decisions=1, claim="sizes.shoe"),
            "Took back consent to share your shoe size (1 remembered answer)",
        ),
        (
            NoticeQueued(
                presentations=("a", "b"),
                erasure=True,
                endpoint="e",
                epoch=0,
                site=False,
                recipients=("analytics",),
            ),
            "Withdrew 2 disclosures from analytics, and asked for erasure",
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
            "Withdrew 1 disclosure (your shoe size) from the site, analytics",
        ),
        (
            NoticeAcknowledged(
                erased=False,
                token="t",
                recipients=(RecipientAnswer(id="analytics", outcome="not_held", at=1),),
            ),
            "The site confirmed; analytics: not held",
        ),
        (
            BrokenPromise(recipients=("analytics",), token="t"),
            "The site says it passed it to analytics, which you did not allow",
        ),
        (
            AccessRequested(reason="ask", endpoint="e", epoch=0, presentations=()),
            "Asked the site what it holds",
        ),
        (
            AccessRequested(reason="retention_end", endpoint="e", epoch=0, presentations=("a",)),
            "Asked the site to confirm it no longer holds 1 disclosure",
        ),
        (
            AccessAnswered(token="t", request="r", discrepancies=()),
            "The site answered; nothing differs from what it was given",
        ),
        (
            AccessAnswered(token="t", request="r", discrepancies=(HELD_TOO_LONG,)),
            "The site answered: Keeps your shoe size for 400 days, but promised 30.",
        ),
        (
            AccessUnanswered(attempts=6, error="HTTP 503", discrepancies=()),
            "No answer after 6 attempts (HTTP 503)",
        ),
        (MessageReceived(message_kind="change", via="page", token="t"), "A change notice received"),
        (
            MessageReceived(message_kind="breach", via="acknowledgement", token="t"),
            "A breach notice received with its acknowledgement",
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
            "Shared your shoe size: 42; may pass on to analytics (in Work)",
        ),
        (
            msgspec.structs.replace(DISCLOSED, context="c-2"),
            "Shared your shoe size: 42; may pass on to analytics (in Old)",
        ),
        (
            msgspec.structs.replace(DISCLOSED, context="everyday"),
            "Shared your shoe size: 42; may pass on to analytics",
        ),
        (
            RuleAdded(rule="never", target="sizes.shoe", context="c-1"),
            "Added the rule: never share your shoe size (in Work)",
        ),
        (RuleRemoved(rule="never", target="sizes.shoe"), "Removed the rule: never share your shoe size"),
        (
            RecipientDecided(
                recipient="analytics", effect="deny", mode="once", expires_at=None, context="c-1"
            ),
            "Refused to let the site pass it on to analytics, this once (in Work)",
        ),
        # An id no longer known (not in the names given) is shown as it is.
        (
            RuleAdded(rule="ask", target="email", context="c-9"),
            "Added the rule: always ask before sharing your email address (in c-9)",
        ),
    ],
)
def test_context_records_in_words(record: Record, words: str) -> None:
    body = msgspec.json.decode(encode_record(record))
    entry = Entry(seq=1, at=0, kind=record.kind, origin=None, purpose_id=None, ref="c-1", body=body)
    assert _summary(entry, NAMES) == words
