"""The committed vectors of the manifest, the acknowledgement, the revocation notice, the revocation
acknowledgement and the pairwise key derivation (vault/protocol/vectors_*/): each case's expected
outcome, with the verifier a vault or site uses. tests/protocol/test_vectors.py checks the generator
reproduces them byte for byte."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from vault.protocol import decode_manifest, purpose_digest
from vault.protocol.acknowledgement import unallowed_recipients, verify_acknowledgement, verify_revocation_ack
from vault.protocol.errors import AcknowledgementInvalid, ManifestInvalid, NoticeInvalid, Reason, TokenInvalid
from vault.protocol.jwk import OkpPublicJwk, jwk_thumbprint, key_subject
from vault.protocol.keys import derive_pairwise_key, pairwise_info
from vault.protocol.presentation import open_presentation
from vault.site.revocation import recipients_to_tell, verify_revocation

PROTOCOL = Path(__file__).resolve().parents[2] / "vault" / "protocol"


def cases(folder: str) -> list[Path]:
    return sorted((PROTOCOL / folder).glob("*.json"))


def load(path: Path) -> dict:
    case = json.loads(path.read_text(encoding="utf-8"))
    assert case["name"] == path.stem
    assert case["comment"]
    return case


def check(case: dict, verify, error: type[TokenInvalid]) -> object | None:
    """Run `verify()`; return its result for a valid case, or check it refuses with the expected reason."""
    if case["expect"] == "valid":
        return verify()
    with pytest.raises(error) as raised:
        verify()
    assert raised.value.reason == Reason(case["expect"])
    return None


def as_json(value: object) -> object:
    return msgspec.json.decode(msgspec.json.encode(value))


def site_key(inputs: dict) -> OkpPublicJwk:
    return msgspec.convert(inputs["site_key"], OkpPublicJwk)


ACKNOWLEDGEMENTS = cases("vectors_acknowledgement")
NOTICES = cases("vectors_notice")
REVOCATION_ACKS = cases("vectors_revocation_ack")
PAIRWISE_KEYS = cases("vectors_pairwise_key")
MANIFESTS = cases("vectors_manifest")


@pytest.mark.parametrize("path", ACKNOWLEDGEMENTS, ids=[path.stem for path in ACKNOWLEDGEMENTS])
def test_acknowledgement_vector(path: Path) -> None:
    case = load(path)
    inputs = case["inputs"]
    verified = check(
        case,
        lambda: verify_acknowledgement(
            inputs["token"],
            site_key(inputs),
            presentation=inputs["presentation"],
            now=inputs["now"],
            max_skew=inputs["max_skew"],
        ),
        AcknowledgementInvalid,
    )
    if verified is not None:
        assert as_json(verified) == case["acknowledgement"]
        assert (
            list(unallowed_recipients(verified, open_presentation(inputs["presentation"])[1].recipients))
            == case["unallowed_recipients"]
        )


@pytest.mark.parametrize("path", NOTICES, ids=[path.stem for path in NOTICES])
def test_notice_vector(path: Path) -> None:
    case = load(path)
    inputs = case["inputs"]
    manifest = decode_manifest(msgspec.json.encode(inputs["manifest"]))
    assert manifest.origin == inputs["audience"]
    verified = check(
        case,
        lambda: verify_revocation(
            inputs["token"],
            manifest=manifest,
            now=inputs["now"],
            stored_subject=inputs["stored_subjects"].get,
            max_skew=inputs["max_skew"],
        ),
        NoticeInvalid,
    )
    if verified is not None:
        returned = as_json(verified)
        expected = {name: case[name] for name in returned}
        assert returned == expected
        assert [party.id for party in recipients_to_tell(verified, manifest)] == case["tell"]


@pytest.mark.parametrize("path", REVOCATION_ACKS, ids=[path.stem for path in REVOCATION_ACKS])
def test_revocation_ack_vector(path: Path) -> None:
    case = load(path)
    inputs = case["inputs"]
    verified = check(
        case,
        lambda: verify_revocation_ack(
            inputs["token"],
            site_key(inputs),
            notice=inputs["notice"],
            now=inputs["now"],
            max_skew=inputs["max_skew"],
        ),
        AcknowledgementInvalid,
    )
    if verified is not None:
        assert as_json(verified) == case["acknowledgement"]


@pytest.mark.parametrize("path", PAIRWISE_KEYS, ids=[path.stem for path in PAIRWISE_KEYS])
def test_pairwise_key_vector(path: Path) -> None:
    case = load(path)
    inputs = case["inputs"]
    seed = bytes.fromhex(inputs["master_seed"])
    # Only the cases of a context with its own identity name one; the others are as before identities.
    identity = inputs.get("identity")
    if case["expect"] == "refused":
        with pytest.raises(ValueError):
            derive_pairwise_key(seed, inputs["origin"], inputs["epoch"], identity)
        return
    assert case["expect"] == "valid"
    key = derive_pairwise_key(seed, inputs["origin"], inputs["epoch"], identity)
    assert pairwise_info(inputs["origin"], inputs["epoch"], identity).hex() == case["info"]
    assert key.seed().hex() == case["private_seed"]
    assert key.public_jwk == case["public_jwk"]
    assert jwk_thumbprint(key.public_jwk) == case["thumbprint"]
    assert key_subject(key.public_jwk) == case["subject"]


@pytest.mark.parametrize("path", MANIFESTS, ids=[path.stem for path in MANIFESTS])
def test_manifest_vector(path: Path) -> None:
    case = load(path)
    text = case["inputs"]["manifest"].encode()
    if case["expect"] == "invalid":
        with pytest.raises(ManifestInvalid):
            decode_manifest(text)
        return
    assert case["expect"] == "valid"
    manifest = decode_manifest(text)
    assert {purpose.id: purpose_digest(purpose) for purpose in manifest.purposes} == case["purpose_digests"]


def test_manifest_vectors_cover_third_parties() -> None:
    loaded = [load(path) for path in MANIFESTS]
    assert {case["expect"] for case in loaded} == {"valid", "invalid"}
    assert sum(case["name"].startswith("third_party_") for case in loaded) >= 12


def reasons_raised_by(who: str) -> set[str]:
    spec = (PROTOCOL / "SPEC.md").read_text(encoding="utf-8")
    section = spec.split("\n## Reasons\n")[1].split("\n## ")[0]
    table = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE))
    return {reason for reason, raised_by in table.items() if who in raised_by or "all" in raised_by}


@pytest.mark.parametrize(
    ("folder", "who", "not_by_vector"),
    [
        ("vectors_acknowledgement", "acknowledgement", set()),
        ("vectors_notice", "notice", set()),
        ("vectors_revocation_ack", "revocation acknowledgement", set()),
    ],
)
def test_vectors_cover_every_reason_of_the_message(folder: str, who: str, not_by_vector: set[str]) -> None:
    expected = {load(path)["expect"] for path in cases(folder)}
    assert "valid" in expected
    reasons = reasons_raised_by(who)
    # "acknowledgement" also matches "revocation acknowledgement": keep each message's own reasons.
    if who == "acknowledgement":
        reasons -= {"wrong_notice"}
    assert expected - {"valid"} <= reasons
    assert reasons - expected == not_by_vector


def test_pairwise_vectors_differ_per_origin_epoch_and_seed() -> None:
    valid = [load(path) for path in PAIRWISE_KEYS if load(path)["expect"] == "valid"]
    assert len(valid) >= 5
    assert len({case["public_jwk"]["x"] for case in valid}) == len(valid)
    assert len({(case["inputs"]["origin"], case["inputs"]["epoch"]) for case in valid}) >= 4
