"""`vault export` and contexts: every context ever made (a removed one with when), the standing choices
(browser-wide, timed with its end, per site), the per-site GPC switches and the GPC default, and each
rule, remembered decision and disclosure with its context. A real SQLCipher vault, decisions and
disclosures through the real request path; the document is checked against the committed schema."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import msgspec
import pytest

from tests import example
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent.contexts import add_context, new_context_id, remove_context, use_context
from vault.consent.export import export_vault
from vault.consent.export_format import SCHEMA_PATH
from vault.consent.gpc import set_site_gpc
from vault.consent.policy import Answer
from vault.consent.records import add_rule
from vault.consent.service import Shared, decide_prompt, request_presentation
from vault.consent.sites import subject_of
from vault.site import make_nonce
from vault.store import Vault

ORIGIN = example.ORIGIN
_ids = (f"id-{n:016d}" for n in itertools.count())


def new_id() -> str:
    return next(_ids)


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        for name, value in (("birthdate", "1990-05-17"), ("country", "NL"), ("sizes.shoe", 42)):
            vault.set_attribute(name, value, now=NOW)
        yield vault


def exported(vault: Vault, now: int) -> dict:
    document = msgspec.json.decode(msgspec.json.encode(export_vault(vault, now=now)))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()), cls=jsonschema.Draft202012Validator)
    return document


def test_contexts_choices_and_gpc_switches_are_exported(vault: Vault) -> None:
    shopping = add_context(
        vault, "Shopping", now=NOW + 1, new_id=new_context_id("shopping"), separate_identity=True, gpc=False
    )
    old = add_context(vault, "Old", now=NOW + 2, new_id=new_context_id("old"), copy_from="Everyday")
    remove_context(vault, "Old", now=NOW + 3)
    add_rule(vault, "never", "email", now=NOW + 4, context=shopping.id)
    use_context(vault, "Shopping", now=NOW + 5)  # browser-wide, for good
    use_context(vault, "Everyday", now=NOW + 6, seconds=3600)  # then Everyday for an hour
    use_context(vault, "Shopping", now=NOW + 7, origin="https://news.example", seconds=600)
    set_site_gpc(vault, "https://tracker.example", enabled=False, now=NOW + 8)

    document = exported(vault, NOW + 10)
    assert [
        (c["id"], c["name"], c["separate_identity"], c["gpc"], c["removed_at"]) for c in document["contexts"]
    ] == [
        ("everyday", "Everyday", False, True, None),
        (shopping.id, "Shopping", True, False, None),
        (old.id, "Old", False, True, NOW + 3),
    ]
    assert document["context_choices"] == {
        "browser": shopping.id,
        "timed": {"context": "everyday", "until": NOW + 6 + 3600},
        "sites": [
            {"origin": "https://news.example", "context": shopping.id, "until": NOW + 607, "set_at": NOW + 7}
        ],
    }
    assert document["gpc_sites"] == [
        {"origin": "https://tracker.example", "enabled": False, "set_at": NOW + 8}
    ]
    # Everyday is timed in force: its rules refuse what GPC speaks for, so GPC is sent by default...
    assert document["gpc_default"]["sent"] is True and document["gpc_default"]["context"] == "everyday"
    # ...and once the hour is over, Shopping (whose GPC switch is off) is back, and it is not.
    later = exported(vault, NOW + 6 + 3600)
    assert later["gpc_default"]["sent"] is False and later["gpc_default"]["context"] == shopping.id
    assert "Shopping" in later["gpc_default"]["why"]
    rules = [(r["context"], r["kind"], r["target"]) for r in document["rules"]]
    assert rules == [
        ("everyday", "deny_concept", "dpv:SellDataToThirdParties"),
        ("everyday", "deny_concept", "dpv:TargetedAdvertising"),
        (shopping.id, "never", "email"),
    ]  # Old's copied rules went with it


def test_remembered_decisions_and_disclosures_carry_their_context_and_identity(vault: Vault) -> None:
    shopping = add_context(
        vault, "Shopping", now=NOW, new_id=new_context_id("shopping"), separate_identity=True
    )
    use_context(vault, "Shopping", now=NOW, origin=ORIGIN)
    manifest = example.manifest()
    asked = request_presentation(
        vault,
        manifest=manifest,
        audience=ORIGIN,
        purpose_id="recommendations",
        nonce=make_nonce(),
        now=NOW + 1,
        new_id=new_id,
    )
    claims = frozenset(q.claim for q in asked.prompt.questions)
    shared = decide_prompt(vault, asked.prompt.id, Answer(True, claims, True), now=NOW + 1, new_id=new_id)
    assert isinstance(shared, Shared)

    document = exported(vault, NOW + 10)
    own = subject_of(vault, ORIGIN, 0, shopping.id)
    decisions = [r for r in document["consent_records"] if r["record_kind"] == "decision"]
    assert decisions and all(
        (r["context"], r["context_name"]) == (shopping.id, "Shopping") for r in decisions
    )
    # A standing allow names the key the site sees on its next request: Shopping's own identity's.
    allowed = [r for r in decisions if r["state"] == "given"]
    assert allowed and all(r["subject"]["pairwise_id"] == own for r in allowed)
    assert all(r["subject"]["identity"] == shopping.id for r in allowed)
    (disclosure,) = [r for r in document["consent_records"] if r["record_kind"] == "disclosure"]
    assert (disclosure["context"], disclosure["context_name"]) == (shopping.id, "Shopping")
    assert disclosure["subject"]["pairwise_id"] == own and disclosure["subject"]["identity"] == shopping.id
    (site,) = document["sites"]
    assert site["disclosures"][0]["identity"] == shopping.id
    assert [(s["identity"], s["context_name"], s["subject"]) for s in site["subjects"]] == [
        (None, None, subject_of(vault, ORIGIN, 0)),
        (shopping.id, "Shopping", own),
    ]
