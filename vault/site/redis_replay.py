"""Replay protection shared by every process of a site, in Redis (6.2 or later, for EXAT).

Imported only when used, so `vault.site` itself never needs the redis package.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import RedisError

from vault.protocol.origin import is_origin
from vault.site.replay import ReplayStoreError


class RedisReplayStore:
    """`SET <prefix>:<audience>:<key> 1 NX EXAT <expires_at>`: one atomic command per presentation.

    Keys are namespaced by audience so several sites can share one Redis. Expiry uses the Redis
    server's clock: keep the site's hosts and the Redis host on NTP, as the verifier's skew allowance
    assumes anyway. Any Redis error becomes ReplayStoreError, and the verifier refuses the token.
    """

    def __init__(self, client: Any, audience: str, *, prefix: str = "vault:replay") -> None:
        if not is_origin(audience):
            raise ValueError("audience must be the site's origin")
        self._client = client
        self._namespace = f"{prefix}:{audience}:"

    def remember(self, key: str, expires_at: int, now: int) -> bool:
        if expires_at <= now:
            return True  # already unusable; EXAT in the past would be refused or expire at once
        try:
            created = self._client.set(self._namespace + key, b"1", nx=True, exat=expires_at)
        except RedisError as error:
            raise ReplayStoreError("replay store unavailable") from error
        return bool(created)
