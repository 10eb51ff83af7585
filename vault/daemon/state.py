"""What the daemon holds while it runs: settings, the vault worker, pairings, and its background duties
(auto-lock when idle, WAL checkpoints, and, in a task of its own, delivering revocation notices, then
queueing retention checks and delivering access requests)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from litestar.di import NamedDependency

from vault.consent.access import schedule_retention_checks
from vault.consent.access_delivery import ask, deliver_access_due
from vault.consent.access_views import AccessView, access_view, no_endpoint_view
from vault.consent.outbox import Post, deliver_due
from vault.daemon.errors import Refused
from vault.daemon.memory import IdleRelease
from vault.daemon.pairing import Pairings
from vault.daemon.worker import VaultWorker, locked
from vault.errors import VaultLocked, WrongPassphrase
from vault.protocol.errors import ManifestInvalid
from vault.protocol.manifest import Manifest, decode_manifest
from vault.store import Vault, VaultPaths
from vault.store.read_model import digest_keeping_the_gil

log = logging.getLogger("vault.daemon")
T = TypeVar("T")
MANIFEST_CACHE = 64
CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024  # about a thousand pages, SQLite's own default threshold
TICK = 2.0  # seconds between background duties: the WAL stays near that size even under a burst
MAX_UNLOCK_DELAY = 60


@dataclass(frozen=True)
class Settings:
    home: Path
    admin_token: str
    idle_lock_seconds: int = 900  # 0: never lock by itself
    max_body_bytes: int = 256 * 1024
    tcp_token: str | None = None  # set only in --tcp development mode
    allowed_hosts: frozenset[str] = frozenset()  # Host header values accepted over TCP
    socket_path: str | None = None  # the Unix listener; connections on it skip the TCP checks
    delivery_interval: float = 30.0
    allow_loopback_http: bool = False  # test mode: deliver notices to http://127.0.0.1 sites


def wall_clock() -> int:
    return int(time.time())


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Daemon:
    def __init__(
        self,
        settings: Settings,
        *,
        worker: VaultWorker | None = None,
        clock: Callable[[], int] = wall_clock,
        new_id: Callable[[], str] = lambda: secrets.token_urlsafe(16),
        post: Post | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.new_id = new_id
        self.post = post
        self.worker = worker or VaultWorker(settings.home, clock=clock)
        self.pairings = Pairings(settings.home, clock=clock)
        self.deliveries_wanted = asyncio.Event()
        # Keyed by a digest of the served bytes (not the bytes: up to 64 KiB each). An invalid manifest is
        # kept as its message, never as the exception: re-raising one exception object chains every
        # raise's traceback onto it, and with it each request's frames and body (a page could grow the
        # daemon by hundreds of MB a minute that way).
        self._manifests: OrderedDict[bytes, Manifest | str] = OrderedDict()
        self._failed_unlocks = 0
        self._unlock_not_before = 0
        self._unlock_turn = asyncio.Lock()  # one unlock attempt at a time
        # One whole-vault read at a time: an export holds the vault's content in memory until it is sent.
        self._reading_apart = asyncio.Lock()

    def is_admin(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.settings.admin_token.encode())

    def manifest(self, text: str) -> Manifest:
        """Decoded and validated once per distinct manifest: sites serve the same bytes every time."""
        raw = text.encode()
        cached = self._manifests.get(key := digest_keeping_the_gil(raw))
        if cached is None:
            try:
                cached = decode_manifest(raw)
            except ManifestInvalid as e:
                cached = str(e)
            self._manifests[key] = cached
            if len(self._manifests) > MANIFEST_CACHE:
                self._manifests.popitem(last=False)
        else:
            self._manifests.move_to_end(key)
        if isinstance(cached, str):
            raise ManifestInvalid(cached)
        return cached

    async def unlock(self, passphrase: str) -> bool:
        """Wrong passphrases cost Argon2id each, and then a growing wait: 1 s, 2 s, ... up to a minute.

        Attempts run one at a time, so the wait holds for callers in parallel too: one that arrives while
        another attempt runs sees, once it gets its turn, the wait that attempt set (and gets 429 at once,
        rather than queueing for it). The attempt runs in its own task: a caller that goes away cannot
        end it before its bookkeeping is done."""
        attempt = asyncio.ensure_future(self._unlock_attempt(passphrase))
        # Retrieved here too, so an attempt whose caller left does not log "never retrieved".
        attempt.add_done_callback(lambda task: task.cancelled() or task.exception())
        return await asyncio.shield(attempt)

    async def _unlock_attempt(self, passphrase: str) -> bool:
        async with self._unlock_turn:
            now = self.clock()
            if now < self._unlock_not_before:
                raise Refused(
                    "too_many_attempts",
                    f"too many wrong passphrases; try again in {self._unlock_not_before - now} s",
                    status=429,
                )
            try:
                changed = await self.worker.unlock(passphrase)
            except WrongPassphrase:
                self._failed_unlocks += 1
                delay = min(2 ** (self._failed_unlocks - 1), MAX_UNLOCK_DELAY)
                # The clock counts whole seconds: one more tick makes the wait at least `delay` long.
                self._unlock_not_before = self.clock() + delay + 1
                raise
            self._failed_unlocks = 0
            self.deliveries_wanted.set()  # notices may have waited while the vault was locked
            return changed

    async def lock_if_idle(self) -> bool:
        idle = self.settings.idle_lock_seconds
        if idle <= 0 or self.worker.locked or self.clock() - self.worker.last_used < idle:
            return False
        log.info("locking the vault after %d s without use", idle)
        return await self.worker.lock()

    async def _on_second_connection(self, work: Callable[[Vault], T], *, touch: bool = False) -> T | None:
        """work(vault) in a thread, on a second connection to the open vault (None when it is locked):
        slow work (network waits, checkpoints, reading the whole vault) never holds up requests on the
        worker's connection. The connection is closed on that thread, when the work ends, even if the caller
        was cancelled. `touch`: this counts as use (a person's request does; background duties do not)."""
        try:
            other = await self.worker.call(lambda v: v.another_connection(), touch=touch)
        except VaultLocked:
            return None

        def run() -> T:
            try:
                return work(other)
            finally:
                other.close()

        return await asyncio.to_thread(run)

    async def read_apart(self, read: Callable[[Vault], T]) -> T:
        """read(vault) on a second connection, for a person's request that reads the whole vault (the
        ledger's walk, the export: ~8 s at 1,000,000 entries): requests go on meanwhile, where on the
        worker they would queue behind it. `read` opens its own read transaction and never returns None.
        Raises VaultLocked when the vault is locked. Such reads take turns, as they did on the worker."""
        async with self._reading_apart:
            result = await self._on_second_connection(read, touch=True)
        if result is None:
            raise locked()
        return result

    async def checkpoint_once(self, min_wal_bytes: int = CHECKPOINT_WAL_BYTES) -> bool:
        """Copies the WAL into the database, off every request's path (the worker's connection has
        automatic checkpoints off). Passive: never waits for a writer."""
        try:
            if self.worker.locked or VaultPaths(self.worker.home).wal.stat().st_size < min_wal_bytes:
                return False
        except FileNotFoundError:
            return False
        return await self._on_second_connection(lambda vault: vault.checkpoint_wal()) is not None

    async def deliver_once(self) -> int:
        """One outbox pass, then the retention checks and one pass over due access requests, on a second
        connection. It ends as soon as the vault locks (that connection holds the key too), and leaves
        what was in flight to its lease."""
        stop = lambda: self.worker.locked  # noqa: E731

        def work(vault: Vault) -> tuple[list, list]:
            notices = deliver_due(
                vault,
                now=self.clock,
                post=self.post,
                allow_loopback_http=self.settings.allow_loopback_http,
                stop=stop,
            )
            if stop():
                return notices, []
            schedule_retention_checks(vault, now=self.clock(), new_id=self.new_id)
            asked = deliver_access_due(
                vault,
                now=self.clock,
                post=self.post,
                allow_loopback_http=self.settings.allow_loopback_http,
                new_id=self.new_id,
                stop=stop,
            )
            return notices, asked

        notices, asked = await self._on_second_connection(work) or ([], [])
        for outcome in notices:
            # The notice's id only: which sites a user deals with is theirs (origins at debug level).
            result = "delivered" if outcome.delivered else f"not delivered ({outcome.error})"
            log.info("revocation notice %s: %s", outcome.jti, result)
            log.debug("revocation notice %s went to %s", outcome.jti, outcome.origin)
        for asked_ in asked:
            result = "answered" if asked_.answered else f"not answered ({asked_.error})"
            log.info("access request %s: %s", asked_.request, result)
            log.debug("access request %s went to %s", asked_.request, asked_.origin)
        return len(notices) + len(asked)

    async def ask_access(self, origin: str) -> AccessView:
        """Ask `origin` what it holds now, on a second connection (the POST waits at most ASK_WAIT
        seconds and never holds up the worker), and the request as it then stands."""
        now = self.clock()

        def work(vault: Vault) -> tuple[str | None]:
            return (
                ask(
                    vault,
                    origin,
                    now=self.clock,
                    post=self.post,
                    new_id=self.new_id,
                    allow_loopback_http=self.settings.allow_loopback_http,
                    stop=lambda: self.worker.locked,
                ),
            )

        done = await self._on_second_connection(work)
        if done is None:
            raise locked()
        (request_id,) = done
        if request_id is None:
            return no_endpoint_view(origin, now)
        view = await self.worker.call(lambda v: access_view(v, request_id))
        assert view is not None  # queued above, and rows are never deleted
        return view

    async def run_background(self) -> None:
        """Auto-lock and checkpoints every TICK, until cancelled. Delivery runs as a task of its own, so
        a site that hangs never delays a lock."""
        delivery = asyncio.create_task(self._deliver_forever())
        memory = IdleRelease(self.worker, self.clock)  # gives back SQLite's cache and free pages when idle
        try:
            while True:
                await asyncio.sleep(TICK)
                try:
                    await self.lock_if_idle()
                    await self.checkpoint_once()
                    await memory.release_if_idle()
                except Exception as e:  # a duty that fails must not stop the others; it runs again next tick
                    log.error("background duty failed: %s", type(e).__name__)
        finally:
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery

    async def _deliver_forever(self) -> None:
        """One pass at a time: now, then whenever notices are wanted or the interval has passed."""
        while True:
            self.deliveries_wanted.clear()
            try:
                await self.deliver_once()
            except Exception as e:
                log.error("delivering notices failed: %s", type(e).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.deliveries_wanted.wait(), timeout=self.settings.delivery_interval)


DaemonDep = NamedDependency[Daemon]  # how route handlers ask for it
