"""Sites for `vault conformance` to play against, each a real process on a real socket of 127.0.0.1: the
demo shop (`python -m vault.demo.shop`), and the sites of tests/conformance/sites.py under uvicorn."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vault.conformance import Report, Target, run_conformance

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def child_env(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "CONFORMANCE_"))}
    return {**environment, **extra}


class Served:
    """One site process we started; `stop` ends it (and only it)."""

    def __init__(self, proc: subprocess.Popen, origin: str, log: Path) -> None:
        self.proc, self.origin, self.log = proc, origin, log

    def wait_until_serving(self) -> Served:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(self.origin + "/.well-known/vault-manifest.json", timeout=5):  # noqa: S310
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the site did not start:\n" + self.log.read_text()[-2000:]) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def serve_uvicorn(factory: str, log: Path, **env: str) -> Served:
    """`factory` under uvicorn on a socket bound here (so the origin is known before the site starts)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--fd", str(sock.fileno())]
    command += ["--no-access-log", "--log-level", "warning"]
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command, cwd=ROOT, env=child_env(CONFORMANCE_SITE_ORIGIN=origin, **env), stdout=out,
                stderr=out, stdin=subprocess.DEVNULL, pass_fds=(sock.fileno(),),
            )  # fmt: skip
    finally:
        sock.close()  # the child has its own copy
    return Served(proc, origin, log).wait_until_serving()


def serve_demo_shop(log: Path) -> Served:
    command = [sys.executable, "-m", "vault.demo.shop", "--port", "0"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=child_env(), stdout=out, stderr=out, stdin=subprocess.DEVNULL
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not (found := re.search(r"http://127\.0\.0\.1:\d+", log.read_text())):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the demo shop did not start:\n" + log.read_text()[-2000:])
        time.sleep(0.05)
    return Served(proc, found.group(0), log).wait_until_serving()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start a site of tests/conformance/sites.py with a flaw (or none); stopped at the test's end."""
    started: list[Served] = []

    def start(flaw: str = "none") -> Served:
        site = serve_uvicorn(
            "tests.conformance.sites:create_site", tmp_path / f"{flaw}.log", CONFORMANCE_SITE_FLAW=flaw
        )
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()


@pytest.fixture(scope="module")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    shop = serve_demo_shop(tmp_path_factory.mktemp("demo") / "shop.log")
    yield shop
    shop.stop()


def play(origin: str, **options: str) -> Report:
    """`vault conformance` as a library call, with the real clock and fresh randomness."""
    return run_conformance(
        Target.at(origin, **options), clock=lambda: int(time.time()), rng=secrets.token_bytes
    )


def failed(report: Report) -> set[str]:
    return {result.id for result in report.results if not result.passed}
