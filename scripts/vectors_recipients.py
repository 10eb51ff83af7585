"""Presentation vectors about third parties (SPEC.md, "Presentation": `recipients`, and the verifier's
`undeclared_recipient` and `missing_recipient` steps). The example purpose `recommendations` declares
`stock` (required, receives location.country, which the purpose requires) and `analytics` (optional,
receives sizes.shoe and interests); `age-check` declares no third party."""

from __future__ import annotations

from vector_tools import (
    ALL_CLAIMS,
    REQUIRED_CLAIMS,
    fixed,
    issued,
    replay_records,
    splice_json,
    vector,
    with_payload,
)


def recipient_vectors(base: str) -> list[dict]:
    age = issued("recipients age", purpose="age-check", claims={"age_over_18": True})
    replayed = with_payload(issued("recipients replayed"), recipients=[])
    return [
        vector(
            "valid_recipients_all",
            "The user allows both third parties: the required stock checker and the optional analytics.",
            "valid",
            issued("recipients all", recipients=("stock", "analytics")),
        ),
        vector(
            "valid_recipients_optional_refused",
            "The user leaves the optional analytics partner switched off: only stock is listed.",
            "valid",
            issued("recipients optional refused", recipients=("stock",)),
        ),
        vector(
            "valid_recipients_optional_without_its_claims",
            "analytics is allowed though none of its claims is presented: allowed, it receives nothing.",
            "valid",
            issued("recipients no claims", claims=REQUIRED_CLAIMS, recipients=("analytics", "stock")),
        ),
        vector(
            "valid_no_third_parties",
            "A purpose that declares no third party: recipients is empty.",
            "valid",
            age,
        ),
        vector(
            "recipient_undeclared",
            "Lists a third party the purpose does not declare.",
            "undeclared_recipient",
            with_payload(base, recipients=["stock", "ads"]),
        ),
        vector(
            "recipient_of_another_purpose",
            "age-check declares no third party, yet the token lists stock (another purpose's).",
            "undeclared_recipient",
            with_payload(age, recipients=["stock"]),
        ),
        vector(
            "recipient_wrong_case",
            "Stock for stock: ids are compared exactly.",
            "undeclared_recipient",
            with_payload(base, recipients=["Stock"]),
        ),
        vector(
            "recipient_required_missing",
            "location.country is presented but its required recipient, stock, is not listed.",
            "missing_recipient",
            with_payload(base, recipients=[]),
        ),
        vector(
            "recipient_required_missing_optional_listed",
            "Only the optional analytics partner is listed; the required stock checker is not.",
            "missing_recipient",
            with_payload(base, recipients=["analytics"]),
        ),
        vector(
            "recipients_repeated",
            "stock listed twice.",
            "malformed",
            with_payload(base, recipients=["stock", "stock"]),
        ),
        vector(
            "recipients_missing_member",
            "No recipients member: it is required, empty when nobody else receives anything.",
            "malformed",
            with_payload(base, recipients=...),
        ),
        vector(
            "recipients_not_a_list",
            "recipients is a string.",
            "malformed",
            with_payload(base, recipients="stock"),
        ),
        vector(
            "recipients_duplicate_member",
            "recipients twice, the first allowing analytics too.",
            "malformed",
            splice_json(base, 1, b'"recipients":', b'"recipients":["stock","analytics"],"recipients":'),
        ),
        vector(
            "recipient_checked_after_claim_value",
            "A bad claim value and an undeclared recipient: the claim value step comes first.",
            "bad_claim_value",
            with_payload(base, claims={**ALL_CLAIMS, "sizes.shoe": 99}, recipients=["ads"]),
        ),
        vector(
            "recipient_checked_before_replay",
            "A missing recipient in a token whose replay key is already recorded: refused for the "
            "recipient, so a verifier writes no replay record for it.",
            "missing_recipient",
            replayed,
            seen=replay_records(replayed),
        ),
        vector(
            "recipient_checked_after_nonce",
            "An undeclared recipient with the wrong nonce: the nonce step comes first.",
            "wrong_nonce",
            with_payload(base, recipients=["ads"]),
            nonce=fixed("other nonce"),
        ),
    ]
