"""`vault conformance` as people and CI run it: a real `vault` process against a real site process; the
table, --json and --junit; exit 0, 1 and 2."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from tests.conformance.conftest import ROOT, Served, child_env
from vault.conformance import CASES


def vault(*args: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "vault", "conformance", *args],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed


def demo_urls(shop: Served) -> list[str]:
    return [
        shop.origin,
        "--nonce-url",
        shop.origin + "/api/nonce",
        "--submit-url",
        shop.origin + "/api/verify",
    ]


def test_the_demo_shop_conforms_as_json_and_junit(demo_shop: Served, tmp_path: Path) -> None:
    as_json = vault(*demo_urls(demo_shop), "--json")
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["passed"] is True and report["origin"] == demo_shop.origin
    assert report["counts"] == {"passed": len(CASES) - 1, "failed": 0, "skipped": 1}
    first = report["cases"][0]
    assert set(first) == {"id", "title", "passed", "skipped", "status", "detail", "fix"}
    assert [case["id"] for case in report["cases"]] == [case.id for case in CASES]
    # Progress went to stderr, one line per case, so stdout stays one JSON object.
    assert as_json.stderr.count("\n") == len(CASES)
    assert f"[ 3/{len(CASES)}] pass  presentation.valid" in as_json.stderr

    junit = tmp_path / "conformance.xml"
    as_table = vault(*demo_urls(demo_shop), "--junit", str(junit))
    assert as_table.returncode == 0
    assert as_table.stdout.rstrip().endswith(
        f"{demo_shop.origin} conforms: {len(CASES) - 1} passed, 0 failed, 1 skipped."
    )
    assert "presentation.expired" in as_table.stdout and "refused (400, reason expired)" in as_table.stdout
    suite = ET.parse(junit).getroot().find("testsuite")  # noqa: S314 (our own file)
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (str(len(CASES)), "0", "1")
    assert [case.get("name") for case in suite.iter("testcase")] == [case.id for case in CASES]


def test_a_failing_site_exits_1_and_junit_names_the_failure(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    site = serve("audience_unchecked")
    junit = tmp_path / "conformance.xml"
    completed = vault(site.origin, "--junit", str(junit))
    assert completed.returncode == 1
    assert "does not conform: " in completed.stdout and "1 failed" in completed.stdout
    cases = ET.parse(junit).getroot().iter("testcase")  # noqa: S314 (our own file)
    failures = [case for case in cases if case.find("failure") is not None]
    assert [case.get("name") for case in failures] == ["presentation.wrong_audience"]
    failure = failures[0].find("failure")
    assert failure is not None and failure.get("message") == "accepted it (answered 200)"
    assert "check aud against the manifest's origin" in (failure.text or "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_usage_errors_and_an_unreachable_site_exit_2(demo_shop: Served) -> None:
    cases = {
        ("http://shop.example",): "http is only allowed for localhost",
        (demo_shop.origin, "--json", "--junit", "x.xml"): "give --json or --junit, not both",
        (demo_shop.origin, "--nonce-url", "http://127.0.0.1:1/api/nonce"): "is not a URL on "
        + demo_shop.origin,
        (
            demo_shop.origin,
            "--purpose",
            "nope",
        ): "the manifest declares no purpose 'nope'; it declares recommendations",
        (f"http://127.0.0.1:{free_port()}",): "the site could not be reached: http://127.0.0.1:",
    }
    for args, words in cases.items():
        completed = vault(*args)
        assert completed.returncode == 2, (args, completed.stdout, completed.stderr)
        assert words in completed.stderr, (args, completed.stderr)
        assert completed.stdout == ""


def test_help_says_what_it_does_and_the_exit_codes() -> None:
    completed = vault("--help")
    assert completed.returncode == 0
    assert "Play a vault against the running site at ORIGIN" in completed.stdout
    assert "2  bad usage, or the site could not be reached" in completed.stdout
