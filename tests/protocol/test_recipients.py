"""Third parties in the vault's messages: the presentation's `recipients`, the acknowledgement naming who
received the claims (`unallowed_recipients`), the notice's scope (`claims`, `site`, `recipients`) and the
revocation acknowledgement's outcome per recipient."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import example
from vault.protocol import (
    AcknowledgementInvalid,
    IssueError,
    Reason,
    TokenInvalid,
    issue_presentation,
    key_subject,
    open_presentation,
    sign_revocation,
    verify_acknowledgement,
    verify_revocation_ack,
)
from vault.protocol.acknowledgement import (
    Acknowledgement,
    RecipientOutcome,
    RevocationAcknowledgement,
    sign_acknowledgement,
    sign_revocation_ack,
    unallowed_recipients,
)
from vault.protocol.b64 import b64url_decode
from vault.protocol.jws import sign_raw
from vault.protocol.revocation import open_notice

NOW = example.NOW
MANIFEST = example.manifest()
KEY = example.pairwise_key()
SITE_KEY = example.site_key()
SUBJECT = key_subject(KEY.public_jwk)
CLAIMS = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42, "interests": ["running"]}


def issue(
    recipients: Any = ("stock",), claims: dict | None = None, purpose_id: str = "recommendations"
) -> str:
    claims = CLAIMS if claims is None else claims
    return issue_presentation(
        KEY, MANIFEST, purpose_id, example.ORIGIN, "n" * 22, claims, NOW, "j" * 16, recipients=recipients
    )


def payload_of(token: str) -> dict:
    return json.loads(b64url_decode(token.split(".")[1]))


def resigned(token: str, payload: bytes) -> str:
    return sign_raw(KEY, b64url_decode(token.split(".")[0]), payload)


# Presentation -------------------------------------------------------------------------------------


def test_the_payload_lists_the_allowed_recipients_in_the_order_given() -> None:
    assert payload_of(issue())["recipients"] == ["stock"]
    assert payload_of(issue(("analytics", "stock")))["recipients"] == ["analytics", "stock"]
    assert payload_of(issue((), purpose_id="age-check", claims={"age_over_18": True}))["recipients"] == []
    _, opened = open_presentation(issue(["stock", "analytics"]))
    assert opened.recipients == ("stock", "analytics")


@pytest.mark.parametrize(
    ("recipients", "claims", "reason"),
    [
        ((), CLAIMS, "missing_recipient"),
        (("analytics",), CLAIMS, "missing_recipient"),
        (("stock", "ads"), CLAIMS, "undeclared_recipient"),
        (("stock", "stock"), CLAIMS, "undeclared_recipient"),
        (("STOCK",), CLAIMS, "undeclared_recipient"),
    ],
)
def test_the_vault_signs_no_presentation_breaking_the_recipient_rule(
    recipients: tuple[str, ...], claims: dict, reason: str
) -> None:
    with pytest.raises(IssueError) as raised:
        issue(recipients, claims)
    assert raised.value.reason == reason


def test_a_purpose_without_third_parties_allows_no_recipient() -> None:
    with pytest.raises(IssueError) as raised:
        issue(("stock",), {"age_over_18": True}, "age-check")
    assert raised.value.reason == "undeclared_recipient"


def test_repeated_recipients_are_malformed() -> None:
    token = issue()
    payload = dict(payload_of(token), recipients=["stock", "stock"])
    with pytest.raises(TokenInvalid) as raised:
        open_presentation(resigned(token, msgspec.json.encode(payload)))
    assert raised.value.reason == Reason.MALFORMED


def test_member_order_and_spacing_do_not_matter_but_a_repeated_member_does() -> None:
    token = issue()
    payload = payload_of(token)
    reordered = {key: payload[key] for key in reversed(list(payload))}
    spaced = json.dumps(reordered, indent=2).encode()
    _, opened = open_presentation(resigned(token, spaced))  # not our encoder's text: members are counted
    assert opened.recipients == ("stock",)
    repeated = spaced.replace(b'"recipients":', b'"recipients": ["stock", "analytics"], "recipients":', 1)
    assert repeated != spaced
    with pytest.raises(TokenInvalid) as raised:
        open_presentation(resigned(token, repeated))
    assert raised.value.reason == Reason.MALFORMED
    without = dict(payload)
    del without["recipients"]
    with pytest.raises(TokenInvalid):
        open_presentation(resigned(token, json.dumps(without, indent=1).encode()))


@given(st.lists(st.sampled_from(["stock", "analytics"]), max_size=3))
def test_a_repeated_member_never_counts_as_a_missing_one(extra: list[str]) -> None:
    """A repeated `recipients` with one member dropped has the right member count but not the right set."""
    token = issue()
    payload = payload_of(token)
    del payload["nonce"]
    text = json.dumps(payload, indent=1).replace(
        '"recipients":', f'"recipients": {json.dumps(extra)}, "recipients":'
    )
    with pytest.raises(TokenInvalid):
        open_presentation(resigned(token, text.encode()))


# Acknowledgement ----------------------------------------------------------------------------------


def acknowledgement(presentation: str, recipients: tuple[str, ...]) -> str:
    issued = payload_of(presentation)
    return sign_acknowledgement(
        SITE_KEY,
        Acknowledgement(
            iss=example.ORIGIN,
            aud=SUBJECT,
            iat=NOW + 1,
            presentation=issued["jti"],
            purpose="recommendations",
            purpose_digest=issued["purpose_digest"],
            claims=tuple(sorted(issued["claims"])),
            keep_until=NOW + 86400,
            recipients=recipients,
        ),
    )


@pytest.mark.parametrize(
    ("allowed", "named", "unallowed"),
    [
        (("stock",), ("stock",), ()),
        (("stock", "analytics"), ("analytics",), ()),
        (("stock",), (), ()),
        (("stock",), ("stock", "analytics"), ("analytics",)),
        (("stock",), ("ads", "stock"), ("ads",)),
    ],
)
def test_an_acknowledgement_naming_unallowed_recipients_is_kept_and_flagged(
    allowed: tuple[str, ...], named: tuple[str, ...], unallowed: tuple[str, ...]
) -> None:
    presentation = issue(allowed)
    ack = verify_acknowledgement(
        acknowledgement(presentation, named), MANIFEST.site_key, presentation=presentation, now=NOW + 2
    )
    assert ack.recipients == named
    assert unallowed_recipients(ack, open_presentation(presentation)[1].recipients) == unallowed


def test_an_acknowledgement_repeating_a_recipient_is_malformed_before_anything_else() -> None:
    presentation = issue()
    token = acknowledgement(presentation, ("stock", "stock"))
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_acknowledgement(token, MANIFEST.site_key, presentation=presentation, now=NOW - 3600)
    assert raised.value.reason == Reason.MALFORMED  # not not_yet_valid: the schema comes first


# Notice -------------------------------------------------------------------------------------------


def notice(**changes: Any) -> str:
    arguments: dict[str, Any] = {
        "origin": example.ORIGIN,
        "purpose_id": "recommendations",
        "presentations": ["p" * 16],
        "erasure": True,
        "now": NOW,
        "jti": "r" * 16,
    }
    arguments.update(changes)
    return sign_revocation(KEY, **arguments)


def test_a_notice_says_what_it_withdraws_and_from_whom() -> None:
    _, whole = open_notice(notice())
    assert (whole.claims, whole.site, whole.recipients) == ((), True, ())
    _, scoped = open_notice(notice(claims=["sizes.shoe"], site=False, recipients=["analytics"]))
    assert (scoped.claims, scoped.site, scoped.recipients) == (("sizes.shoe",), False, ("analytics",))


@pytest.mark.parametrize(
    "changes",
    [
        {"site": False},
        {"site": False, "recipients": []},
        {"claims": ["sizes.shoe", "sizes.shoe"]},
        {"recipients": ["analytics", "analytics"]},
        {"claims": ["Sizes"]},
        {"claims": ["sizes.shoe\n"]},
        {"claims": [42]},
        {"recipients": ["Analytics"]},
        {"recipients": ["analytics\n"]},
        {"recipients": [f"partner-{n}" for n in range(17)]},
        {"claims": [f"claim_{n}" for n in range(33)]},
    ],
)
def test_sign_revocation_refuses_a_bad_scope(changes: dict[str, Any]) -> None:
    with pytest.raises(IssueError) as raised:
        notice(**changes)
    assert raised.value.reason == "bad_scope"


@pytest.mark.parametrize(
    "changes",
    [
        {"site": False, "recipients": []},
        {"claims": ["sizes.shoe", "sizes.shoe"]},
        {"recipients": ["stock", "stock"]},
        {"site": "false"},
        {"recipients": None},
        # `$` in the schema's patterns matches before a final line break; JavaScript's does not.
        {"recipients": ["stock\n"]},
        {"claims": ["sizes.shoe\n"]},
        {"purpose": "recommendations\n"},
    ],
)
def test_open_notice_refuses_a_bad_scope_as_malformed(changes: dict[str, Any]) -> None:
    token = notice(recipients=["stock"])
    payload = dict(payload_of(token), **changes)
    with pytest.raises(TokenInvalid) as raised:
        open_notice(resigned(token, msgspec.json.encode(payload)))
    assert raised.value.reason == Reason.MALFORMED


# Revocation acknowledgement -----------------------------------------------------------------------


def answer(sent: str, outcomes: list[tuple[str, str]]) -> str:
    told = payload_of(sent)
    return sign_revocation_ack(
        SITE_KEY,
        RevocationAcknowledgement(
            iss=example.ORIGIN,
            aud=SUBJECT,
            iat=NOW + 1,
            notice=told["jti"],
            presentations=tuple(told["presentations"]),
            erased=True,
            recipients=tuple(RecipientOutcome(id=r, outcome=o, at=NOW + 1) for r, o in outcomes),  # type: ignore[arg-type]
        ),
    )


TOLD = notice(recipients=["stock", "analytics"])


@pytest.mark.parametrize(
    "outcomes",
    [
        [("stock", "erased"), ("analytics", "forwarded")],
        [("analytics", "not_held"), ("stock", "erased")],
    ],
)
def test_a_revocation_ack_gives_each_recipients_outcome(outcomes: list[tuple[str, str]]) -> None:
    checked = verify_revocation_ack(answer(TOLD, outcomes), MANIFEST.site_key, notice=TOLD, now=NOW + 2)
    assert {(outcome.id, outcome.outcome) for outcome in checked.recipients} == set(outcomes)


@pytest.mark.parametrize(
    ("sent", "outcomes"),
    [
        (TOLD, [("stock", "erased")]),  # missing
        (TOLD, [("stock", "erased"), ("analytics", "erased"), ("ads", "erased")]),  # extra
        (TOLD, [("stock", "erased"), ("analytics", "erased"), ("analytics", "forwarded")]),  # repeated
        (TOLD, []),
        (notice(), [("stock", "erased")]),  # the notice named nobody
    ],
)
def test_a_revocation_ack_with_the_wrong_outcomes_answers_another_notice(
    sent: str, outcomes: list[tuple[str, str]]
) -> None:
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_revocation_ack(answer(sent, outcomes), MANIFEST.site_key, notice=sent, now=NOW + 2)
    assert raised.value.reason == Reason.WRONG_NOTICE


def test_an_unknown_outcome_is_malformed() -> None:
    token = answer(TOLD, [("stock", "erased"), ("analytics", "erased")])
    payload = payload_of(token)
    payload["recipients"][1]["outcome"] = "deleted"
    head = b64url_decode(token.split(".")[0])
    with pytest.raises(AcknowledgementInvalid) as raised:
        verify_revocation_ack(
            sign_raw(SITE_KEY, head, msgspec.json.encode(payload)),
            MANIFEST.site_key,
            notice=TOLD,
            now=NOW + 2,
        )
    assert raised.value.reason == Reason.MALFORMED
