"""HTTP/1.1 to the daemon over its Unix socket. Standard library only: the native host imports this.

One connection is kept alive across requests (a round trip on a warm connection is what makes the
browser's persistent native port cheap). If the daemon restarted or dropped the idle connection, the
next request notices and reconnects once.

The HTTP is our own, and small (vault.daemon.unix_http): the browser starts a native host for every
port it opens, and http.client would cost it some 30 ms of imports (the email parser, ssl) before its
first answer.
"""

from __future__ import annotations

import json
import os
import select
import socket
from pathlib import Path

from vault.daemon.unix_http import MAX_HEADERS, Connection, CutOff, Gone, Malformed, encode_request
from vault.errors import VaultError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the native host's start counts)
if TYPE_CHECKING:
    from typing import Any

HEADER_CLIENT = "X-Vault-Client"
HEADER_CALLER = "X-Vault-Caller"
HEADER_ADMIN = "X-Vault-Admin"
JSON_TYPE = "application/json"
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
START_HINT = "start it with: vault serve"
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NO_BODY_STATUSES = frozenset({204, 304})
# Sent again on a fresh connection only when the request never reached the daemon, or (idempotent
# methods) when the connection closed before a byte of the answer: the idle timeout racing a request.
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class DaemonError(VaultError):
    """Talking to the daemon failed; `message` says how and `hint` what to do."""


class DaemonUnavailable(DaemonError):
    """No daemon at the socket, or it went away (or stopped answering) mid-request."""


class ResponseTooLarge(DaemonError):
    def __init__(self, size: int | None, limit: int) -> None:
        shown = f"{size} bytes" if size is not None else "more"
        super().__init__(
            f"the daemon's answer ({shown}) exceeds the limit of {limit} bytes",
            "ask for less at a time",
        )
        self.size = size
        self.limit = limit


class BadResponse(DaemonError):
    """The daemon answered something that is not HTTP, or not the JSON it promised."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Made once: json.dumps and json.loads with any option build a new encoder or decoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; strings with lone surrogates (legal in JS) fall back to \\u escapes."""
    try:
        return _ENCODER.encode(value).encode()
    except UnicodeEncodeError:
        return _ASCII_ENCODER.encode(value).encode()


def loads(data: bytes | str) -> Any:
    """Strict JSON: NaN and Infinity are refused (a browser's JSON.parse would choke on them)."""
    if not isinstance(data, str):
        data = data.decode(json.detect_encoding(data), "surrogatepass")  # as json.loads decodes bytes
    if data.startswith("\ufeff"):
        raise ValueError("a byte order mark is not JSON")
    return _DECODER.decode(data)


class DaemonClient:
    def __init__(
        self,
        socket_path: Path | str,
        *,
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.socket_path = Path(socket_path)
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.max_response_bytes = max_response_bytes
        self._conn: Connection | None = None

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Sends one request and returns (status, body bytes). Raises a DaemonError subclass on failure."""
        merged = {**self.headers, **(headers or {})}
        if body is not None and not any(k.lower() == "content-type" for k in merged):
            merged["Content-Type"] = JSON_TYPE
        message = encode_request(method, path, merged, body)
        while True:
            conn, reused = self._connection()
            try:
                try:
                    conn.sock.sendall(message)
                except _GONE:
                    # A kept-alive connection the daemon had already closed: the request never reached
                    # it, so sending it again on a fresh connection is safe whatever the method.
                    if reused:
                        self.close()
                        continue
                    raise
                try:
                    status, keep_alive, answer_headers = conn.head()
                except (Gone, *_GONE):
                    # Closed with no answer: most likely the daemon's idle timeout raced our request.
                    # Only a request that may be repeated (RFC 9110 9.2.2) is sent again.
                    if reused and method in _IDEMPOTENT:
                        self.close()
                        continue
                    raise Gone from None
                data = self._read_body(conn, method, status, answer_headers)
            except ResponseTooLarge:
                self.close()
                raise
            except CutOff as e:
                self.close()
                raise self._cut_off() from e
            except TimeoutError as e:
                self.close()
                raise self._timed_out() from e
            except (Gone, OSError) as e:
                self.close()
                raise self._vanished() from e
            except Malformed as e:
                self.close()
                raise BadResponse(f"the daemon at {self.socket_path} sent a malformed answer: {e}") from e
            if not keep_alive or conn.spent or conn.buffer:
                self.close()  # not at a message boundary: this connection cannot carry another request
            return status, data

    def request_json(
        self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """Like request(), JSON both ways: (status, decoded body, or None when the body is empty)."""
        body = None if payload is None else dumps(payload)
        status, data = self.request(method, path, body, {"Accept": JSON_TYPE, **(headers or {})})
        if not data:
            return status, None
        try:
            return status, loads(data)
        except (ValueError, RecursionError) as e:
            raise BadResponse(
                f"the daemon at {self.socket_path} answered {status} with a body that is not JSON",
                "check the daemon's log",
            ) from e

    def _connection(self) -> tuple[Connection, bool]:
        if self._conn is not None:
            if not self._peer_closed(self._conn.sock):
                return self._conn, True
            self.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(os.fspath(self.socket_path))
        except BaseException as e:
            sock.close()
            if isinstance(e, OSError):
                raise self._not_connected(e) from e
            raise
        self._conn = Connection(sock)
        return self._conn, False

    def _not_connected(self, e: OSError) -> DaemonUnavailable:
        if isinstance(e, FileNotFoundError):
            return DaemonUnavailable(
                f"the vault daemon is not running (no socket at {self.socket_path})", START_HINT
            )
        if isinstance(e, ConnectionRefusedError):
            return DaemonUnavailable(
                f"the vault daemon is not running (nothing listens on {self.socket_path})", START_HINT
            )
        if isinstance(e, PermissionError):
            return DaemonUnavailable(
                f"not allowed to connect to the daemon at {self.socket_path}",
                "the socket belongs to another user; start your own with: vault serve",
            )
        if isinstance(e, TimeoutError):
            return self._timed_out()
        return DaemonUnavailable(
            f"cannot connect to the daemon at {self.socket_path}: {e.strerror or e}", START_HINT
        )

    @staticmethod
    def _peer_closed(sock: socket.socket) -> bool:
        """An idle kept-alive socket that is readable has hit EOF (or holds junk): either way, drop it."""
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))

    def _read_body(self, conn: Connection, method: str, status: int, headers: dict[str, str]) -> bytes:
        """The answer's body, at most max_response_bytes (ResponseTooLarge beyond)."""
        limit = self.max_response_bytes
        if method == "HEAD" or status in _NO_BODY_STATUSES:
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked(conn, limit)
        declared = headers.get("content-length")
        if declared is None:
            data = conn.rest(limit)  # framed by the end of the stream
            conn.spent = True
            if len(data) > limit:
                raise ResponseTooLarge(None, limit)
            return data
        if not declared.isdigit():
            raise Malformed(f"Content-Length {declared[:40]!r}")
        if int(declared) > limit:
            raise ResponseTooLarge(int(declared), limit)
        return conn.take(int(declared))

    @staticmethod
    def _read_chunked(conn: Connection, limit: int) -> bytes:
        chunks = []
        total = 0
        while True:
            size_text = conn.line().split(b";", 1)[0].strip()
            if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                raise Malformed(f"chunk size {size_text[:40]!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > limit:
                raise ResponseTooLarge(None, limit)
            chunks.append(conn.take(size))
            if conn.take(2) != b"\r\n":
                raise Malformed("a chunk longer than its size")
        for _ in range(MAX_HEADERS + 1):  # the trailer section, up to its blank line
            if not conn.line():
                return b"".join(chunks)
        raise Malformed(f"more than {MAX_HEADERS} trailers")

    def _vanished(self) -> DaemonUnavailable:
        return DaemonUnavailable(
            f"the vault daemon at {self.socket_path} closed the connection without answering",
            f"it may have stopped or crashed; check its log, or {START_HINT}",
        )

    def _cut_off(self) -> DaemonUnavailable:
        return DaemonUnavailable(
            f"the vault daemon at {self.socket_path} closed the connection in the middle of its answer",
            f"it may have stopped or crashed; check its log, or {START_HINT}",
        )

    def _timed_out(self) -> DaemonUnavailable:
        return DaemonUnavailable(
            f"the vault daemon at {self.socket_path} did not answer within {self.timeout:g} s",
            "it may be stuck; check its log, or restart it (vault serve)",
        )
