#!/usr/bin/env python3
"""What the daemon's idle memory release (vault.daemon.memory) costs, in-process, on the path it serves.

    scripts/bench_memory_release.py [--requests 1000 5000] [--samples 40]

A vault made as bench_daemon makes it, opened as the daemon's worker opens it (vault.daemon.worker's
_served), a first prompt answered "share everything, remember"; then remembered-consent presentations run
as the worker runs them (BEGIN IMMEDIATE, the request, COMMIT), one per commit. After each --requests
count, printed:
- the release itself: the page cache cut to its hot pages (shrink_cache) and malloc_trim(0), each timed
  on a thread, while a second thread counts how long it waited for the GIL (the longest gap between its
  ticks, against the same measured without a release), and what they gave back (this process's VmRSS);
- the request after a release against the request after none, alternated --samples times (A/B in one
  run), for the release as the daemon makes it and for an emptied cache (PRAGMA shrink_memory): a request
  pays for reading back, and decrypting, the pages it needs that the cache no longer holds.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import bench_daemon  # noqa: E402 (after the path is set)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def longest_gil_wait(work: Callable[[], object]) -> tuple[float, float]:
    """(seconds `work` took on a thread of its own, the longest gap between a ticking thread's ticks
    meanwhile): a gap much longer than a tick (0.2 ms of sleep) is the GIL held by `work`."""
    gaps: list[float] = []
    running = threading.Event()
    running.set()

    def tick() -> None:
        last = time.perf_counter()
        while running.is_set():
            time.sleep(0.0002)  # not spinning: a spinning ticker would make `work` wait for the GIL instead
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.01)
    took = [0.0]

    def timed() -> None:
        began = time.perf_counter()
        work()
        took[0] = time.perf_counter() - began

    worker = threading.Thread(target=timed)
    worker.start()
    worker.join()
    running.clear()
    ticker.join()
    return took[0], max(gaps)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args(argv)

    from vault.consent.service import Shared
    from vault.daemon.memory import KEEP_CACHE_KIB, MALLOC_TRIM, shrink_cache, trim_allocator

    workdir = Path(tempfile.mkdtemp(prefix="vm-", dir="/tmp"))
    try:
        vault, ask = bench_daemon.consented_vault(workdir / "vault")

        def presentation() -> float:
            if vault.paths.wal.stat().st_size >= 4 * 1024 * 1024:  # as the daemon's checkpoint duty does
                vault.checkpoint_wal()
            began = time.perf_counter()
            with bench_daemon.worker_batch(vault):
                assert isinstance(ask(), Shared)
            return time.perf_counter() - began

        def emptied() -> None:
            vault.conn.execute("PRAGMA shrink_memory")
            trim_allocator()

        def product() -> None:
            shrink_cache(vault)
            trim_allocator()

        done = 0
        for target in sorted(args.requests):
            while done < target:
                presentation()
                done += 1
            before = rss_kib()
            shrink, shrink_gap = longest_gil_wait(lambda: shrink_cache(vault))
            trim, trim_gap = longest_gil_wait(trim_allocator)
            _, idle_gap = longest_gil_wait(lambda: time.sleep(0.002))
            after = rss_kib()
            print(f"After {target:,} presentations (the cache full, as the load left it):")
            print(
                f"  release: cache cut to {KEEP_CACHE_KIB} KiB in {shrink * 1e3:.2f} ms (on the worker), "
                f"malloc_trim in {trim * 1e3:.2f} ms{'' if MALLOC_TRIM else ' (no glibc: skipped)'}; "
                f"VmRSS {before / 1024:.1f} -> {after / 1024:.1f} MiB "
                f"({(before - after) / 1024:.1f} MiB given back)"
            )
            print(
                f"  longest GIL wait of another thread meanwhile: {shrink_gap * 1e3:.2f} ms (cut), "
                f"{trim_gap * 1e3:.2f} ms (trim), {idle_gap * 1e3:.2f} ms (a 2 ms sleep, for reference)"
            )
            for name, release in (
                (f"cut to {KEEP_CACHE_KIB} KiB (the product)", product),
                ("emptied", emptied),
            ):
                cold: list[float] = []
                warm: list[float] = []
                for i in range(args.samples * 2):
                    for _ in range(5):  # the cache warm again, whichever came before
                        presentation()
                    if i % 2 == 0:
                        release()
                        cold.append(presentation())
                    else:
                        warm.append(presentation())
                    done += 6
                median_cold, median_warm = statistics.median(cold), statistics.median(warm)
                print(
                    f"  the request after a release, cache {name}: median {median_cold * 1e6:.0f} µs, "
                    f"against {median_warm * 1e6:.0f} µs after none ({args.samples} each, alternated): "
                    f"{(median_cold - median_warm) * 1e6:+.0f} µs"
                )
        vault.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
