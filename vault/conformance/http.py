"""A small HTTP client that plays the vault's side of the wire: one origin, one cookie session, bounded.

Every exchange is one request on a fresh connection, bounded in time (`timeout` for the whole exchange,
not per read, so a site that drips one byte a second cannot hold a run) and in size (an answer longer
than `max_bytes` is cut there and marked `too_large`). Redirects are never followed: a vault fetches a
manifest with `redirect: "error"`, and a site that redirects a presentation has not answered it.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import msgspec

from vault.protocol.origin import origin_problem, same_origin_url

TIMEOUT = 10.0
MAX_ANSWER_BYTES = 256 * 1024
MAX_COOKIES = 32
_REASON = re.compile(r"[a-z][a-z0-9_]{0,63}")


class Unreachable(Exception):
    """The site did not answer: refused, reset, timed out, or its TLS did not verify. The message says
    which, in words, and never holds what was sent."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes
    too_large: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON when it is an application/json object, else None."""
        if self.content_type != "application/json" or self.too_large:
            return None
        try:
            value = msgspec.json.decode(self.body)
        except (msgspec.DecodeError, RecursionError):  # a site may nest arrays as deep as its bound allows
            return None
        return value if isinstance(value, dict) else None

    @property
    def reason(self) -> str | None:
        """The `reason` of a JSON refusal, when it is spelled as ours are (what a site sends is never
        echoed to a terminal as it is)."""
        body = self.json()
        reason = body.get("reason") if body else None
        return reason if isinstance(reason, str) and _REASON.fullmatch(reason) else None

    def said(self) -> str:
        """What the site answered, in words: the status, and its refusal's `reason` when it gave one."""
        return str(self.status) if self.reason is None else f"{self.status}, reason {self.reason}"


@dataclass
class SiteClient:
    """One cookie session at `origin` (what a page's requests carry). `session()` starts another."""

    origin: str
    timeout: float = TIMEOUT
    max_bytes: int = MAX_ANSWER_BYTES
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problem = origin_problem(self.origin)
        if problem is not None:
            raise ValueError(f"not an origin a vault talks to: {problem}")
        parts = urlsplit(self.origin)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port

    def session(self) -> SiteClient:
        return SiteClient(self.origin, self.timeout, self.max_bytes)

    def get(self, url: str, *, credentials: bool = True, max_bytes: int | None = None) -> Answer:
        return self._exchange("GET", url, None, {}, credentials, max_bytes or self.max_bytes)

    def post(self, url: str, body: bytes, content_type: str = "application/json") -> Answer:
        headers = {"Content-Type": content_type}
        return self._exchange("POST", url, body, headers, True, self.max_bytes)

    def post_json(self, url: str, value: Any) -> Answer:
        return self.post(url, msgspec.json.encode(value))

    def _exchange(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        credentials: bool,
        limit: int,
    ) -> Answer:
        if not same_origin_url(url.split("?", 1)[0], self.origin):
            raise ValueError(f"{url} is not on {self.origin}")
        target = url[len(self.origin) :]
        headers = {**headers, "Accept": "application/json", "Connection": "close"}
        if credentials and self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        deadline = time.monotonic() + self.timeout
        connection = self._connection()
        try:
            connection.connect()
            sock = connection.sock
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            connection.request(method, target, body=body, headers=headers)
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            response = connection.getresponse()
            data, too_large = _read_bounded(response, limit, deadline, sock)
        except TimeoutError:
            raise Unreachable(f"no answer from {self.origin} within {self.timeout:g} s") from None
        except ssl.SSLError as error:
            raise Unreachable(
                f"the TLS connection to {self.origin} failed ({error.reason or 'TLS'})"
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise Unreachable(f"{self.origin} could not be reached ({_words(error)})") from None
        finally:
            connection.close()
        if credentials:
            self._keep_cookies(response.msg.get_all("Set-Cookie") or [])
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, answer_headers, data, too_large)

    def _connection(self) -> http.client.HTTPConnection:
        if self._https:
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout, context=context)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _keep_cookies(self, lines: list[str]) -> None:
        for line in lines:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(line)
            except CookieError:
                continue  # a cookie a browser would also drop; the site's nonce check will tell
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                elif name in self.cookies or len(self.cookies) < MAX_COOKIES:
                    self.cookies[name] = morsel.value


def _read_bounded(
    response: http.client.HTTPResponse, limit: int, deadline: float, sock: socket.socket
) -> tuple[bytes, bool]:
    chunks, size = [], 0
    while size <= limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)  # the whole exchange is bounded, not each read
        chunk = response.read1(min(65536, limit + 1 - size))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit], True


def _words(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected):
        return "the connection was closed without an answer"
    if isinstance(error, socket.gaierror):
        return "its host name does not resolve"
    return type(error).__name__
