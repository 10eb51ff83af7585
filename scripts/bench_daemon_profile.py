#!/usr/bin/env python3
"""Where the daemon's time goes on the path scripts/bench_daemon.py drives: a remembered-consent presentation.

    scripts/bench_daemon_profile.py phases [--requests 2000]     # statements and time per phase, in-process
    scripts/bench_daemon_profile.py cpu [--seconds 10]             # CPU per request, by thread (/proc)
    scripts/bench_daemon_profile.py serve [--seconds 10] [--clients 16] [--top 30]  # cProfile `vault serve`
    scripts/bench_daemon_profile.py worker [--seconds 10]          # the worker thread's wall time, by part

`phases` opens a vault made as bench_daemon makes it, answers the first prompt "share everything, remember",
then runs request_presentation as the daemon's worker does (BEGIN IMMEDIATE, each request with no savepoint
of its own as a rerun_safe job, COMMIT), one request per commit (one client) and in batches of 16 (sixteen
clients). It prints every SQL statement of one request (the connection's trace callback), and the time of
each phase: the consent layer's calls are wrapped in timers where vault.consent.service looks them up, so
the code that runs is the product's own, with one perf_counter pair per phase added.

`serve` runs a real `vault serve` under cProfile (every thread: the event loop and the vault worker each
get a profile), drives it with bench_daemon's closed-loop clients, stops it, and prints each thread's
profile by own time and by cumulative time. cProfile counts wall time: a call that lets the GIL go (a
SQLite statement, hashing 2 KiB or more) is charged the wait to take it back from the other thread. It
slows Python code several-fold and C calls hardly at all: read its shares, not its absolute figures.

What `cpu` showed at 16 clients (stop 26): the daemon's event loop costs what the durable ceiling's does
(200-335 us a request, the ceiling's signing included); the difference is the worker, 245-400 us of user
time against the ceiling writer's 90-160, mostly the consent layer's Python, holding the GIL the loop
needs. Tried then with scripts/bench_daemon_ab.py (the change in a worktree), without gain: signing on a
thread of its own while the worker writes the disclosure (cryptography's Ed25519 lets the GIL go: two
threads sign at twice one's rate here): three runs gave 0.97-1.09x at 1 client and 0.91-0.94x at 16,
where two A/A runs gave 1.00-1.04 and 0.92-1.00. And in bench_daemon runs alternating with the default,
the interpreter's switch interval at 0.2 ms and 1 ms instead of 5: within noise.

`worker` times the vault worker of a real `vault serve` (its group commits and their jobs, from a wrapper
that reports on SIGUSR1). What it showed (stop 27, three runs): at 16 clients the worker is the
bottleneck, waiting for work 11-14 us a request; a request costs it 267-316 us in its job (215-239 of
them CPU) and 336-345 us in the rest of its group commit of 8 (103-107 CPU). So each commit waits ~1.9 ms:
its fsync (at 1 client a commit waits 175-220 us in all) and, for the most part, taking the GIL back from
the event loop, busy with the other fifteen clients' requests meanwhile. With a
0.2 ms switch interval that wait fell from 357 to 214 us a request, but the jobs' own waits rose from 328
to 554: the wait moves, it does not go. Nor did moving the request's consent evaluation and signing onto
the event loop (a prototype, the worker only writing the disclosure; bench_daemon_ab, 6 rounds): its job
fell from 310 to 155 us at 1 client, but B/A was 0.98 there and 1.01 at 16 clients, where the worker's
job, 134 us of CPU, then waited 227 us for the GIL.

What did help (stop 28): the whole job on the loop's own thread, the worker only beginning and committing
(vault.daemon.worker._run_on_loop): bench_daemon_ab gave 1.18x, 1.12x, 1.02x and 1.09x at 16 clients; at 1
client 1.10x and 0.95x, so a batch of one still runs on the worker. `worker` then: at 16 clients a commit of 8
costs the worker 424 us a request (126 CPU) besides its jobs, 224 us on the loop. Tried after it, without gain
(bench_daemon_ab, 6-8 rounds): BEGIN on the loop too, without waiting for another writer (0.95x at 1 client,
1.00x at 16); the loop leading its batches with a thread of its own for COMMIT, two cross-thread wake-ups a
batch instead of four (1.08x, 0.98x); a 0.5 ms switch interval (1.05x, 0.96x); asyncio's own loop instead of
uvloop (0.96x, 0.84x); signing with the GIL held (0.97x, 0.94x: the loop then waits for every signature). The
waits move; the Python the two threads run under one GIL bounds the daemon under load.

What helped next (stop 31): signing a remembered-consent presentation on the loop ahead of its turn, while
the worker commits the previous batch, from the read model's memory, its job then only recording it
(vault.consent.prepared). Unlike stop 27's prototype, which moved that work to the loop for every request,
the jobs themselves already ran on the loop: what changed is that the signature no longer waits for the
write lock. `cpu` at 16 clients then: the event loop 354 us a request, the durable ceiling's 347; the
worker 105 against its writer's 150. bench_daemon_ab: 1.13x at 16 clients (rounds 1.02-1.34); only while the
worker is busy, since at 1 client preparing always measured 0.94x.

And then (stop 32): the route answered without Litestar's request machinery (vault.daemon.fast_path), on
the event loop's thread, where Litestar cost a presentation 60-85 us in-process against ~10 for reading,
decoding and answering it directly. bench_daemon_ab: 1.20x at 1 client (rounds 1.13-1.29), 1.14x at 16
(1.02-1.34). Dropping disclosures from ledger_by_ref (an upper bound: acknowledgements need the index)
measured 1.05x and 1.03x, within the noise.
"""

import argparse
import ast
import contextlib
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import bench_daemon  # noqa: E402 (after the path is set)

# -- phases, in-process -----------------------------------------------------------------------------------

TIMES: dict[str, list[float]] = defaultdict(list)


def timed(name: str, fn: Callable) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name].append(time.perf_counter() - began)

    return wrapper


def instrument() -> None:
    """Timers around each phase of service.request_presentation (and of the signing it calls in
    vault.consent.prepared), where each looks them up."""
    from vault.consent import disclosures, evaluated, ledger, prepared, service
    from vault.store import Vault

    for name in ("evaluated", "remember_manifest", "record_disclosure", "manifest_index"):
        setattr(service, name, timed(name, getattr(service, name)))
    for name in ("issue_presentation", "key_subject"):
        setattr(prepared, name, timed(name, getattr(prepared, name)))
    disclosures.ledger.append_disclosure = timed("  ledger.append_disclosure", ledger.append_disclosure)
    # Inside `evaluated`, when the read model does not answer: the policy's own work.
    for name in ("derive_claims", "active_context_until", "standing_decisions", "load_rules", "evaluate"):
        setattr(evaluated, name, timed(f"  {name}", getattr(evaluated, name)))
    for name in ("attributes", "site_epoch", "pairwise_key"):
        setattr(Vault, name, timed(f"vault.{name}", getattr(Vault, name)))


def phases(requests: int) -> None:
    from vault.consent.service import Shared

    workdir = Path(tempfile.mkdtemp(prefix="vp-", dir="/tmp"))
    try:
        vault, ask = bench_daemon.consented_vault(workdir / "vault")
        reads = vault.reads

        statements: list[str] = []
        # The first batch forgets what decide_prompt wrote, the second fills the read model, the third is
        # answered as in a running daemon. (A TEMP trigger of the model that fires on the ledger head's
        # write is traced as that statement again; its WHEN clause lets it do nothing.)
        for _ in range(3):
            statements.clear()
            vault.conn.set_trace_callback(statements.append)
            with bench_daemon.worker_batch(vault):
                assert isinstance(ask(), Shared)
            vault.conn.set_trace_callback(None)
        print(f"SQL statements of one remembered-consent request, as the worker runs it ({len(statements)}):")
        for text in statements:
            print("  " + " ".join(text.split())[:150])

        instrument()
        wal = vault.paths.wal
        for batch in (1, 16):
            TIMES.clear()
            for _ in range(requests // batch):
                # As the daemon's background duty: the WAL is copied back (off the clock) past 4 MiB, so it
                # is rewritten from its start rather than grown (growing it costs every fsync more).
                if wal.stat().st_size >= 4 * 1024 * 1024:
                    vault.checkpoint_wal()
                began = time.perf_counter()
                vault.conn.execute("BEGIN IMMEDIATE")
                reads.begin()
                for _ in range(batch):
                    began_one = time.perf_counter()
                    assert isinstance(ask(), Shared)
                    TIMES["request (as the worker runs it)"].append(time.perf_counter() - began_one)
                committing = time.perf_counter()
                vault.conn.execute("COMMIT")
                reads.end()
                TIMES["COMMIT (one per batch)"].append(time.perf_counter() - committing)
                TIMES["batch"].append(time.perf_counter() - began)
            report(batch, requests)
            # What one commit writes: from an emptied WAL, a few commits, then count the log's frames.
            vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            commits = 32
            for _ in range(commits):
                with bench_daemon.worker_batch(vault):
                    for _ in range(batch):
                        assert isinstance(ask(), Shared)
            _, frames, _ = vault.checkpoint_wal()
            print(
                f"  pages written to the WAL per commit (each encrypted, then fsynced): "
                f"{frames / commits:.1f}"
            )
        vault.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(batch: int, requests: int) -> None:
    n = requests // batch * batch
    per_request = sum(TIMES["batch"]) / n
    print(
        f"\nPer request, {n} requests in batches of {batch} (one commit per batch): "
        f"{per_request * 1e6:,.0f} us in all (the worker's part; HTTP is not in it)"
    )
    print(f"  {'phase':<34} {'calls/req':>9} {'us/req':>8} {'share':>6} {'median us/call':>15}")
    for name, values in sorted(TIMES.items(), key=lambda item: -sum(item[1])):
        if name == "batch":
            continue
        total = sum(values) / n
        print(
            f"  {name:<34} {len(values) / n:>9.2f} {total * 1e6:>8,.0f} {total / per_request:>6.0%} "
            f"{statistics.median(values) * 1e6:>15,.0f}"
        )


# -- CPU per request, by thread ----------------------------------------------------------------------------


def thread_cpu(pid: int) -> dict[int, tuple[float, float]]:
    """CPU seconds of each live thread of a process: {thread id: (user, system)}. The main thread's id is
    the pid (the servers' event loop); Python names no thread for the OS, so the others go by their ids."""
    tick = os.sysconf("SC_CLK_TCK")
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            threads[int(tid)] = (int(fields[11]) / tick, int(fields[12]) / tick)  # utime, stime
    return threads


def cpu(seconds: float) -> None:
    """CPU time per request of each thread of the daemon and of the ceilings (and of the clients), user
    and system apart, from /proc: what a request costs the machine, where a profile under load shows
    waits too. System time is mostly the fsync of each commit and the sockets."""
    from vault.daemon.client import HEADER_CLIENT, DaemonClient

    workdir = Path(tempfile.mkdtemp(prefix="vc-", dir="/tmp"))
    processes: list[subprocess.Popen] = []
    try:
        setup = bench_daemon.start(workdir, processes)
        bench_daemon.pair_and_consent(setup)
        pids = {"vault serve": setup.daemon.pid, **setup.ceiling_pids}
        sockets = {"vault serve": setup.daemon_socket, **setup.ceiling_sockets}
        print(f"CPU per request (us, user + system), {seconds:g} s of closed-loop load each:")
        for n in bench_daemon.CONCURRENCY:
            for name, path in sockets.items():
                pid = pids[name]
                pool = [DaemonClient(path, headers={HEADER_CLIENT: setup.client_token}) for _ in range(n)]
                bench_daemon.burst(pool, setup.manifest, 0.3)
                server, client = thread_cpu(pid), os.times()
                rate, latencies = bench_daemon.burst(pool, setup.manifest, seconds)
                server_after, client_after = thread_cpu(pid), os.times()
                for c in pool:
                    c.close()
                us = 1e6 / len(latencies)
                used = {}
                for tid, (user, system) in server_after.items():  # one that ended meanwhile is not seen
                    user_before, system_before = server.get(tid, (0, 0))  # one that started counts from 0
                    used[tid] = ((user - user_before) * us, (system - system_before) * us)
                busy = sorted(
                    (t for t in used if t != pid and sum(used[t]) >= 1), key=lambda t: -sum(used[t])
                )
                parts = [("event loop", *used[pid])] + [
                    (f"thread {i}", *used[t]) for i, t in enumerate(busy, 1)
                ]
                clients = (client_after.user + client_after.system - client.user - client.system) * us
                total = sum(user + system for _, user, system in parts)
                shown = "; ".join(f"{what} {user:,.0f} + {system:,.0f}" for what, user, system in parts)
                print(
                    f"  {n:>2} client(s) {name:<16} {rate:>6,.0f}/s  server {total:>5,.0f} ({shown}); "
                    f"clients {clients:,.0f}"
                )
    finally:
        for proc in processes:
            bench_daemon.stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


# -- cProfile of `vault serve` under load --------------------------------------------------------------

# Every wrapper starts with WRAPPED_HEAD (its output path, and the tree to import), and ends by running the
# daemon as `python -m vault` would (WRAPPED_TAIL).
WRAPPED_HEAD = """
import os, runpy, sys
out = sys.argv.pop(1)
sys.path.insert(0, os.getcwd())  # the tree bench_daemon.start runs (its cwd), as `-m vault` would
"""
WRAPPED_TAIL = """
sys.argv[0] = "vault"
runpy.run_module("vault", run_name="__main__", alter_sys=True)
"""

WRAPPER = """
import cProfile, threading, atexit
profiles = {}
run = threading.Thread.run
def profiled(self):
    profile = profiles.setdefault(self.name, cProfile.Profile())
    profile.enable()
    try:
        run(self)
    finally:
        profile.disable()
threading.Thread.run = profiled
main = profiles["main"] = cProfile.Profile()
def dump():
    main.disable()
    for name, profile in profiles.items():
        profile.dump_stats(os.path.join(out, name + ".prof"))
atexit.register(dump)
main.enable()
"""


@contextlib.contextmanager
def served_by(wrapper: str, out: Path, clients: int) -> Iterator[tuple[bench_daemon.Setup, list]]:
    """`vault serve` run by `wrapper` (Python source, between WRAPPED_HEAD and WRAPPED_TAIL; it writes to
    `out`), paired and consented, with `clients` of bench_daemon's clients; stopped on leaving (so the
    wrapper's atexit hooks run)."""
    from vault.daemon.client import HEADER_CLIENT, DaemonClient

    workdir = out.parent
    (workdir / "wrapper.py").write_text(WRAPPED_HEAD + wrapper + WRAPPED_TAIL)
    processes: list[subprocess.Popen] = []
    real = sys.executable
    try:
        # bench_daemon.start runs [sys.executable, "-m", "vault", ...]: the wrapper takes its place.
        shim = workdir / "python"
        shim.write_text(f'#!/bin/sh\nshift 2\nexec {real} {workdir / "wrapper.py"} {out} "$@"\n')
        shim.chmod(0o700)
        sys.executable = str(shim)
        setup = bench_daemon.start(workdir, processes, ceilings={})  # the daemon alone
        sys.executable = real
        bench_daemon.pair_and_consent(setup)
        headers = {HEADER_CLIENT: setup.client_token}
        pool = [DaemonClient(setup.daemon_socket, headers=headers) for _ in range(clients)]
        try:
            yield setup, pool
        finally:
            for client in pool:
                client.close()
    finally:
        sys.executable = real
        for proc in processes:
            bench_daemon.stop(proc)


def serve(seconds: float, clients: int, top: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="vs-", dir="/tmp"))
    profiles = workdir / "profiles"
    profiles.mkdir()
    try:
        with served_by(WRAPPER, profiles, clients) as (setup, pool):
            rate, latencies = bench_daemon.burst(pool, setup.manifest, seconds)
        print(
            f"Under cProfile, {clients} clients for {seconds:g} s: {rate:,.0f} requests/s, p50 "
            f"{bench_daemon.ms(bench_daemon.percentile(latencies, 50))} ms ({len(latencies):,} requests)"
        )
        for path in sorted(profiles.glob("*.prof")):
            stats = pstats.Stats(str(path))
            if stats.total_tt < 0.05:
                continue
            print(
                f"\n== thread {path.stem}: {stats.total_tt:.2f} s of wall time under the profiler "
                "(waits for the GIL included)"
            )
            for order in ("tottime", "cumulative"):
                stats.sort_stats(order).print_stats(top)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- the worker thread's time under load -------------------------------------------------------------------

WORKER_WRAPPER = """
import signal, threading, time
from vault.daemon import worker
names = ("batches", "jobs", "batch_wall", "batch_cpu", "jobs_wall", "jobs_cpu", "jobs_cpu_on_worker")
totals = dict.fromkeys(names, 0.0)
commit = worker.VaultWorker._commit
def timed(run):
    def timed_run():
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return run()
        finally:
            totals["jobs_wall"] += time.perf_counter() - wall
            totals["jobs_cpu"] += (used := time.thread_time() - cpu)
            if threading.current_thread().name == "vault-worker":  # a rerun, or a loop that had stopped
                totals["jobs_cpu_on_worker"] += used
    return timed_run
def timed_commit(self, vault, batch, **options):
    for job in batch:
        job.run = timed(job.run)
    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        return commit(self, vault, batch, **options)
    finally:
        totals["batch_wall"] += time.perf_counter() - wall
        totals["batch_cpu"] += time.thread_time() - cpu
        totals["batches"] += 1
        totals["jobs"] += len(batch)
worker.VaultWorker._commit = timed_commit
def snapshot(signum, frame):
    with open(out, "a") as f:
        f.write(repr({**totals, "at": time.perf_counter()}) + "\\n")
signal.signal(signal.SIGUSR1, snapshot)
"""


def worker_totals(pid: int, out: Path) -> dict[str, float]:
    """The wrapper's running totals, written on SIGUSR1 (by the event loop's thread, once it runs Python:
    at the latest on the daemon's next background tick)."""
    lines = len(out.read_text().splitlines()) if out.exists() else 0
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if out.exists() and len(written := out.read_text().splitlines()) > lines:
            return ast.literal_eval(written[-1])
        time.sleep(0.01)
    raise SystemExit("the daemon did not report its worker's totals")


def worker(seconds: float) -> None:
    """Where the worker thread's wall time goes under load: a batch's jobs (each request's consent, signing
    and ledger statement; run on the event loop's thread while the worker waits, their CPU that thread's),
    the rest of each group commit (BEGIN, COMMIT with its page encryption and fsync, lending the batch to
    the loop and handing the outcomes back, and every wait to take the GIL back; its CPU the worker's own),
    and waiting for work."""
    workdir = Path(tempfile.mkdtemp(prefix="vw-", dir="/tmp"))
    out = workdir / "worker-totals"
    try:
        with served_by(WORKER_WRAPPER, out, max(bench_daemon.CONCURRENCY)) as (setup, pool):
            print(f"The vault worker's time per request (us: wall, and the thread's CPU), {seconds:g} s each")
            for n in bench_daemon.CONCURRENCY:
                bench_daemon.burst(pool[:n], setup.manifest, 0.3)
                before = worker_totals(setup.daemon.pid, out)
                rate, _ = bench_daemon.burst(pool[:n], setup.manifest, seconds)
                after = worker_totals(setup.daemon.pid, out)
                d = {name: after[name] - before[name] for name in after}
                us = 1e6 / d["jobs"]
                commit_wall = d["batch_wall"] - d["jobs_wall"]
                commit_cpu = d["batch_cpu"] - d["jobs_cpu_on_worker"]
                print(
                    f"  {n:>2} client(s) {rate:>6,.0f}/s, {d['jobs'] / d['batches']:4.1f} per commit: "
                    f"jobs {d['jobs_wall'] * us:,.0f} ({d['jobs_cpu'] * us:,.0f} CPU); "
                    f"begin, commit, settle {commit_wall * us:,.0f} ({commit_cpu * us:,.0f} CPU); "
                    f"waiting for work {(d['at'] - d['batch_wall']) * us:,.0f}"
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("phases", "cpu", "serve", "worker"))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    os.umask(0o077)
    if args.what == "phases":
        phases(args.requests)
    elif args.what == "cpu":
        cpu(args.seconds)
    elif args.what == "worker":
        worker(args.seconds)
    else:
        serve(args.seconds, args.clients, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
