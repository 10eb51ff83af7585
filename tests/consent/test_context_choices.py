"""Which context is in force where (vault.consent.contexts) and whether Global Privacy Control is sent
(vault.consent.gpc), on a real vault with the clock passed in."""

from pathlib import Path

import pytest

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import contexts, ledger
from vault.consent.gpc import GpcState, gpc_sites, gpc_state, set_site_gpc, site_gpc
from vault.consent.ledger_records import ContextChanged
from vault.consent.records import add_rule, load_rules, remove_rule
from vault.errors import InvalidInput
from vault.store import Vault

SHOP, NEWS = "https://shop.example", "https://news.example"
HOUR = 3600


@pytest.fixture
def vault(tmp_path: Path):
    with Vault.create(tmp_path / "v", PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        yield vault


def add(vault: Vault, name: str, **options) -> contexts.Context:
    return contexts.add_context(
        vault, name, now=NOW, new_id=contexts.new_context_id(name + "-random"), **options
    )


def test_precedence_site_then_timed_then_browser_then_everyday(vault: Vault) -> None:
    work, urgent = add(vault, "Work"), add(vault, "Urgent")
    assert contexts.active_context(vault, SHOP, now=NOW).source == "default"
    contexts.use_context(vault, "work", now=NOW)
    assert contexts.active_context(vault, SHOP, now=NOW).context == work
    contexts.use_context(vault, "Urgent", now=NOW, seconds=HOUR)
    contexts.use_context(vault, "Everyday", now=NOW, origin=SHOP)
    assert contexts.active_context(vault, SHOP, now=NOW).context.id == "everyday"  # the site's own wins
    timed = contexts.active_context(vault, NEWS, now=NOW + HOUR - 1)
    assert (timed.context, timed.source, timed.until) == (urgent, "timed", NOW + HOUR)
    # The hour is over: the previous choice is back by itself, nothing had to run.
    assert contexts.active_context(vault, NEWS, now=NOW + HOUR).context == work
    assert contexts.next_change(vault, now=NOW) == NOW + HOUR
    assert contexts.next_change(vault, now=NOW + HOUR) is None


def test_a_timed_site_choice_ends_by_itself_and_end_choice_forgets_one(vault: Vault) -> None:
    add(vault, "Work")
    contexts.use_context(vault, "Work", now=NOW, origin=SHOP, seconds=600)
    assert contexts.active_context(vault, SHOP, now=NOW + 599).context.name == "Work"
    assert contexts.active_context(vault, SHOP, now=NOW + 600).source == "default"
    contexts.use_context(vault, "Work", now=NOW, origin=SHOP)
    assert contexts.end_choice(vault, origin=SHOP) is True
    assert contexts.end_choice(vault, origin=SHOP) is False
    assert contexts.active_context(vault, SHOP, now=NOW).source == "default"


def test_a_copy_starts_with_the_rules_and_then_changes_alone(vault: Vault) -> None:
    add_rule(vault, "never", "sizes.shoe", now=NOW)
    family = add(vault, "Family", copy_from="Everyday", separate_identity=True)
    assert load_rules(vault, family.id) == load_rules(vault, "everyday")
    remove_rule(vault, "never", "sizes.shoe", now=NOW, context=family.id)
    assert "sizes.shoe" in load_rules(vault, "everyday").never
    assert "sizes.shoe" not in load_rules(vault, family.id).never
    assert family.identity == family.id and add(vault, "Plain").identity is None


def test_names_are_checked_and_refusals_change_nothing(vault: Vault) -> None:
    add(vault, "Work")
    head = ledger.verify(vault).entries
    for name in ("", " ", "x" * 41, "two\nlines", "right\u202eleft", "WORK"):
        with pytest.raises(InvalidInput):
            add(vault, name)
    with pytest.raises(InvalidInput, match="no context called"):
        contexts.use_context(vault, "Holiday", now=NOW)
    with pytest.raises(InvalidInput, match="falls back"):
        contexts.remove_context(vault, "everyday", now=NOW)
    with pytest.raises(InvalidInput, match="1 minute to 30 days"):
        contexts.use_context(vault, "Work", now=NOW, seconds=59)
    assert [c.name for c in contexts.list_contexts(vault)] == ["Everyday", "Work"]
    assert ledger.verify(vault).entries == head


def test_removing_falls_back_and_keeps_the_name_for_old_records(vault: Vault) -> None:
    work = add(vault, "Work")
    contexts.use_context(vault, "Work", now=NOW)
    contexts.use_context(vault, "Work", now=NOW, origin=SHOP)
    add_rule(vault, "never", "sizes.shoe", now=NOW, context=work.id)
    contexts.remove_context(vault, "Work", now=NOW + 1)
    assert contexts.active_context(vault, SHOP, now=NOW + 2).source == "default"
    assert load_rules(vault, work.id).never == frozenset()
    assert contexts.names(vault)[work.id] == "Work" and contexts.by_id(vault, work.id) is None
    add(vault, "work")  # the name is free again
    records = [(entry.ref, entry.record) for entry in ledger.entries(vault, kinds=("context",))]
    assert [(ref, r.action, r.name) for ref, r in records if isinstance(r, ContextChanged)] == [
        (work.id, "added", "Work"),
        (work.id, "removed", "Work"),
        (contexts.find(vault, "work").id, "added", "work"),
    ]


def test_gpc_follows_the_rules_the_context_switch_and_the_site_switch(vault: Vault) -> None:
    assert site_gpc(vault, SHOP, now=NOW).sent is True  # a fresh vault refuses both
    add(vault, "Open")  # a new empty context refuses nothing
    contexts.use_context(vault, "Open", now=NOW, origin=NEWS)
    news = site_gpc(vault, NEWS, now=NOW)
    assert not news.sent
    assert news.why == "Not sent: Open's rules refuse neither selling your data nor targeted advertising."
    add_rule(vault, "deny_concept", "dpv:TargetedAdvertising", now=NOW, context=news.context)
    news = site_gpc(vault, NEWS, now=NOW)
    assert news.sent and news.why == "Sent: the rules of Open refuse targeted advertising."
    contexts.change_context(vault, "Open", now=NOW, gpc=False)
    assert site_gpc(vault, NEWS, now=NOW).why == "Not sent: you turned it off in the context Open."
    off = set_site_gpc(vault, SHOP, enabled=False, now=NOW)
    assert not off.sent and off.why == "Not sent: you turned it off for this site."
    assert gpc_state(vault, now=NOW) == GpcState(
        sent=True, sites={NEWS: False, SHOP: False}, next_change=None
    )
    assert gpc_sites(vault) == [(SHOP, False, NOW)]
    assert set_site_gpc(vault, SHOP, enabled=True, now=NOW).sent is True
    assert gpc_sites(vault) == []


def test_gpc_changes_when_a_timed_context_ends(vault: Vault) -> None:
    add(vault, "Open")
    contexts.use_context(vault, "Open", now=NOW, seconds=HOUR)
    assert gpc_state(vault, now=NOW) == GpcState(sent=False, sites={}, next_change=NOW + HOUR)
    assert gpc_state(vault, now=NOW + HOUR) == GpcState(sent=True, sites={}, next_change=None)
