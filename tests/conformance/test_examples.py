"""Both example sites of vault/site/examples/ (plain ASGI and Litestar), each a real uvicorn process, pass
every case of `vault conformance` with its defaults (the endpoints at /vault/nonce and
/vault/presentation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.conftest import play
from tests.site.test_examples import NAMES, ExampleSite
from vault.conformance import CASES


@pytest.mark.parametrize("name", NAMES)
def test_an_example_site_passes_every_case(name: str, tmp_path: Path) -> None:
    with ExampleSite(name, tmp_path / "site.log") as site:
        report = play(site.origin)
    assert report.passed, [(r.id, r.detail) for r in report.results if not r.passed]
    assert [r.id for r in report.results] == [case.id for case in CASES]
    assert report.purpose == "suggestions"
    # It passes nothing to third parties, so there is no required one to leave out.
    assert {r.id for r in report.results if r.skipped} == {"presentation.missing_recipient"}
