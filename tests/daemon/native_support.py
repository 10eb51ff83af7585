"""A stand-in daemon (a real HTTP/1.1 server on a real Unix socket) and a driver for a native host process,
shared by the native host and install tests."""

import contextlib
import http.server
import json
import os
import select
import shutil
import socket
import socketserver
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vault.daemon.browser import EXTENSION_ID

ORIGIN = f"chrome-extension://{EXTENSION_ID}/"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Echoes what arrived; a few paths misbehave on purpose."""

    protocol_version = "HTTP/1.1"
    server: "_Server"

    def setup(self) -> None:
        super().setup()
        self.handled = 0
        with self.server.lock:
            self.server.connections += 1
            self.server.open.add(self.connection)

    def finish(self) -> None:
        super().finish()
        with self.server.lock:
            self.server.open.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.handled += 1
        if self.path == "/v1/flaky" and self.handled > 1:
            # What an idle timeout looks like when it races a request: closed, no answer.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif self.path == "/v1/big":
            self._reply(200, json.dumps({"data": "x" * 1_100_000}).encode())
        elif self.path == "/v1/empty":
            self._reply(204, b"")
        elif self.path.startswith("/v1/cut/"):
            # A daemon that dies in the middle of its answer's headers: a status line and some of the
            # header block, then the end of the stream (no blank line, no body).
            cut = {
                "mid-line": b"HTTP/1.1 200 OK\r\ncontent-type: applic",
                "between-lines": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n",
                "after-length": b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\ncontent-ty",
            }[self.path.rsplit("/", 1)[1]]
            self.wfile.write(cut)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif self.path == "/v1/text":
            self._reply(200, b"<html>oops</html>", "text/html")
        elif self.path.startswith("/v1/status/"):
            status = int(self.path.rsplit("/", 1)[1])
            self._reply(status, json.dumps({"error": "nope", "message": "m", "hint": "h"}).encode())
        else:
            echo = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": json.loads(raw) if raw else None,
            }
            self._reply(200, json.dumps(echo).encode())

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self.connections = 0
        self.open: set[socket.socket] = set()
        super().__init__(path, _Handler)


class EchoDaemon:
    """Stands in for `vault serve`; stop() drops every connection, as a daemon that exits would."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.server: _Server | None = None

    def start(self) -> "EchoDaemon":
        self.server = _Server(str(self.socket_path))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def connections(self) -> int:
        assert self.server is not None
        return self.server.connections

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        with self.server.lock:
            for conn in list(self.server.open):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self.socket_path.unlink(missing_ok=True)
        self.server = None


def frame(message: Any) -> bytes:
    data = message if isinstance(message, bytes) else json.dumps(message).encode()
    return struct.pack("<I", len(data)) + data


def parse_frames(data: bytes) -> list[Any]:
    """Every frame in a stream that must hold nothing else."""
    frames = []
    while data:
        assert len(data) >= 4, f"trailing bytes that are not a frame: {data!r}"
        (length,) = struct.unpack("<I", data[:4])
        assert len(data) >= 4 + length, "truncated frame"
        frames.append(json.loads(data[4 : 4 + length]))
        data = data[4 + length :]
    return frames


def host_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "XDG_"))}
    env["HOME"] = str(tmp)
    return env


class Host:
    """A running native host, driven the way the browser drives it."""

    def __init__(self, command: list[str], env: dict[str, str], stderr: Path) -> None:
        # stderr goes to a file: readable at any time, and it can never fill a pipe and stall the host.
        self.stderr = stderr
        with stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env, bufsize=0
            )

    def send(self, message: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(frame(message))

    def _read(self, size: int, timeout: float) -> bytes:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        data = b""
        while len(data) < size:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no frame within {timeout} s; stderr: {self.stderr_so_far()}"
            if select.select([self.proc.stdout], [], [], remaining)[0]:
                chunk = os.read(self.proc.stdout.fileno(), size - len(data))
                assert chunk, f"the host closed stdout; stderr: {self.stderr_so_far()}"
                data += chunk
        return data

    def recv(self, timeout: float = 20) -> dict[str, Any]:
        (length,) = struct.unpack("<I", self._read(4, timeout))
        assert length <= 1_000_000
        return json.loads(self._read(length, timeout))

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        return self.recv()

    def stderr_so_far(self) -> str:
        return self.stderr.read_text(errors="replace")

    def finish(self, timeout: float = 20) -> tuple[int, bytes, str]:
        """Closes stdin (the browser closing the port); returns the exit code, the rest of stdout, stderr."""
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, self.stderr_so_far()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()


@contextlib.contextmanager
def short_dir() -> Iterator[Path]:
    # sockaddr_un allows about 108 bytes: pytest's tmp_path is often longer than that.
    directory = Path(tempfile.mkdtemp(prefix="vt-", dir="/tmp"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def start_host_process(command: list[str], tmp: Path) -> Host:
    return Host(command, host_env(tmp), tmp / f"host-{time.monotonic_ns()}.err")
