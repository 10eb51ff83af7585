"""The demo's own parts, shared by its tests: the analytics partner's process; a vault with a profile; the
shop in this process (`client`, with a settable `clock` and a `replay` store the test can see)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests.demo.shop_support import ORIGIN, PROFILE, SITE_KEY, Clock
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.demo.server import PartnerProcess
from vault.demo.shop import create_shop
from vault.site import InMemoryReplayStore
from vault.store import Vault


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerProcess]:
    """Demo Analytics on http://127.0.0.1:PORT, a process of its own with a fresh shared secret."""
    with PartnerProcess(tmp_path) as running:
        yield running


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    with Vault.create(tmp_path / "vault", PASSPHRASE, now=NOW, kdf=FAST_KDF) as v:
        for name, value in PROFILE.items():
            v.set_attribute(name, value, now=NOW)
        yield v


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def replay() -> InMemoryReplayStore:
    return InMemoryReplayStore()


@pytest.fixture
def client(clock: Clock, replay: InMemoryReplayStore) -> Iterator[TestClient]:
    app = create_shop(origin=ORIGIN, site_key=SITE_KEY, clock=clock, replay=replay)
    with TestClient(app) as c:
        yield c
