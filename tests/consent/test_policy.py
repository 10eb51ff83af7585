"""The decision table, as pure logic: each row of it a test."""

import datetime as dt
from dataclasses import replace
from pathlib import Path

import msgspec
import pytest

from vault.claims.catalogue import derive_claims
from vault.consent.policy import (
    Answer,
    ConsentRequired,
    Denied,
    Granted,
    RecipientStanding,
    Rules,
    Standing,
    claim_digest,
    controller_binding,
    evaluate,
    recipient_digest,
    resolve,
)
from vault.protocol.manifest import Controller, Manifest, decode_manifest, manifest_index

EXAMPLE = Path(__file__).parents[2] / "vault" / "protocol" / "examples" / "manifest.json"
NOW = 1_790_000_000
PROFILE = {
    "birthdate": "1990-05-17",
    "country": "NL",
    "sizes.shoe": 42,
    "interests": ["jazz", "chess"],
    "email": "ada@example.org",
}
ALL = ("age_over_18", "location.country", "sizes.shoe", "interests")
PARTIES = ("stock", "analytics")  # the example purpose's third parties: stock is required, analytics not


def manifest(edit=None) -> Manifest:
    data = msgspec.json.decode(EXAMPLE.read_bytes())
    if edit:
        edit(data["purposes"][0])
    return decode_manifest(msgspec.json.encode(data))


NO_RULES = Rules()


def run(m: Manifest, standing=(), rules=NO_RULES, now=NOW, profile=PROFILE, requested=None, parties=None):
    """`parties`: the remembered third-party answers; by default each one allowed, as a user who shared
    everything before would have (so that the claim rows below are about claims alone)."""
    names = [c.name for c in manifest_index(m)["recommendations"].purpose.claims]
    derived = derive_claims(names, profile, dt.date(2026, 9, 21))
    if parties is None:
        parties = remembered_parties(m)
    return evaluate(m, "recommendations", derived, standing, rules, now, requested, parties)


def remembered(m: Manifest, effect="allow", expires_at=NOW + 86400, claims=ALL) -> list[Standing]:
    purpose = manifest_index(m)["recommendations"].purpose
    requests = {c.name: c for c in purpose.claims}
    return [Standing(name, claim_digest(purpose, requests[name]), effect, expires_at) for name in claims]


def remembered_parties(
    m: Manifest, effect="allow", expires_at=NOW + 86400, ids=PARTIES
) -> list[RecipientStanding]:
    purpose = manifest_index(m)["recommendations"].purpose
    entries = {p.id: p for p in purpose.third_parties}
    return [RecipientStanding(i, recipient_digest(purpose, entries[i]), effect, expires_at) for i in ids]


def purpose_of(m: Manifest):
    return manifest_index(m)["recommendations"].purpose


def asked(result) -> list[str]:
    assert isinstance(result, ConsentRequired), result
    return [q.claim for q in result.questions]


def test_first_visit_asks_about_every_claim_with_its_value() -> None:
    result = run(manifest())
    assert asked(result) == list(ALL)
    values = {q.claim: q.value for q in result.questions}
    assert values == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 42,
        "interests": ["jazz", "chess"],
    }
    assert all(q.asked_because == "new" for q in result.questions)
    assert {q.claim for q in result.questions if q.required} == {"age_over_18", "location.country"}


def test_remembered_allow_grants_without_asking() -> None:
    m = manifest()
    result = run(m, remembered(m))
    assert isinstance(result, Granted)
    assert result.claims == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 42,
        "interests": ["jazz", "chess"],
    }


def test_expired_decision_asks_again() -> None:
    m = manifest()
    result = run(m, remembered(m, expires_at=NOW))
    assert asked(result) == list(ALL)
    assert {q.asked_because for q in result.questions} == {"expired"}


def test_revoked_decisions_are_not_standing() -> None:
    # Revoked rows are filtered by the store (revoked_at IS NULL); with none standing, everything is asked.
    assert asked(run(manifest(), [])) == list(ALL)


def test_a_new_claim_in_the_purpose_asks_about_that_claim_only() -> None:
    m_old = manifest()
    m_new = manifest(
        lambda p: p["claims"].append({"name": "languages", "required": False, "why": "To translate."})
    )
    result = run(m_new, remembered(m_old), profile=PROFILE | {"languages": ["nl"]})
    assert asked(result) == ["languages"]
    assert result.already_allowed == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 42,
        "interests": ["jazz", "chess"],
    }


def test_a_changed_claim_reason_asks_about_that_claim_only() -> None:
    m_old = manifest()
    m_new = manifest(lambda p: p["claims"][2].update(why="We now also use it for ads."))
    result = run(m_new, remembered(m_old))
    assert asked(result) == ["sizes.shoe"]
    assert result.questions[0].asked_because == "changed"


def test_a_longer_retention_asks_about_every_claim() -> None:
    m_old = manifest()
    m_new = manifest(lambda p: p.update(retention="P365D"))
    assert asked(run(m_new, remembered(m_old))) == list(ALL)


def test_remembered_deny_of_optional_claim_drops_it_quietly() -> None:
    m = manifest()
    standing = remembered(m, claims=ALL[:3]) + remembered(m, "deny", claims=("interests",))
    result = run(m, standing)
    assert isinstance(result, Granted)
    assert "interests" not in result.claims and "interests" in result.dropped


def test_remembered_deny_of_required_claim_denies() -> None:
    m = manifest()
    result = run(m, remembered(m, "deny", claims=("age_over_18",)))
    assert isinstance(result, Denied) and result.reason == "declined"


def test_rule_never_share() -> None:
    m = manifest()
    optional = run(m, remembered(m), rules=Rules(never=frozenset({"sizes.shoe"})))
    assert isinstance(optional, Granted) and "sizes.shoe" not in optional.claims
    required = run(m, remembered(m), rules=Rules(never=frozenset({"location.country"})))
    assert isinstance(required, Denied) and required.reason == "never_shared"


def test_rule_always_ask_overrides_remembered() -> None:
    m = manifest()
    result = run(m, remembered(m), rules=Rules(ask=frozenset({"sizes.shoe"})))
    assert asked(result) == ["sizes.shoe"] and result.questions[0].asked_because == "always_ask"


def test_rule_deny_purpose_kind() -> None:
    result = run(manifest(), rules=Rules(deny_concepts=frozenset({"dpv:ProvidePersonalisedRecommendations"})))
    assert isinstance(result, Denied) and result.reason == "purpose_kind_denied"


def test_sensitive_claims_are_always_asked_unless_the_user_lifts_it() -> None:
    m = manifest(lambda p: p["claims"].append({"name": "email", "required": False, "why": "Receipts."}))
    standing = remembered(m, claims=(*ALL, "email"))
    assert asked(run(m, standing)) == ["email"]
    assert isinstance(run(m, standing, rules=Rules(remember=frozenset({"email"}))), Granted)


def test_missing_attribute() -> None:
    m = manifest()
    without_shoe = {k: v for k, v in PROFILE.items() if k != "sizes.shoe"}
    result = run(m, remembered(m), profile=without_shoe)
    assert isinstance(result, Granted) and "sizes.shoe" in result.dropped
    without_country = {k: v for k, v in PROFILE.items() if k != "country"}
    result = run(m, remembered(m), profile=without_country)
    assert isinstance(result, Denied) and result.reason == "claim_unavailable" and "country" in result.message


def test_unknown_purpose_and_undeclared_claim() -> None:
    m = manifest()
    derived = derive_claims([], PROFILE, dt.date(2026, 1, 1))
    assert evaluate(m, "nope", derived, [], Rules(), NOW).reason == "unknown_purpose"
    assert run(m, requested=["age_over_18", "location.country", "email"]).reason == "undeclared_claim"
    assert run(m, requested=["sizes.shoe"]).reason == "missing_required"


@pytest.mark.parametrize("remember", [False, True])
def test_answer_that_drops_a_required_claim_denies_the_purpose(remember: bool) -> None:
    m = manifest()
    prompt = run(m)
    answer = Answer(share=True, claims=frozenset({"location.country", "sizes.shoe"}), remember=remember)
    resolution = resolve(prompt, answer, purpose_of(m))
    assert isinstance(resolution.result, Denied) and resolution.result.reason == "required_claim_dropped"
    assert "age_over_18" in resolution.result.message and "requires" in resolution.result.message


def test_answer_that_drops_an_optional_claim() -> None:
    m = manifest()
    prompt = run(m)
    resolution = resolve(prompt, Answer(share=True, claims=frozenset(ALL[:3]), remember=True), purpose_of(m))
    assert isinstance(resolution.result, Granted)
    assert set(resolution.result.claims) == set(ALL[:3])
    assert dict((q.claim, effect) for q, effect in resolution.decisions)["interests"] == "deny"


def test_deny_answer_and_bad_answer() -> None:
    m = manifest()
    prompt = run(m)
    denied = resolve(prompt, Answer(share=False, claims=frozenset(), remember=False), purpose_of(m))
    assert denied.result.reason == "user_denied" and all(e == "deny" for _, e in denied.decisions)
    bad = resolve(prompt, Answer(share=True, claims=frozenset({"email"}), remember=False), purpose_of(m))
    assert bad.result.reason == "bad_answer"


# -- third parties: one remembered answer each, asked about alone when they are new or changed ----------

STOCK = {
    "id": "stock",
    "name": "Example Stock Check Ltd.",
    "role": "dpv:Processor",
    "country": "IE",
    "privacy_policy": "https://stock.example/privacy",
    "claims": ["location.country"],
    "required": True,
    "why": "Checks which shoes can be delivered to your country.",
}
COURIER = {
    "id": "courier",
    "name": "Example Courier GmbH",
    "role": "dpv:Processor",
    "country": "DE",
    "privacy_policy": "https://courier.example/privacy",
    "claims": ["location.country", "sizes.shoe"],
    "required": False,
    "why": "Estimates delivery times.",
}


def parties_asked(result) -> list[tuple[str, bool, str]]:
    assert isinstance(result, ConsentRequired), result
    return [(q.recipient, q.required, q.asked_because) for q in result.recipient_questions]


def share_all(prompt, m: Manifest, recipients=(), claims=None):
    """The user shares every asked claim (or `claims`) and switches on `recipients`, remembering it."""
    ticked = frozenset(q.claim for q in prompt.questions) if claims is None else frozenset(claims)
    return resolve(prompt, Answer(True, ticked, True, frozenset(recipients)), purpose_of(m))


def test_first_visit_asks_about_each_third_party_with_the_claims() -> None:
    result = run(manifest(), parties=())
    assert asked(result) == list(ALL)
    assert parties_asked(result) == [("stock", True, "new"), ("analytics", False, "new")]
    assert result.recipients_allowed == result.recipients_refused == ()


def test_an_optional_third_party_left_off_is_refused_and_not_named() -> None:
    m = manifest()
    resolution = share_all(run(m, parties=()), m, recipients={"stock"})
    assert isinstance(resolution.result, Granted) and set(resolution.result.claims) == set(ALL)
    assert resolution.result.recipients == ("stock",)
    assert [(q.recipient, e) for q, e in resolution.recipient_decisions] == [
        ("stock", "allow"),
        ("analytics", "deny"),
    ]


def test_an_optional_third_party_switched_on_is_named() -> None:
    m = manifest()
    resolution = share_all(run(m, parties=()), m, recipients={"stock", "analytics"})
    assert resolution.result.recipients == ("stock", "analytics")
    assert {e for _, e in resolution.recipient_decisions} == {"allow"}


def test_a_required_third_party_switched_off_denies_the_purpose() -> None:
    m = manifest()
    resolution = share_all(run(m, parties=()), m, recipients={"analytics"})
    assert isinstance(resolution.result, Denied) and resolution.result.reason == "required_recipient_dropped"
    assert "Example Stock Check Ltd." in resolution.result.message
    # Stored like a dropped required claim: the refusal is remembered, so it is not asked again and again.
    assert dict((q.recipient, e) for q, e in resolution.recipient_decisions)["stock"] == "deny"


def test_a_required_third_party_off_is_no_refusal_when_it_would_receive_nothing() -> None:
    """A required third party is needed only for what it receives: a required courier receiving only
    interests, which the user unticked, may stay switched off."""
    m = manifest(lambda p: p["third_parties"].append({**COURIER, "required": True, "claims": ["interests"]}))
    resolution = share_all(run(m, parties=()), m, recipients={"stock"}, claims=ALL[:3])
    assert isinstance(resolution.result, Granted) and resolution.result.recipients == ("stock",)


def test_remembered_refusal_of_a_required_third_party_denies() -> None:
    m = manifest()
    parties = remembered_parties(m, ids=("analytics",)) + remembered_parties(m, "deny", ids=("stock",))
    result = run(m, remembered(m), parties=parties)
    assert isinstance(result, Denied) and result.reason == "declined" and "Stock" in result.message


def test_remembered_refusal_of_an_optional_third_party_leaves_it_out_quietly() -> None:
    m = manifest()
    parties = remembered_parties(m, ids=("stock",)) + remembered_parties(m, "deny", ids=("analytics",))
    result = run(m, remembered(m), parties=parties)
    assert isinstance(result, Granted) and set(result.claims) == set(ALL)
    assert result.recipients == ("stock",)


def test_a_new_third_party_is_asked_about_alone() -> None:
    m_old = manifest()
    m_new = manifest(lambda p: p["third_parties"].append(COURIER))
    result = run(m_new, remembered(m_old), parties=remembered_parties(m_old))
    assert asked(result) == [] and parties_asked(result) == [("courier", False, "new")]
    assert result.recipients_allowed == ("stock", "analytics")
    granted = share_all(result, m_new, recipients={"courier"}).result
    assert isinstance(granted, Granted) and set(granted.claims) == set(ALL)
    assert granted.recipients == ("stock", "analytics", "courier")
    assert share_all(result, m_new).result.recipients == ("stock", "analytics")


def test_a_changed_third_party_is_asked_about_alone() -> None:
    m_old = manifest()
    for change in (
        lambda p: p["third_parties"][1].update(country="US"),
        lambda p: p["third_parties"][1].update(why="Sells what it learns."),
        lambda p: p["third_parties"][1].update(claims=["sizes.shoe", "interests", "age_over_18"]),
    ):
        result = run(manifest(change), remembered(m_old), parties=remembered_parties(m_old))
        assert asked(result) == [] and parties_asked(result) == [("analytics", False, "changed")]


def test_a_third_party_added_or_changed_keeps_every_claim_decision() -> None:
    """Claim decisions are bound to the purpose without its third parties."""
    m_old, m_new = manifest(), manifest(lambda p: p["third_parties"].pop())
    for old, new in zip(purpose_of(m_old).claims, purpose_of(m_new).claims, strict=True):
        assert claim_digest(purpose_of(m_old), old) == claim_digest(purpose_of(m_new), new)


def test_a_new_controller_asks_again_about_third_parties() -> None:
    m = manifest()
    before = controller_binding(
        Controller(name="Old Owner B.V.", contact="a@old.example", privacy_policy="https://old.example/p")
    )
    parties = [replace(s, controller=before) for s in remembered_parties(m)]
    result = run(m, remembered(m), parties=parties)
    assert parties_asked(result) == [
        ("stock", True, "controller_changed"),
        ("analytics", False, "controller_changed"),
    ]
    assert result.previous_controller == before


def test_an_expired_third_party_answer_is_asked_again() -> None:
    m = manifest()
    result = run(m, remembered(m), parties=remembered_parties(m, expires_at=NOW))
    assert asked(result) == [] and [why for _, _, why in parties_asked(result)] == ["expired", "expired"]


@pytest.mark.parametrize(
    "not_shared",
    [
        {"requested": ["age_over_18", "location.country"]},  # the site asks for less
        {"rules": Rules(never=frozenset({"sizes.shoe", "interests"}))},  # the user never shares them
    ],
    ids=["not_requested", "never_shared"],
)
def test_a_third_party_that_would_receive_nothing_is_not_asked_or_named(not_shared: dict) -> None:
    m = manifest()
    result = run(m, parties=(), **not_shared)
    assert parties_asked(result) == [("stock", True, "new")]
    granted = run(m, remembered(m), parties=remembered_parties(m), **not_shared)
    assert isinstance(granted, Granted) and granted.recipients == ("stock",)


def test_an_answer_about_a_third_party_not_asked_is_a_bad_answer() -> None:
    m = manifest()
    prompt = run(m, remembered(m, claims=ALL[:3]))  # interests asked; both third parties remembered
    for recipients in ({"nobody"}, {"analytics"}):
        answer = Answer(True, frozenset({"interests"}), True, frozenset(recipients))
        bad = resolve(prompt, answer, purpose_of(m))
        assert bad.result.reason == "bad_answer" and bad.decisions == bad.recipient_decisions == ()
