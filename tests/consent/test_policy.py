"""The decision table, as pure logic: each row of it a test."""

import datetime as dt
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
    evaluate,
    recipient_digest,
    resolve,
)
from vault.protocol.manifest import Manifest, decode_manifest, manifest_index

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
