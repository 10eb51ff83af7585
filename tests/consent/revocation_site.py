"""A real test site that receives revocation notices, run as its own process by the end-to-end tests.

    python tests/consent/revocation_site.py --manifest M.json --site-key-file K --subjects S.json
        --log received.jsonl (--port N | --fd N) [--silent]

It uses only the site library (vault.site), as a real site would: it verifies each notice against its
manifest and the subjects it stored with each presentation (`--subjects`: JSON {jti: subject}), writes
one JSON line per request to `--log` (so a test can count deliveries), and answers with a signed
acknowledgement (`--silent`: it takes each notice, writes `{"outcome": "held"}`, and never answers, as a
site that hangs would; the caller's own timeout ends the exchange). `--fd` serves on an already bound
socket inherited from the test: until this process listens on it, connections are refused, exactly like
a site that is down. GET /health answers 200. `start()` runs it from a test.
Plain http on loopback only: this is a test fixture, not a server to deploy.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from vault.site import NoticeInvalid, SigningKey, acknowledge_revocation, decode_manifest, verify_revocation

MAX_BODY = 64 * 1024


def make_handler(args: argparse.Namespace) -> type[BaseHTTPRequestHandler]:
    manifest = decode_manifest(Path(args.manifest).read_bytes())
    site_key = SigningKey.from_seed(bytes.fromhex(Path(args.site_key_file).read_text().strip()))
    endpoint_path = urlsplit(manifest.revocation_endpoint).path
    log_path = Path(args.log)

    def record(entry: dict) -> None:
        # Written (and flushed) before the answer goes out, so a test that got the answer sees the line.
        with log_path.open("a") as log:
            log.write(json.dumps(entry) + "\n")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the log file is the record

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(200 if self.path == "/health" else 404, {"ok": self.path == "/health"})

        def do_POST(self) -> None:
            if self.path != endpoint_path:
                self._answer(404, {"error": "not_found"})
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                length = -1
            if not 0 < length <= MAX_BODY:
                self._answer(413 if length > MAX_BODY else 411, {"error": "bad_length"})
                return
            body = self.rfile.read(length)
            if args.silent:
                record({"outcome": "held"})
                self.rfile.read(1)  # until the caller hangs up
                self.close_connection = True
                return
            try:
                notice_token = json.loads(body)["notice"]
            except (ValueError, KeyError, TypeError):
                record({"outcome": "refused", "reason": "bad_body"})
                self._answer(400, {"error": "bad_body"})
                return
            subjects = json.loads(Path(args.subjects).read_text())
            now = int(time.time())
            try:
                notice = verify_revocation(
                    notice_token, manifest=manifest, now=now, stored_subject=subjects.get
                )
            except NoticeInvalid as error:
                record({"outcome": "refused", "reason": error.reason.value})
                self._answer(400, {"error": error.reason.value})
                return
            # A real site would mark these presentations withdrawn (and erase them if asked); doing it
            # twice is doing it once, so a repeated notice gets the same answer.
            record(
                {
                    "outcome": "acknowledged",
                    "jti": notice.jti,
                    "subject": notice.subject,
                    "purpose": notice.purpose,
                    "presentations": list(notice.presentations),
                    "unknown": list(notice.unknown),
                    "erasure": notice.erasure,
                }
            )
            outcomes = {
                recipient: ("erased" if notice.erasure else "forwarded", now)
                for recipient in notice.recipients
            }
            ack = acknowledge_revocation(
                site_key, notice, manifest=manifest, now=now, erased=notice.erasure, recipients=outcomes
            )
            self._answer(200, {"acknowledgement": ack})

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--site-key-file", required=True, help="hex of the site key's 32-byte seed")
    parser.add_argument("--subjects", required=True)
    parser.add_argument("--log", required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", type=int)
    where.add_argument("--fd", type=int, help="an inherited socket, already bound to a loopback address")
    parser.add_argument("--silent", action="store_true", help="take notices and never answer")
    args = parser.parse_args(argv)
    handler = make_handler(args)
    ThreadingHTTPServer.daemon_threads = True
    if args.fd is not None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        server.socket.close()
        server.socket = socket.socket(fileno=args.fd)
        server.server_address = server.socket.getsockname()
        server.server_activate()
    else:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(f"listening on {server.server_address[0]}:{server.server_address[1]}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def start(listener: socket.socket, directory: Path, *args: str) -> subprocess.Popen:
    """This script in a process of its own, serving on `listener` (bound, not yet listening), once it
    answers GET /health. `args`: the options after --fd."""
    with (directory / "site.stderr").open("a") as stderr:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, __file__, *args, "--fd", str(listener.fileno())],
            pass_fds=[listener.fileno()],
            cwd=Path(__file__).parents[2],
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


if __name__ == "__main__":
    main()
