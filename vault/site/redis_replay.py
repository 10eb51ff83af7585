"""Replay protection shared by every process of a site, in Redis.

Imported only when used, so `vault.site` itself never needs the redis package.
"""

from __future__ import annotations

import math
from typing import Any

from redis.exceptions import RedisError

from vault.protocol.origin import is_origin
from vault.site.replay import ReplayStoreError


class RedisReplayStore:
    """`SET <prefix>:<audience>:<key> 1 NX EX <expires_at - now>`: one atomic command per presentation.

    The lifetime is relative (EX), computed from the same `now` the verifier used for its time checks,
    not absolute (EXAT): with EXAT the record would expire by the Redis server's clock, so a Redis host
    whose clock runs ahead of the site's (or a site verifying with an injected clock) would forget
    records while the tokens could still pass, and reopen replays. The site's processes should still
    agree on the time (NTP), as the skew allowance assumes.

    Keys are namespaced by audience so several sites can share one Redis. Any Redis error becomes
    ReplayStoreError, and the verifier refuses the token.
    """

    def __init__(self, client: Any, audience: str, *, prefix: str = "vault:replay") -> None:
        if not is_origin(audience):
            raise ValueError("audience must be the site's origin")
        self._client = client
        self._namespace = f"{prefix}:{audience}:"

    def remember(self, key: str, expires_at: int, now: int) -> bool:
        lifetime = math.ceil(expires_at - now)  # whole seconds, rounded up, even if `now` is a float
        if lifetime <= 0:
            return True  # already unusable: nothing to protect, nothing to store
        try:
            created = self._client.set(self._namespace + key, b"1", nx=True, ex=lifetime)
        except RedisError as error:
            raise ReplayStoreError("replay store unavailable") from error
        return bool(created)
