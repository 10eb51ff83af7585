"""Presentations verify with `jose` under Node (tests/node/verify.mjs), a JOSE library we did not write.

Needs `npm ci` in tests/node (scripts/test does it). Skipped without it, except under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import example
from vault.protocol import issue_presentation, key_subject

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
VECTORS = ROOT / "vault" / "protocol" / "vectors"

# Vectors that break a rule any JOSE/JWT library checks; jose must refuse them as we do.
REFUSED_BY_ANY_JOSE_LIBRARY = [
    "tampered_payload",
    "tampered_signature",
    "swapped_jwk_not_resigned",
    "alg_none",
    "alg_hs256_public_key_as_secret",
    "wrong_typ",
    "wrong_audience",
    "expired",
    "not_yet_valid",
    "wrong_nonce",
    "swapped_jwk_old_sub",
    "unknown_crit",
]


def run_jose(cases: list[dict]) -> dict[str, dict]:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "jose").is_dir():
        message = "node or tests/node/node_modules missing (run `npm ci` in tests/node)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    completed = subprocess.run(
        [node, str(NODE_DIR / "verify.mjs")],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=60,
        check=True,
    )
    return {result["name"]: result for result in json.loads(completed.stdout)}


def vector_case(name: str) -> dict:
    case = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    inputs = case["inputs"]
    return {
        "name": name,
        "token": inputs["token"],
        "audience": inputs["audience"],
        "nonce": inputs["nonce"],
        "now": inputs["now"],
        "expect": case["expect"],
        "claims": case.get("claims"),
    }


def test_jose_accepts_fresh_presentations() -> None:
    key = example.pairwise_key(epoch=7)
    claims = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42.5, "interests": ["a", "b"]}
    token = issue_presentation(
        key,
        example.manifest(),
        "recommendations",
        example.ORIGIN,
        "n" * 22,
        claims,
        example.NOW,
        "j" * 16,
        recipients=("stock",),
    )
    case = {
        "name": "fresh",
        "token": token,
        "audience": example.ORIGIN,
        "nonce": "n" * 22,
        "now": example.NOW,
    }
    result = run_jose([case])["fresh"]
    assert result["ok"], result
    assert result["claims"] == claims
    assert result["subject"] == key_subject(key.public_jwk)  # jose computes the same RFC 7638 thumbprint


def test_jose_agrees_on_valid_vectors() -> None:
    names = sorted(path.stem for path in VECTORS.glob("valid_*.json"))
    assert names
    cases = [vector_case(name) for name in names]
    results = run_jose(cases)
    for case in cases:
        assert results[case["name"]]["ok"], results[case["name"]]
        assert results[case["name"]]["claims"] == case["claims"]


def test_jose_refuses_what_any_jose_library_must() -> None:
    results = run_jose([vector_case(name) for name in REFUSED_BY_ANY_JOSE_LIBRARY])
    for name in REFUSED_BY_ANY_JOSE_LIBRARY:
        assert not results[name]["ok"], f"jose accepted {name}"
