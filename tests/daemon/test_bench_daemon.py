"""scripts/bench_daemon.py still runs: a --quick smoke run exits 0 and prints every part of its report."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "bench_daemon.py"
EXPECTED = [
    r"Presentations over a Unix socket \(medians of 1 interleaved rounds",
    r"\n +1  vault serve \(consent, sign, ledger commit\) +[\d,]+ +[\d.]+ +[\d.]+\n",
    r"\n +1  ceiling \(bare Litestar endpoint that signs\) +[\d,]+ +[\d.]+ +[\d.]+\n",
    r"\n +1  durable ceiling \(signs, one hash-chained row, FULL\) +[\d,]+ +[\d.]+ +[\d.]+\n",
    r"\n +16  vault serve \(consent, sign, ledger commit\) +[\d,]+ +[\d.]+ +[\d.]+\n",
    r"\n +16  ceiling \(bare Litestar endpoint that signs\) +[\d,]+ +[\d.]+ +[\d.]+\n",
    r"\n +16  durable ceiling \(signs, one hash-chained row, FULL\) +[\d,]+ +[\d.]+ +[\d.]+\n",
    r"daemon / durable ceiling at  1 client\(s\): [\d.]+x \((MEETS|MISSES) the >= 0.7x target; "
    r"[\d.]+x the signing ceiling\)",
    r"daemon / durable ceiling at 16 client\(s\): [\d.]+x \((MEETS|MISSES) the >= 0.7x target; "
    r"[\d.]+x the signing ceiling\)",
    r"durable ceiling's rows per commit: [\d.]+ at 1, [\d.]+ at 16 client\(s\)",
    r"daemon p99 at 16 clients: [\d.]+ ms, [\d.]+x the durable ceiling's [\d.]+ ms "
    r"\((MEETS|MISSES) the <= 1.5x target\)",
    r"GET /v1/status through the native host +median [\d.]+ ms, p99 [\d.]+ ms",
    r"POST /v1/presentations through the native host +median [\d.]+ ms, p99 [\d.]+ ms",
    r"Ledger after the runs: [\d,]+ entries, hash chain verified",
    r"Durable ceiling's ledger: [\d,]+ entries in [\d,]+ commits \([\d.]+ per commit\), hash chain verified",
    r"Daemon memory \(VmRSS\): [\d.]+ MiB after startup .*, [\d.]+ MiB idle after the runs \(peak [\d.]+",
]


@pytest.mark.slow
def test_quick_run_reports_everything() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for pattern in EXPECTED:
        assert re.search(pattern, proc.stdout), f"{pattern!r} not in:\n{proc.stdout}"
