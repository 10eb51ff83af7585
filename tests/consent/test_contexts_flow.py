"""Contexts on the request path, over a real SQLCipher vault with the clock passed in: a request is
answered by the rules and remembered decisions of the context active at its origin and by no other;
switching (browser-wide, per site, for a while) changes what the next request gets; removing a context
revokes its decisions and the next request falls back; the ledger records the context of every
disclosure, and its by-site copy cannot be edited to another context or identity unnoticed.

The helpers here are shared with test_identities.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.consent.test_revocation import manifest_for
from tests.consent.test_service import SHARE_3 as SHARE
from tests.consent.test_service import ask, new_id
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import contexts, ledger
from vault.consent.controls import DecisionNotFound, change_decision, rule_book, set_rule
from vault.consent.ledger_records import Decided, DecisionChanged, Disclosed, RuleAdded
from vault.consent.policy import Answer
from vault.consent.prompt_view import ContextRef, get_prompt
from vault.consent.records import remembered_decisions
from vault.consent.service import PromptNeeded, Shared, decide_prompt
from vault.protocol.manifest import Manifest
from vault.store import Vault

ORIGIN = "https://shop.example"
OTHER = "https://other.example"
HOUR = 3600


def profile_vault(home: Path) -> Iterator[Vault]:
    """A new vault with the profile the example shop asks about (for a fixture to yield from)."""
    with Vault.create(home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        for name, value in (
            ("birthdate", "1990-05-17"),
            ("country", "NL"),
            ("sizes.shoe", 42),
            ("interests", ["jazz"]),
        ):
            vault.set_attribute(name, value, now=NOW)
        yield vault


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    yield from profile_vault(vault_home)


def add(vault: Vault, name: str, **options) -> contexts.Context:
    """A context with a random-looking id, as the daemon and the CLI make them."""
    return contexts.add_context(vault, name, now=NOW, new_id=contexts.new_context_id(new_id()), **options)


def shop(origin: str = ORIGIN) -> Manifest:
    """The example shop's manifest at `origin`, with a revocation endpoint and the test site's key."""
    return manifest_for(origin)


def answered(
    vault: Vault, manifest: Manifest, now: int = NOW, answer: Answer = SHARE, nonce: str | None = None
) -> Shared:
    """A request that must prompt, answered (remembered unless `answer` says once): the token."""
    asked = ask(vault, manifest, now, nonce)
    assert isinstance(asked, PromptNeeded), asked
    shared = decide_prompt(vault, asked.prompt.id, answer, now=now, new_id=new_id)
    assert isinstance(shared, Shared), shared
    return shared


def contexts_of_decisions(vault: Vault) -> set[str]:
    return {d.context for d in remembered_decisions(vault)}


def test_a_decision_remembered_in_one_context_does_not_answer_in_another(vault: Vault) -> None:
    manifest = shop()
    work = add(vault, "Work")
    answered(vault, manifest)
    assert ask(vault, manifest, NOW + 1).outcome == "granted"  # Everyday remembers
    contexts.use_context(vault, "Work", now=NOW + 2)
    # Work has no decision about the shop: the user is asked, and the prompt says where.
    in_work = ask(vault, manifest, NOW + 3)
    assert isinstance(in_work, PromptNeeded)
    assert in_work.prompt.context == ContextRef(id=work.id, name="Work")
    refuse = Answer(share=False, claims=frozenset(), remember=True)
    assert decide_prompt(vault, in_work.prompt.id, refuse, now=NOW + 4, new_id=new_id).outcome == "denied"
    assert ask(vault, manifest, NOW + 5).outcome == "denied"  # Work's own remembered refusal
    # Back in Everyday, its own decision answers again; Work's refusal did not replace it.
    contexts.use_context(vault, "Everyday", now=NOW + 6)
    again = ask(vault, manifest, NOW + 7)
    assert again.outcome == "granted" and again.claims["sizes.shoe"] == 42
    by_context = {(d.context, d.context_name, d.claim, d.effect) for d in remembered_decisions(vault)}
    assert ("everyday", "Everyday", "sizes.shoe", "allow") in by_context
    assert (work.id, "Work", "sizes.shoe", "deny") in by_context
    assert {d.context for d in remembered_decisions(vault, work.id)} == {work.id}
    # The ledger says which context each answer was given in (none named: Everyday, as before contexts).
    answers = [e.record for e in ledger.entries(vault, kinds=("consent",))]
    assert {a.context for a in answers if isinstance(a, Decided)} == {None, work.id}


def test_a_site_of_its_own_context_and_the_rules_of_the_context_in_force(vault: Vault) -> None:
    manifest, other = shop(), shop(OTHER)
    work = add(vault, "Work")
    answered(vault, manifest)
    answered(vault, other)
    set_rule(vault, "never", "sizes.shoe", present=True, now=NOW, context=contexts.find(vault, "work").id)
    contexts.use_context(vault, "Work", now=NOW + 1, origin=OTHER)
    assert ask(vault, manifest, NOW + 2).outcome == "granted"  # the shop stays in Everyday
    on_other = ask(vault, other, NOW + 2)
    assert isinstance(on_other, PromptNeeded) and on_other.prompt.context.name == "Work"
    # Work's rule holds in Work only: it never offers the shoe size there.
    assert "sizes.shoe" not in {q.claim for q in on_other.prompt.questions}
    assert "sizes.shoe" in ask(vault, manifest, NOW + 3).claims
    book = rule_book(vault, work.id)
    assert [r.target for r in book.rules if r.kind == "never"] == ["sizes.shoe"]
    assert book.context_name == "Work"
    assert "sizes.shoe" not in {r.target for r in rule_book(vault).rules}
    consents = [e.record for e in ledger.entries(vault, kinds=("consent",))]
    (added,) = [record for record in consents if isinstance(record, RuleAdded)]
    assert added.context == work.id
    contexts.end_choice(vault, origin=OTHER)
    assert ask(vault, other, NOW + 4).outcome == "granted"


def test_a_timed_context_ends_by_itself(vault: Vault) -> None:
    manifest = shop()
    urgent = add(vault, "Urgent")
    answered(vault, manifest)
    contexts.use_context(vault, "Urgent", now=NOW, seconds=HOUR)
    last_second = ask(vault, manifest, NOW + HOUR - 1)
    assert isinstance(last_second, PromptNeeded)
    assert last_second.prompt.context == ContextRef(id=urgent.id, name="Urgent")
    # The hour is over: Everyday answers again, nothing had to run in between.
    assert ask(vault, manifest, NOW + HOUR).outcome == "granted"


def test_removing_a_context_revokes_its_decisions_and_requests_fall_back(vault: Vault) -> None:
    manifest = shop()
    add(vault, "Work")
    contexts.use_context(vault, "Work", now=NOW)
    answered(vault, manifest)
    assert ask(vault, manifest, NOW + 1).outcome == "granted"
    # A prompt asked in Work, still waiting when Work goes.
    contexts.use_context(vault, "Work", now=NOW + 1, origin=OTHER)
    waiting = ask(vault, shop(OTHER), NOW + 2)
    assert isinstance(waiting, PromptNeeded)
    contexts.remove_context(vault, "Work", now=NOW + 3)
    assert remembered_decisions(vault) == []
    fallen_back = ask(vault, manifest, NOW + 4)
    assert isinstance(fallen_back, PromptNeeded)
    assert fallen_back.prompt.context == ContextRef(id="everyday", name="Everyday")
    # The waiting prompt still shows the context it was asked in; answering it shares once and
    # remembers nothing (the context is gone, and its decisions with it).
    assert get_prompt(vault, waiting.prompt.id, now=NOW + 5).context.name == "Work"
    once = decide_prompt(vault, waiting.prompt.id, SHARE, now=NOW + 5, new_id=new_id)
    assert once.outcome == "granted"
    assert remembered_decisions(vault) == []
    modes = {e.record.mode for e in ledger.entries(vault, ref=waiting.prompt.id, kinds=("consent",))}
    assert modes == {"once"}
    assert ledger.verify(vault).ok


def test_changing_a_decision_acts_in_its_own_context(vault: Vault) -> None:
    manifest = shop()
    work = add(vault, "Work", copy_from="Everyday")
    answered(vault, manifest)
    contexts.use_context(vault, "Work", now=NOW)
    answered(vault, manifest)
    key = {"origin": ORIGIN, "purpose": "recommendations", "claim": "sizes.shoe"}
    changed = change_decision(vault, **key, change="deny", now=NOW + 1, context=work.id)
    assert (changed.context, changed.effect, changed.before) == (work.id, "deny", "allow")
    effects = {(d.context, d.effect) for d in remembered_decisions(vault) if d.claim == "sizes.shoe"}
    assert effects == {("everyday", "allow"), (work.id, "deny")}
    assert "sizes.shoe" not in ask(vault, manifest, NOW + 2).claims  # Work
    # Forgotten in Everyday: only a decision forgotten in that same context can be put back there.
    change_decision(vault, **key, change="forget", now=NOW + 3)
    with pytest.raises(DecisionNotFound, match="in Work to put back"):
        change_decision(vault, **key, change="restore", now=NOW + 4, context=work.id)
    restored = change_decision(vault, **key, change="restore", now=NOW + 4)
    assert (restored.context, restored.effect) == ("everyday", "allow")
    changes = [e.record for e in ledger.entries(vault) if isinstance(e.record, DecisionChanged)]
    assert [c.context for c in changes] == [work.id, None, None]
    assert ledger.verify(vault).ok


def test_the_ledger_records_each_disclosure_context_and_verify_checks_the_copy(vault: Vault) -> None:
    manifest = shop()
    add(vault, "Work", separate_identity=True)
    everyday = answered(vault, manifest)
    work = contexts.use_context(vault, "Work", now=NOW).context
    in_work = answered(vault, manifest)
    disclosed = {e.ref: e.record for e in ledger.entries(vault, kinds=("disclosure",))}
    assert isinstance(disclosed[everyday.jti], Disclosed)
    assert (disclosed[everyday.jti].context, disclosed[everyday.jti].identity) == ("everyday", None)
    assert (disclosed[in_work.jti].context, disclosed[in_work.jti].identity) == (work.id, work.id)
    rows = dict(vault.conn.execute("SELECT jti, json_array(context, identity) FROM disclosures"))
    assert rows == {everyday.jti: '["everyday",null]', in_work.jti: f'["{work.id}","{work.id}"]'}
    assert ledger.verify(vault).ok
    for column, value, jti in (("context", "everyday", in_work.jti), ("identity", work.id, everyday.jti)):
        with vault.transaction() as conn:
            before = conn.execute(f"SELECT {column} FROM disclosures WHERE jti = ?", (jti,)).fetchone()[0]  # noqa: S608
            conn.execute(f"UPDATE disclosures SET {column} = ? WHERE jti = ?", (value, jti))  # noqa: S608
        verification = ledger.verify(vault)
        assert not verification.ok and "by-site copy" in verification.problem, column
        with vault.transaction() as conn:
            conn.execute(f"UPDATE disclosures SET {column} = ? WHERE jti = ?", (before, jti))  # noqa: S608
        assert ledger.verify(vault).ok
