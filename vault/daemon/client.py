"""HTTP/1.1 to the daemon over its Unix socket. Standard library only: the native host imports this.

One connection is kept alive across requests (a round trip on a warm connection is what makes the
browser's persistent native port cheap). If the daemon restarted or dropped the idle connection, the
next request notices and reconnects once.
"""

import http.client
import json
import os
import select
import socket
from pathlib import Path
from typing import Any

from vault.errors import VaultError

HEADER_CLIENT = "X-Vault-Client"
HEADER_CALLER = "X-Vault-Caller"
HEADER_ADMIN = "X-Vault-Admin"
JSON_TYPE = "application/json"
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
START_HINT = "start it with: vault serve"

# The failures that mean "the connection is gone", as opposed to "the daemon said something odd".
_GONE = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


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


class _CutOff(http.client.HTTPException):
    """The answer ended in the middle of its headers."""


class _LineWatch:
    """The response's stream, noting whether a line read hit the end of the stream."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.ended = False

    def readline(self, limit: int = -1) -> bytes:
        line = self._stream.readline(limit)
        if not line.endswith(b"\n"):
            self.ended = True
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _WholeHeadersResponse(http.client.HTTPResponse):
    """http.client takes the end of the stream for the blank line that ends the headers, so an answer
    cut off mid-headers would pass for a complete one (a 200 with no body). This one refuses it."""

    def begin(self) -> None:
        watch = self.fp = _LineWatch(self.fp)
        super().begin()
        if watch.ended:
            raise _CutOff("the answer ended inside its headers")


class UnixHTTPConnection(http.client.HTTPConnection):
    response_class = _WholeHeadersResponse

    def __init__(self, socket_path: Path, timeout: float) -> None:
        # The Host header is fixed: there is no host name on a Unix socket.
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(os.fspath(self.socket_path))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


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
        self._conn: UnixHTTPConnection | None = None

    def __enter__(self) -> "DaemonClient":
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
        while True:
            conn, reused = self._connection()
            try:
                try:
                    conn.request(method, path, body=body, headers=merged)
                except _GONE:
                    # A kept-alive connection the daemon had already closed: the request never reached
                    # it, so sending it again on a fresh connection is safe whatever the method.
                    if reused:
                        self.close()
                        continue
                    raise
                try:
                    response = conn.getresponse()
                except _GONE:
                    # Closed with no answer: most likely the daemon's idle timeout raced our request.
                    # Only a request that may be repeated (RFC 9110 9.2.2) is sent again.
                    if reused and method in _IDEMPOTENT:
                        self.close()
                        continue
                    raise
            except _CutOff as e:
                self.close()
                raise self._cut_off() from e
            except _GONE as e:
                self.close()
                raise self._vanished() from e
            except TimeoutError as e:
                self.close()
                raise self._timed_out() from e
            except OSError as e:
                self.close()
                raise self._vanished() from e
            except http.client.HTTPException as e:
                self.close()
                raise BadResponse(f"the daemon at {self.socket_path} sent a malformed answer: {e!r}") from e
            return response.status, self._read_body(response)

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

    def _connection(self) -> tuple[UnixHTTPConnection, bool]:
        if self._conn is not None and self._conn.sock is not None:
            if not self._peer_closed(self._conn.sock):
                return self._conn, True
            self.close()
        conn = UnixHTTPConnection(self.socket_path, self.timeout)
        try:
            conn.connect()
        except FileNotFoundError as e:
            raise DaemonUnavailable(
                f"the vault daemon is not running (no socket at {self.socket_path})", START_HINT
            ) from e
        except ConnectionRefusedError as e:
            raise DaemonUnavailable(
                f"the vault daemon is not running (nothing listens on {self.socket_path})", START_HINT
            ) from e
        except PermissionError as e:
            raise DaemonUnavailable(
                f"not allowed to connect to the daemon at {self.socket_path}",
                "the socket belongs to another user; start your own with: vault serve",
            ) from e
        except TimeoutError as e:
            raise self._timed_out() from e
        except OSError as e:
            raise DaemonUnavailable(
                f"cannot connect to the daemon at {self.socket_path}: {e.strerror or e}", START_HINT
            ) from e
        self._conn = conn
        return conn, False

    @staticmethod
    def _peer_closed(sock: socket.socket) -> bool:
        """An idle kept-alive socket that is readable has hit EOF (or holds junk): either way, drop it."""
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))

    def _read_body(self, response: http.client.HTTPResponse) -> bytes:
        limit = self.max_response_bytes
        declared = response.getheader("Content-Length")
        try:
            if declared is not None and declared.isdigit() and int(declared) > limit:
                self.close()
                raise ResponseTooLarge(int(declared), limit)
            # Asking for one byte more than allowed tells "exactly at the limit" from "over it".
            data = response.read(limit + 1)
        except TimeoutError as e:
            self.close()
            raise self._timed_out() from e
        except (OSError, http.client.IncompleteRead) as e:
            self.close()
            raise self._vanished() from e
        if len(data) > limit:
            self.close()
            raise ResponseTooLarge(None, limit)
        if declared is not None and declared.isdigit() and len(data) != int(declared):
            # read(amt) returns what arrived when the peer hangs up early: a cut-off answer, not a short one.
            self.close()
            raise self._cut_off()
        if not response.isclosed():
            self.close()  # not at a message boundary: this connection cannot carry another request
        return data

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
