"""The example manifests never promise what a presentation cannot prove.

Claims are stated by the user's own vault (SPEC.md, "What a presentation proves"): nobody checked an
identity document or verified an age. The manifests we publish as examples (the protocol's example shop,
SPEC.md's excerpt, and the demo shop) are what site authors copy, so their words must not say otherwise.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests import example
from vault.protocol import Manifest, decode_manifest

PROTOCOL = Path(__file__).resolve().parents[2] / "vault" / "protocol"

OVERPROMISES = re.compile(
    r"identity document|\bID\b|passport|driving licen[cs]e|proof of (age|identity)"
    r"|\bprov(e|es|ed|en|ing)\b|verif(y|ied|ication)"  # "prove", not "improve"
    r"|certif|legal(ly)? (age|check)|age check|checks? (that|your) (age|identity)",
    re.IGNORECASE,
)


def spec_manifest() -> Manifest:
    spec = (PROTOCOL / "SPEC.md").read_text(encoding="utf-8")
    excerpt = re.search(r"<!-- example: manifest -->\n```json\n(.*?)```", spec, flags=re.DOTALL)
    assert excerpt is not None
    return decode_manifest(excerpt.group(1).encode())


def demo_manifest() -> Manifest:
    from vault.demo.shop import shop_manifest  # the demo needs the app's dependencies; only this test does

    return shop_manifest("https://demo-shoes.example", example.site_key())


MANIFESTS = {
    "examples/manifest.json": lambda: decode_manifest((PROTOCOL / "examples" / "manifest.json").read_bytes()),
    "SPEC.md": spec_manifest,
    "example.manifest_with_every_claim": example.manifest_with_every_claim,
    "demo shop": demo_manifest,
}


def words_shown_to_people(manifest: Manifest) -> list[str]:
    """Everything a consent prompt or a privacy page shows (not the machine-readable DPV concept)."""
    shown = [manifest.controller.name]
    for purpose in manifest.purposes:
        shown += [purpose.title, purpose.description, purpose.benefit]
        shown += [claim.why for claim in purpose.claims]
        shown += [text for party in purpose.third_parties for text in (party.name, party.why)]
    return shown


@pytest.mark.parametrize("source", sorted(MANIFESTS))
def test_no_manifest_promises_an_identity_or_age_verification(source: str) -> None:
    for text in words_shown_to_people(MANIFESTS[source]()):
        assert OVERPROMISES.search(text) is None, f"{source}: {text!r}"


@pytest.mark.parametrize(
    "text",
    [
        "You can buy without showing an identity document.",
        "We verify your age.",
        "Verified age, no ID needed.",
        "Proof of age in one click.",
        "Age check at checkout",
    ],
)
def test_the_wording_check_catches_the_old_promises(text: str) -> None:
    assert OVERPROMISES.search(text) is not None


def test_the_examples_say_who_states_the_claim() -> None:
    age_check = json.loads((PROTOCOL / "examples" / "manifest.json").read_text())["purposes"][1]
    assert age_check["id"] == "age-check"
    assert "your vault states" in age_check["description"]
