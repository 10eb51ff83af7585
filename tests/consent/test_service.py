"""The consent flow over a real vault: prompts that survive a restart, once and remember, the ledger."""

import itertools
from pathlib import Path

import msgspec
import pytest

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.acknowledgements import store_acknowledgement
from vault.consent.disclosures import ACKNOWLEDGED_WITHIN
from vault.consent.policy import Answer
from vault.consent.prompt_view import PromptRef, get_prompt, pending_prompts
from vault.consent.report import site_report
from vault.consent.service import (
    PROMPT_TTL,
    NotShared,
    PromptNeeded,
    Shared,
    decide_prompt,
    decided_outcome,
    request_presentation,
)
from vault.errors import InvalidInput
from vault.protocol.errors import AcknowledgementInvalid
from vault.protocol.manifest import Manifest
from vault.site import (
    InMemoryReplayStore,
    acknowledge_presentation,
    build_manifest,
    decode_manifest,
    generate_site_key,
    make_nonce,
    verify_presentation,
)
from vault.store import Vault

EXAMPLE = Path(__file__).parents[2] / "vault" / "protocol" / "examples" / "manifest.json"
SITE_KEY = generate_site_key()
ids = (f"id-{n:016d}" for n in itertools.count())


def new_id() -> str:
    return next(ids)


def shop_manifest(edit=None) -> Manifest:
    example = decode_manifest(EXAMPLE.read_bytes())
    purposes = list(example.purposes)
    if edit:
        data = msgspec.json.decode(msgspec.json.encode(purposes[0]))
        edit(data)
        purposes[0] = msgspec.convert(data, type(purposes[0]))
    return build_manifest(
        origin=example.origin,
        controller=example.controller,
        site_key=SITE_KEY,
        revocation_endpoint=example.revocation_endpoint,
        purposes=purposes,
    )


@pytest.fixture
def vault(vault_home: Path):
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        for name, value in (
            ("birthdate", "1990-05-17"),
            ("country", "NL"),
            ("sizes.shoe", 42),
            ("interests", ["jazz"]),
        ):
            vault.set_attribute(name, value, now=NOW)
        yield vault


def ask(vault: Vault, manifest: Manifest, now: int = NOW, nonce: str | None = None):
    return request_presentation(
        vault,
        manifest=manifest,
        audience=manifest.origin,
        purpose_id="recommendations",
        nonce=nonce or make_nonce(),
        now=now,
        new_id=new_id,
    )


# Stock (required: it receives location.country) switched on; analytics (optional) left off, as it starts.
SHARE_3 = Answer(
    share=True,
    claims=frozenset({"age_over_18", "location.country", "sizes.shoe"}),
    remember=True,
    recipients=frozenset({"stock"}),
)


def test_first_visit_prompt_then_remembered(vault: Vault, vault_home: Path) -> None:
    m = shop_manifest()
    nonce = make_nonce()
    first = ask(vault, m, nonce=nonce)
    assert first.outcome == "consent_required"
    prompt = first.prompt
    assert prompt.controller["name"] == "Example Shoes B.V." and prompt.retention == "P30D"
    assert {q.claim: q.value for q in prompt.questions}["sizes.shoe"] == 42
    assert [p.id for p in pending_prompts(vault, now=NOW)] == [prompt.id]
    # The decision arrives after a restart: the prompt was kept in the vault.
    vault.close()
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as reopened:
        decided = decide_prompt(reopened, prompt.id, SHARE_3, now=NOW + 30, new_id=new_id)
        assert decided.outcome == "granted"
        verified = verify_presentation(
            decided.token, manifest=m, nonce=nonce, now=NOW + 31, replay=InMemoryReplayStore()
        )
        assert verified.claims == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42}
        # Answering again returns the same outcome; it does not sign twice.
        assert decide_prompt(reopened, prompt.id, SHARE_3, now=NOW + 32, new_id=new_id) == decided
        assert pending_prompts(reopened, now=NOW + 32) == []
        second = ask(reopened, m, now=NOW + 60)
        assert second.outcome == "granted" and second.claims == verified.claims
        disclosures = site_report(reopened, m.origin).disclosures
        assert [d.jti for d in disclosures] == [decided.jti, second.jti]
        assert ledger.verify(reopened).ok


def test_once_is_not_remembered(vault: Vault) -> None:
    m = shop_manifest()
    prompt = ask(vault, m).prompt
    once = Answer(share=True, claims=SHARE_3.claims, remember=False, recipients=SHARE_3.recipients)
    assert decide_prompt(vault, prompt.id, once, now=NOW, new_id=new_id).outcome == "granted"
    again = ask(vault, m, now=NOW + 1)
    assert again.outcome == "consent_required"
    assert [t.id for t in again.prompt.third_parties if t.asked] == ["stock", "analytics"]
    kinds = [(e.kind, e.body.get("action"), e.body.get("mode")) for e in ledger.entries(vault)]
    assert kinds.count(("consent", "decided", "once")) == 4  # one per claim
    assert kinds.count(("consent", "recipient_decided", "once")) == 2  # one per third party
    assert kinds.count(("disclosure", None, None)) == 1


def test_deny_leaves_only_the_decision_in_the_ledger(vault: Vault) -> None:
    prompt = ask(vault, shop_manifest()).prompt
    outcome = decide_prompt(
        vault, prompt.id, Answer(share=False, claims=frozenset(), remember=False), now=NOW, new_id=new_id
    )
    assert outcome.outcome == "denied" and outcome.reason == "user_denied"
    assert {e.kind for e in ledger.entries(vault)} == {"consent"}
    assert site_report(vault, shop_manifest().origin).disclosures == []


def test_changed_purpose_asks_about_the_change_only(vault: Vault) -> None:
    prompt = ask(vault, shop_manifest()).prompt
    decide_prompt(vault, prompt.id, SHARE_3, now=NOW, new_id=new_id)
    changed = shop_manifest(
        lambda p: p["claims"].append({"name": "languages", "required": False, "why": "Copy."})
    )
    vault.set_attribute("languages", ["nl"], now=NOW)
    again = ask(vault, changed, now=NOW + 10)
    assert [q.claim for q in again.prompt.questions] == ["languages"]
    assert again.prompt.already_allowed == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42}
    assert again.prompt.dropped == {"interests": "you declined to share interests with this site"}


def test_expired_prompt(vault: Vault) -> None:
    prompt = ask(vault, shop_manifest()).prompt
    assert get_prompt(vault, prompt.id, now=NOW + PROMPT_TTL).state == "expired"
    outcome = decide_prompt(vault, prompt.id, SHARE_3, now=NOW + PROMPT_TTL, new_id=new_id)
    assert outcome.outcome == "denied" and outcome.reason == "prompt_expired"
    assert not [e for e in ledger.entries(vault) if e.kind == "disclosure"]


def test_a_prompt_by_reference_and_its_outcome_read_without_answering(vault: Vault) -> None:
    m = shop_manifest()
    asked = request_presentation(
        vault,
        manifest=m,
        audience=m.origin,
        purpose_id="recommendations",
        nonce=make_nonce(),
        now=NOW,
        new_id=new_id,
        prompt_view=False,
    )
    assert isinstance(asked, PromptNeeded) and type(asked.prompt) is PromptRef
    assert (
        msgspec.json.encode(asked)
        == b'{"outcome":"consent_required","prompt":{"id":"%s"}}' % asked.prompt.id.encode()
    )
    assert decided_outcome(vault, asked.prompt.id, now=NOW) is None  # still waiting
    shared = decide_prompt(vault, asked.prompt.id, SHARE_3, now=NOW, new_id=new_id)
    assert isinstance(shared, Shared) and shared.outcome == "granted"
    assert decided_outcome(vault, asked.prompt.id, now=NOW + 1) == shared
    # Stored as the one-struct Outcome stored it before the union, plus the recipients allowed (schema v5
    # dropped every older prompt row, so none is stored without them).
    (stored,) = vault.conn.execute("SELECT outcome FROM prompts WHERE id = ?", (asked.prompt.id,)).fetchone()
    fields = ["outcome", "token", "jti", "claims", "expires_at", "dropped"]
    assert list(msgspec.json.decode(stored)) == [*fields, "recipients"]
    assert shared.recipients == ("stock",)
    late = ask(vault, shop_manifest(lambda p: p.update(retention="P60D")))
    expired = decided_outcome(vault, late.prompt.id, now=NOW + PROMPT_TTL)
    assert isinstance(expired, NotShared) and expired.reason == "prompt_expired"
    with pytest.raises(InvalidInput):
        decided_outcome(vault, "no-such-prompt", now=NOW)


def test_bad_answer_and_unknown_prompt_change_nothing(vault: Vault) -> None:
    prompt = ask(vault, shop_manifest()).prompt
    with pytest.raises(InvalidInput, match="not asked about"):
        decide_prompt(
            vault,
            prompt.id,
            Answer(share=True, claims=frozenset({"email"}), remember=True),
            now=NOW,
            new_id=new_id,
        )
    with pytest.raises(InvalidInput, match="no prompt"):
        decide_prompt(vault, "nope", SHARE_3, now=NOW, new_id=new_id)
    assert list(ledger.entries(vault)) == []
    assert get_prompt(vault, prompt.id, now=NOW).state == "pending"


def test_manifest_for_another_origin_is_refused(vault: Vault) -> None:
    outcome = request_presentation(
        vault,
        manifest=shop_manifest(),
        audience="https://evil.example",
        purpose_id="recommendations",
        nonce=make_nonce(),
        now=NOW,
        new_id=new_id,
    )
    assert outcome.outcome == "denied" and outcome.reason == "wrong_origin"


def test_the_vault_keeps_no_copy_of_a_token_and_takes_acknowledgements_for_a_day(vault: Vault) -> None:
    """An acknowledgement is checked against the disclosure's ledger entry: no table of the vault holds a
    token issued on remembered consent (a bearer credential), and the site has ACKNOWLEDGED_WITHIN to send
    its promise. (A prompt's answer keeps its token with the prompt, for the page that waits for it.)"""
    m = shop_manifest()
    decide_prompt(vault, ask(vault, m).prompt.id, SHARE_3, now=NOW, new_id=new_id)
    nonce = make_nonce()
    outcome = ask(vault, m, nonce=nonce)
    assert isinstance(outcome, Shared)
    signature = outcome.token.rsplit(".", 1)[1]
    for (table,) in vault.conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall():
        for row in vault.conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 (names from the schema)
            assert not any(isinstance(value, str) and signature in value for value in row), table
    verified = verify_presentation(
        outcome.token, manifest=m, nonce=nonce, now=NOW, replay=InMemoryReplayStore()
    )
    ack = acknowledge_presentation(SITE_KEY, verified, manifest=m, now=NOW + 1, keep_until=NOW + 86400)
    with pytest.raises(AcknowledgementInvalid) as raised:
        store_acknowledgement(vault, ack, now=NOW + ACKNOWLEDGED_WITHIN + 1)
    assert raised.value.reason == "wrong_presentation"
    assert store_acknowledgement(vault, ack, now=NOW + ACKNOWLEDGED_WITHIN)["presentation"] == outcome.jti


def test_acknowledgement_is_verified_and_stored(vault: Vault) -> None:
    m = shop_manifest()
    nonce = make_nonce()
    outcome = decide_prompt(vault, ask(vault, m, nonce=nonce).prompt.id, SHARE_3, now=NOW, new_id=new_id)
    verified = verify_presentation(
        outcome.token, manifest=m, nonce=nonce, now=NOW, replay=InMemoryReplayStore()
    )
    ack = acknowledge_presentation(SITE_KEY, verified, manifest=m, now=NOW + 1, keep_until=NOW + 86400)
    stored = store_acknowledgement(vault, ack, now=NOW + 2)
    assert stored["presentation"] == outcome.jti and stored["keep_until"] == NOW + 86400
    store_acknowledgement(vault, ack, now=NOW + 3)  # a repeat is harmless and not recorded twice
    report = site_report(vault, m.origin).disclosures[0]
    assert report.acknowledged and report.acknowledged_keep_until == NOW + 86400
    assert [e.kind for e in ledger.entries(vault)].count("acknowledgement") == 1
    # Signed by a key that is not the one in the manifest the vault stored: refused.
    impostor = generate_site_key()
    impostor_manifest = build_manifest(
        origin=m.origin,
        controller=m.controller,
        site_key=impostor,
        revocation_endpoint=m.revocation_endpoint,
        purposes=m.purposes,
    )
    forged = acknowledge_presentation(impostor, verified, manifest=impostor_manifest, now=NOW + 1)
    for bad in (forged, ack[:-3] + ("AAA" if not ack.endswith("AAA") else "BBB"), "garbage", "a.b.c"):
        with pytest.raises(AcknowledgementInvalid):
            store_acknowledgement(vault, bad, now=NOW + 4)
    assert [e.kind for e in ledger.entries(vault)].count("acknowledgement") == 1
