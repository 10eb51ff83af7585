#!/usr/bin/env python3
"""How fast the daemon answers presentations over its Unix socket, against two ceilings measured in the
same run: a bare Litestar endpoint that only signs one, and the same endpoint that also appends one
hash-chained row to a SQLCipher ledger (WAL, synchronous=FULL, group commit) before it answers (the
durable ceiling); the native host's round trip; the daemon's memory.

    scripts/bench_daemon.py [--rounds 7] [--seconds 1.0] [--native 400]
    scripts/bench_daemon.py --quick                 # a short smoke run (a few seconds)

The daemon is a real `vault serve` process on a temporary vault made with the product's minimum KDF,
with a paired client whose consent for the example shop is remembered, so every request is granted: the
manifest is checked, the policy consulted, a presentation signed and its disclosure committed to the
ledger before the token is returned. The ceilings are scripts/bench_daemon_ceiling.py (which says what
each does), each in its own process on its own Unix socket.

Load: each client is a thread with its own keep-alive DaemonClient (stdlib HTTP, what the native host and
the CLI use), in closed loop, 1 and 16 clients. The clients' own work (HTTP parsing and JSON, a few hundred
microseconds per request on a small machine) is serialised by their process's GIL; separate client
processes would not make it cheaper here (2 cores, which the servers need too), and it weighs on the
daemon and the ceilings alike. Rounds interleave the contenders as bench_verify.py's interleaved() does
(rotating their order), but each measurement is a time-boxed burst from many threads that also records
latencies; rates are medians over rounds, each ratio is the median of the ratios measured within one round,
and latency percentiles are taken over all requests of all rounds.

The native host is a real `vault native-host --socket S` process, driven over its stdin and stdout with
length-prefixed frames, one request at a time: GET /v1/status and POST /v1/presentations.

Targets (issue 17): the daemon >= 0.7x the durable ceiling at 1 and at 16 clients; the daemon's p99 at 16
clients <= 1.5x the durable ceiling's p99 at 16. (Against the signing ceiling the ratio is printed for
reference.)
"""

import argparse
import contextlib
import gc
import itertools
import json
import os
import secrets
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_daemon_ceiling import command as ceiling_command  # noqa: E402 (after the path is set)

PASSPHRASE = "bench passphrase, not a secret"  # noqa: S105 (a throwaway vault)
ORIGIN = "https://shop.example"
PROFILE = {"birthdate": "1990-05-17", "country": "NL", "sizes.shoe": 42, "interests": ["jazz", "running"]}
# What the daemon discloses for the example shop's "recommendations" purpose, given PROFILE.
CLAIMS = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42, "interests": ["jazz", "running"]}
CONCURRENCY = (1, 16)
RATIO_TARGET = 0.7  # the daemon's rate against the durable ceiling's, at each concurrency
P99_RATIO_TARGET = 1.5  # the daemon's p99 at 16 clients against the durable ceiling's
CEILINGS = {"ceiling": "sign", "durable ceiling": "durable"}
# The daemon gives its cache back after RELEASE_AFTER_IDLE (2) whole seconds without use, checked every
# TICK (2 s): at most 5 s after the last request (vault.daemon.memory, vault.daemon.state).
IDLE_SECONDS = 6.5
HEADER = struct.Struct("<I")


# -- processes -----------------------------------------------------------------------------------------


def wait_for(path: Path, proc: subprocess.Popen, what: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{what} exited with {proc.returncode} before it was ready:\n{tail}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} was not ready within {timeout:g} s")
        time.sleep(0.02)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now), VmHWM (the peak) and the resident set's parts (RssAnon: the process's own;
    RssFile: mapped files, mostly shared libraries' code), in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0])
    return fields


@dataclass
class Setup:
    workdir: Path
    daemon: subprocess.Popen
    daemon_socket: Path
    ceiling_sockets: dict[str, Path]  # by contender name (CEILINGS)
    ceiling_pids: dict[str, int]  # the same, their server processes
    admin_token: str
    client_token: str
    manifest: str


def make_vault(home: Path) -> None:
    from vault.store import KdfParams, Vault
    from vault.store.kdf import MEMORY_KIB_RANGE, TIME_COST_RANGE

    minimum = KdfParams(time_cost=TIME_COST_RANGE[0], memory_kib=MEMORY_KIB_RANGE[0])
    now = int(time.time())
    with Vault.create(home, PASSPHRASE, now=now, kdf=minimum) as vault:
        for name, value in PROFILE.items():
            vault.set_attribute(name, value, now=now)


def consented_vault(home: Path) -> tuple[Any, Callable[[], Any]]:
    """(vault, ask) for in-process measurements: a vault made as make_vault makes it, opened as the
    daemon's worker opens it (the read model on, no automatic checkpoints), the example shop's first prompt
    answered "share everything, remember". `ask()` is then a remembered-consent request_presentation run
    as the worker runs it, a rerun_safe job with no savepoint of its own: call it inside worker_batch."""
    from vault.consent.policy import Answer
    from vault.consent.service import PromptNeeded, Shared, decide_prompt, request_presentation
    from vault.daemon.worker import _served
    from vault.protocol.manifest import decode_manifest
    from vault.site import make_nonce
    from vault.store import Vault

    make_vault(home)
    vault = _served(Vault.open(home, PASSPHRASE, now=int(time.time())))
    assert vault.reads is not None
    manifest = decode_manifest(
        (ROOT / "vault" / "protocol" / "examples" / "manifest.json").read_text().encode()
    )

    def new_id() -> str:
        return secrets.token_urlsafe(16)

    def request() -> Any:
        return request_presentation(
            vault,
            manifest=manifest,
            audience=manifest.origin,
            purpose_id="recommendations",
            nonce=make_nonce(),
            now=int(time.time()),
            new_id=new_id,
            prompt_view=False,
        )

    def ask() -> Any:
        vault.job_savepoint = True
        try:
            return request()
        finally:
            vault.job_savepoint = False

    first = request()
    assert isinstance(first, PromptNeeded), first
    answer = Answer(share=True, claims=frozenset(CLAIMS), remember=True)
    decided = decide_prompt(vault, first.prompt.id, answer, now=int(time.time()), new_id=new_id)
    assert isinstance(decided, Shared), decided
    return vault, ask


@contextlib.contextmanager
def worker_batch(vault: Any) -> Iterator[None]:
    """One batch's transaction as the daemon's worker runs it: BEGIN IMMEDIATE, the read model begun (the
    write lock held), then COMMIT and the model ended."""
    vault.conn.execute("BEGIN IMMEDIATE")
    vault.reads.begin()
    yield
    vault.conn.execute("COMMIT")
    vault.reads.end()


def start_daemon(
    workdir: Path, processes: list[subprocess.Popen], log_path: Path, *args: str, root: Path = ROOT
) -> tuple[subprocess.Popen, Path, str]:
    """`vault serve` (unlocked, extra `args`) on a fresh vault; returns (process, socket, admin token).
    The process is registered in `processes` at once, for the caller to stop. `root`: the source tree whose
    `vault` package runs (`python -m` finds it first in the working directory)."""
    home, run = workdir / "vault", workdir / "run"
    run.mkdir(mode=0o700)
    make_vault(home)
    passphrase = workdir / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "XDG_RUNTIME"))}
    socket = run / "vault.sock"
    log = open(log_path, "ab")  # noqa: SIM115 (lives as long as the process)
    command = [sys.executable, "-m", "vault", "--vault", str(home), "--passphrase-file", str(passphrase)]
    command += ["serve", "--socket", str(socket), *args]
    daemon = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=root)
    processes.append(daemon)
    admin_path = run / "admin-token"
    wait_for(admin_path, daemon, "vault serve", log_path)
    wait_for(socket, daemon, "vault serve", log_path)
    return daemon, socket, admin_path.read_text().strip()


def start(
    workdir: Path, processes: list[subprocess.Popen], ceilings: dict[str, str] = CEILINGS, root: Path = ROOT
) -> Setup:
    """Starts the daemon (from the source tree `root`) and the `ceilings` (registered in `processes` at
    once, for the caller to stop)."""
    log_path = workdir / "serve.log"
    daemon, daemon_socket, admin_token = start_daemon(workdir, processes, log_path, root=root)
    ceiling_sockets, ceiling_pids = {}, {}
    for name, kind in ceilings.items():
        ceiling_socket = workdir / f"{kind}.sock"
        log = open(log_path, "ab")  # noqa: SIM115 (lives as long as the process)
        ceiling = subprocess.Popen(
            ceiling_command(kind, ceiling_socket, workdir / "ceiling.db" if kind == "durable" else None),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
        processes.append(ceiling)
        wait_for(ceiling_socket, ceiling, f"the {name} server", log_path)
        ceiling_sockets[name], ceiling_pids[name] = ceiling_socket, ceiling.pid
    manifest = (ROOT / "vault" / "protocol" / "examples" / "manifest.json").read_text()
    return Setup(
        workdir=workdir,
        daemon=daemon,
        daemon_socket=daemon_socket,
        ceiling_sockets=ceiling_sockets,
        ceiling_pids=ceiling_pids,
        admin_token=admin_token,
        client_token=secrets.token_urlsafe(32),
        manifest=manifest,
    )


def pair_and_consent(setup: Setup) -> None:
    """As a user would: the client asks to pair, the owner approves, the first visit's prompt is answered
    "share everything, remember"."""
    from vault.daemon.client import HEADER_ADMIN, HEADER_CLIENT, DaemonClient
    from vault.site import make_nonce

    with (
        DaemonClient(setup.daemon_socket, headers={HEADER_CLIENT: setup.client_token}) as client,
        DaemonClient(setup.daemon_socket, headers={HEADER_ADMIN: setup.admin_token}) as admin,
    ):
        status, body = client.request_json("POST", "/v1/pairing", {"name": "bench"})
        assert status == 200 and body["state"] == "pending", body
        status, body = admin.request_json("POST", "/v1/admin/pairings/approve", {"code": body["code"]})
        assert status == 200, body
        status, body = client.request_json(
            "POST", "/v1/presentations", request_body(setup.manifest, make_nonce())
        )
        assert status == 200 and body["outcome"] == "consent_required", body
        prompt = body["prompt"]
        decision = {"share": True, "claims": [q["claim"] for q in prompt["questions"]], "remember": True}
        status, body = client.request_json("POST", f"/v1/prompts/{prompt['id']}/decision", decision)
        assert status == 200 and body["outcome"] == "granted", body
        assert body["claims"] == CLAIMS, body["claims"]


def request_body(manifest: str, nonce: str) -> dict[str, Any]:
    return {"origin": ORIGIN, "manifest": manifest, "purpose": "recommendations", "nonce": nonce}


# -- load ----------------------------------------------------------------------------------------------


@dataclass
class Samples:
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, every request of every round
    commits: int = 0  # the durable ceiling's: how many commits its requests took


def burst(clients: list, manifest: str, seconds: float) -> tuple[float, list[float]]:
    """Closed loop: every client sends its next request as soon as the last is answered, for `seconds`.
    Returns (requests per second, latencies)."""
    from vault.site import make_nonce

    latencies: list[float] = []
    failures: list[Any] = []
    start_line = threading.Barrier(len(clients) + 1)
    stop_at = [0.0]

    def run(client) -> None:
        mine = []
        start_line.wait()
        end = stop_at[0]
        clock = time.perf_counter
        while True:
            body = request_body(manifest, make_nonce())
            began = clock()
            status, answer = client.request_json("POST", "/v1/presentations", body)
            done = clock()
            if status != 200 or answer.get("outcome") != "granted":
                failures.append((status, answer))
                break
            mine.append(done - began)
            if done >= end:
                break
        latencies.extend(mine)  # one extend per thread: list.extend is atomic under the GIL

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    gc.collect()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start_line.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"a request was not granted: {failures[0]}")
    return len(latencies) / elapsed, latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def compare(setup: Setup, rounds: int, seconds: float) -> dict[tuple[str, int], Samples]:
    from vault.daemon.client import HEADER_CLIENT, DaemonClient

    headers = {HEADER_CLIENT: setup.client_token}
    sockets = {"vault serve": setup.daemon_socket, **setup.ceiling_sockets}
    clients = {
        (name, n): [DaemonClient(path, headers=headers) for _ in range(n)]
        for name, path in sockets.items()
        for n in CONCURRENCY
    }
    samples = {key: Samples() for key in clients}
    try:
        for pool in clients.values():  # warm-up: connections, caches, the allocator
            burst(pool, setup.manifest, min(0.3, seconds))
        names = list(sockets)
        for round_number in range(rounds):
            turn = round_number % len(names)
            order = names[turn:] + names[:turn]
            for n in CONCURRENCY:
                for name in order:
                    before = ceiling_head(setup) if name == "durable ceiling" else None
                    rate, latencies = burst(clients[name, n], setup.manifest, seconds)
                    samples[name, n].rates.append(rate)
                    samples[name, n].latencies.extend(latencies)
                    if before is not None:
                        samples[name, n].commits += ceiling_head(setup)["commits"] - before["commits"]
    finally:
        for pool in clients.values():
            for client in pool:
                client.close()
    return samples


def ceiling_head(setup: Setup) -> dict[str, int]:
    """The durable ceiling's rows and commits so far."""
    from vault.daemon.client import DaemonClient

    with DaemonClient(setup.ceiling_sockets["durable ceiling"]) as ceiling:
        status, head = ceiling.request_json("GET", "/v1/ledger/head")
    assert status == 200, head
    return head


def report_comparison(samples: dict[tuple[str, int], Samples], rounds: int, seconds: float) -> None:
    print(
        f"Presentations over a Unix socket (medians of {rounds} interleaved rounds of {seconds:g} s; "
        "latency percentiles over all requests):"
    )
    print(f"  {'clients':>7}  {'server':<52} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    labels = {
        "vault serve": "vault serve (consent, sign, ledger commit)",
        "ceiling": "ceiling (bare Litestar endpoint that signs)",
        "durable ceiling": "durable ceiling (signs, one hash-chained row, FULL)",
    }
    for n in CONCURRENCY:
        for name in labels:
            s = samples[name, n]
            print(
                f"  {n:>7}  {labels[name]:<52} {statistics.median(s.rates):>8,.0f} "
                f"{ms(percentile(s.latencies, 50)):>8} {ms(percentile(s.latencies, 99)):>8}"
            )
    for n in CONCURRENCY:
        ratios = {}
        for ceiling in CEILINGS:
            pairs = zip(samples["vault serve", n].rates, samples[ceiling, n].rates, strict=True)
            ratios[ceiling] = statistics.median(a / b for a, b in pairs)
        verdict = "MEETS" if ratios["durable ceiling"] >= RATIO_TARGET else "MISSES"
        print(
            f"  daemon / durable ceiling at {n:>2} client(s): {ratios['durable ceiling']:.2f}x "
            f"({verdict} the >= {RATIO_TARGET}x target; {ratios['ceiling']:.2f}x the signing ceiling)"
        )
    per_commit = (
        f"{len(samples['durable ceiling', n].latencies) / max(1, samples['durable ceiling', n].commits):.1f} "
        f"at {n}"
        for n in CONCURRENCY
    )
    print(f"  durable ceiling's rows per commit: {', '.join(per_commit)} client(s)")
    last = CONCURRENCY[-1]
    p99 = percentile(samples["vault serve", last].latencies, 99)
    p99_durable = percentile(samples["durable ceiling", last].latencies, 99)
    ratio = p99 / p99_durable
    verdict = "MEETS" if ratio <= P99_RATIO_TARGET else "MISSES"
    print(
        f"  daemon p99 at {last} clients: {ms(p99)} ms, {ratio:.2f}x the durable ceiling's "
        f"{ms(p99_durable)} ms ({verdict} the <= {P99_RATIO_TARGET}x target)"
    )


# -- the native host -----------------------------------------------------------------------------------


class NativeHost:
    """A real `vault native-host` process, spoken to as the browser does."""

    def __init__(self, socket_path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vault", "native-host", "--socket", str(socket_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            bufsize=0,
        )
        self.ids = itertools.count()

    def call(self, method: str, path: str, client: str, body: Any = None) -> tuple[int, Any]:
        frame: dict[str, Any] = {"id": next(self.ids), "method": method, "path": path, "client": client}
        if body is not None:
            frame["body"] = body
        data = json.dumps(frame, separators=(",", ":")).encode()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(HEADER.pack(len(data)) + data)
        (length,) = HEADER.unpack(self._read(HEADER.size))
        reply = json.loads(self._read(length))
        assert reply["id"] == frame["id"], reply
        return reply["status"], reply["body"]

    def _read(self, size: int) -> bytes:
        assert self.proc.stdout is not None
        chunks = []
        while size:
            chunk = self.proc.stdout.read(size)
            if not chunk:
                raise SystemExit("the native host closed its stdout")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the browser closing the port: the host exits
        self.proc.wait(30)


def timed(n: int, call: Callable[[], tuple[int, Any]]) -> list[float]:
    call()  # warm-up (the first request opens the host's connection to the daemon)
    latencies = []
    for _ in range(n):
        began = time.perf_counter()
        status, body = call()
        latencies.append(time.perf_counter() - began)
        if status != 200:
            raise SystemExit(f"the native host answered {status}: {body}")
    return latencies


def native_round_trips(setup: Setup, n: int) -> None:
    from vault.daemon.client import HEADER_CLIENT, DaemonClient
    from vault.site import make_nonce

    host = NativeHost(setup.daemon_socket)
    token = setup.client_token
    try:
        rows = {
            "GET /v1/status through the native host": timed(n, lambda: host.call("GET", "/v1/status", token)),
            "POST /v1/presentations through the native host": timed(
                n,
                lambda: host.call(
                    "POST", "/v1/presentations", token, request_body(setup.manifest, make_nonce())
                ),
            ),
        }
    finally:
        host.close()
    with DaemonClient(setup.daemon_socket, headers={HEADER_CLIENT: token}) as direct:
        rows["GET /v1/status straight to the socket (for reference)"] = timed(
            n, lambda: direct.request_json("GET", "/v1/status")
        )
    print(f"Native host round trip (one request at a time, {n} each):")
    for label, latencies in rows.items():
        print(
            f"  {label:<55} median {ms(statistics.median(latencies))} ms, "
            f"p99 {ms(percentile(latencies, 99))} ms"
        )


def check_ledger(setup: Setup) -> None:
    """Every granted request above left a disclosure in the hash-chained ledger; check the chain."""
    from vault.daemon.client import HEADER_ADMIN, DaemonClient

    with DaemonClient(setup.daemon_socket, headers={HEADER_ADMIN: setup.admin_token}, timeout=120) as admin:
        status, verification = admin.request_json("GET", "/v1/ledger/verify")
    if status != 200 or not verification["ok"]:
        raise SystemExit(f"the daemon's ledger does not verify: {status} {verification}")
    print(f"Ledger after the runs: {verification['entries']:,} entries, hash chain verified")
    with DaemonClient(setup.ceiling_sockets["durable ceiling"], timeout=120) as ceiling:
        status, chain = ceiling.request_json("GET", "/v1/ledger/verify")
    if status != 200 or not chain["ok"]:
        raise SystemExit(f"the durable ceiling's ledger does not verify: {status} {chain}")
    print(
        f"Durable ceiling's ledger: {chain['entries']:,} entries in {chain['commits']:,} commits "
        f"({chain['entries'] / max(1, chain['commits']):.1f} per commit), hash chain verified"
    )


# -- main ----------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each measured burst")
    parser.add_argument("--native", type=int, default=400, help="native host requests of each kind")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.native = 1, 0.2, 30

    workdir = Path(tempfile.mkdtemp(prefix="vb-", dir="/tmp"))  # short: socket paths are limited
    processes: list[subprocess.Popen] = []
    try:
        setup = start(workdir, processes)
        started = memory_kib(setup.daemon.pid)
        pair_and_consent(setup)
        samples = compare(setup, args.rounds, args.seconds)
        report_comparison(samples, args.rounds, args.seconds)
        native_round_trips(setup, args.native)
        check_ledger(setup)
        time.sleep(0.5)
        just_after = memory_kib(setup.daemon.pid)
        time.sleep(IDLE_SECONDS - 0.5)
        idle = memory_kib(setup.daemon.pid)
        print(
            f"Daemon memory (VmRSS): {started['VmRSS'] / 1024:.1f} MiB after startup (unlocked), "
            f"{just_after['VmRSS'] / 1024:.1f} MiB 0.5 s after the runs, {idle['VmRSS'] / 1024:.1f} MiB idle "
            f"{IDLE_SECONDS:g} s after them (peak {idle['VmHWM'] / 1024:.1f} MiB)"
        )
    finally:
        for proc in processes:
            stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
