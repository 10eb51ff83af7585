"""Replay stores: in memory (one process) and Redis (many processes), with the same contract."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.protocol import Manifest
from vault.site import InMemoryReplayStore, PresentationInvalid, Reason, ReplayStoreFull, verify_presentation
from vault.site.replay import ReplayStoreError

NOW = 1_767_225_600


def test_remembers_until_expiry() -> None:
    store = InMemoryReplayStore()
    assert store.remember("k", NOW + 10, NOW)
    assert not store.remember("k", NOW + 10, NOW + 9)
    assert store.remember("k", NOW + 30, NOW + 10)  # expired at NOW + 10: forgetting it is safe
    assert not store.remember("k", NOW + 30, NOW + 11)


def test_already_expired_keys_are_not_stored() -> None:
    store = InMemoryReplayStore(capacity=1)
    assert store.remember("old", NOW, NOW)
    assert store.size == 0


def test_full_store_refuses_instead_of_forgetting() -> None:
    store = InMemoryReplayStore(capacity=3)
    for key in "abc":
        assert store.remember(key, NOW + 100, NOW)
    with pytest.raises(ReplayStoreFull):
        store.remember("d", NOW + 100, NOW + 1)
    # Nothing was evicted: every remembered key is still a replay.
    for key in "abc":
        assert not store.remember(key, NOW + 100, NOW + 2)


def test_expired_keys_are_evicted_first() -> None:
    store = InMemoryReplayStore(capacity=3)
    store.remember("short", NOW + 5, NOW)
    store.remember("long-1", NOW + 100, NOW)
    store.remember("long-2", NOW + 100, NOW)
    assert store.remember("new", NOW + 100, NOW + 5)
    assert store.size == 3
    assert not store.remember("long-1", NOW + 100, NOW + 6)


def test_full_store_makes_the_verifier_fail_closed(issue: Callable[..., str], manifest: Manifest) -> None:
    store = InMemoryReplayStore(capacity=1)
    nonce = "n" * 22
    verify_presentation(issue(jti="a" * 16), manifest=manifest, nonce=nonce, now=NOW, replay=store)
    with pytest.raises(PresentationInvalid) as raised:
        verify_presentation(issue(jti="b" * 16), manifest=manifest, nonce=nonce, now=NOW, replay=store)
    assert raised.value.reason == Reason.REPLAY_CHECK_FAILED
    # Once the first token can no longer pass the time checks, its slot is reused.
    later = NOW + 300 + 60
    verify_presentation(
        issue(jti="c" * 16, now=later), manifest=manifest, nonce=nonce, now=later, replay=store
    )


def concurrent_winners(remember: Callable[[str], bool], threads: int = 16) -> int:
    barrier = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        outcome = remember("same-key")
        with lock:
            results.append(outcome)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results.count(True)


def test_in_memory_store_is_atomic() -> None:
    store = InMemoryReplayStore()
    assert concurrent_winners(lambda key: store.remember(key, NOW + 100, NOW)) == 1


class _Model:
    """The store's contract, written plainly: forget what has expired, then refuse, skip or record."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self.expiry = capacity, dict[str, int]()

    def remember(self, key: str, expires_at: int, now: int) -> bool | str:
        self.expiry = {k: e for k, e in self.expiry.items() if e > now}
        if key in self.expiry:
            return False
        if expires_at <= now:
            return True
        if len(self.expiry) >= self.capacity:
            return "full"
        self.expiry[key] = expires_at
        return True


@settings(max_examples=300)
@given(
    st.integers(1, 4),
    st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 12), st.integers(0, 12)), max_size=40),
)
def test_in_memory_store_keeps_its_contract(capacity: int, calls: list[tuple[str, int, int]]) -> None:
    # Keys share expiry seconds, expire in any order, and the clock may go back (the store keeps keys
    # grouped by the second they expire).
    store, model = InMemoryReplayStore(capacity=capacity), _Model(capacity)
    for key, expires_at, now in calls:
        expected = model.remember(key, NOW + expires_at, NOW + now)
        try:
            got: bool | str = store.remember(key, NOW + expires_at, NOW + now)
        except ReplayStoreFull:
            got = "full"
        assert got == expected
        assert store.size == len(model.expiry)
    store.remember("probe", NOW + 99, NOW + 13)
    assert store.size == 1


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        InMemoryReplayStore(capacity=0)


# Redis: a real server, started by the fixture in conftest.py.


def test_redis_remembers_once_with_expiry(redis_client: object) -> None:
    from vault.site import RedisReplayStore

    store = RedisReplayStore(redis_client, "https://shop.example")
    expires_at = 4_000_000_000
    assert store.remember("k", expires_at, NOW)
    assert not store.remember("k", expires_at, NOW + 1)
    name = "vault:replay:https://shop.example:k"
    assert redis_client.get(name) == b"1"  # type: ignore[attr-defined]
    # Relative to the verifier's clock, not the Redis server's (whose date may differ).
    assert expires_at - NOW - 5 <= redis_client.ttl(name) <= expires_at - NOW  # type: ignore[attr-defined]


def test_redis_accepts_a_float_clock(redis_client: object) -> None:
    from vault.site import RedisReplayStore

    store = RedisReplayStore(redis_client, "https://shop.example")
    assert store.remember("f", NOW + 10, NOW + 0.5)
    assert 9 <= redis_client.ttl("vault:replay:https://shop.example:f") <= 10  # type: ignore[attr-defined]


def test_redis_keys_are_namespaced_per_audience(redis_client: object) -> None:
    from vault.site import RedisReplayStore

    shop = RedisReplayStore(redis_client, "https://shop.example")
    other = RedisReplayStore(redis_client, "https://other.example")
    assert shop.remember("k", 4_000_000_000, NOW)
    assert other.remember("k", 4_000_000_000, NOW)
    assert not shop.remember("k", 4_000_000_000, NOW)


def test_redis_expired_key_is_forgotten_by_the_server(redis_client: object) -> None:
    from vault.site import RedisReplayStore

    store = RedisReplayStore(redis_client, "https://shop.example")
    assert store.remember("brief", NOW + 100, NOW)
    redis_client.pexpire("vault:replay:https://shop.example:brief", 1)  # type: ignore[attr-defined]
    time.sleep(0.05)
    assert store.remember("brief", NOW + 100, NOW)


def test_redis_store_is_atomic_across_connections(redis_socket: Path) -> None:
    import redis

    from vault.site import RedisReplayStore

    redis.Redis(unix_socket_path=str(redis_socket)).flushall()

    def remember(key: str) -> bool:
        client = redis.Redis(unix_socket_path=str(redis_socket))
        try:
            return RedisReplayStore(client, "https://shop.example").remember(key, 4_000_000_000, NOW)
        finally:
            client.close()

    assert concurrent_winners(remember) == 1


def test_redis_store_in_the_verifier(
    redis_client: object, issue: Callable[..., str], manifest: Manifest
) -> None:
    from vault.site import RedisReplayStore

    store = RedisReplayStore(redis_client, manifest.origin)
    token = issue(now=NOW)
    verify_presentation(token, manifest=manifest, nonce="n" * 22, now=NOW, replay=store)
    with pytest.raises(PresentationInvalid) as raised:
        verify_presentation(token, manifest=manifest, nonce="n" * 22, now=NOW, replay=store)
    assert raised.value.reason == Reason.REPLAYED


def test_unreachable_redis_fails_closed(
    tmp_path: Path, issue: Callable[..., str], manifest: Manifest
) -> None:
    redis = pytest.importorskip("redis")
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from vault.site import RedisReplayStore

    client = redis.Redis(unix_socket_path=str(tmp_path / "nothing-here.sock"), retry=Retry(NoBackoff(), 0))
    store = RedisReplayStore(client, manifest.origin)
    with pytest.raises(ReplayStoreError):
        store.remember("k", 4_000_000_000, NOW)
    with pytest.raises(PresentationInvalid) as raised:
        verify_presentation(issue(), manifest=manifest, nonce="n" * 22, now=NOW, replay=store)
    assert raised.value.reason == Reason.REPLAY_CHECK_FAILED


def test_redis_store_needs_an_origin() -> None:
    from vault.site import RedisReplayStore

    with pytest.raises(ValueError):
        RedisReplayStore(object(), "shop.example")
