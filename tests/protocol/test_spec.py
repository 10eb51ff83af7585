"""SPEC.md and the code say the same thing: every reason, every example message, every claim type."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from tests import example
from vault.protocol import Reason, claim_types, decode_manifest, key_subject, purpose_digest
from vault.protocol import message as message_module
from vault.protocol.access import (
    MAX_HOLDING_PRESENTATIONS,
    MAX_REQUEST_LIFETIME,
    MAX_STATEMENT_LENGTH,
    AccessRequest,
    AccessStatement,
)
from vault.protocol.acknowledgement import Acknowledgement, RevocationAcknowledgement
from vault.protocol.b64 import b64url_decode
from vault.protocol.claim_types import CLAIM_TYPES, ENUMERATIONS
from vault.protocol.jws import Header
from vault.protocol.manifest import RECIPIENT_ROLES
from vault.protocol.message import (
    MAX_BODY,
    MAX_MESSAGE_LIFETIME,
    MAX_TITLE,
    MESSAGE_KINDS,
    SiteMessage,
    message_problem,
)
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
    "access-request": AccessRequest,
    "access-statement": AccessStatement,
    "message": SiteMessage,
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


def section(title: str) -> str:
    return SPEC.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_claim_type_is_in_the_spec_and_vice_versa() -> None:
    rows = re.findall(r"^\| `([a-z0-9_.]+)` \| (.+?) \|$", section("Claim value types"), flags=re.MULTILINE)
    assert dict(rows) == {name: claim_type.rule for name, claim_type in CLAIM_TYPES.items()}
    assert len(rows) == len(CLAIM_TYPES)


@pytest.mark.parametrize("name", sorted(ENUMERATIONS))
def test_every_enumeration_is_in_the_spec(name: str) -> None:
    text = section("Claim value types").split(f"**{name}**, one of ", 1)[1]
    listed = re.split(r"[;.]\n", text, maxsplit=1)[0]
    assert re.findall(r"`([^`]+)`", listed) == list(ENUMERATIONS[name])


def test_the_spec_states_each_pattern_as_the_code_uses_it() -> None:
    text = " ".join(section("Claim value types").split())  # patterns may follow a line break
    language_tag = re.sub(r"\(\?P<\w+>", "(?:", claim_types.LANGUAGE_TAG_PATTERN)  # Python-only names
    for pattern in (
        language_tag,
        claim_types.EMAIL_PATTERN,
        claim_types.POSTAL_CODE_PATTERN,
        claim_types.POSTAL_PREFIX_PATTERN,
    ):
        assert f"`{pattern}`" in text
    assert f"one of the {len(claim_types.ISO_3166_ALPHA2)} codes" in text
    assert f"text of 1 to {claim_types.TOPIC_MAX_CHARS} characters without" in text


def test_the_spec_manifest_example_is_the_example_age_check() -> None:
    manifest = decode_manifest(examples()["manifest"])
    assert manifest.purposes == (example.AGE_CHECK,)


def test_the_spec_explains_every_recipient_role() -> None:
    explained = re.findall(r"^- `(dpv:[A-Za-z]+)`: ", section("Site manifest"), flags=re.MULTILINE)
    assert tuple(explained) == RECIPIENT_ROLES


def test_the_spec_third_parties_are_the_examples() -> None:
    pattern = r'```json\n("third_parties": \[.*?\])\n```'
    excerpt = re.search(pattern, section("Site manifest"), flags=re.DOTALL)
    assert excerpt is not None
    written = json.loads("{" + excerpt.group(1) + "}")["third_parties"]
    recommendations = example.manifest().purpose("recommendations")
    assert recommendations is not None
    assert written == json.loads(msgspec.json.encode(recommendations.third_parties))


def vector_payload(folder: str, name: str) -> dict:
    case = json.loads((PROTOCOL / folder / f"{name}.json").read_text(encoding="utf-8"))
    return json.loads(b64url_decode(case["inputs"]["token"].split(".")[1].encode()))


def test_the_relationship_examples_are_vectors() -> None:
    assert json.loads(examples()["access-request"]) == vector_payload(
        "vectors_access_request", "valid_some_purposes"
    )
    assert json.loads(examples()["access-statement"]) == vector_payload(
        "vectors_access_statement", "valid_with_values"
    )
    assert json.loads(examples()["message"]) == vector_payload("vectors_message", "valid_proposal")
    message = decode_unique(examples()["message"], msgspec.json.Decoder(SiteMessage))
    assert message_problem(message) is None


def test_the_spec_states_the_relationship_limits() -> None:
    text = " ".join(SPEC.split())
    assert f"up to **{MAX_STATEMENT_LENGTH} characters**" in text
    assert f"Not `iat < exp <= iat + {MAX_REQUEST_LIFETIME}`: `bad_lifetime`" in text
    assert f"`iat < exp <= iat + {MAX_MESSAGE_LIFETIME // 86400} days`" in text
    assert f"`title` (1 to {MAX_TITLE} characters) and `body` (1 to {MAX_BODY})" in text
    assert f"at most {MAX_HOLDING_PRESENTATIONS} distinct" in text


def test_the_spec_explains_every_message_kind() -> None:
    explained = re.findall(r"^- `([a-z]+)`, ", section("Site message"), flags=re.MULTILINE)
    assert tuple(explained) == MESSAGE_KINDS


def test_the_spec_lists_every_character_a_message_may_not_hold() -> None:
    text = " ".join(section("Site message").split())
    refused = [chr(code) for code in range(0x10000) if message_module._TRICKY.match(chr(code))]
    for char in refused:
        code = f"U+{ord(char):04X}"
        ranges = re.findall(r"U\+([0-9A-F]{4}) to U\+([0-9A-F]{4})", text)
        assert code in text or any(int(a, 16) <= ord(char) <= int(b, 16) for a, b in ranges), code


def test_the_spec_names_every_discrepancy() -> None:
    kinds = re.split(r"The kinds\s+of\s+discrepancy\s+are", section("Access statement"), maxsplit=1)[1]
    listed = re.findall(r"^- `([a-z_]+)`, ", kinds, flags=re.MULTILINE)
    assert listed == [
        "held_past_retention",
        "never_disclosed",
        "held_after_erasure",
        "unallowed_recipient",
        "no_answer",
    ]
