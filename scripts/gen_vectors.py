#!/usr/bin/env python3
"""Write the test vectors (vault/protocol/vectors*/) and the example manifest.

Deterministic: fixed seeds, a fixed clock and Ed25519's deterministic signatures, so running it twice
writes identical files (tests/protocol/test_vectors.py checks the committed files are what it writes).

    scripts/gen_vectors.py [--out DIR]     (default: vault/protocol)

One folder per message (MESSAGE_VECTORS below), one file per case; each scripts/vectors_*.py module
writes one kind. Invalid vectors are built so that exactly one rule is broken: everything else
(including the signature, where the rule is not about the signature) is as a valid token would have
it, so a verifier that passes them does so for the stated reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import MANIFEST, issued
from vectors_access_request import access_request_vectors
from vectors_access_statement import access_statement_vectors
from vectors_acknowledgement import acknowledgement_vectors
from vectors_claim_values import claim_value_vectors
from vectors_manifest import manifest_vectors
from vectors_message import message_vectors, statement_messages
from vectors_message_rules import carried_message_ack_vectors, message_rule_vectors
from vectors_notice import notice_vectors
from vectors_pairwise import pairwise_vectors
from vectors_presentation import presentation_vectors
from vectors_revocation_ack import revocation_ack_vectors
from vectors_token import encoding_vectors, header_vectors, signature_vectors

from vault.protocol.manifest import encode_manifest

ROOT = Path(__file__).resolve().parent.parent


def all_vectors() -> list[dict]:
    """The presentation vectors (vectors/)."""
    base = issued("base")
    return [
        *presentation_vectors(base),
        *encoding_vectors(base),
        *header_vectors(base),
        *signature_vectors(base),
        *claim_value_vectors(),
    ]


# The folders beside `vectors/`, and what writes each.
MESSAGE_VECTORS = {
    "vectors_acknowledgement": lambda: [*acknowledgement_vectors(), *carried_message_ack_vectors()],
    "vectors_notice": notice_vectors,
    "vectors_revocation_ack": revocation_ack_vectors,
    "vectors_pairwise_key": pairwise_vectors,
    "vectors_manifest": manifest_vectors,
    "vectors_access_request": access_request_vectors,
    "vectors_access_statement": lambda: access_statement_vectors(statement_messages()),
    "vectors_message": lambda: [*message_vectors(), *message_rule_vectors()],
}


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def write_cases(folder: Path, cases: list[dict]) -> list[Path]:
    """One file per case, named after it; files of cases no longer generated are removed."""
    names = [case["name"] for case in cases]
    if len(set(names)) != len(names):
        raise AssertionError(f"vector names in {folder.name} must be unique")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        if stale.stem not in names:
            stale.unlink()
    written = []
    for case in cases:
        path = folder / f"{case['name']}.json"
        path.write_text(dump(case), encoding="utf-8")
        written.append(path)
    return written


def write(out: Path) -> list[Path]:
    vectors_dir = out / "vectors"
    examples_dir = out / "examples"
    vectors_dir.mkdir(parents=True, exist_ok=True)
    examples_dir.mkdir(parents=True, exist_ok=True)
    cases = all_vectors()
    written = write_cases(vectors_dir, cases)
    for folder, build in MESSAGE_VECTORS.items():
        written += write_cases(out / folder, build())
    manifest_path = examples_dir / "manifest.json"
    manifest_path.write_text(dump(json.loads(encode_manifest(MANIFEST))), encoding="utf-8")
    written.append(manifest_path)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "vault" / "protocol")
    args = parser.parse_args(argv)
    written = write(args.out)
    print(f"wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
