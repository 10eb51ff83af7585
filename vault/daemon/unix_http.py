"""The HTTP/1.1 that DaemonClient speaks over the daemon's Unix socket: a request's bytes, and an answer
read from a connection with every read bounded. Standard library only (the native host imports this).

Only what our daemon (uvicorn) answers is spoken: a status line, headers, and a body framed by
Content-Length, chunked encoding or the end of the stream.
"""

from __future__ import annotations

import re
import socket

# What http.client allowed: a header block of at most 100 lines of at most 64 KiB.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
RECEIVE_SIZE = 256 * 1024
MAX_INTERIM_ANSWERS = 8

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-5][0-9][0-9])(?: [^\r\n]*)?\r?")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_REQUEST_TARGET = re.compile(r"/[\x21-\x7e]*")


class Gone(Exception):
    """The connection ended before a single byte of the answer."""


class CutOff(Exception):
    """The connection ended in the middle of the answer."""


class Malformed(Exception):
    """The answer is not the HTTP/1.1 we speak."""


class Connection:
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
        """Exactly `size` bytes (the caller bounds `size`); CutOff when the stream ends first."""
        while len(self.buffer) < size:
            if not self._fill():
                raise CutOff
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
                raise Malformed("a line longer than 64 KiB")
            if not self._fill():
                raise CutOff

    def rest(self, limit: int) -> bytes:
        """Everything up to the end of the stream, or the first limit + 1 bytes of it."""
        while len(self.buffer) <= limit and self._fill():
            pass
        data = bytes(self.buffer[: limit + 1])
        self.buffer.clear()
        return data

    def head(self) -> tuple[int, bool, dict[str, str]]:
        """(status, keep-alive, headers by lower-case name) of the next answer, 1xx answers skipped (a few:
        an endless stream of them must not keep us reading)."""
        for _ in range(MAX_INTERIM_ANSWERS + 1):
            match = _HEAD_END.search(self.buffer)
            while match is None:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    raise Malformed("headers longer than 64 KiB")
                if not self._fill():
                    raise CutOff if self.buffer else Gone
                match = _HEAD_END.search(self.buffer)
            if match.start() > MAX_HEADER_BYTES:
                raise Malformed("headers longer than 64 KiB")
            block = bytes(self.buffer[: match.start()])
            del self.buffer[: match.end()]
            status, keep_alive, headers = _parse_head(block)
            if status >= 200:
                return status, keep_alive, headers
        raise Malformed(f"more than {MAX_INTERIM_ANSWERS} interim (1xx) answers")


def _parse_head(block: bytes) -> tuple[int, bool, dict[str, str]]:
    lines = block.split(b"\n")
    status_line = _STATUS_LINE.fullmatch(lines[0])
    if status_line is None:
        raise Malformed(f"status line {lines[0][:80]!r}")
    if len(lines) > MAX_HEADERS + 1:
        raise Malformed(f"more than {MAX_HEADERS} headers")
    headers: dict[str, str] = {}
    for raw in lines[1:]:
        name, colon, value = raw.decode("latin-1").rstrip("\r").partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise Malformed(f"header line {raw[:80]!r}")
        name, value = name.lower(), value.strip(" \t")
        if name == "content-length" and headers.get(name, value) != value:
            raise Malformed("two different Content-Length headers")
        headers[name] = f"{headers[name]}, {value}" if name in headers and name != "content-length" else value
    tokens = {t.strip() for t in headers.get("connection", "").lower().split(",")}
    keep_alive = "keep-alive" in tokens if status_line[1] == b"0" else "close" not in tokens
    return int(status_line[2]), keep_alive, headers


def encode_request(method: str, path: str, headers: dict[str, str], body: bytes | None) -> bytes:
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
