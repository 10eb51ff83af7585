"""The outbox: revocation notices delivered to each site's revocation_endpoint until the site answers.

The outbox lives in the vault, not in memory, so nothing is lost when the delivering process stops. A
pass takes each due notice, POSTs `{"notice": "<token>"}` and expects `{"acknowledgement": "<token>"}`
signed with the key in the site's manifest. Each notice's new state and its ledger entries commit
together; a crash between the POST and that commit at worst sends the same notice again, which sites
treat as a no-op (a notice withdraws; withdrawing twice is withdrawing once).

HTTPS only. Plain http reaches a site only in a test mode, and only on a loopback address.
"""

import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

import msgspec

from vault.consent import ledger
from vault.consent.sites import stored_manifest
from vault.protocol.acknowledgement import RevocationAcknowledgement, verify_revocation_ack
from vault.protocol.errors import TokenInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.keys import derive_pairwise_key
from vault.protocol.origin import same_origin_url
from vault.protocol.revocation import DEFAULT_NOTICE_TTL, open_notice, sign_revocation
from vault.protocol.strictjson import decode_unique
from vault.store import Vault

MAX_RESPONSE_BYTES = 64 * 1024
POST_TIMEOUT = 10.0
FIRST_RETRY = 30
MAX_RETRY = 3600
# A claimed notice is not due for this long, so a second delivering process (the daemon and a CLI run)
# does not send it at the same time. Longer than one POST can take; a crash delays the notice this much.
LEASE_SECONDS = 120
# Re-sign (same jti, fresh iat/exp) when less than this is left, so a site never gets an expired notice
# after a long outage. Larger than the longest backoff.
RESIGN_MARGIN = 2 * MAX_RETRY
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


class DeliveryFailed(Exception):
    """The POST did not get an HTTP answer. The message is a short reason, safe to store and show."""


# post(url, body, timeout) -> Response; raises DeliveryFailed. Injectable so tests need no network.
Post = Callable[[str, bytes, float], Response]


class _Answer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    acknowledgement: Annotated[str, msgspec.Meta(max_length=MAX_RESPONSE_BYTES)]


_answer_decoder = msgspec.json.Decoder(_Answer)


class OutboxItem(msgspec.Struct, kw_only=True):
    jti: str
    origin: str
    purpose_id: str
    endpoint: str
    created_at: int
    attempts: int
    next_attempt_at: int | None  # None once delivered
    last_error: str | None
    delivered_at: int | None
    erased: bool | None  # the site's answer, once delivered


@dataclass(frozen=True)
class DeliveryOutcome:
    jti: str
    origin: str
    purpose_id: str
    endpoint: str
    attempt: int
    delivered: bool
    status: int | None = None  # the HTTP status, if the site answered at all
    error: str | None = None
    next_attempt_at: int | None = None  # when failed
    erased: bool | None = None  # when delivered: the site's signed statement


def backoff(attempts: int, jitter: Callable[[int], int] | None = None) -> int:
    """Seconds to wait after `attempts` failed attempts: 30 s doubling, capped at an hour."""
    delay = MAX_RETRY if attempts > 12 else min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)
    # Jitter (to spread many vaults' retries) only when the caller supplies it; bounded either way.
    return delay + (min(max(int(jitter(delay)), 0), delay) if jitter is not None else 0)


def items(vault: Vault, *, include_delivered: bool = True) -> list[OutboxItem]:
    """The outbox, oldest first: every notice, or only those still waiting for their site."""
    rows = vault.conn.execute(
        "SELECT id, origin, purpose_id, endpoint, created_at, attempts, next_attempt_at, last_error, "
        "delivered_at FROM outbox WHERE ? OR delivered_at IS NULL ORDER BY created_at, id",
        (int(include_delivered),),
    )
    result = []
    for jti, origin, purpose_id, endpoint, created, attempts, due, error, delivered in rows:
        erased = None
        if delivered is not None:
            answers = ledger.entries(vault, ref=jti, kinds=("delivery_ack",))
            erased = next((bool(entry.body.get("erased")) for entry in answers), None)
        result.append(
            OutboxItem(
                jti=jti,
                origin=origin,
                purpose_id=purpose_id,
                endpoint=endpoint,
                created_at=created,
                attempts=attempts,
                next_attempt_at=None if delivered is not None else due,
                last_error=error,
                delivered_at=delivered,
                erased=erased,
            )
        )
    return result


def pending(vault: Vault) -> list[OutboxItem]:
    """Notices not yet acknowledged by their site."""
    return items(vault, include_delivered=False)


def endpoint_problem(url: str, origin: str, *, allow_loopback_http: bool) -> str | None:
    """Why the vault will not POST to `url` for `origin`, or None."""
    if not same_origin_url(url, origin):
        return "endpoint is not on the site's origin"
    parts = urlsplit(url)
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_loopback_http and parts.hostname in LOOPBACK_HOSTS:
        return None
    return "plain http endpoint (allowed only on loopback, in test mode)"


def deliver_due(
    vault: Vault,
    *,
    now: int,
    post: Post | None = None,
    allow_loopback_http: bool = False,
    only: Collection[str] | None = None,
    retry_now: bool = False,
    jitter: Callable[[int], int] | None = None,
    limit: int = 100,
) -> list[DeliveryOutcome]:
    """One pass over due notices (`only`: just these jtis; `retry_now`: ignore backoff and leases).

    Every attempt is recorded in the ledger with its outcome; a success also records the site's
    signed acknowledgement. Returns one outcome per notice attempted. `post` defaults to https_post;
    `jitter(delay)` may add seconds to each backoff (none unless given).
    """
    send = post or https_post
    outcomes = []
    for jti in _due(vault, now, only, retry_now, limit):
        claimed = _claim(vault, jti, now, retry_now)
        if claimed is None:
            continue  # another process took it, or it was delivered meanwhile
        status, error, answer = None, None, None
        manifest = stored_manifest(vault, claimed.origin)
        problem = endpoint_problem(claimed.endpoint, claimed.origin, allow_loopback_http=allow_loopback_http)
        if manifest is None:
            error = "no stored manifest for the site"
        elif problem is not None:
            error = problem
        else:
            try:
                response = send(
                    claimed.endpoint, msgspec.json.encode({"notice": claimed.token}), POST_TIMEOUT
                )
                status = response.status
                answer = _check_answer(response, manifest.site_key, claimed.token, now)
            except DeliveryFailed as failure:
                error = str(failure)[:200]
        outcome = _record(vault, claimed, now, status, error if answer is None else None, answer, jitter)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


@dataclass(frozen=True)
class _Claimed:
    jti: str
    origin: str
    purpose_id: str
    endpoint: str
    token: str


def _due(vault: Vault, now: int, only: Collection[str] | None, retry_now: bool, limit: int) -> list[str]:
    where = "delivered_at IS NULL" + ("" if retry_now else " AND next_attempt_at <= ?")
    args: list = [] if retry_now else [now]
    sql = f"SELECT id FROM outbox WHERE {where} ORDER BY next_attempt_at, created_at, id"  # noqa: S608
    due = [row[0] for row in vault.conn.execute(sql, args)]
    if only is not None:
        wanted = set(only)
        due = [jti for jti in due if jti in wanted]
    return due[: max(0, int(limit))]


def _claim(vault: Vault, jti: str, now: int, retry_now: bool) -> _Claimed | None:
    """Take the notice for this pass (a lease), re-signing it first if it is close to expiring."""
    with vault.transaction() as conn:
        row = conn.execute(
            "SELECT origin, purpose_id, endpoint, notice, next_attempt_at FROM outbox "
            "WHERE id = ? AND delivered_at IS NULL",
            (jti,),
        ).fetchone()
        if row is None or (not retry_now and row[4] > now):
            return None
        claimed = _Claimed(jti, row[0], row[1], row[2], _fresh(vault, row[3], now))
        conn.execute(
            "UPDATE outbox SET notice = ?, next_attempt_at = ? WHERE id = ?",
            (claimed.token, now + LEASE_SECONDS, jti),
        )
    return claimed


def _fresh(vault: Vault, token: str, now: int) -> str:
    """The notice itself, or the same notice (same jti) re-signed with a new lifetime if it is running out.

    A site checks `exp`; the vault retries for longer than a notice lives. Same key: the epoch comes
    from the ledger entry that queued the notice (the site's current epoch may have moved on)."""
    _, notice = open_notice(token)
    if notice.exp - now > RESIGN_MARGIN:
        return token
    queued = next(ledger.entries(vault, ref=notice.jti, kinds=("revocation",)), None)
    if queued is None:
        return token  # cannot happen (queued together); sending it as it is lets the site decide
    key = derive_pairwise_key(vault.master_seed(), notice.aud, int(queued.body["epoch"]))
    return sign_revocation(
        key,
        origin=notice.aud,
        purpose_id=notice.purpose,
        presentations=notice.presentations,
        erasure=notice.erasure,
        now=now,
        jti=notice.jti,
        ttl=DEFAULT_NOTICE_TTL,
    )


def _check_answer(
    response: Response, site_key: OkpPublicJwk, notice: str, now: int
) -> tuple[str, RevocationAcknowledgement]:
    """The site's acknowledgement and what it says, or DeliveryFailed saying briefly what was wrong."""
    if not 200 <= response.status < 300:
        raise DeliveryFailed(f"HTTP {response.status}")
    if response.content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise DeliveryFailed("answer is not application/json")
    try:
        answer = decode_unique(response.body, _answer_decoder)
    except (ValueError, msgspec.DecodeError):
        raise DeliveryFailed('answer is not {"acknowledgement": token}') from None
    try:
        verified = verify_revocation_ack(answer.acknowledgement, site_key, notice=notice, now=now)
    except TokenInvalid as error:
        raise DeliveryFailed(f"invalid acknowledgement ({error.reason.value})") from None
    return answer.acknowledgement, verified


def _record(
    vault: Vault,
    claimed: _Claimed,
    now: int,
    status: int | None,
    error: str | None,
    answer: tuple[str, RevocationAcknowledgement] | None,
    jitter: Callable[[int], int] | None,
) -> DeliveryOutcome | None:
    """The notice's new state and its ledger entries, in one transaction. None if another process
    recorded the delivery first (the ledger then holds it once, from that process)."""
    common = {"origin": claimed.origin, "purpose_id": claimed.purpose_id, "ref": claimed.jti}
    notice = (claimed.jti, claimed.origin, claimed.purpose_id, claimed.endpoint)
    with vault.transaction() as conn:
        row = conn.execute(
            "SELECT attempts FROM outbox WHERE id = ? AND delivered_at IS NULL", (claimed.jti,)
        ).fetchone()
        if row is None:
            return None
        attempt = row[0] + 1
        if answer is not None:
            token, verified = answer
            conn.execute(
                "UPDATE outbox SET attempts = ?, delivered_at = ?, acknowledgement = ?, last_error = NULL "
                "WHERE id = ?",
                (attempt, now, token, claimed.jti),
            )
            body = {"attempt": attempt, "outcome": "delivered", "status": status}
            ledger.append(conn, at=now, kind="delivery", body=body, **common)
            body = {"erased": verified.erased, "token": token}
            ledger.append(conn, at=now, kind="delivery_ack", body=body, **common)
            return DeliveryOutcome(*notice, attempt, delivered=True, status=status, erased=verified.erased)
        error = error or "no acknowledgement"
        retry_at = now + backoff(attempt, jitter)
        conn.execute(
            "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (attempt, error, retry_at, claimed.jti),
        )
        body = {"attempt": attempt, "outcome": "failed", "error": error, "next_attempt_at": retry_at}
        if status is not None:
            body["status"] = status
        ledger.append(conn, at=now, kind="delivery", body=body, **common)
    return DeliveryOutcome(
        *notice, attempt, delivered=False, status=status, error=error, next_attempt_at=retry_at
    )


# -- the real transport ----------------------------------------------------------------------------


def https_post(url: str, body: bytes, timeout: float) -> Response:
    """POST with the standard library: certificates and host names checked, no redirects followed, no
    proxy taken from the environment, at most MAX_RESPONSE_BYTES read, and `timeout` for the whole
    exchange (a watchdog closes the socket, so a site that answers one byte at a time cannot hold us)."""
    parts = urlsplit(url)
    if parts.hostname is None or parts.scheme not in ("https", "http"):
        raise DeliveryFailed("bad endpoint URL")
    try:
        port = parts.port
    except ValueError:
        raise DeliveryFailed("bad endpoint URL") from None
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    expired = threading.Event()
    connected: list[socket.socket] = []

    def watchdog() -> None:
        expired.set()
        # The socket as connected: http.client hands it to the response and forgets it (conn.sock).
        for sock in connected:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, watchdog)
    timer.daemon = True
    timer.start()
    try:
        conn.connect()  # bounded by `timeout` itself
        connected.append(conn.sock)
        if expired.is_set():
            raise DeliveryFailed("timed out")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        conn.request("POST", parts.path or "/", body=body, headers=headers)
        response = conn.getresponse()
        data = b""
        while len(data) <= MAX_RESPONSE_BYTES:
            chunk = response.read1(MAX_RESPONSE_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
        if expired.is_set():
            raise DeliveryFailed("timed out")
        if len(data) > MAX_RESPONSE_BYTES:
            raise DeliveryFailed("answer too large")
        return Response(response.status, response.getheader("Content-Type", ""), data)
    except DeliveryFailed:
        raise
    except Exception as error:
        raise DeliveryFailed("timed out" if expired.is_set() else _network_reason(error)) from None
    finally:
        timer.cancel()
        conn.close()


def _network_reason(error: Exception) -> str:
    # Fixed phrases: exception texts can carry addresses or server-controlled bytes.
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ssl.SSLError):
        return "TLS error (certificate or handshake)"
    if isinstance(error, socket.gaierror):
        return "host name not found"
    if isinstance(error, http.client.HTTPException | ValueError):
        return "bad HTTP answer"
    if isinstance(error, OSError):
        return f"network error ({type(error).__name__})"
    return f"delivery error ({type(error).__name__})"
