#!/usr/bin/env python3
"""Where the daemon's CPU goes beside the durable ceiling's, by library, from Linux perf (issue 17).

    scripts/bench_daemon_perf.py [--seconds 8] [--clients 16] [--rate 999]

Runs `vault serve` and the durable ceiling as scripts/bench_daemon.py does, drives each in turn with its
closed-loop clients, and samples the server process with `perf record` while the load runs (the CPU time
of every thread, --rate times a second). Prints, per request, the microseconds spent in each shared
object: the Python interpreter (the vault's, Litestar's and uvicorn's Python code), SQLCipher (statements,
and each page's encryption and HMAC at commit), cryptography's library (Ed25519), the kernel (sockets,
fsync, wake-ups between threads), libc (malloc, memcpy, locks) and the rest. Unlike cProfile it does not
slow the Python down, and it sees the C code and the kernel, which a Python profiler cannot.

Needs perf (Debian: linux-perf) and permission to attach to a process (root, or kernel.perf_event_paranoid at
most 1). The figures include perf's own cost (a few percent): read the difference between the two servers.

What it showed (stop 30, one run each, us per request, the daemon against the durable ceiling): at 16
clients (1,622 and 2,655 requests/s under perf) 588 against 433 in all, of which the interpreter 287
against 194, SQLCipher 96 against 63, libc 46 against 24, Ed25519 62 against 63, the kernel 52 against 58.
At 1 client (576 and 934/s): 1,328 against 765, the interpreter 602 against 322, SQLCipher 255 against
133 (a lone disclosure's commit writes 7.4 pages, each encrypted and HMACed: bench_daemon_profile
phases), the kernel 198 against 139. So the gap is mostly the Python the vault runs for each request
(consent, claims, the ledger's rows), on one interpreter whose GIL the event loop serving the other
clients also needs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_daemon

PARTS = (  # (what a shared object's name starts with, what to call it)
    ("libpython", "Python interpreter"),
    ("_sqlite3", "SQLCipher"),
    ("_rust.abi3", "cryptography (Ed25519)"),
    ("[kernel", "kernel"),
    ("libc.so", "libc"),
)
OTHER = "everything else"
_ROW = re.compile(r"^\s*[\d.]+%\s+(\d+)\s+(\S.*?)\s*$")


def part_of(dso: str) -> str:
    return next((name for prefix, name in PARTS if dso.startswith(prefix)), OTHER)


def samples_by_part(data: Path) -> dict[str, int]:
    """perf report's samples per shared object, added up by PARTS."""
    report = subprocess.run(
        ["perf", "report", "-i", str(data), "--sort", "dso", "-n", "--stdio", "-q"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    parts: dict[str, int] = {}
    for line in report.splitlines():
        row = _ROW.match(line)
        if row:
            part = part_of(row[2])
            parts[part] = parts.get(part, 0) + int(row[1])
    return parts


def sampled_load(setup: bench_daemon.Setup, socket: Path, pid: int, args, data: Path) -> float:
    """Closed-loop load on `socket` from args.clients clients; perf samples `pid` for args.seconds in its
    middle. Returns the burst's requests per second (the sampled seconds are counted at that rate)."""
    from vault.daemon.client import HEADER_CLIENT, DaemonClient

    clients = [DaemonClient(socket, headers={HEADER_CLIENT: setup.client_token}) for _ in range(args.clients)]
    try:
        bench_daemon.burst(clients, setup.manifest, 1.0)  # warm-up
        result: list[float] = []
        load = threading.Thread(
            target=lambda: result.append(bench_daemon.burst(clients, setup.manifest, args.seconds + 2)[0])
        )
        load.start()
        time.sleep(1.0)
        record = ["perf", "record", "-F", str(args.rate), "-p", str(pid), "-o", str(data)]
        subprocess.run([*record, "--", "sleep", str(args.seconds)], capture_output=True, check=True)
        load.join()
        if not result:
            raise SystemExit("the load failed (above)")
        return result[0]
    finally:
        for client in clients:
            client.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="how long perf samples each server")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rate", type=int, default=999, help="samples a second")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.rate < 1:
        parser.error("--clients and --rate must be at least 1, --seconds more than 0")
    if shutil.which("perf") is None:
        print("perf is not installed (Debian: apt-get install linux-perf)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="vault-perf-"))
    processes: list[subprocess.Popen] = []
    try:
        setup = bench_daemon.start(workdir, processes, ceilings={"durable ceiling": "durable"})
        bench_daemon.pair_and_consent(setup)
        servers = {
            "vault serve": (setup.daemon_socket, setup.daemon.pid),
            "durable ceiling": (
                setup.ceiling_sockets["durable ceiling"],
                setup.ceiling_pids["durable ceiling"],
            ),
        }
        rows: dict[str, dict[str, float]] = {}
        rates: dict[str, float] = {}
        for name, (socket, pid) in servers.items():
            data = workdir / f"{pid}.perf"
            try:
                rates[name] = sampled_load(setup, socket, pid, args, data)
            except subprocess.CalledProcessError as e:
                print(
                    f"perf failed on the {name}: {e.stderr.decode(errors='replace').strip()}", file=sys.stderr
                )
                return 1
            requests = rates[name] * args.seconds
            rows[name] = {
                part: samples * 1e6 / args.rate / requests for part, samples in samples_by_part(data).items()
            }
    finally:
        for process in processes:
            bench_daemon.stop(process)
        shutil.rmtree(workdir, ignore_errors=True)
    daemon, ceiling = rows["vault serve"], rows["durable ceiling"]
    sampled = f"perf at {args.rate} Hz for {args.seconds:g} s"
    print(f"CPU per request by library (us), {args.clients} client(s), {sampled} on each server:")
    print(f"  {'':26}{'vault serve':>13}{'durable ceiling':>17}{'difference':>12}")
    print(f"  {'requests per second':26}{rates['vault serve']:>13,.0f}{rates['durable ceiling']:>17,.0f}")
    for part in [name for _, name in PARTS] + [OTHER]:
        mine, theirs = daemon.get(part, 0.0), ceiling.get(part, 0.0)
        print(f"  {part:26}{mine:>13.0f}{theirs:>17.0f}{mine - theirs:>+12.0f}")
    total, total_ceiling = sum(daemon.values()), sum(ceiling.values())
    print(f"  {'in all':26}{total:>13.0f}{total_ceiling:>17.0f}{total - total_ceiling:>+12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
