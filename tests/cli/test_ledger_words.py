"""`vault ledger` says each third-party record in words: whom a disclosure may go to, whom a notice
withdraws from, what the site answered for each third party, and a broken promise."""

import msgspec
import pytest

from vault.cli.consent import _summary
from vault.consent.ledger import Entry
from vault.consent.ledger_records import (
    Acknowledged,
    BrokenPromise,
    ConsentRevoked,
    DecisionChanged,
    Disclosed,
    NoticeAcknowledged,
    NoticeQueued,
    RecipientAnswer,
    RecipientDecided,
    Record,
    encode_record,
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
    ],
)
def test_third_party_records_in_words(record: Record, words: str) -> None:
    body = msgspec.json.decode(encode_record(record))
    entry = Entry(
        seq=1, at=0, kind=record.kind, origin="https://shop.example", purpose_id="p", ref="r", body=body
    )
    assert _summary(entry) == words
