"""The demo's own parts, shared by its tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vault.demo.server import PartnerProcess


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerProcess]:
    """Demo Analytics on http://127.0.0.1:PORT, a process of its own with a fresh shared secret."""
    with PartnerProcess(tmp_path) as running:
        yield running
