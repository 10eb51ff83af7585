"""Real parts for the end-to-end tests: the demo shop (vault.demo, served by uvicorn on 127.0.0.1) with its
analytics partner (a process of its own, `python -m vault.demo.partner`), a
`vault serve --allow-loopback-http` daemon on a throw-away vault, and Debian's Chromium or firefox-esr with
the unpacked extension and the real native host.

The fixtures are the extension tests' own (`daemon`; `launch`, `browser`: a fresh browser profile per
test, paired with the daemon, each test once in Chromium and once in Firefox); only the vault's profile
differs: it can also answer `languages` (the claim the "changed purpose" scenario adds). One browser at a
time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.support import PROFILE
from tests.extension.conftest import browser, browser_name, daemon, launch  # noqa: F401 (fixtures, by name)
from vault.demo.server import PartnerProcess, ShopThread

E2E_PROFILE = {**PROFILE, "languages": ["nl", "en"]}


@pytest.fixture
def profile() -> dict:
    return E2E_PROFILE


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerProcess]:
    """Demo Analytics, the shop's third party, on http://127.0.0.1:PORT in a process of its own."""
    with PartnerProcess(tmp_path) as running:
        yield running


@pytest.fixture
def shop(partner: PartnerProcess) -> Iterator[ShopThread]:
    """Demo Shoes on http://127.0.0.1:PORT, in a thread of this process (`shop.shop` is its state),
    passing claims on to its partner when the user allows it."""
    with ShopThread(partners=(partner.link,)) as running:
        yield running
