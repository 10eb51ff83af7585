"""scripts/bench_browser.py still runs, in Chromium and in Firefox: a --quick smoke run exits 0 and prints
every line of its report."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browsers.bidi import MIN_VERSION, firefox_executable
from tests.extension.support import BROWSERS, chromium_path
from tests.support import skip_or_fail

SCRIPT = Path(__file__).parents[2] / "scripts" / "bench_browser.py"
HOP_LABELS = [
    "page -> content script (event)",
    "native port -> host -> daemon -> back",
    "content script -> page (event)",
    "the browser and extension (page minus native hop)",
]
EXPECTED = [
    r"Page API to token in the page in (Chromium|Firefox), consent remembered \(20 requests after 5 warm-up, "
    r"one at a time, "
    r"timed in the page with performance.now\(\)(, its 1 ms rounding turned off)?\):\n",
    r"\n  median [\d.]+ ms \((MEETS|MISSES) <= 6 ms\)\n",
    r"\n  p99 +[\d.]+ ms \((MEETS|MISSES) <= 20 ms\)\n",
    r"\n  the last token verified with the shop's manifest: age_over_18, interests, location.country, "
    r"sizes.shoe\n",
    r"\nWhere the page's time goes, hop by hop \(same requests; ms, median / p99; medians don't add up\):\n",
    *(rf"\n  {re.escape(label)} +-?[\d.]+ / +-?[\d.]+\n" for label in HOP_LABELS),
    r"\n  storage.session calls before the native frame: .* per request \(spanning [\d.]+ ms median\)\n",
    r"\nThe same POST /v1/presentations without the browser \(20 each, one at a time, in 2 rounds "
    r"interleaved with the page.s\):\n",
    r"\n  straight to the daemon's socket \(DaemonClient\) +median [\d.]+ ms, p99 [\d.]+ ms\n",
    r"\n  through the native host +median [\d.]+ ms, p99 [\d.]+ ms\n",
    r"\n  the browser's part of the page's median \(page minus native host\): -?[\d.]+ ms\n",
    r"\n  the browser's native messaging \(worker's native hop minus native host\): -?[\d.]+ ms\n",
]


@pytest.mark.slow
@pytest.mark.parametrize("browser_name", BROWSERS)
def test_quick_run_reports_everything(browser_name: str) -> None:
    if browser_name == "firefox":
        if firefox_executable() is None:
            skip_or_fail(f"firefox-esr {MIN_VERSION} or newer is not installed (apt-get install firefox-esr)")
    else:
        if importlib.util.find_spec("playwright") is None:
            skip_or_fail("playwright is not installed in the virtualenv")
        chromium_path()  # skips (or fails under CI) without Chromium
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--browser", browser_name],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for pattern in EXPECTED:
        assert re.search(pattern, proc.stdout), f"{pattern!r} not in:\n{proc.stdout}"
    assert f"in the page in {browser_name.capitalize()}," in proc.stdout
