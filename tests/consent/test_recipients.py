"""Third parties over a real vault, a row of the decision table per test: who is asked about, what the
signed presentation names, what is remembered, and a site's acknowledgement naming someone the user did not
allow (a broken promise, kept with the site's own signed word as evidence). The pure rows: test_policy.py."""

import itertools
from pathlib import Path

import msgspec
import pytest

from tests import example
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.acknowledgements import store_acknowledgement
from vault.consent.ledger_records import BrokenPromise, RecipientDecided
from vault.consent.policy import Answer
from vault.consent.prompt_view import get_prompt
from vault.consent.records import remembered_decisions
from vault.consent.report import site_report
from vault.consent.revocation import revoke
from vault.consent.service import NotShared, PromptNeeded, Shared, decide_prompt, request_presentation
from vault.errors import InvalidInput
from vault.protocol.acknowledgement import Acknowledgement, sign_acknowledgement
from vault.protocol.b64 import b64url_decode
from vault.protocol.manifest import Manifest, decode_manifest, retention_seconds
from vault.protocol.revocation import open_notice
from vault.site import InMemoryReplayStore, acknowledge_presentation, recipient_claims, verify_presentation
from vault.store import Vault

ORIGIN = example.ORIGIN
CLAIMS = frozenset({"age_over_18", "location.country", "sizes.shoe", "interests"})
COURIER = {
    "id": "courier",
    "name": "Example Courier GmbH",
    "role": "dpv:Processor",
    "country": "DE",
    "privacy_policy": "https://courier.example/privacy",
    "claims": ["location.country"],
    "required": False,
    "why": "Estimates delivery times.",
}
_ids = (f"id-{n:016d}" for n in itertools.count())


def new_id() -> str:
    return next(_ids)


def shop(edit=None, controller=None) -> Manifest:
    """The example shop (signed with the example site key), its recommendations purpose edited."""
    data = msgspec.json.decode(msgspec.json.encode(example.manifest()))
    if edit:
        edit(data["purposes"][0])
    if controller:
        data["controller"].update(controller)
    return decode_manifest(msgspec.json.encode(data))


@pytest.fixture
def vault(vault_home: Path):
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        for name, value in (("birthdate", "1990-05-17"), ("country", "NL"), ("sizes.shoe", 42)):
            vault.set_attribute(name, value, now=NOW)
        vault.set_attribute("interests", ["jazz"], now=NOW)
        yield vault


def ask(vault: Vault, manifest: Manifest, now: int = NOW, nonce: str = "n" * 22, requested=None):
    return request_presentation(
        vault,
        manifest=manifest,
        audience=manifest.origin,
        purpose_id="recommendations",
        nonce=nonce,
        now=now,
        new_id=new_id,
        requested=requested,
    )


def answer(vault: Vault, prompt, recipients=(), remember=True, claims=None, now: int = NOW):
    """Shares every claim asked (or `claims`), switching on `recipients`."""
    ticked = frozenset(q.claim for q in prompt.questions) if claims is None else frozenset(claims)
    return decide_prompt(
        vault, prompt.id, Answer(True, ticked, remember, frozenset(recipients)), now=now, new_id=new_id
    )


def named(token: str) -> list[str]:
    """The recipients the signed presentation names, read from its payload."""
    return msgspec.json.decode(b64url_decode(token.split(".")[1]))["recipients"]


def parties(prompt) -> dict[str, tuple[bool, bool | None, str | None]]:
    """Each third party the prompt shows: (asked, allowed, asked_because)."""
    return {t.id: (t.asked, t.allowed, t.asked_because) for t in prompt.third_parties}


def recipient_rows(vault: Vault) -> list[tuple[str, str]]:
    return vault.conn.execute(
        "SELECT recipient, effect FROM recipient_decisions WHERE revoked_at IS NULL ORDER BY recipient"
    ).fetchall()


def test_an_optional_third_party_starts_off_and_is_then_left_out(vault: Vault) -> None:
    prompt = ask(vault, shop()).prompt
    assert parties(prompt) == {"stock": (True, None, "new"), "analytics": (True, None, "new")}
    assert {t.id: t.required for t in prompt.third_parties} == {"stock": True, "analytics": False}
    shared = answer(vault, prompt, recipients={"stock"})  # what the prompt sends with analytics untouched
    assert isinstance(shared, Shared) and named(shared.token) == ["stock"] == list(shared.recipients)
    assert recipient_rows(vault) == [("analytics", "deny"), ("stock", "allow")]
    (disclosure,) = ledger.entries(vault, kinds=("disclosure",))
    assert disclosure.body["recipients"] == {"stock": ["location.country"]}
    assert ledger.verify(vault).ok


def test_an_optional_third_party_switched_on_is_named_in_the_signed_presentation(vault: Vault) -> None:
    m = shop()
    shared = answer(vault, ask(vault, m).prompt, recipients={"stock", "analytics"})
    assert named(shared.token) == ["stock", "analytics"]
    verified = verify_presentation(
        shared.token, manifest=m, nonce="n" * 22, now=NOW, replay=InMemoryReplayStore()
    )
    assert recipient_claims(verified, m) == {
        "stock": {"location.country": "NL"},
        "analytics": {"sizes.shoe": 42, "interests": ["jazz"]},
    }
    assert recipient_rows(vault) == [("analytics", "allow"), ("stock", "allow")]


def test_a_required_third_party_refused_signs_nothing(vault: Vault) -> None:
    prompt = ask(vault, shop()).prompt
    refused = answer(vault, prompt, recipients={"analytics"})
    assert isinstance(refused, NotShared) and refused.reason == "required_recipient_dropped"
    assert "Example Stock Check Ltd." in refused.message
    assert not list(ledger.entries(vault, kinds=("disclosure",)))
    # Remembered, like a refused required claim: the next request is declined without a prompt.
    again = ask(vault, shop(), now=NOW + 10)
    assert isinstance(again, NotShared) and again.reason == "declined" and "Stock" in again.message


def test_remembered_answers_about_third_parties_are_used_and_once_is_not_remembered(vault: Vault) -> None:
    once = answer(vault, ask(vault, shop()).prompt, recipients={"stock", "analytics"}, remember=False)
    assert named(once.token) == ["stock", "analytics"] and recipient_rows(vault) == []
    again = ask(vault, shop(), now=NOW + 10)
    assert isinstance(again, PromptNeeded)
    assert parties(again.prompt) == {"stock": (True, None, "new"), "analytics": (True, None, "new")}
    answer(vault, again.prompt, recipients={"stock", "analytics"}, now=NOW + 10)
    remembered = ask(vault, shop(), now=NOW + 20)
    assert isinstance(remembered, Shared) and named(remembered.token) == ["stock", "analytics"]
    modes = [
        (e.record.recipient, e.record.mode)
        for e in ledger.entries(vault, kinds=("consent",))
        if isinstance(e.record, RecipientDecided)
    ]
    assert modes == [
        ("stock", "once"),
        ("analytics", "once"),
        ("stock", "remember"),
        ("analytics", "remember"),
    ]


def test_a_new_third_party_is_asked_about_alone(vault: Vault) -> None:
    answer(vault, ask(vault, shop()).prompt, recipients={"stock"})
    grown = shop(lambda p: p["third_parties"].append(COURIER))
    prompt = ask(vault, grown, now=NOW + 10).prompt
    assert prompt.questions == []  # no claim is asked again
    assert parties(prompt) == {
        "stock": (False, True, None),
        "analytics": (False, False, None),
        "courier": (True, None, "new"),
    }
    shared = answer(vault, prompt, recipients={"courier"}, now=NOW + 10)
    assert set(shared.claims) == CLAIMS and named(shared.token) == ["stock", "courier"]


def test_a_changed_third_party_is_asked_about_alone(vault: Vault) -> None:
    answer(vault, ask(vault, shop()).prompt, recipients={"stock", "analytics"})
    moved = shop(lambda p: p["third_parties"][1].update(country="US"))
    prompt = ask(vault, moved, now=NOW + 10).prompt
    assert prompt.questions == []
    assert parties(prompt) == {"stock": (False, True, None), "analytics": (True, None, "changed")}
    shared = answer(vault, prompt, recipients=(), now=NOW + 10)  # left off this time
    assert named(shared.token) == ["stock"] and recipient_rows(vault) == [
        ("analytics", "deny"),
        ("stock", "allow"),
    ]


def test_a_new_controller_asks_again_about_each_third_party(vault: Vault) -> None:
    answer(vault, ask(vault, shop()).prompt, recipients={"stock", "analytics"})
    sold = shop(controller={"name": "Shoe Group plc", "contact": "privacy@group.example"})
    prompt = ask(vault, sold, now=NOW + 10).prompt
    assert {why for _, _, why in parties(prompt).values()} == {"controller_changed"}
    assert prompt.controller_changed_from["name"] == "Example Shoes B.V."


def test_a_third_party_receiving_only_claims_not_shared_is_not_asked_or_named(vault: Vault) -> None:
    required_only = ["age_over_18", "location.country"]
    prompt = ask(vault, shop(), requested=required_only).prompt
    assert parties(prompt) == {"stock": (True, None, "new"), "analytics": (False, None, None)}
    shared = answer(vault, prompt, recipients={"stock"})
    assert named(shared.token) == ["stock"] and recipient_rows(vault) == [("stock", "allow")]
    # Unticking both of its claims does the same for a third party that was asked about.
    prompt = ask(vault, shop(), now=NOW + 10).prompt
    shared = answer(vault, prompt, recipients={"analytics"}, claims=(), now=NOW + 10)
    assert set(shared.claims) == set(required_only) and named(shared.token) == ["stock"]


def test_deciding_about_a_third_party_not_asked_about_changes_nothing(vault: Vault) -> None:
    prompt = ask(vault, shop()).prompt
    for recipients in ({"stock", "nobody"}, {"stock", "Analytics"}):
        with pytest.raises(InvalidInput, match="not asked about"):
            answer(vault, prompt, recipients=recipients)
    assert list(ledger.entries(vault)) == [] and recipient_rows(vault) == []
    assert get_prompt(vault, prompt.id, now=NOW).state == "pending"


def test_remembered_decisions_list_each_third_party(vault: Vault) -> None:
    answer(vault, ask(vault, shop()).prompt, recipients={"stock"})
    rows = [(d.purpose, d.claim, d.recipient, d.effect) for d in remembered_decisions(vault)]
    claims = [(p, c, r, e) for p, c, r, e in rows if r is None]
    assert sorted(claims) == sorted(("recommendations", c, None, "allow") for c in CLAIMS)
    assert [r for r in rows if r[2] is not None] == [
        ("recommendations", None, "analytics", "deny"),
        ("recommendations", None, "stock", "allow"),
    ]


# -- a site naming a recipient the user did not allow --------------------------------------------------


def shared_with_stock_only(vault: Vault):
    m = shop()
    shared = answer(vault, ask(vault, m).prompt, recipients={"stock"})
    verified = verify_presentation(
        shared.token, manifest=m, nonce="n" * 22, now=NOW, replay=InMemoryReplayStore()
    )
    return m, shared, verified


def signed_by_the_site(verified, recipients: tuple[str, ...], *, at: int) -> str:
    """An acknowledgement naming `recipients`, signed directly, as a misbehaving site would (its own
    library refuses to name a recipient the user did not allow)."""
    return sign_acknowledgement(
        example.site_key(),
        Acknowledgement(
            iss=ORIGIN,
            aud=verified.subject,
            iat=at,
            presentation=verified.jti,
            purpose="recommendations",
            purpose_digest=verified.purpose_digest,
            claims=tuple(sorted(verified.claims)),
            keep_until=verified.issued_at + retention_seconds("P30D"),
            recipients=recipients,
        ),
    )


def test_a_site_that_names_only_allowed_recipients_keeps_its_promise(vault: Vault) -> None:
    m, _, verified = shared_with_stock_only(vault)
    ack = acknowledge_presentation(example.site_key(), verified, manifest=m, now=NOW + 1)
    stored = store_acknowledgement(vault, ack, now=NOW + 2)
    assert stored["recipients"] == ["stock"] and stored["not_allowed"] == []
    assert not list(ledger.entries(vault, kinds=("broken_promise",)))
    assert site_report(vault, ORIGIN).broken_promises == []


def test_a_site_that_names_a_recipient_not_allowed_is_recorded_as_breaking_its_promise(vault: Vault) -> None:
    m, shared, verified = shared_with_stock_only(vault)
    # A misbehaving site signs it directly: its own library would refuse to.
    with pytest.raises(ValueError, match="did not allow"):
        acknowledge_presentation(
            example.site_key(), verified, manifest=m, now=NOW + 1, recipients=["analytics"]
        )
    token = signed_by_the_site(verified, ("stock", "analytics"), at=NOW + 1)
    stored = store_acknowledgement(vault, token, now=NOW + 2)
    assert stored["recipients"] == ["stock", "analytics"] and stored["not_allowed"] == ["analytics"]
    (ack,) = ledger.entries(vault, kinds=("acknowledgement",))
    (broken,) = ledger.entries(vault, kinds=("broken_promise",))
    assert ack.body["token"] == token and ack.body["recipients"] == ["stock", "analytics"]
    assert broken.ref == shared.jti and broken.origin == ORIGIN and broken.purpose_id == "recommendations"
    assert broken.record == BrokenPromise(recipients=("analytics",), token=token)
    assert len(site_report(vault, ORIGIN).broken_promises) == 1
    assert ledger.verify(vault).ok  # the evidence is the site's own signed word
    store_acknowledgement(vault, token, now=NOW + 3)  # a repeat is not recorded twice
    assert len(list(ledger.entries(vault, kinds=("broken_promise",)))) == 1


def test_a_later_acknowledgement_naming_a_recipient_not_allowed_is_recorded_too(vault: Vault) -> None:
    """The first acknowledgement is the promise kept beside the disclosure; a later one that admits passing
    the claims to someone the user did not allow is evidence all the same, and is not dropped."""
    m, shared, verified = shared_with_stock_only(vault)
    honest = acknowledge_presentation(example.site_key(), verified, manifest=m, now=NOW + 1)
    assert store_acknowledgement(vault, honest, now=NOW + 2)["not_allowed"] == []
    admitted = signed_by_the_site(verified, ("analytics",), at=NOW + 5)
    assert store_acknowledgement(vault, admitted, now=NOW + 6)["not_allowed"] == ["analytics"]
    (broken,) = ledger.entries(vault, kinds=("broken_promise",))
    assert broken.ref == shared.jti and broken.record == BrokenPromise(
        recipients=("analytics",), token=admitted
    )
    assert len(list(ledger.entries(vault, kinds=("acknowledgement",)))) == 1
    store_acknowledgement(vault, admitted, now=NOW + 7)
    assert len(list(ledger.entries(vault, kinds=("broken_promise",)))) == 1
    assert ledger.verify(vault).ok


def test_a_recipient_named_in_a_broken_promise_can_be_withdrawn_from(vault: Vault) -> None:
    """The user refused it, the site says it passed the claims to it anyway: a withdrawal from that third
    party names it, with every claim of the presentation (what it got is not known more precisely)."""
    _, shared, verified = shared_with_stock_only(vault)
    with pytest.raises(InvalidInput):  # not a third party of this site at all
        revoke(vault, ORIGIN, third_party="nobody", now=NOW + 3, new_id=lambda: "n" * 16)
    assert revoke(
        vault, ORIGIN, third_party="analytics", now=NOW + 3, new_id=lambda: "a" * 16
    ).nothing_to_withdraw
    admitted = signed_by_the_site(verified, ("stock", "analytics"), at=NOW + 5)
    store_acknowledgement(vault, admitted, now=NOW + 6)
    result = revoke(vault, ORIGIN, third_party="analytics", erase=True, now=NOW + 7, new_id=lambda: "b" * 16)
    (notice,) = result.notices
    assert (notice.presentations, notice.site, notice.recipients, notice.claims) == (
        (shared.jti,),
        False,
        ("analytics",),
        (),
    )
    _, payload = open_notice(
        vault.conn.execute("SELECT notice FROM outbox WHERE id = ?", ("b" * 16,)).fetchone()[0]
    )
    assert payload.recipients == ("analytics",) and payload.erasure
