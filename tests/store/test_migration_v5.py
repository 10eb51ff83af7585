"""Schema v5 (third parties) on vaults written before it, from the committed fixtures (copied first: opening
migrates them). Stored manifests lose their name-only third parties and decode with the new format; claim
decisions that matched the stored manifest are re-bound to the new claim digest, so nobody is asked again
because of the upgrade; when the site's next manifest brings its third parties back with ids, only they are
asked about; and the ledger still verifies."""

import json
import shutil
from pathlib import Path

import msgspec
import pytest

from tests import example
from tests.support import NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.policy import claim_digest
from vault.consent.records import recipient_standing, remembered_decisions
from vault.consent.service import PromptNeeded, Shared, request_presentation
from vault.consent.sites import stored_manifest
from vault.protocol.manifest import Manifest, decode_manifest, manifest_index
from vault.store import Vault
from vault.store.migrations import LATEST_VERSION

FIXTURES = Path(__file__).parents[1] / "fixtures"
ORIGINS = ("https://books.example", "https://news.example", "https://shop.example")
BOOKS = "https://books.example"
OPENED_AT = NOW + 300  # after everything the ledger fixture's story did


@pytest.fixture
def upgraded(vault_home: Path):
    shutil.copytree(FIXTURES / "vault-ledger-v1", vault_home)  # never the committed copy
    with Vault.open(vault_home, PASSPHRASE, now=OPENED_AT) as vault:
        yield vault


def ask(vault: Vault, manifest: Manifest, now: int = OPENED_AT + 100):
    return request_presentation(
        vault,
        manifest=manifest,
        audience=manifest.origin,
        purpose_id="recommendations",
        nonce="n" * 22,
        now=now,
        new_id=lambda: "after-upgrade-0001",
    )


def with_third_parties(manifest: Manifest) -> Manifest:
    """The site's next manifest: the same, its third parties declared the new way (the example shop's)."""
    data = msgspec.json.decode(msgspec.json.encode(manifest))
    data["purposes"][0]["third_parties"] = msgspec.json.decode(
        msgspec.json.encode(example.RECOMMENDATIONS.third_parties)
    )
    return decode_manifest(msgspec.json.encode(data))


def test_the_profile_only_vault_opens_with_the_new_tables(vault_home: Path) -> None:
    shutil.copytree(FIXTURES / "vault-v1", vault_home)
    with Vault.open(vault_home, "fixture passphrase v1", now=NOW) as vault:
        assert vault.schema_version == LATEST_VERSION
        assert vault.conn.execute("SELECT count(*) FROM recipient_decisions").fetchone() == (0,)
        columns = [row[1] for row in vault.conn.execute("PRAGMA table_info(disclosures)")]
        assert columns[-4:] == ["recipients", "retention_checked_at", "context", "identity"]  # v5, v6, v7
        assert vault.attributes()["country"] == "NL"
        assert ledger.verify(vault) == ledger.Verification(True, 0)


def test_stored_manifests_lose_their_name_only_third_parties(upgraded: Vault) -> None:
    assert upgraded.schema_version == LATEST_VERSION
    for origin in ORIGINS:
        (text,) = upgraded.conn.execute("SELECT manifest FROM sites WHERE origin = ?", (origin,)).fetchone()
        stored = json.loads(text)
        assert [p["third_parties"] for p in stored["purposes"]] == [[], []]
        manifest = stored_manifest(upgraded, origin)  # decodes with the new schema
        assert manifest is not None and manifest.origin == origin
        assert [p.id for p in manifest.purposes] == ["recommendations", "age-check"]
        # Nothing else of it changed: the claims asked, the controller, the key.
        claims = [c["name"] for c in stored["purposes"][0]["claims"]]
        assert claims == ["age_over_18", "location.country", "sizes.shoe", "interests"]
        assert stored["controller"]["name"] == "Example Shoes B.V." and manifest.site_key.crv == "Ed25519"


def test_claim_decisions_keep_matching_under_the_new_digest(upgraded: Vault) -> None:
    purpose = manifest_index(stored_manifest(upgraded, BOOKS))["recommendations"].purpose
    requests = {c.name: c for c in purpose.claims}
    rows = upgraded.conn.execute(
        "SELECT claim, claim_digest FROM decisions WHERE origin = ? AND revoked_at IS NULL", (BOOKS,)
    ).fetchall()
    assert sorted(claim for claim, _ in rows) == ["age_over_18", "location.country", "sizes.shoe"]
    assert all(digest == claim_digest(purpose, requests[claim]) for claim, digest in rows)
    # The revoked ones of the shop were re-bound too (they matched); revocation still holds.
    assert upgraded.conn.execute(
        "SELECT count(*) FROM decisions WHERE origin = 'https://shop.example' AND revoked_at IS NOT NULL"
    ).fetchone() == (3,)


def test_nobody_is_asked_again_because_of_the_upgrade(upgraded: Vault) -> None:
    granted = ask(upgraded, stored_manifest(upgraded, BOOKS))
    assert isinstance(granted, Shared), granted
    assert granted.claims == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42}
    assert granted.recipients == ()
    assert ledger.verify(upgraded).ok


def test_third_parties_declared_again_are_asked_about_alone(upgraded: Vault) -> None:
    asked = ask(upgraded, with_third_parties(stored_manifest(upgraded, BOOKS)))
    assert isinstance(asked, PromptNeeded), asked
    assert asked.prompt.questions == []  # every claim decision still holds
    assert [(t.id, t.asked, t.asked_because) for t in asked.prompt.third_parties] == [
        ("stock", True, "new"),
        ("analytics", True, "new"),
    ]
    assert recipient_standing(upgraded, BOOKS, "recommendations") == []
    assert all(d.recipient is None for d in remembered_decisions(upgraded))


def test_the_ledger_and_its_by_site_copy_still_verify(upgraded: Vault) -> None:
    assert ledger.verify(upgraded).ok
    copies = upgraded.conn.execute("SELECT DISTINCT recipients FROM disclosures").fetchall()
    assert copies == [("{}",)]  # no old disclosure allowed a third party
