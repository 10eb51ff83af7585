"""Replay protection: each presentation is accepted at most once.

A store remembers a key (the presentation's subject thumbprint and `jti`) until the token could no
longer pass the time checks anyway (`exp` + allowed skew); after that, forgetting it is safe.
"""

from __future__ import annotations

import threading
from heapq import heappop, heappush
from typing import Protocol


class ReplayStoreError(Exception):
    """The store could not record a key; the verifier then refuses the token (it never skips the check)."""


class ReplayStoreFull(ReplayStoreError):
    pass


class ReplayStore(Protocol):
    def remember(self, key: str, expires_at: int, now: int) -> bool:
        """Record `key` until `expires_at`; return False if it is already recorded (a replay).

        Must be atomic: of two concurrent calls with one key, exactly one returns True. Raise (any
        exception) rather than return True when the key cannot be recorded.
        """
        ...


class InMemoryReplayStore:
    """For a site served by one process. Thread-safe, bounded, and fails closed when full.

    When every slot holds a key that has not expired, `remember` raises ReplayStoreFull instead of
    evicting one: evicting an unexpired key would let that token be accepted again, so a flood of
    presentations could reopen replays. Refusing costs availability only, and only until keys expire:
    every key expires within the verifier's maximum lifetime plus twice its skew (11 minutes with the
    defaults), because presentations with a longer lifetime are refused before they reach the store.
    Size `capacity` for the presentations a site accepts in that window; beyond that, use Redis.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self._capacity = capacity
        self._expiry: dict[str, int] = {}
        # Keys grouped by the second they expire, and those seconds as a heap: a new key is appended to
        # its second's list, and the heap grows only with a new second (presentations arriving together
        # expire together), so the common case pushes nothing. Always in step with _expiry.
        self._keys_expiring: dict[int, list[str]] = {}
        self._expiry_times: list[int] = []
        self._lock = threading.Lock()

    def remember(self, key: str, expires_at: int, now: int) -> bool:
        lock = self._lock
        lock.acquire()  # (not `with`: two plain calls cost less, and every presentation comes here)
        try:
            times, expiry = self._expiry_times, self._expiry
            if times and times[0] <= now:
                self._forget_expired(now)
            if key in expiry:
                return False
            if expires_at <= now:
                return True  # already unusable: nothing to protect, nothing to store
            if len(expiry) >= self._capacity:
                raise ReplayStoreFull("replay store is full of unexpired keys")
            expiry[key] = expires_at
            keys = self._keys_expiring.get(expires_at)
            if keys is None:
                self._keys_expiring[expires_at] = [key]
                heappush(times, expires_at)
            else:
                keys.append(key)
            return True
        finally:
            lock.release()

    @property
    def size(self) -> int:
        """Keys held now, expired ones included until the next call forgets them."""
        return len(self._expiry)

    def _forget_expired(self, now: int) -> None:
        times, expiry = self._expiry_times, self._expiry
        while times and times[0] <= now:
            for key in self._keys_expiring.pop(heappop(times)):
                del expiry[key]
