"""Constants and helpers the tests share (fixtures live in conftest.py)."""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from vault.store import KdfParams

# The floor the product accepts: tests stay fast without a test-only weakening of the real code path.
FAST_KDF = KdfParams(time_cost=2, memory_kib=19 * 1024)
PASSPHRASE = "correct horse battery staple"
NOW = 1_790_000_000  # 2026-09-21, a fixed clock for everything that takes one


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Optional tools may be missing on a developer's machine, never in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@dataclass
class Result:
    code: int
    out: str
    err: str


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file's bytes: to show that a refused operation changed nothing."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}
