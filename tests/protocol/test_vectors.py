"""The committed presentation vectors: each one gives the verifier's expected outcome. And every
committed vector folder (the other messages' are checked by test_vectors_messages.py) is what the
generator writes, byte for byte, so stale vectors fail here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from vault.protocol import decode_manifest
from vault.protocol.errors import Reason
from vault.site import InMemoryReplayStore, PresentationInvalid, verify_presentation

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "vault" / "protocol"
VECTORS = sorted((PROTOCOL / "vectors").glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def run_vector(case: dict) -> object:
    inputs = case["inputs"]
    manifest = decode_manifest(msgspec.json.encode(inputs["manifest"]))
    assert manifest.origin == inputs["audience"]
    replay = InMemoryReplayStore()
    for seen in inputs["seen"]:
        assert replay.remember(seen["key"], seen["expires_at"], inputs["now"])
    return verify_presentation(
        inputs["token"],
        manifest=manifest,
        nonce=inputs["nonce"],
        now=inputs["now"],
        replay=replay,
        max_skew=inputs["max_skew"],
        max_lifetime=inputs["max_lifetime"],
    )


@pytest.mark.parametrize("path", VECTORS, ids=[path.stem for path in VECTORS])
def test_vector(path: Path) -> None:
    case = load(path)
    assert case["name"] == path.stem
    assert case["comment"]
    if case["expect"] == "valid":
        verified = run_vector(case)
        assert verified.claims == case["claims"]
        assert verified.subject == case["subject"]
        assert list(verified.recipients) == case["recipients"]
    else:
        with pytest.raises(PresentationInvalid) as raised:
            run_vector(case)
        assert raised.value.reason == Reason(case["expect"])


def test_enough_vectors_of_each_kind() -> None:
    expectations = [load(path)["expect"] for path in VECTORS]
    assert expectations.count("valid") >= 3
    assert len(expectations) - expectations.count("valid") >= 20


def test_regenerating_gives_the_committed_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_vectors.py"), "--out", str(tmp_path)], check=True
    )
    written = sorted(path.name for path in tmp_path.iterdir() if path.is_dir())
    committed_folders = sorted(path.name for path in PROTOCOL.glob("vectors*") if path.is_dir())
    assert {"vectors", "examples", "vectors_notice", "vectors_manifest"} <= set(written)
    assert committed_folders == [name for name in written if name.startswith("vectors")]
    for relative in written:
        fresh = {path.name: path.read_bytes() for path in (tmp_path / relative).iterdir()}
        committed = {
            path.name: path.read_bytes() for path in (PROTOCOL / relative).iterdir() if path.is_file()
        }
        assert fresh.keys() == committed.keys()
        for name, content in fresh.items():
            assert content == committed[name], f"{relative}/{name} differs from what gen_vectors.py writes"
