"""What the test sites run as processes of their own (tests/consent/revocation_site.py, access_site.py)
share: a quiet JSON handler with a health check and a bounded POST body, serving on a port or on a socket
inherited from the test, and starting one from a test once it answers. Plain http on loopback only."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY = 64 * 1024
ROOT = Path(__file__).parents[2]


class JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: each site's log file is the record

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.answer(200 if self.path == "/health" else 404, {"ok": self.path == "/health"})

    def posted_body(self, endpoint_path: str) -> bytes | None:
        """The body POSTed to `endpoint_path`, or None once the error is answered (another path, a
        missing length or one over MAX_BODY)."""
        if self.path != endpoint_path:
            self.answer(404, {"error": "not_found"})
            return None
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self.answer(413 if length > MAX_BODY else 411, {"error": "bad_length"})
            return None
        return self.rfile.read(length)

    def hang(self) -> None:
        """Never answer, as a site that hangs: the caller's own timeout ends the exchange."""
        self.rfile.read(1)  # until the caller hangs up
        self.close_connection = True


def serve(handler: type[BaseHTTPRequestHandler], *, port: int | None, fd: int | None) -> None:
    """Serve on `port`, or on the already bound socket `fd` (until then, connections are refused)."""
    ThreadingHTTPServer.daemon_threads = True
    if fd is not None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        server.socket.close()
        server.socket = socket.socket(fileno=fd)
        server.server_address = server.socket.getsockname()
        server.server_activate()
    else:
        server = ThreadingHTTPServer(("127.0.0.1", port or 0), handler)
    print(f"listening on {server.server_address[0]}:{server.server_address[1]}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def start(module: str, listener: socket.socket, directory: Path, *args: str) -> subprocess.Popen:
    """`python -m module` in a process of its own, serving on `listener` (bound, not yet listening), once
    it answers GET /health. `args`: the options after --fd."""
    with (directory / "site.stderr").open("a") as stderr:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args, "--fd", str(listener.fileno())],
            pass_fds=[listener.fileno()],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + 15
    while not _healthy(listener.getsockname()[1]):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the test site did not start: {(directory / 'site.stderr').read_text()}")
        time.sleep(0.05)
    return process


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()
