"""A real test site that receives revocation notices, run as its own process by the end-to-end tests.

    python -m tests.consent.revocation_site --manifest M.json --site-key-file K --subjects S.json
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
import json
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.consent import site_process
from tests.consent.site_process import JsonHandler, serve
from vault.site import NoticeInvalid, SigningKey, acknowledge_revocation, decode_manifest, verify_revocation


def make_handler(args: argparse.Namespace) -> type[JsonHandler]:
    manifest = decode_manifest(Path(args.manifest).read_bytes())
    site_key = SigningKey.from_seed(bytes.fromhex(Path(args.site_key_file).read_text().strip()))
    endpoint_path = urlsplit(manifest.revocation_endpoint).path
    log_path = Path(args.log)

    def record(entry: dict) -> None:
        # Written (and flushed) before the answer goes out, so a test that got the answer sees the line.
        with log_path.open("a") as log:
            log.write(json.dumps(entry) + "\n")

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = self.posted_body(endpoint_path)
            if body is None:
                return
            if args.silent:
                record({"outcome": "held"})
                self.hang()
                return
            try:
                notice_token = json.loads(body)["notice"]
            except (ValueError, KeyError, TypeError):
                record({"outcome": "refused", "reason": "bad_body"})
                self.answer(400, {"error": "bad_body"})
                return
            subjects = json.loads(Path(args.subjects).read_text())
            now = int(time.time())
            try:
                notice = verify_revocation(
                    notice_token, manifest=manifest, now=now, stored_subject=subjects.get
                )
            except NoticeInvalid as error:
                record({"outcome": "refused", "reason": error.reason.value})
                self.answer(400, {"error": error.reason.value})
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
            self.answer(200, {"acknowledgement": ack})

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
    serve(make_handler(args), port=args.port, fd=args.fd)


def start(listener: socket.socket, directory: Path, *args: str) -> subprocess.Popen:
    """This site in a process of its own, serving on `listener` once it answers (site_process.start)."""
    return site_process.start("tests.consent.revocation_site", listener, directory, *args)


if __name__ == "__main__":
    main()
