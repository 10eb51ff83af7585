"""scripts/bench_startup.py's memory report still runs against a real daemon, and says where the daemon's
resident pages are: the parts it lists add up to the VmRSS it reports."""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "bench_startup.py"
MIB = r" +([\d.]+) MiB"


def test_the_memory_report_names_its_floor_and_where_the_pages_are() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--only", "memory"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    bare = float(re.search(r"bare idle interpreter \(baseline\)" + MIB, out)[1])
    floor = float(re.search(r"the daemon's libraries imported, no more" + MIB, out)[1])
    after = float(re.search(r"idle after 50 presentations" + MIB, out)[1])
    assert bare < floor < after  # the libraries cost something; the daemon holds more than they do
    assert re.search(r"target <= 60 MiB: (MEETS|MISSES)", out)
    parts = re.search(r"where it is \(resident KiB.*?\):\n((?:    .*\n)+)", out)[1].splitlines()
    assert parts[0].split()[0] == "anonymous" and re.fullmatch(r" +\d+ other mapped files .*", parts[-1])
    resident = [int(line.split("->")[1].split()[0].replace(",", "")) for line in parts]
    # smaps' Rss summed by part is VmRSS, both read in the same idle second (to the MiB it is printed in)
    assert abs(sum(resident) / 1024 - after) <= 0.1
