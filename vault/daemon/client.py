"""HTTP/1.1 to the daemon over its Unix socket. Standard library only: the native host imports this.

One connection is kept alive across requests (a round trip on a warm connection is what makes the
browser's persistent native port cheap). If the daemon restarted or dropped the idle connection, the
next request notices and reconnects once.

The HTTP is our own, and small: the browser starts a native host for every port it opens, and
http.client would cost it some 30 ms of imports (the email parser, ssl) before its first answer. It speaks
only what our daemon (uvicorn) answers: a status line, headers, and a body framed by Content-Length,
chunked encoding or the end of the stream; every read is bounded.
"""

from __future__ import annotations

import json
import os
import re
import select
import socket
from pathlib import Path

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
# What http.client allowed: a header block of at most 100 lines of at most 64 KiB.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
RECEIVE_SIZE = 256 * 1024

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NO_BODY_STATUSES = frozenset({204, 304})
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-5][0-9][0-9])(?: [^\r\n]*)?\r?")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_REQUEST_TARGET = re.compile(r"/[\x21-\x7e]*")
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


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; strings with lone surrogates (legal in JS) fall back to \\u escapes."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(data: bytes) -> Any:
    """Strict JSON: NaN and Infinity are refused (a browser's JSON.parse would choke on them)."""
    return json.loads(data, parse_constant=_refuse_constant)


class _Gone(Exception):
    """The connection ended before a single byte of the answer."""


class _CutOff(Exception):
    """The connection ended in the middle of the answer."""


class _Malformed(Exception):
    """The answer is not the HTTP/1.1 we speak."""


class _Connection:
    """One socket and what has been received on it but not yet consumed."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.spent = False  # an answer framed by the end of the stream ended it

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> bool:
        """Receives more; False at the end of the stream."""
        chunk = self.sock.recv(RECEIVE_SIZE)
        self.buffer += chunk
        return bool(chunk)

    def take(self, size: int) -> bytes:
        """Exactly `size` bytes (the caller bounds `size`); _CutOff when the stream ends first."""
        while len(self.buffer) < size:
            if not self._fill():
                raise _CutOff
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def line(self) -> bytes:
        """One line, its end removed (chunk sizes and trailers), of at most MAX_HEADER_BYTES."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end]).rstrip(b"\r")
                del self.buffer[: end + 1]
                return line
            if len(self.buffer) > MAX_HEADER_BYTES:
                raise _Malformed("a line longer than 64 KiB")
            if not self._fill():
                raise _CutOff

    def rest(self, limit: int) -> bytes:
        """Everything up to the end of the stream, or the first limit + 1 bytes of it."""
        while len(self.buffer) <= limit and self._fill():
            pass
        data = bytes(self.buffer[: limit + 1])
        self.buffer.clear()
        return data

    def head(self) -> tuple[int, bool, dict[str, str]]:
        """(status, keep-alive, headers by lower-case name) of the next answer, 1xx answers skipped."""
        while True:
            match = _HEAD_END.search(self.buffer)
            while match is None:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    raise _Malformed("headers longer than 64 KiB")
                if not self._fill():
                    raise _CutOff if self.buffer else _Gone
                match = _HEAD_END.search(self.buffer)
            if match.start() > MAX_HEADER_BYTES:
                raise _Malformed("headers longer than 64 KiB")
            block = bytes(self.buffer[: match.start()])
            del self.buffer[: match.end()]
            status, keep_alive, headers = _parse_head(block)
            if status >= 200:
                return status, keep_alive, headers


def _parse_head(block: bytes) -> tuple[int, bool, dict[str, str]]:
    lines = block.split(b"\n")
    status_line = _STATUS_LINE.fullmatch(lines[0])
    if status_line is None:
        raise _Malformed(f"status line {lines[0][:80]!r}")
    if len(lines) > MAX_HEADERS + 1:
        raise _Malformed(f"more than {MAX_HEADERS} headers")
    headers: dict[str, str] = {}
    for raw in lines[1:]:
        name, colon, value = raw.decode("latin-1").rstrip("\r").partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise _Malformed(f"header line {raw[:80]!r}")
        name, value = name.lower(), value.strip(" \t")
        if name == "content-length" and headers.get(name, value) != value:
            raise _Malformed("two different Content-Length headers")
        headers[name] = f"{headers[name]}, {value}" if name in headers and name != "content-length" else value
    tokens = {t.strip() for t in headers.get("connection", "").lower().split(",")}
    keep_alive = "keep-alive" in tokens if status_line[1] == b"0" else "close" not in tokens
    return int(status_line[2]), keep_alive, headers


def _encode_request(method: str, path: str, headers: dict[str, str], body: bytes | None) -> bytes:
    """The request's bytes; ValueError for what would let a value break out of its line (as
    http.client refuses it)."""
    if not _TOKEN.fullmatch(method) or not _REQUEST_TARGET.fullmatch(path):
        raise ValueError(f"not a request line: {method!r} {path!r}")
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", "Accept-Encoding: identity"]
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise ValueError(f"not a header: {name!r}")
        lines.append(f"{name}: {value}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + (body or b"")


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
        self._conn: _Connection | None = None

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
        message = _encode_request(method, path, merged, body)
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
                except (_Gone, *_GONE):
                    # Closed with no answer: most likely the daemon's idle timeout raced our request.
                    # Only a request that may be repeated (RFC 9110 9.2.2) is sent again.
                    if reused and method in _IDEMPOTENT:
                        self.close()
                        continue
                    raise _Gone from None
                data = self._read_body(conn, method, status, answer_headers)
            except ResponseTooLarge:
                self.close()
                raise
            except _CutOff as e:
                self.close()
                raise self._cut_off() from e
            except TimeoutError as e:
                self.close()
                raise self._timed_out() from e
            except (_Gone, OSError) as e:
                self.close()
                raise self._vanished() from e
            except _Malformed as e:
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

    def _connection(self) -> tuple[_Connection, bool]:
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
        self._conn = _Connection(sock)
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

    def _read_body(self, conn: _Connection, method: str, status: int, headers: dict[str, str]) -> bytes:
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
            raise _Malformed(f"Content-Length {declared[:40]!r}")
        if int(declared) > limit:
            raise ResponseTooLarge(int(declared), limit)
        return conn.take(int(declared))

    @staticmethod
    def _read_chunked(conn: _Connection, limit: int) -> bytes:
        chunks = []
        total = 0
        while True:
            size_text = conn.line().split(b";", 1)[0].strip()
            if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                raise _Malformed(f"chunk size {size_text[:40]!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > limit:
                raise ResponseTooLarge(None, limit)
            chunks.append(conn.take(size))
            if conn.take(2) != b"\r\n":
                raise _Malformed("a chunk longer than its size")
        for _ in range(MAX_HEADERS + 1):  # the trailer section, up to its blank line
            if not conn.line():
                return b"".join(chunks)
        raise _Malformed(f"more than {MAX_HEADERS} trailers")

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
