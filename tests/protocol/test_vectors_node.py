"""The vectors check any implementation (SPEC.md, "Test vectors"): a second one, in JavaScript, written
from SPEC.md alone (tests/node/vectors.mjs: `jose` for signatures, `canonicalize` for JCS), reaches the
expected outcome of every vector (presentations, revocation notices, acknowledgements, revocation
acknowledgements, pairwise key known answers, manifests, access requests and statements, site
messages), with the same reason and the same returned values as the Python verifiers.

Needs `npm ci` in tests/node (scripts/test does it). Skipped without it, except under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
PROTOCOL = ROOT / "vault" / "protocol"
FOLDERS = (
    "vectors",
    "vectors_notice",
    "vectors_acknowledgement",
    "vectors_revocation_ack",
    "vectors_pairwise_key",
    "vectors_manifest",
    "vectors_access_request",
    "vectors_access_statement",
    "vectors_message",
)
# What each folder's valid cases return, as the vector files spell it.
RETURNED = {
    "vectors": ("subject", "claims", "recipients"),
    "vectors_notice": (
        *("subject", "jti", "purpose", "presentations", "unknown", "erasure", "issued_at"),
        *("claims", "site", "recipients", "tell"),
    ),
    "vectors_acknowledgement": ("acknowledgement", "unallowed_recipients"),
    "vectors_revocation_ack": ("acknowledgement",),
    "vectors_pairwise_key": ("info", "private_seed", "public_jwk", "thumbprint", "subject"),
    "vectors_manifest": ("purpose_digests",),
    "vectors_access_request": ("subject", "jti", "purposes", "issued_at"),
    "vectors_access_statement": ("statement",),
    "vectors_message": ("message",),
}


@pytest.fixture(scope="module")
def node_results() -> dict[tuple[str, str], dict]:
    node = shutil.which("node")
    modules = NODE_DIR / "node_modules"
    if node is None or not (modules / "jose").is_dir() or not (modules / "canonicalize").is_dir():
        message = "node or tests/node/node_modules missing (run `npm ci` in tests/node)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    completed = subprocess.run(
        [node, str(NODE_DIR / "vectors.mjs"), str(PROTOCOL)],
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return {(result["folder"], result["name"]): result for result in json.loads(completed.stdout)}


def committed_cases() -> list[tuple[str, dict]]:
    return [
        (folder, json.loads(path.read_text(encoding="utf-8")))
        for folder in FOLDERS
        for path in sorted((PROTOCOL / folder).glob("*.json"))
    ]


def test_javascript_checked_every_vector(node_results: dict[tuple[str, str], dict]) -> None:
    expected = {(folder, case["name"]) for folder, case in committed_cases()}
    assert set(node_results) == expected
    assert len(expected) > 100


def test_javascript_reaches_every_expected_outcome(node_results: dict[tuple[str, str], dict]) -> None:
    disagreements = []
    for folder, case in committed_cases():
        result = node_results[folder, case["name"]]
        if result["outcome"] != case["expect"]:
            disagreements.append((folder, case["name"], result["outcome"], case["expect"]))
        elif case["expect"] == "valid":
            returned = {name: result.get(name) for name in RETURNED[folder]}
            if returned != {name: case[name] for name in RETURNED[folder]}:
                disagreements.append((folder, case["name"], returned))
    assert not disagreements
