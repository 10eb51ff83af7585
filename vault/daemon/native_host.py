"""The native messaging host: frames from the browser extension in, HTTP to the daemon, frames back out.

Standard library only, and nothing heavy: the browser starts this process for every port it opens.
stdout is the channel to the browser, so it carries frames and nothing else (logs go to stderr).

Frame in:  {"id": str (<= 64 chars) | int, "method": "GET"|"POST"|"PUT"|"DELETE", "path": "/v1/...",
            "body": any JSON (optional), "client": str (optional, the pairing token)}
Frame out: {"id": <the same id, or null>, "status": <HTTP status>, "body": <JSON or null>}
Each frame is a 4-byte little-endian length and that many bytes of UTF-8 JSON.
"""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

from vault.daemon.client import (
    HEADER_CALLER,
    HEADER_CLIENT,
    BadResponse,
    DaemonClient,
    DaemonUnavailable,
    ResponseTooLarge,
    dumps,
    loads,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this process's start counts
if TYPE_CHECKING:
    from typing import Any, BinaryIO

# Chrome refuses a host-to-browser message over 1 MB; stay a little under it.
MAX_OUT_FRAME = 1_000_000
# Our own extension never sends anything near this; a bigger length means a bug or a hostile sender.
MAX_IN_FRAME = 1024 * 1024
# Whatever the daemon says beyond this cannot fit in a frame however it is re-encoded.
MAX_DAEMON_RESPONSE = 4 * MAX_OUT_FRAME
HOST_TIMEOUT = 60.0
METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
KEYS = frozenset({"id", "method", "path", "body", "client"})
MAX_ID = 64
MAX_CLIENT = 128
MAX_PATH = 2048
MAX_SAFE_INTEGER = 2**53 - 1  # ids come from JavaScript

_PATH = re.compile(r"/v1/[A-Za-z0-9/_\-.~%?=&:+]*")
_CLIENT = re.compile(r"[A-Za-z0-9_\-.~+/=]+")
_CALLER = re.compile(r"[\x21-\x7e]{1,256}")
_GECKO_ID = re.compile(r"[A-Za-z0-9._+\-]*@[A-Za-z0-9._\-]+|\{[0-9a-fA-F\-]{36}\}")
_HEADER = struct.Struct("<I")


class BadFrame(Exception):
    def __init__(self, message: str, frame_id: str | int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.frame_id = frame_id


def _log(message: str) -> None:
    sys.stderr.write(f"vault native-host: {message}\n")
    sys.stderr.flush()


def _error(code: str, message: str, hint: str) -> dict[str, str]:
    return {"error": code, "message": message, "hint": hint}


def _bad_frame(e: BadFrame) -> dict[str, Any]:
    hint = 'a frame is {"id", "method", "path", "body"?, "client"?}; this is a bug in the extension'
    return {"id": e.frame_id, "status": 400, "body": _error("bad_frame", e.message, hint)}


def _unquote(text: str) -> str:
    """Percent-decoding for the path checks below (urllib.parse would pull in more than it is worth)."""
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


def check_path(path: object) -> str:
    """A daemon API path the extension may use. The daemon checks too; this keeps admin routes and
    traversal tricks from ever leaving the host."""
    if not isinstance(path, str):
        raise ValueError("path must be a string")
    if len(path) > MAX_PATH:
        raise ValueError(f"path is longer than {MAX_PATH} characters")
    if not _PATH.fullmatch(path):
        raise ValueError("path must start with /v1/ and use only URL-safe characters")
    route = path.split("?", 1)[0]
    # Check the decoded form as well: a router that decodes %2e%2e or %61dmin must not be the only guard.
    for form in (route, _unquote(route)):
        if "\\" in form or ".." in form or "//" in form or "/./" in form or form.endswith("/."):
            raise ValueError("path must not contain '..', '//', '.' segments or backslashes")
        if form.lower().startswith("/v1/admin"):
            raise ValueError("admin routes are not reachable from the browser")
    return path


def parse_frame(data: bytes) -> dict[str, Any]:
    """The checked request in a frame; BadFrame (carrying the id when it was readable) otherwise."""
    try:
        frame = loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadFrame("the frame is not UTF-8 JSON") from None
    if not isinstance(frame, dict):
        raise BadFrame("the frame must be a JSON object")
    frame_id = frame.get("id")
    if isinstance(frame_id, bool) or not (
        (isinstance(frame_id, str) and len(frame_id) <= MAX_ID)
        or (isinstance(frame_id, int) and abs(frame_id) <= MAX_SAFE_INTEGER)
    ):
        raise BadFrame(f"id must be a string of at most {MAX_ID} characters or a safe integer")
    unknown = sorted(set(frame) - KEYS)
    if unknown:
        raise BadFrame(f"unknown keys: {', '.join(unknown)[:200]}", frame_id)
    method = frame.get("method")
    if method not in METHODS:
        raise BadFrame(f"method must be one of {', '.join(sorted(METHODS))}", frame_id)
    try:
        path = check_path(frame.get("path"))
    except ValueError as e:
        raise BadFrame(str(e), frame_id) from None
    client = frame.get("client")
    if client is not None and not (
        isinstance(client, str) and len(client) <= MAX_CLIENT and _CLIENT.fullmatch(client)
    ):
        raise BadFrame(f"client must be a token of at most {MAX_CLIENT} URL-safe characters", frame_id)
    body = frame.get("body")
    if body is not None and method == "GET":
        raise BadFrame("a GET request has no body", frame_id)
    return {"id": frame_id, "method": method, "path": path, "body": body, "client": client}


def caller_from_argv(positional: list[str]) -> str | None:
    """Who started us: Chrome passes the extension's origin, Firefox the manifest path and add-on id."""
    for arg in positional:
        if arg.startswith("chrome-extension://") and _CALLER.fullmatch(arg):
            return arg
    for arg in positional[1:]:
        if _GECKO_ID.fullmatch(arg) and _CALLER.fullmatch(arg):
            return arg
    return None


def parse_argv(argv: list[str]) -> tuple[Path | None, list[str]]:
    """(--socket, other arguments). Unknown options (Chrome on Windows adds --parent-window) are ignored."""
    socket_path = None
    positional = []
    args = iter(argv)
    for arg in args:
        if arg == "--socket":
            value = next(args, None)
            if not value:
                raise ValueError("--socket needs a path")
            socket_path = Path(value)
        elif arg.startswith("--socket="):
            socket_path = Path(arg.split("=", 1)[1])
        elif not arg.startswith("--"):
            positional.append(arg)
    return socket_path, positional


def read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """`size` bytes, or None when the stream ends first."""
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def encode_reply(frame_id: str | int | None, status: int, body: Any) -> bytes:
    data = dumps({"id": frame_id, "status": status, "body": body})
    if len(data) <= MAX_OUT_FRAME:
        return data
    message = f"the daemon's answer is {len(data)} bytes; a native message may carry {MAX_OUT_FRAME}"
    return dumps(
        {
            "id": frame_id,
            "status": 502,
            "body": _error("response_too_large", message, "ask for less at a time (a smaller page)"),
        }
    )


def forward(client: DaemonClient, request: dict[str, Any]) -> bytes:
    """One request to the daemon; its answer (or what went wrong) as an encoded reply frame."""
    headers = {HEADER_CLIENT: request["client"]} if request["client"] else {}
    frame_id = request["id"]
    try:
        status, body = client.request_json(request["method"], request["path"], request["body"], headers)
    except DaemonUnavailable as e:
        return encode_reply(frame_id, 503, _error("daemon_unavailable", e.message, e.hint))
    except ResponseTooLarge as e:
        return encode_reply(frame_id, 502, _error("response_too_large", e.message, e.hint))
    except BadResponse as e:
        return encode_reply(frame_id, 502, _error("bad_response", e.message, e.hint))
    return encode_reply(frame_id, status, body)


def serve(stdin: BinaryIO, stdout: BinaryIO, client: DaemonClient) -> int:
    while True:
        header = read_exactly(stdin, _HEADER.size)
        if header is None:
            return 0
        (length,) = _HEADER.unpack(header)
        if length > MAX_IN_FRAME:
            # The rest of the stream cannot be trusted to be framed: say why, then stop.
            e = BadFrame(f"the frame is {length} bytes; at most {MAX_IN_FRAME} are accepted")
            write_frame(stdout, dumps(_bad_frame(e)))
            _log(e.message)
            return 1
        data = read_exactly(stdin, length)
        if data is None:
            return 0
        try:
            request = parse_frame(data)
        except BadFrame as e:
            reply = dumps(_bad_frame(e))
        else:
            try:
                reply = forward(client, request)
            except Exception as e:
                # One request going wrong in an unforeseen way must not take the port down with it.
                import traceback

                traceback.print_exc(file=sys.stderr)
                client.close()
                message = f"the native host failed: {type(e).__name__}"
                reply = encode_reply(
                    request["id"], 500, _error("host_error", message, "see the host's stderr")
                )
        write_frame(stdout, reply)


def main(
    argv: list[str],
    *,
    socket_path: Path | str | None = None,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> int:
    """Runs the host until the browser closes stdin. argv excludes the program name."""
    try:
        argv_socket, positional = parse_argv(argv)
    except ValueError as e:
        _log(str(e))
        return 2
    if socket_path is None:
        socket_path = argv_socket
    if socket_path is None:
        from vault.daemon.paths import default_socket_path

        socket_path = default_socket_path()
    caller = caller_from_argv(positional)
    client = DaemonClient(
        socket_path,
        timeout=HOST_TIMEOUT,
        headers={HEADER_CALLER: caller} if caller else None,
        max_response_bytes=MAX_DAEMON_RESPONSE,
    )
    real_stdout = sys.stdout
    own_stdout = stdout is None
    if stdout is None:
        # A stray print() anywhere would corrupt the channel; send it to stderr instead.
        stdout = sys.stdout.buffer
        sys.stdout = sys.stderr
    try:
        return serve(stdin or sys.stdin.buffer, stdout, client)
    except BrokenPipeError:
        if own_stdout:
            # The browser closed the port; point fd 1 at /dev/null so the flush at exit stays quiet.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()
        sys.stdout = real_stdout
