"""A real test site that answers access requests ("what do you hold about me?"), run as its own process.

    python -m tests.consent.access_site --manifest M.json --site-key-file K --held H.json
        --log received.jsonl (--port N | --fd N) [--mode MODE] [--messages T.json]

It uses only the site library (vault.site), as a real site would: `verify_access_request` against its
manifest (with its own replay store), then `answer_access_request` built from its records (`--held`:
a JSON list of {presentation, subject, purpose, claims: {name: value}, received_at, keep_until,
recipients}, read at each request, so a test can change what the site holds). One JSON line per request
goes to `--log`. Modes:
    honest         answers with exactly its records
    lying          keeps everything a year longer than it received it for, holds `email` (never given)
                   and names a recipient nobody declared (`adbroker`)
    silent         takes the request and never answers (the caller's own timeout ends the exchange)
    503            answers 503 Service Unavailable
    wrong-key      answers with a statement signed by another key
    other-request  answers, signed, a request it made up (another jti)
`--messages`: a JSON list of site messages to carry in each statement. GET /health answers 200. `--fd`
serves on an already bound socket inherited from the test (until then, connections are refused). Plain
http on loopback only: this is a test fixture, not a server to deploy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.consent import site_process
from tests.consent.site_process import JsonHandler, serve
from vault.site import (
    AccessRequestInvalid,
    HeldRecord,
    InMemoryReplayStore,
    SigningKey,
    VerifiedAccessRequest,
    answer_access_request,
    decode_manifest,
    verify_access_request,
)

MODES = ("honest", "lying", "silent", "503", "wrong-key", "other-request")
YEAR = 365 * 86400
OTHER_KEY = SigningKey.from_seed(hashlib.sha256(b"not the site's key").digest())


def held_records(path: Path, subject: str, mode: str) -> list[HeldRecord]:
    records = []
    for item in json.loads(path.read_text()):
        if item["subject"] != subject:
            continue  # what it holds under another pseudonym is not this visitor's
        claims, recipients, keep_until = (
            dict(item["claims"]),
            list(item.get("recipients", ())),
            item["keep_until"],
        )
        if mode == "lying":
            claims["email"] = "someone@example.org"
            recipients.append("adbroker")
            keep_until = item["received_at"] + YEAR
        records.append(
            HeldRecord(
                presentation=item["presentation"],
                purpose=item["purpose"],
                claims=claims,
                received_at=item["received_at"],
                keep_until=keep_until,
                recipients=tuple(recipients),
            )
        )
    return records


def make_handler(args: argparse.Namespace) -> type[JsonHandler]:
    manifest = decode_manifest(Path(args.manifest).read_bytes())
    site_key = SigningKey.from_seed(bytes.fromhex(Path(args.site_key_file).read_text().strip()))
    endpoint_path = urlsplit(manifest.access_endpoint or "").path
    replay = InMemoryReplayStore()
    log_path = Path(args.log)
    messages = json.loads(Path(args.messages).read_text()) if args.messages else []

    def record(entry: dict) -> None:
        with log_path.open("a") as log:
            log.write(json.dumps(entry) + "\n")

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = self.posted_body(endpoint_path)
            if body is None:
                return
            if args.mode == "silent":
                record({"outcome": "held"})
                self.hang()
                return
            if args.mode == "503":
                record({"outcome": "unavailable"})
                self.answer(503, {"error": "unavailable"})
                return
            now = int(time.time())
            try:
                token = json.loads(body)["request"]
                request = verify_access_request(token, manifest=manifest, now=now, replay=replay)
            except (ValueError, KeyError, TypeError):
                record({"outcome": "refused", "reason": "bad_body"})
                self.answer(400, {"error": "bad_body"})
                return
            except AccessRequestInvalid as error:
                record({"outcome": "refused", "reason": error.reason.value})
                self.answer(400, {"error": error.reason.value})
                return
            held = held_records(Path(args.held), request.subject, args.mode)
            key, answering, manifest_used = site_key, request, manifest
            if args.mode == "wrong-key":  # the same manifest, as if its key were another one
                data = json.loads(Path(args.manifest).read_text())
                data["site_key"] = OTHER_KEY.public_jwk
                key, manifest_used = OTHER_KEY, decode_manifest(json.dumps(data).encode())
            if args.mode == "other-request":
                answering = VerifiedAccessRequest(
                    subject=request.subject,
                    jti="made-up-request-0001",
                    purposes=(),
                    issued_at=request.issued_at,
                )
            statement = answer_access_request(
                key,
                answering,
                manifest=manifest_used,
                now=now,
                held=held,
                show_values=True,
                messages=messages,
            )
            record(
                {
                    "outcome": "answered",
                    "jti": request.jti,
                    "subject": request.subject,
                    "purposes": list(request.purposes),
                    "holdings": sorted({r.purpose for r in held}),
                }
            )
            self.answer(200, {"statement": statement})

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--site-key-file", required=True, help="hex of the site key's 32-byte seed")
    parser.add_argument("--held", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--mode", choices=MODES, default="honest")
    parser.add_argument("--messages", help="a JSON list of message tokens to carry in each statement")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", type=int)
    where.add_argument("--fd", type=int, help="an inherited socket, already bound to a loopback address")
    args = parser.parse_args(argv)
    serve(make_handler(args), port=args.port, fd=args.fd)


def start(listener: socket.socket, directory: Path, *args: str) -> subprocess.Popen:
    """This site in a process of its own, serving on `listener` once it answers (site_process.start)."""
    return site_process.start("tests.consent.access_site", listener, directory, *args)


if __name__ == "__main__":
    main()
