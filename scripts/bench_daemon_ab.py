#!/usr/bin/env python3
"""This tree's daemon against another tree's, for trying a change to the request path before building it.

    git worktree add /work/try HEAD          # then change /work/try
    scripts/bench_daemon_ab.py /work/try [--rounds 8] [--seconds 1.0]

A is this tree's `vault serve`, B the other tree's, each a real process on its own vault made, paired and
consented as scripts/bench_daemon.py does, both run by this interpreter (so with this environment's
packages). Both vaults are made by this tree's code: the other tree must open this one's vault format.
Rounds alternate which of the two goes first; each measurement is bench_daemon's closed-loop burst at 1
and at 16 clients. Printed for each: both medians, latency percentiles over all requests, and B/A as the
median of the ratios measured within a round, beside every round's ratio: their spread is the noise a
change must beat. Two A/A runs (the same code in both trees, 8 rounds, a quiet 2-core machine) gave
medians of 1.04 and 1.00 at 1 client, 0.92 and 1.00 at 16, from rounds anywhere in 0.69-1.24.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_daemon

CONCURRENCY = bench_daemon.CONCURRENCY


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other source tree (a checkout of this repository)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each measured burst")
    args = parser.parse_args(argv)
    trees = {"A": bench_daemon.ROOT, "B": args.other.resolve()}
    if not (trees["B"] / "vault" / "__main__.py").is_file():
        parser.error(f"{args.other} is not a checkout of this repository (no vault/__main__.py)")

    from vault.daemon.client import HEADER_CLIENT, DaemonClient

    workdirs = [Path(tempfile.mkdtemp(prefix="ab-", dir="/tmp")) for _ in trees]  # short socket paths
    processes: list[subprocess.Popen] = []
    try:
        setups = {}
        for (name, tree), workdir in zip(trees.items(), workdirs, strict=True):
            setups[name] = bench_daemon.start(workdir, processes, ceilings={}, root=tree)
            bench_daemon.pair_and_consent(setups[name])
        pools = {
            (name, n): [
                DaemonClient(setup.daemon_socket, headers={HEADER_CLIENT: setup.client_token})
                for _ in range(n)
            ]
            for name, setup in setups.items()
            for n in CONCURRENCY
        }
        samples = {key: bench_daemon.Samples() for key in pools}
        for (name, _), pool in pools.items():  # warm-up: connections, caches, the allocator
            bench_daemon.burst(pool, setups[name].manifest, min(0.3, args.seconds))
        for round_number in range(args.rounds):
            order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
            for n in CONCURRENCY:
                for name in order:
                    rate, latencies = bench_daemon.burst(pools[name, n], setups[name].manifest, args.seconds)
                    samples[name, n].rates.append(rate)
                    samples[name, n].latencies.extend(latencies)
        for pool in pools.values():
            for client in pool:
                client.close()
    finally:
        for proc in processes:
            bench_daemon.stop(proc)
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)

    ms, percentile = bench_daemon.ms, bench_daemon.percentile
    print(f"Presentations, {args.rounds} alternating rounds of {args.seconds:g} s each:")
    print(f"  A: {trees['A']}\n  B: {trees['B']}")
    for n in CONCURRENCY:
        for name in trees:
            s = samples[name, n]
            print(
                f"  {n:>2} client(s) {name}: median {statistics.median(s.rates):>7,.0f}/s  "
                f"p50 {ms(percentile(s.latencies, 50))} ms  p99 {ms(percentile(s.latencies, 99))} ms"
            )
        ratios = [b / a for a, b in zip(samples["A", n].rates, samples["B", n].rates, strict=True)]
        each = " ".join(f"{r:.2f}" for r in ratios)
        print(f"  {n:>2} client(s) B/A: {statistics.median(ratios):.3f} (rounds: {each})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
