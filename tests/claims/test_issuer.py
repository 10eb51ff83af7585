"""Issuing from a real vault: pairwise identities per site, and a new identity after an epoch bump."""

from pathlib import Path

import msgspec
import pytest

from tests.issuing import issue_from_profile
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.protocol.errors import IssueError
from vault.protocol.manifest import decode_manifest
from vault.site import InMemoryReplayStore, make_nonce, verify_presentation
from vault.store import Vault

EXAMPLE = (Path(__file__).parents[2] / "vault" / "protocol" / "examples" / "manifest.json").read_bytes()


def manifest_for(origin: str):
    """The example manifest at another origin, without its third parties: these tests are about who the
    site sees, and a signer with no consent step has nobody's permission to name recipients."""
    data = msgspec.json.decode(EXAMPLE)
    for purpose in data["purposes"]:
        purpose["third_parties"] = []
    data["origin"] = origin
    data["revocation_endpoint"] = origin + "/.well-known/vault-revocation"
    data["controller"]["privacy_policy"] = origin + "/privacy"
    return decode_manifest(msgspec.json.encode(data))


@pytest.fixture
def vault(vault_home: Path):
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        vault.set_attribute("birthdate", "1990-05-17", now=NOW)
        vault.set_attribute("country", "NL", now=NOW)
        yield vault


def issue(vault: Vault, origin: str, jti: str = "jti-0000000000000000"):
    manifest = manifest_for(origin)
    nonce = make_nonce()
    issued = issue_from_profile(
        attributes=vault.attributes(),
        master_seed=vault.master_seed(),
        epoch=vault.site_epoch(origin),
        manifest=manifest,
        purpose_id="recommendations",
        audience=origin,
        nonce=nonce,
        requested=None,
        now=NOW,
        jti=jti,
    )
    verified = verify_presentation(
        issued.token, manifest=manifest, nonce=nonce, now=NOW, replay=InMemoryReplayStore()
    )
    return issued, verified


def test_each_site_sees_its_own_unlinkable_subject(vault: Vault) -> None:
    _, a1 = issue(vault, "https://a.example")
    _, a2 = issue(vault, "https://a.example", jti="jti-1111111111111111")
    _, b = issue(vault, "https://b.example")
    assert a1.subject == a2.subject
    assert a1.subject != b.subject
    assert a1.claims == b.claims == {"age_over_18": True, "location.country": "NL"}


def test_forgetting_a_site_gives_it_a_new_identity(vault: Vault) -> None:
    _, before = issue(vault, "https://a.example")
    vault.bump_site_epoch("https://a.example", now=NOW)
    _, after = issue(vault, "https://a.example")
    _, other = issue(vault, "https://b.example")
    assert before.subject != after.subject
    assert other.subject == issue(vault, "https://b.example")[1].subject


def test_a_required_attribute_missing_is_refused(vault: Vault) -> None:
    vault.unset_attribute("birthdate")
    with pytest.raises(IssueError) as error:
        issue(vault, "https://a.example")
    assert error.value.reason == "missing_claim"
