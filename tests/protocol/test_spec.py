"""SPEC.md and the code say the same thing: every reason, every example message."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from vault.protocol import Reason, decode_manifest, example, key_subject, purpose_digest
from vault.protocol.acknowledgement import Acknowledgement, RevocationAcknowledgement
from vault.protocol.jws import Header
from vault.protocol.presentation import PresentationPayload
from vault.protocol.revocation import NoticePayload
from vault.protocol.strictjson import decode_unique

PROTOCOL = Path(__file__).resolve().parents[2] / "vault" / "protocol"
SPEC = (PROTOCOL / "SPEC.md").read_text(encoding="utf-8")


def reasons_table() -> dict[str, str]:
    section = SPEC.split("\n## Reasons\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE))


def test_every_reason_is_in_the_spec_and_vice_versa() -> None:
    assert set(reasons_table()) == {reason.value for reason in Reason}


def test_every_reason_the_spec_mentions_exists() -> None:
    mentioned = set(re.findall(r": `([a-z_]+)`", SPEC))
    assert mentioned <= {reason.value for reason in Reason}


def test_vectors_cover_every_presentation_reason() -> None:
    presentation_reasons = {
        name
        for name, raised_by in reasons_table().items()
        if "presentation" in raised_by or "all" in raised_by
    }
    expected = {json.loads(path.read_text())["expect"] for path in (PROTOCOL / "vectors").glob("*.json")}
    assert expected - {"valid"} <= presentation_reasons
    # The store failing is shown by tests/site/test_replay.py; a vector cannot make a store fail.
    assert presentation_reasons - expected == {"replay_check_failed"}


def examples() -> dict[str, bytes]:
    found = re.findall(r"<!-- example: ([a-z-]+) -->\n```json\n(.*?)```", SPEC, flags=re.DOTALL)
    return {label: body.encode() for label, body in found}


SCHEMAS = {
    "presentation-header": Header,
    "presentation": PresentationPayload,
    "acknowledgement-header": Header,
    "acknowledgement": Acknowledgement,
    "notice": NoticePayload,
    "revocation-acknowledgement": RevocationAcknowledgement,
}


def test_one_example_per_message() -> None:
    assert set(examples()) == {"manifest", *SCHEMAS}


@pytest.mark.parametrize("label", sorted(SCHEMAS))
def test_examples_decode_strictly(label: str) -> None:
    decode_unique(examples()[label], msgspec.json.Decoder(SCHEMAS[label]))


def test_examples_are_real_values() -> None:
    manifest = decode_manifest(examples()["manifest"])
    assert manifest.site_key == example.manifest().site_key
    presentation = json.loads(examples()["presentation"])
    subject = key_subject(example.pairwise_key().public_jwk)
    assert presentation["iss"] == presentation["sub"] == subject
    recommendations = example.manifest().purpose("recommendations")
    assert recommendations is not None
    assert presentation["purpose_digest"] == purpose_digest(recommendations)
    assert json.loads(examples()["presentation-header"])["jwk"] == example.pairwise_key().public_jwk
