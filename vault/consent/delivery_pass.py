"""One bounded delivery pass, shared by the outbox (revocation notices) and access requests.

What is bounded, and why: a site that hangs must not hold up the others, nor the vault. A pass serves up
to `parallel` sites at once, one item at a time each; the POSTs run in threads of their own, each site gets
at most SITE_BUDGET seconds of waiting, and `stop()` is checked between steps (an item still being sent
keeps its lease, as after a crash). The vault is used on the calling thread only: claiming, preparing and
recording are the caller's `Steps`, called from here, never from a POST's thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from vault.consent.transport import DeliveryFailed, Response
from vault.protocol.strictjson import decode_unique
from vault.store.database import Connection

POST_TIMEOUT = 10.0
SITE_BUDGET = 3 * POST_TIMEOUT  # seconds of waiting one site gets in a pass; its other items wait
MAX_PARALLEL = 4  # sites being sent to at once
_POLL = 0.25  # seconds between looks at `stop` and at newly due items while POSTs are out

T = TypeVar("T")
C = TypeVar("C")  # a claimed item
P = TypeVar("P")  # what checking its answer needs
A = TypeVar("A")  # its verified answer
R = TypeVar("R")  # an attempt's outcome (its record)

# post(url, body, timeout) -> Response; raises DeliveryFailed. Injectable so tests need no network.
Post = Callable[[str, bytes, float], Response]
Clock = Callable[[], int]


@dataclass(frozen=True)
class Steps(Generic[C, P, A, R]):
    """What differs between notices and access requests. All but `check` run on the vault's thread."""

    due: Callable[[int], list[tuple[str, str]]]  # now -> (id, origin) of each item due, longest waiting first
    claim: Callable[[str, int], C | None]  # take the item for this attempt (a lease); None: taken meanwhile
    origin: Callable[[C], str]
    # (url, body, what `check` needs), or why the item cannot be sent (recorded as a failed attempt)
    prepare: Callable[[C, int], tuple[str, bytes, P] | str]
    check: Callable[[Response, P, int], A]  # the verified answer, or DeliveryFailed saying what was wrong
    # (item, now, HTTP status, error, answer) -> its outcome; None if another process recorded it first
    record: Callable[[C, int, int | None, str | None, A | None], R | None]


@dataclass(frozen=True)
class _Sent(Generic[A]):
    origin: str
    seconds: float
    status: int | None = None
    error: str | None = None
    answer: A | None = None
    failure: BaseException | None = None  # anything but DeliveryFailed: re-raised by the pass


def run_pass(
    steps: Steps[C, P, A, R],
    *,
    post: Post,
    now: int | Clock,
    limit: int,
    parallel: int = MAX_PARALLEL,
    stop: Callable[[], bool] | None = None,
) -> list[R]:
    """Attempt each due item once (at most `limit`); the outcomes in the order the attempts ended.

    `now`: the time, or a clock read at each step (items that fall due while the pass waits join it)."""
    clock = now if callable(now) else lambda: now
    answers: queue.SimpleQueue[_Sent[A]] = queue.SimpleQueue()
    sending: dict[str, C] = {}  # origin -> its item in flight
    waited: dict[str, float] = {}  # origin -> seconds spent waiting on it in this pass
    tried: set[str] = set()
    outcomes: list[R] = []

    def keep(outcome: R | None) -> None:
        if outcome is not None:
            outcomes.append(outcome)

    while stop is None or not stop():
        if len(sending) < parallel:
            for item, origin in steps.due(clock()):
                if len(sending) >= parallel or len(tried) >= limit:
                    break
                if item in tried or origin in sending or waited.get(origin, 0.0) >= SITE_BUDGET:
                    continue
                tried.add(item)
                at = clock()
                claimed = steps.claim(item, at)
                if claimed is None:
                    continue  # another process took it, or it was answered meanwhile
                prepared = steps.prepare(claimed, at)
                if isinstance(prepared, str):  # nothing to send: why not, recorded as a failed attempt
                    keep(steps.record(claimed, at, None, prepared, None))
                    continue
                sending[origin] = claimed
                threading.Thread(
                    target=_send, args=(post, steps.check, origin, *prepared, at, answers), daemon=True
                ).start()
        if not sending:
            break
        try:
            sent = answers.get(timeout=_POLL)
        except queue.Empty:
            continue
        claimed = sending.pop(sent.origin)
        waited[sent.origin] = waited.get(sent.origin, 0.0) + sent.seconds
        if sent.failure is not None:
            raise sent.failure
        error = sent.error if sent.answer is None else None
        keep(steps.record(claimed, clock(), sent.status, error, sent.answer))
    return outcomes


def _send(
    post: Post,
    check: Callable[[Response, P, int], A],
    origin: str,
    url: str,
    body: bytes,
    context: P,
    now: int,
    answers: queue.SimpleQueue,
) -> None:
    """One POST and the check of its answer, in a thread of its own (no vault here)."""
    started = time.monotonic()
    status = None
    try:
        response = post(url, body, POST_TIMEOUT)
        status = response.status
        answer = check(response, context, now)
    except DeliveryFailed as failure:
        sent = _Sent(origin, time.monotonic() - started, status, error=str(failure)[:200])
    except BaseException as failure:
        sent = _Sent(origin, time.monotonic() - started, failure=failure)
    else:
        sent = _Sent(origin, time.monotonic() - started, status, answer=answer)
    answers.put(sent)


def due_items(
    conn: Connection, table: str, pending: str, now: int, only: Collection[str] | None, retry_now: bool
) -> list[tuple[str, str]]:
    """(id, origin) of each row of `table` (the outbox or access_requests) still `pending` (its SQL
    condition) and due at `now` (any time, with `retry_now`), the longest waiting first; `only`: just
    these ids."""
    where = pending + ("" if retry_now else " AND next_attempt_at <= ?")
    sql = f"SELECT id, origin FROM {table} WHERE {where} ORDER BY next_attempt_at, created_at, id"  # noqa: S608
    due = [(row[0], row[1]) for row in conn.execute(sql, [] if retry_now else [now])]
    if only is None:
        return due
    wanted = set(only)
    return [(item, origin) for item, origin in due if item in wanted]


def json_answer(response: Response, decoder: msgspec.json.Decoder[T], shape: str) -> T:
    """A site's 2xx JSON answer, decoded strictly; else DeliveryFailed saying briefly what was wrong."""
    if not 200 <= response.status < 300:
        raise DeliveryFailed(f"HTTP {response.status}")
    if response.content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise DeliveryFailed("answer is not application/json")
    try:
        return decode_unique(response.body, decoder)
    except (ValueError, msgspec.DecodeError):
        raise DeliveryFailed(f"answer is not {shape}") from None
