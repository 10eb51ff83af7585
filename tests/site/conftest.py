"""Fixtures for the site library: the example shop, and a real redis-server on a Unix socket."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import example
from vault.protocol import Manifest, SigningKey, issue_presentation
from vault.protocol.manifest import manifest_index


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def redis_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private redis-server for this test session: no TCP port, a socket in a temporary directory."""
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server")
    redis = pytest.importorskip("redis")
    directory = tmp_path_factory.mktemp("redis")
    socket = directory / "redis.sock"
    process = subprocess.Popen(
        [
            binary,
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(unix_socket_path=str(socket)).ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        yield socket
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_client(redis_socket: Path) -> Iterator[object]:
    import redis

    client = redis.Redis(unix_socket_path=str(redis_socket))
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def manifest() -> Manifest:
    return example.manifest()


@pytest.fixture
def vault_key() -> SigningKey:
    return example.pairwise_key()


NONCE = "n" * 22


def required_recipients(purpose_id: str, claims: dict) -> tuple[str, ...]:
    """What an example presentation of `claims` must list: the required third parties receiving any."""
    entry = manifest_index(example.manifest()).get(purpose_id)
    if entry is None:
        return ()
    return tuple(sorted(r for r in entry.required_recipients if entry.recipients[r] & claims.keys()))


CLAIMS = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42, "interests": ["running"]}


@pytest.fixture
def issue() -> Callable[..., str]:
    """Issue a presentation of the example shop: `issue(jti=..., now=..., key=..., claims=...)`."""

    def issue(
        *,
        key: SigningKey | None = None,
        jti: str = "j" * 16,
        now: int = example.NOW,
        purpose_id: str = "recommendations",
        nonce: str = NONCE,
        claims: dict | None = None,
        ttl: int = 300,
        recipients: tuple[str, ...] | None = None,
    ) -> str:
        claims = CLAIMS if claims is None else claims
        if recipients is None:  # the required third parties that receive any of these claims
            recipients = required_recipients(purpose_id, claims)
        return issue_presentation(
            key or example.pairwise_key(),
            example.manifest(),
            purpose_id,
            example.ORIGIN,
            nonce,
            claims,
            now,
            jti,
            ttl,
            recipients,
        )

    return issue
