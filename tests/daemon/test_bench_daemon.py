"""scripts/bench_daemon.py still runs: a --quick smoke run exits 0 and prints every part of its report. The
durable ceiling it measures against (scripts/bench_daemon_ceiling.py) commits rows together, answers none
before its commit, and writes a hash chain whose check finds an edited row."""

import asyncio
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "bench_daemon.py"
CEILING = SCRIPT.with_name("bench_daemon_ceiling.py")
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
    r"Daemon memory \(VmRSS\): [\d.]+ MiB after startup \(unlocked\), [\d.]+ MiB 0.5 s after the runs, "
    r"[\d.]+ MiB idle 6.5 s after them \(peak [\d.]+",
]


@pytest.mark.slow
def test_quick_run_reports_everything() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for pattern in EXPECTED:
        assert re.search(pattern, proc.stdout), f"{pattern!r} not in:\n{proc.stdout}"


def ceiling_module():
    spec = importlib.util.spec_from_file_location("bench_daemon_ceiling", CEILING)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_durable_ceiling_commits_together_and_its_chain_finds_an_edit(tmp_path: Path) -> None:
    ledger = ceiling_module().DurableLedger(tmp_path / "ceiling.db")

    async def many() -> list[int]:
        return await asyncio.gather(
            *(ledger.append(1, "https://a.example", "p", f"j{i}", "{}") for i in range(40))
        )

    seqs = asyncio.run(many())
    assert sorted(seqs) == list(range(1, 41))
    # Each answer came after its commit: every row is readable on another connection once gather returns.
    assert ledger.verify() == {"entries": 40, "commits": ledger.batches, "ok": True}
    assert ledger.batches < 40  # requests queued while a commit ran went into the next one together
    ledger.conn.execute("DROP TRIGGER ledger_no_update")
    ledger.conn.execute("UPDATE ledger SET body = '{\"x\": 1}' WHERE seq = 7")
    assert ledger.verify()["ok"] is False


def test_the_profile_of_phases_still_times_each_phase() -> None:
    """scripts/bench_daemon_profile.py wraps the consent layer's calls where the code looks them up: after
    the signing moved to vault.consent.prepared it stopped with an AttributeError."""
    profile = SCRIPT.with_name("bench_daemon_profile.py")
    proc = subprocess.run(
        [sys.executable, str(profile), "phases", "--requests", "32"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for batch in (1, 16):
        report = proc.stdout.split(f"in batches of {batch} ")[1]
        for phase in ("COMMIT (one per batch)", "issue_presentation", "record_disclosure", "evaluated"):
            assert re.search(rf"\n  {re.escape(phase)} +1\.00|\n  {re.escape(phase)} +0\.\d+", report), phase
