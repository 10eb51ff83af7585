"""The site library and third parties: it refuses presentations that break the recipient rule, tells the
site what each allowed recipient may receive, signs acknowledgements naming only allowed recipients, says
whom to forward a notice to, and answers a notice with each recipient's outcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import example
from tests.site.conftest import CLAIMS, NONCE
from vault.protocol import (
    Manifest,
    decode_manifest,
    encode_manifest,
    issue_presentation,
    sign_revocation,
    verify_acknowledgement,
    verify_revocation_ack,
)
from vault.protocol.acknowledgement import unallowed_recipients
from vault.protocol.b64 import b64url_decode
from vault.protocol.jws import sign_raw
from vault.protocol.presentation import open_presentation
from vault.site import (
    InMemoryReplayStore,
    PresentationInvalid,
    Reason,
    VerifiedPresentation,
    acknowledge_presentation,
    acknowledge_revocation,
    recipient_claims,
    recipients_to_tell,
    verify_presentation,
    verify_revocation,
)

NOW = example.NOW
SITE_KEY = example.site_key()


def verify(token: str, manifest: Manifest, replay: InMemoryReplayStore | None = None) -> VerifiedPresentation:
    return verify_presentation(
        token, manifest=manifest, nonce=NONCE, now=NOW, replay=replay or InMemoryReplayStore()
    )


def test_the_allowed_recipients_are_returned(issue: Callable[..., str], manifest: Manifest) -> None:
    assert verify(issue(), manifest).recipients == ("stock",)
    both = verify(issue(recipients=("stock", "analytics")), manifest)
    assert both.recipients == ("stock", "analytics")
    age = verify(issue(purpose_id="age-check", claims={"age_over_18": True}), manifest)
    assert age.recipients == ()


def forged(issue: Callable[..., str], recipients: list[str], **claims: Any) -> str:
    """A presentation the vault signed with `recipients` put in afterwards (a faulty or hostile vault)."""
    head, payload, _ = issue().split(".")
    body = json.loads(b64url_decode(payload))
    body["recipients"] = recipients
    body["claims"].update(claims)
    return sign_raw(example.pairwise_key(), b64url_decode(head), json.dumps(body).encode())


@pytest.mark.parametrize(
    ("recipients", "reason"),
    [
        (["stock", "ads"], Reason.UNDECLARED_RECIPIENT),
        (["ads"], Reason.UNDECLARED_RECIPIENT),
        ([], Reason.MISSING_RECIPIENT),
        (["analytics"], Reason.MISSING_RECIPIENT),
        (["stock", "stock"], Reason.MALFORMED),
    ],
)
def test_presentations_breaking_the_recipient_rule_are_refused_and_leave_no_replay_record(
    issue: Callable[..., str], manifest: Manifest, recipients: list[str], reason: Reason
) -> None:
    replay = InMemoryReplayStore()
    token = forged(issue, recipients)
    with pytest.raises(PresentationInvalid) as raised:
        verify(token, manifest, replay)
    assert raised.value.reason == reason
    assert replay.size == 0


def test_the_claim_value_step_comes_before_the_recipient_steps(
    issue: Callable[..., str], manifest: Manifest
) -> None:
    with pytest.raises(PresentationInvalid) as raised:
        verify(forged(issue, ["ads"], **{"sizes.shoe": 99}), manifest)
    assert raised.value.reason == Reason.BAD_CLAIM_VALUE


def test_a_recipient_is_refused_once_the_site_stops_declaring_it(
    issue: Callable[..., str], manifest: Manifest
) -> None:
    token = issue(recipients=("stock", "analytics"))
    purpose = manifest.purposes[0]
    shrunk = msgspec.structs.replace(purpose, third_parties=purpose.third_parties[:1])
    changed = decode_manifest(
        encode_manifest(msgspec.structs.replace(manifest, purposes=(shrunk, *manifest.purposes[1:])))
    )
    with pytest.raises(PresentationInvalid) as raised:
        verify(token, changed)
    assert raised.value.reason == Reason.PURPOSE_DIGEST_MISMATCH  # the digest covers the third parties


def test_recipient_claims_gives_each_allowed_recipient_its_claims_only(
    issue: Callable[..., str], manifest: Manifest
) -> None:
    only_stock = verify(issue(), manifest)
    assert recipient_claims(only_stock, manifest) == {"stock": {"location.country": "NL"}}
    both = verify(issue(recipients=("stock", "analytics")), manifest)
    assert recipient_claims(both, manifest) == {
        "stock": {"location.country": "NL"},
        "analytics": {"sizes.shoe": 42, "interests": ["running"]},
    }
    required_only = {"age_over_18": True, "location.country": "NL"}
    nothing_for_analytics = verify(issue(claims=required_only, recipients=("analytics", "stock")), manifest)
    assert recipient_claims(nothing_for_analytics, manifest) == {"stock": {"location.country": "NL"}}


def acknowledged(token: str, manifest: Manifest, **kwargs: Any) -> Any:
    seen = verify(token, manifest)
    ack = acknowledge_presentation(SITE_KEY, seen, manifest=manifest, now=NOW + 1, **kwargs)
    return verify_acknowledgement(ack, manifest.site_key, presentation=token, now=NOW + 2)


def test_the_acknowledgement_names_the_allowed_recipients_by_default(
    issue: Callable[..., str], manifest: Manifest
) -> None:
    token = issue(recipients=("stock", "analytics"))
    assert acknowledged(token, manifest).recipients == ("stock", "analytics")
    assert acknowledged(token, manifest, recipients=["analytics"]).recipients == ("analytics",)
    assert acknowledged(token, manifest, recipients=[]).recipients == ()
    repeated = acknowledged(token, manifest, recipients=["stock", "stock"])
    assert repeated.recipients == ("stock",)
    assert unallowed_recipients(repeated, open_presentation(token)[1].recipients) == ()


@pytest.mark.parametrize("recipients", [["analytics"], ["stock", "analytics"], ["ads"]])
def test_the_site_library_will_not_sign_a_broken_promise(
    issue: Callable[..., str], manifest: Manifest, recipients: list[str]
) -> None:
    seen = verify(issue(), manifest)  # only stock allowed
    with pytest.raises(ValueError):
        acknowledge_presentation(SITE_KEY, seen, manifest=manifest, now=NOW + 1, recipients=recipients)


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
    return sign_revocation(example.pairwise_key(), **arguments)


def received(token: str, manifest: Manifest) -> Any:
    return verify_revocation(token, manifest=manifest, now=NOW + 5, stored_subject=lambda jti: None)


def test_the_site_learns_the_notices_scope_and_whom_to_tell(manifest: Manifest) -> None:
    scoped = received(notice(claims=["sizes.shoe"], site=False, recipients=["analytics"]), manifest)
    assert (scoped.claims, scoped.site, scoped.recipients) == (("sizes.shoe",), False, ("analytics",))
    assert [party.id for party in recipients_to_tell(scoped, manifest)] == ["analytics"]
    told = recipients_to_tell(received(notice(recipients=["analytics", "stock"]), manifest), manifest)
    assert [(p.id, p.privacy_policy) for p in told] == [
        ("stock", "https://stock.example/privacy"),
        ("analytics", "https://analytics.example/privacy"),
    ]  # in the manifest's order, with what the site knows of them
    whole = received(notice(), manifest)
    assert (whole.claims, whole.site, whole.recipients) == ((), True, ())
    assert recipients_to_tell(whole, manifest) == ()
    assert recipients_to_tell(received(notice(recipients=["old-partner"]), manifest), manifest) == ()
    other = received(notice(purpose_id="age-check", recipients=["stock"]), manifest)
    assert recipients_to_tell(other, manifest) == ()  # age-check has no third parties


def test_the_answer_gives_each_recipients_outcome(manifest: Manifest) -> None:
    sent = notice(site=False, recipients=["stock", "analytics"])
    answer = acknowledge_revocation(
        SITE_KEY,
        received(sent, manifest),
        manifest=manifest,
        now=NOW + 6,
        erased=False,
        recipients={"analytics": ("forwarded", NOW + 6), "stock": ("not_held", NOW + 5)},
    )
    checked = verify_revocation_ack(answer, manifest.site_key, notice=sent, now=NOW + 7)
    assert checked.erased is False
    assert [(o.id, o.outcome, o.at) for o in checked.recipients] == [
        ("stock", "not_held", NOW + 5),
        ("analytics", "forwarded", NOW + 6),
    ]


@pytest.mark.parametrize(
    "outcomes",
    [
        None,
        {},
        {"stock": ("erased", NOW)},
        {"stock": ("erased", NOW), "analytics": ("erased", NOW), "ads": ("erased", NOW)},
        {"stock": ("erased", NOW), "analytics": ("deleted", NOW)},
        {"stock": ("erased", NOW), "analytics": ("erased", "today")},
        {"stock": ("erased", NOW), "analytics": ("erased", float(NOW))},
    ],
)
def test_the_answer_must_cover_exactly_the_recipients_told(manifest: Manifest, outcomes: Any) -> None:
    notice_seen = received(notice(recipients=["stock", "analytics"]), manifest)
    with pytest.raises(ValueError):
        acknowledge_revocation(
            SITE_KEY, notice_seen, manifest=manifest, now=NOW + 6, erased=True, recipients=outcomes
        )


def test_an_answer_to_a_site_only_notice_names_no_recipient(manifest: Manifest) -> None:
    sent = notice()
    whole = received(sent, manifest)
    with pytest.raises(ValueError):
        acknowledge_revocation(
            SITE_KEY,
            whole,
            manifest=manifest,
            now=NOW + 6,
            erased=True,
            recipients={"stock": ("erased", NOW)},
        )
    answer = acknowledge_revocation(SITE_KEY, whole, manifest=manifest, now=NOW + 6, erased=True)
    assert verify_revocation_ack(answer, manifest.site_key, notice=sent, now=NOW + 7).recipients == ()


def test_claims_reach_only_the_allowed_recipients_whatever_the_choice(
    issue: Callable[..., str], manifest: Manifest
) -> None:
    for recipients in [("stock",), ("stock", "analytics"), ("analytics", "stock")]:
        seen = verify(issue(recipients=recipients, claims=CLAIMS), manifest)
        shared = recipient_claims(seen, manifest)
        assert set(shared) <= set(recipients)
        for recipient, claims in shared.items():
            assert set(claims) <= set(
                manifest.purposes[0].third_parties[["stock", "analytics"].index(recipient)].claims
            )


@settings(max_examples=60, deadline=None)
@given(
    recipients=st.lists(st.sampled_from(["stock", "analytics", "ads", "Stock"]), max_size=4),
    optional=st.sets(st.sampled_from(["sizes.shoe", "interests"])),
)
def test_the_verifier_applies_the_recipient_rule_to_any_list(
    recipients: list[str], optional: set[str]
) -> None:
    """Whatever a vault lists, the verifier accepts exactly what the rule allows, with the spec's reason."""
    manifest = example.manifest()
    claims = {name: value for name, value in CLAIMS.items() if name in optional or name in REQUIRED}
    head, payload, _ = issue_with_stock(claims).split(".")
    body = json.loads(b64url_decode(payload))
    body["recipients"] = recipients
    token = sign_raw(example.pairwise_key(), b64url_decode(head), json.dumps(body).encode())
    if len(set(recipients)) != len(recipients):
        expected: Reason | None = Reason.MALFORMED
    elif not set(recipients) <= {"stock", "analytics"}:
        expected = Reason.UNDECLARED_RECIPIENT
    elif "stock" not in recipients:  # location.country is required, and stock receives it
        expected = Reason.MISSING_RECIPIENT
    else:
        expected = None
    if expected is None:
        assert verify(token, manifest).recipients == tuple(recipients)
    else:
        with pytest.raises(PresentationInvalid) as raised:
            verify(token, manifest)
        assert raised.value.reason == expected


REQUIRED = {"age_over_18", "location.country"}


def issue_with_stock(claims: dict) -> str:
    return issue_presentation(
        example.pairwise_key(),
        example.manifest(),
        "recommendations",
        example.ORIGIN,
        NONCE,
        claims,
        NOW,
        "h" * 16,
        recipients=("stock",),
    )
