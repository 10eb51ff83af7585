#!/usr/bin/env python3
"""How fast the vault's processes start and how much memory the daemon holds, against a bare interpreter
measured in the same run.

    scripts/bench_startup.py [--spawns 40] [--serves 5] [--requests 1000]
    scripts/bench_startup.py --quick                 # a short smoke run

Measured (issue 17 §3), each printed with its target and MEETS/MISSES:
- native host start: spawn of `vault native-host --socket S` (the console script in this venv) to the
  answer of its first frame (GET /v1/status from a real daemon), median and p99 over N spawns; target
  median <= 60 ms. Beside it, interleaved spawn by spawn: the baseline, a bare `python -I -c pass` in the
  same venv (spawn to exit), and the launcher `vault install-browser` writes (`python -I <launcher>`),
  which is what a browser really starts.
- the native host's round trip on a warm port (GET /v1/status), against the same request sent straight to
  the daemon's socket by the CLI's client, interleaved.
- `vault serve` start (unlocked with the product's minimum KDF, and --locked) to its first answered
  GET /v1/status; reported against the baseline (no target).
- the daemon's idle memory (VmRSS) after unlock and after 1,000 granted presentations (each signed and
  committed to the ledger), idle being IDLE_SECONDS without a request (the daemon's idle duty has given
  SQLite's cache and the allocator's free pages back by then); target <= 60 MiB; the baseline is an idle
  bare interpreter's VmRSS. Beside it, the floor the daemon's libraries set (an interpreter that imported
  them and did nothing else), and where the daemon's resident pages are (/proc/PID/smaps): its anonymous
  memory (Python's objects, the allocator's arenas, stacks) and each mapped file of 1 MiB or more.

The vault package is byte-compiled first, as pip does when it installs the wheel a person runs: from a
checkout with PYTHONDONTWRITEBYTECODE=1 (as on these machines) every process would otherwise compile the
vault's modules from source at each start. Measured (stop 30, same machine, minutes apart): the native
host 9.3 ms over the baseline from source against 4.0-4.4 ms compiled, `vault serve` to its first status
22.3x the baseline against 16.7-17.9x; the daemon's idle memory the same either way (the compiler's
memory is freed and used again).
"""

import argparse
import compileall
import json
import os
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_daemon  # noqa: E402 (after the path is set)

PYTHON = sys.executable
VAULT = str(Path(sys.executable).parent / "vault")
HOST_TARGET_MS = 60.0
# The 60 ms was set against a 34 ms bare interpreter on an idle machine: on a busy one the same
# target, as a ratio to the baseline measured in the same run, is what compares across runs.
HOST_TARGET_RATIO = HOST_TARGET_MS / 34.0
RSS_TARGET_MIB = 60.0
IDLE_SECONDS = bench_daemon.IDLE_SECONDS
# What `vault serve` imports from its dependencies (pyproject.toml): an interpreter that imported these and
# nothing else is the floor under the daemon's memory; the rest is the vault's code and state.
LIBRARIES = [
    *("litestar", "uvicorn", "uvloop", "httptools", "msgspec", "sqlcipher3", "argon2", "click"),
    *("platformdirs", "rfc8785", "cryptography.hazmat.primitives.asymmetric.ed25519"),
    "cryptography.hazmat.primitives.kdf.hkdf",
]
PART_SHOWN_KIB = 1024  # smaller mapped files are shown together
HEADER = struct.Struct("<I")
STATUS_FRAME = json.dumps({"id": 1, "method": "GET", "path": "/v1/status"}).encode()


def verdict(ok: bool) -> str:
    return "MEETS" if ok else "MISSES"


def percentile(values: list[float], p: float) -> float:
    return bench_daemon.percentile(values, p)


def read_exactly(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise SystemExit("the native host closed its stdout before answering")
        data += chunk
    return data


CPU: dict[str, list[float]] = {}  # by contender: CPU seconds (user + system) of each spawned process


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def host_first_frame(command: list[str]) -> float:
    """Seconds from spawning a native host to reading the answer to its first frame (then it is closed)."""
    began = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(HEADER.pack(len(STATUS_FRAME)) + STATUS_FRAME)
    (length,) = HEADER.unpack(read_exactly(proc.stdout.fileno(), HEADER.size))
    reply = json.loads(read_exactly(proc.stdout.fileno(), length))
    elapsed = time.perf_counter() - began
    proc.stdin.close()
    proc.wait(30)
    proc.stdout.close()
    if reply.get("status") != 200:
        raise SystemExit(f"the native host answered {reply}")
    return elapsed


def bare_python() -> float:
    began = time.perf_counter()
    subprocess.run([PYTHON, "-I", "-c", "pass"], check=True)
    return time.perf_counter() - began


def interleaved(contenders: dict[str, Callable[[], float]], n: int) -> dict[str, list[float]]:
    """n samples of each, the order rotated every round so none always runs first (or warm). The CPU
    time of the processes each one spawns and waits for goes to CPU[name] (steadier than wall time on a
    busy machine)."""
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(n):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            cpu = children_cpu()
            samples[name].append(contenders[name]())
            CPU.setdefault(name, []).append(children_cpu() - cpu)
    return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f}"


def native_host_start(socket_path: Path, workdir: Path, spawns: int) -> None:
    from vault.daemon.install import launcher_script

    launcher = workdir / "vault_native_host"
    launcher.write_text(launcher_script(socket_path))
    launcher.chmod(0o700)
    samples = interleaved(
        {
            "bare `python -I -c pass` (baseline)": bare_python,
            "`vault native-host` to first answer": lambda: host_first_frame(
                [VAULT, "native-host", "--socket", str(socket_path)]
            ),
            "installed launcher to first answer": lambda: host_first_frame([str(launcher)]),
        },
        spawns,
    )
    baseline = statistics.median(next(iter(samples.values())))
    cpu_baseline = statistics.median(next(iter(CPU[name] for name in samples)))
    print(f"Native host start ({spawns} spawns each, interleaved):")
    for name, values in samples.items():
        median, cpu = statistics.median(values), statistics.median(CPU[name])
        print(
            f"  {name:<40} median {ms(median)} ms  p99 {ms(percentile(values, 99))} ms  "
            f"min {ms(min(values))} ms  ({median / baseline:.2f}x baseline, +{ms(median - baseline)} ms); "
            f"CPU {ms(cpu)} ms (+{ms(cpu - cpu_baseline)} ms)"
        )
    median = statistics.median(samples["`vault native-host` to first answer"])
    print(
        f"  target: `vault native-host` median <= {HOST_TARGET_MS:g} ms: {median * 1000:.1f} ms "
        f"{verdict(median * 1000 <= HOST_TARGET_MS)}; as a ratio, <= {HOST_TARGET_RATIO:.2f}x the baseline "
        f"(60 ms against 34 ms): {median / baseline:.2f}x {verdict(median / baseline <= HOST_TARGET_RATIO)}"
    )


def host_round_trips(socket_path: Path, token: str, n: int) -> None:
    from vault.daemon.client import HEADER_CLIENT, DaemonClient

    host = bench_daemon.NativeHost(socket_path)
    try:
        with DaemonClient(socket_path, headers={HEADER_CLIENT: token}) as direct:
            host.call("GET", "/v1/status", token)
            direct.request_json("GET", "/v1/status")

            def through_host() -> float:
                began = time.perf_counter()
                status, _ = host.call("GET", "/v1/status", token)
                assert status == 200
                return time.perf_counter() - began

            def straight() -> float:
                began = time.perf_counter()
                status, _ = direct.request_json("GET", "/v1/status")
                assert status == 200
                return time.perf_counter() - began

            samples = interleaved({"straight to the socket": straight, "through the host": through_host}, n)
    finally:
        host.close()
    direct_median = statistics.median(samples["straight to the socket"])
    print(f"Native host round trip, warm port (GET /v1/status, {n} each, interleaved):")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"  {name:<40} median {ms(median)} ms  p99 {ms(percentile(values, 99))} ms  "
            f"(+{(median - direct_median) * 1e6:,.0f} µs over straight)"
        )


def first_status(socket_path: Path, proc: subprocess.Popen, deadline: float) -> None:
    """Polls until the daemon answers GET /v1/status (raw HTTP: no client import in the timing)."""
    request = b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"vault serve exited with {proc.returncode}")
        if time.perf_counter() > deadline:
            raise SystemExit("vault serve did not answer in time")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(str(socket_path))
                sock.sendall(request)
                answer = sock.recv(65536)
            if answer.startswith(b"HTTP/1.1 200"):
                return
        except OSError:
            pass
        time.sleep(0.002)


def serve_start(workdir: Path, serves: int) -> None:
    home, passphrase = workdir / "vault", workdir / "passphrase"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "XDG_RUNTIME"))}

    def start(*args: str) -> Callable[[], float]:
        def once() -> float:
            run = Path(tempfile.mkdtemp(prefix="vs-", dir="/tmp"))
            sock = run / "vault.sock"
            command = [VAULT, "--vault", str(home), "--passphrase-file", str(passphrase), "serve"]
            began = time.perf_counter()
            proc = subprocess.Popen(
                [*command, "--socket", str(sock), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            try:
                first_status(sock, proc, began + 60)
                return time.perf_counter() - began
            finally:
                bench_daemon.stop(proc)
                shutil.rmtree(run, ignore_errors=True)

        return once

    samples = interleaved(
        {
            "bare `python -I -c pass` (baseline)": bare_python,
            "`vault serve` (unlocked) to first status": start(),
            "`vault serve --locked` to first status": start("--locked"),
        },
        serves,
    )
    baseline = statistics.median(next(iter(samples.values())))
    print(f"Daemon start ({serves} starts each, interleaved; no target, measured):")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"  {name:<40} median {ms(median)} ms  min {ms(min(values))} ms  max {ms(max(values))} ms  "
            f"({median / baseline:.1f}x baseline)"
        )


def idle_rss_kib(imports: str) -> int:
    """VmRSS of an idle interpreter that imported `imports` (comma-separated), once it has (it says so on
    stdout)."""
    code = f"import {imports}; print(flush=True); sys.stdin.read()"
    proc = subprocess.Popen([PYTHON, "-I", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        if proc.stdout.readline() != b"\n":
            raise SystemExit(f"an interpreter could not import: {imports}")
        time.sleep(0.5)
        return bench_daemon.memory_kib(proc.pid)["VmRSS"]
    finally:
        proc.kill()
        proc.wait()


def resident_parts(pid: int) -> Counter[str]:
    """Resident KiB by part: "anonymous" (mappings of no file: Python's objects, the allocator's arenas and
    heap, stacks), and each mapped file by name (with its pages the process wrote, e.g. relocations, which
    /proc/PID/status counts as RssAnon)."""
    parts: Counter[str] = Counter()
    name = "anonymous"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if fields[0] == "Rss:":
            parts[name] += int(fields[1])
        elif not fields[0].endswith(":"):  # a mapping: range perms offset device inode [path]
            path = fields[5] if len(fields) == 6 else ""
            name = Path(path).name if path.startswith("/") else "anonymous"
    return parts


def print_resident_parts(before: Counter[str], after: Counter[str], label: str) -> None:
    print(f"  where it is (resident KiB, idle after unlock -> idle after {label}):")
    files = [name for name in after if name != "anonymous" and after[name] >= PART_SHOWN_KIB]
    shown = ["anonymous", *sorted(files, key=lambda name: -after[name])]
    rest = [name for name in before.keys() | after.keys() if name not in shown]
    rows = [(name, before[name], after[name]) for name in shown]
    others = (sum(before[n] for n in rest), sum(after[n] for n in rest))
    rows.append((f"{len(rest)} other mapped files", *others))
    for name, was, now in rows:
        print(f"    {name:<46} {was:7,} -> {now:7,}  ({now - was:+,})")


def settled_rss(pid: int, seconds: float = 1.0) -> dict[str, int]:
    time.sleep(seconds)  # past the request's last allocations and the worker's housekeeping
    return bench_daemon.memory_kib(pid)


def daemon_memory(setup: bench_daemon.Setup, requests: int) -> None:
    """Idle means: no request for IDLE_SECONDS, long enough for the daemon's idle duty to have given its
    cache back (vault.daemon.memory); 0.5 s after the last request (before it) is shown beside it."""
    from vault.daemon.client import HEADER_CLIENT, DaemonClient
    from vault.site import make_nonce

    baseline = idle_rss_kib("sys")
    libraries = idle_rss_kib(", ".join(["sys", *LIBRARIES]))
    after_unlock = settled_rss(setup.daemon.pid, IDLE_SECONDS)
    parts_after_unlock = resident_parts(setup.daemon.pid)
    bench_daemon.pair_and_consent(setup)
    with DaemonClient(setup.daemon_socket, headers={HEADER_CLIENT: setup.client_token}) as client:
        for _ in range(requests):
            body = bench_daemon.request_body(setup.manifest, make_nonce())
            status, answer = client.request_json("POST", "/v1/presentations", body)
            if status != 200 or answer.get("outcome") != "granted":
                raise SystemExit(f"a request was not granted: {status} {answer}")
    # The release waits for 2 whole seconds of the daemon's clock without use: never sooner than 1 s.
    just_after = settled_rss(setup.daemon.pid, 0.5)
    after_requests = settled_rss(setup.daemon.pid, IDLE_SECONDS - 0.5)
    parts_after_requests = resident_parts(setup.daemon.pid)
    peak = bench_daemon.memory_kib(setup.daemon.pid)["VmHWM"]
    print(f"Daemon memory (VmRSS; idle: {IDLE_SECONDS:g} s without a request):")
    print(f"  bare idle interpreter (baseline)         {baseline / 1024:6.1f} MiB")
    print(f"  the daemon's libraries imported, no more {libraries / 1024:6.1f} MiB  (the floor under it)")
    name = f"0.5 s after {requests:,} presentations"
    print(f"  {name:<40} {just_after['VmRSS'] / 1024:6.1f} MiB  (before the idle release; no target)")
    for name, kib in (
        ("idle after unlock", after_unlock),
        (f"idle after {requests:,} presentations", after_requests),
    ):
        rss, anon, files = kib["VmRSS"] / 1024, kib["RssAnon"] / 1024, kib["RssFile"] / 1024
        print(
            f"  {name:<40} {rss:6.1f} MiB  ({kib['VmRSS'] / baseline:.1f}x baseline; anon {anon:.1f}, "
            f"files {files:.1f})  target <= {RSS_TARGET_MIB:g} MiB: {verdict(rss <= RSS_TARGET_MIB)}"
        )
    print(f"  peak (VmHWM)                             {peak / 1024:6.1f} MiB")
    unlock, used = ((kib["VmRSS"] - libraries) / 1024 for kib in (after_unlock, after_requests))
    print(f"  over that floor: {unlock:.1f} MiB idle after unlock, {used:.1f} MiB after {requests:,}")
    print_resident_parts(parts_after_unlock, parts_after_requests, f"{requests:,} presentations")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spawns", type=int, default=40)
    parser.add_argument("--serves", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--round-trips", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--only", choices=("memory", "host", "serve"), action="append", help="measure only this (repeatable)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.spawns, args.serves, args.requests, args.round_trips = 5, 1, 50, 30
    compileall.compile_dir(ROOT / "vault", quiet=1)  # as an installed package is (see above)
    workdir = Path(tempfile.mkdtemp(prefix="vb-", dir="/tmp"))  # short: sockaddr_un holds ~108 bytes
    processes: list[subprocess.Popen] = []
    try:
        setup = bench_daemon.start(workdir, processes, ceilings={})  # the daemon alone
        only = set(args.only or ("memory", "host", "serve"))
        if "memory" in only:
            daemon_memory(setup, args.requests)
        else:
            bench_daemon.pair_and_consent(setup)
        if "host" in only:
            native_host_start(setup.daemon_socket, workdir, args.spawns)
            host_round_trips(setup.daemon_socket, setup.client_token, args.round_trips)
        bench_daemon.stop(setup.daemon)
        if "serve" in only:
            serve_start(workdir, args.serves)
    finally:
        for proc in processes:
            bench_daemon.stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
