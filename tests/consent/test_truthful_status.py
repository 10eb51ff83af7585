"""What every view says must be true: a revocation is "waiting for the site's confirmation" until the
site's signed acknowledgement arrives, and consent follows the company behind a site, not its purpose id.

Real vaults (SQLCipher files), the real consent flow, the real `vault` command in a subprocess."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import msgspec
import pytest

from tests.consent.test_outbox import FakeSite
from tests.consent.test_revocation import Site, disclose, ids, jti, make_vault, manifest_for
from tests.support import NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.export import export_vault
from vault.consent.outbox import deliver_due
from vault.consent.policy import Answer, controller_binding
from vault.consent.report import site_report, withdrawal_words
from vault.consent.revocation import revoke
from vault.consent.service import decide_prompt, request_presentation
from vault.protocol.manifest import Manifest, encode_manifest
from vault.site import SigningKey, make_nonce
from vault.store import Vault
from vault.store.migrations import MigrationContext, migrate

ORIGIN = "https://shop.example"
BROKER = {
    "name": "Totally Different Data Broker Ltd",
    "contact": "sales@broker.example",
    "privacy_policy": "https://broker.example/privacy",
}


def edited(manifest: Manifest, **changes) -> Manifest:
    data = msgspec.to_builtins(manifest)
    data.update(changes)
    return msgspec.convert(data, Manifest)


def iso(seconds: int) -> str:
    return str(seconds)


# -- revocation status ---------------------------------------------------------------------------


def test_a_withdrawal_is_pending_until_the_site_confirms_it(vault_home: Path, run_vault) -> None:
    manifest, site = manifest_for(), Site()
    with make_vault(vault_home) as vault:
        disclose(vault, manifest, "recommendations", jti(1), site=site, now=NOW - 100)
        (notice,) = revoke(vault, ORIGIN, erase=True, now=NOW, new_id=ids()).notices
        fake = FakeSite(manifest, site)
        fake.mode = "down"  # the site is unreachable
        (attempt,) = deliver_due(vault, now=NOW, post=fake)
        assert not attempt.delivered and attempt.next_attempt_at == NOW + 30
        (disclosure,) = site_report(vault, ORIGIN).disclosures
        assert (disclosure.withdrawal_state, disclosure.withdrawal_next_try_at) == ("pending", NOW + 30)
        assert withdrawal_words(disclosure, iso) == (
            f"asked to delete — waiting for the site's confirmation (next try {NOW + 30})"
        )
        assert site_report(vault, ORIGIN).pending_withdrawal() == [disclosure]
        exported = json.loads(msgspec.json.encode(export_vault(vault, now=NOW + 1)))

    # Every view says so: the CLI's site list and site view, and the export.
    sites = run_vault("sites").out
    assert "1 (asked; the site has not confirmed)" in sites, sites
    assert json.loads(run_vault("sites", "--json").out)[0]["withdrawals_unconfirmed"] == 1
    view = run_vault("site", ORIGIN).out
    assert "waiting for the site's" in view and "holds nothing" not in view, view
    [record] = [r for r in exported["consent_records"] if r["record_kind"] == "disclosure"]
    assert record["withdrawal"].startswith("asked to delete — waiting for the site's confirmation (next try ")
    [exported_site] = exported["sites"]
    assert exported_site["disclosures"][0]["withdrawal_state"] == "pending"

    # Only the site's verified acknowledgement makes it "deleted".
    with Vault.open(vault_home, PASSPHRASE, now=NOW) as vault:
        fake.mode, fake.now = "up", NOW + 30
        (delivered,) = deliver_due(vault, now=NOW + 30, post=fake)
        assert delivered.delivered and delivered.jti == notice.jti
        (disclosure,) = site_report(vault, ORIGIN).disclosures
        assert (disclosure.withdrawal_state, disclosure.withdrawal_confirmed_at) == ("confirmed", NOW + 30)
        assert withdrawal_words(disclosure, iso) == f"deleted, confirmed by the site on {NOW + 30}"
        assert site_report(vault, ORIGIN).pending_withdrawal() == []
    assert "confirmed by the site" in run_vault("site", ORIGIN, "--all").out


def test_without_erasure_it_says_withdrawn(vault_home: Path) -> None:
    manifest, site = manifest_for(), Site()
    with make_vault(vault_home) as vault:
        disclose(vault, manifest, "recommendations", jti(1), site=site, now=NOW - 100)
        revoke(vault, ORIGIN, now=NOW, new_id=ids())
        (disclosure,) = site_report(vault, ORIGIN).disclosures
        assert withdrawal_words(disclosure, iso) == (
            f"withdrawn — waiting for the site's confirmation (next try {NOW})"
        )


# -- consent is given to a company ---------------------------------------------------------------


@pytest.fixture
def vault(vault_home: Path):
    with make_vault(vault_home) as vault:
        vault.set_attribute("sizes.shoe", 42, now=NOW)
        yield vault


counter = iter(range(10**6))


def new_id() -> str:
    return f"id-{next(counter):016d}"


def ask(vault: Vault, manifest: Manifest, now: int = NOW):
    return request_presentation(
        vault,
        manifest=manifest,
        audience=ORIGIN,
        purpose_id="recommendations",
        nonce=make_nonce(),
        now=now,
        new_id=new_id,
    )


def answer(vault: Vault, outcome, *, share: bool, now: int = NOW):
    claims = frozenset(q.claim for q in outcome.prompt.questions) if share else frozenset()
    required = frozenset(t.id for t in outcome.prompt.third_parties if t.asked and t.required)
    decision = Answer(share, claims, remember=True, recipients=required if share else frozenset())
    return decide_prompt(vault, outcome.prompt.id, decision, now=now, new_id=new_id)


def test_a_new_controller_is_asked_about_again_and_named(vault: Vault) -> None:
    shop = manifest_for()
    assert answer(vault, ask(vault, shop), share=True).outcome == "granted"
    assert ask(vault, shop, NOW + 1).outcome == "granted"  # remembered

    broker = edited(shop, controller=BROKER)
    again = ask(vault, broker, NOW + 2)
    assert again.outcome == "consent_required", "a remembered decision signed for another company"
    assert {q.asked_because for q in again.prompt.questions} == {"controller_changed"}
    assert again.prompt.controller_changed_from["name"] == shop.controller.name
    assert again.prompt.controller["name"] == BROKER["name"]

    assert answer(vault, again, share=True, now=NOW + 3).outcome == "granted"
    assert ask(vault, broker, NOW + 4).outcome == "granted"  # now bound to the new controller
    (change,) = site_report(vault, ORIGIN).changes
    assert (change.field, change.at) == ("controller", NOW + 3)
    assert shop.controller.name in change.before and BROKER["name"] in change.after
    assert ledger.verify(vault).ok


def test_a_remembered_refusal_holds_whoever_runs_the_site(vault: Vault) -> None:
    shop = manifest_for()
    assert answer(vault, ask(vault, shop), share=False).outcome == "denied"
    refused = ask(vault, edited(shop, controller=BROKER), NOW + 1)
    assert refused.outcome == "denied"


def test_a_changed_site_key_or_endpoint_is_recorded_not_adopted_silently(vault: Vault) -> None:
    shop = manifest_for()
    answer(vault, ask(vault, shop), share=True)
    new_key = SigningKey.from_seed(b"\x09" * 32)
    moved = edited(
        shop,
        site_key=dict(new_key.public_jwk),
        revocation_endpoint=ORIGIN + "/elsewhere/revocations",
    )
    assert ask(vault, moved, NOW + 10).outcome == "granted"  # same company, same purpose
    changes = {c.field: c for c in site_report(vault, ORIGIN).changes}
    assert set(changes) == {"site_key", "revocation_endpoint"}
    assert changes["revocation_endpoint"].after == ORIGIN + "/elsewhere/revocations"
    assert changes["site_key"].before != changes["site_key"].after
    assert [e.body["field"] for e in ledger.entries(vault, kinds=("site_changed",))] == [
        "site_key",
        "revocation_endpoint",
    ]
    assert ask(vault, moved, NOW + 11).outcome == "granted"
    assert len(site_report(vault, ORIGIN).changes) == 2  # an unchanged manifest records nothing new


def test_a_refused_request_leaves_no_trace_of_the_site(vault: Vault) -> None:
    """A site nobody answered is not remembered (pages can make any origin ask)."""
    shop = manifest_for()
    outcome = request_presentation(
        vault, manifest=shop, audience=ORIGIN, purpose_id="nope", nonce=make_nonce(), now=NOW, new_id=new_id
    )
    assert outcome.outcome == "denied"
    assert vault.conn.execute("SELECT count(*) FROM sites").fetchone()[0] == 0
    assert list(ledger.entries(vault)) == []


def test_decisions_made_before_the_binding_are_bound_to_the_stored_controller() -> None:
    """Migration v4 on a schema-v3 database: old decisions get the controller of the site's stored
    manifest (the best record of whom they were made with); sites without one stay unbound."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    context = MigrationContext(now=NOW, random_bytes=lambda n: b"\x01" * n)
    migrate(conn, context, target=3)
    shop = manifest_for()
    conn.execute(
        "INSERT INTO sites (origin, epoch, first_seen, manifest) VALUES (?, 0, ?, ?)",
        (ORIGIN, NOW, encode_manifest(shop).decode()),
    )
    for origin in (ORIGIN, "https://other.example"):
        conn.execute(
            "INSERT INTO decisions (origin, purpose_id, claim, claim_digest, effect, decided_at, expires_at) "
            "VALUES (?, 'recommendations', 'age_over_18', 'd', 'allow', ?, ?)",
            (origin, NOW, NOW + 1000),
        )
    migrate(conn, context)
    bound = dict(conn.execute("SELECT origin, controller FROM decisions").fetchall())
    assert bound == {ORIGIN: controller_binding(shop.controller), "https://other.example": None}
