"""No input gets a 5xx from a real `vault serve`: bodies nested far too deep (on every route the daemon
documents, and on the pairing route nobody needs to be paired for), and numbers too large for a float."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.daemon.support import DaemonProcess, make_vault, new_client_token

DEPTH = 1000  # past Python's recursion limit: msgspec raised RecursionError, a 500
DEEP = b'{"value": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"


@pytest.fixture
def daemon(vault_home: Path):
    with DaemonProcess(make_vault(vault_home)) as daemon:
        yield daemon


def test_a_deeply_nested_body_is_refused_on_every_route(daemon: DaemonProcess) -> None:
    with daemon.admin() as admin:
        status, document = admin.request_json("GET", "/schema/openapi.json")
        assert status == 200
        answers = {}
        # Locking routes last: once locked, the others still answer 4xx, but the point is their bodies.
        operations = sorted(
            (
                (method.upper(), path, "requestBody" in operation)
                for path, methods in document["paths"].items()
                for method, operation in methods.items()
            ),
            key=lambda op: op[1].endswith("/lock"),
        )
        # Every operation the daemon serves (+ inbox 6, access 2, contexts 9, the command line's 2, the
        # profile's changes 1).
        assert len(operations) == 32 + 6 + 2 + 9 + 2 + 1
        for method, path, has_body in operations:
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            status, raw = admin.request(method, concrete, DEEP)
            answers[(method, path)] = status, json.loads(raw) if raw else None
            assert status < 500, (method, path, status, raw)
            if has_body:
                body = json.loads(raw)
                assert (status, body["error"]) == (400, "bad_request"), (method, path, status, raw)
                assert "nested too deeply" in body["message"], body
        assert sum(has_body for _, _, has_body in operations) >= 8
    # The one route that needs no pairing at all.
    with daemon.client(new_client_token()) as stranger:
        status, raw = stranger.request("POST", "/v1/pairing", DEEP)
        body = json.loads(raw)
        assert (status, body["error"]) == (400, "bad_request") and "nested too deeply" in body["message"]
    assert "Traceback" not in daemon.log() and "request failed" not in daemon.log(), daemon.log()


def test_a_number_too_large_for_a_float_is_invalid_input(daemon: DaemonProcess) -> None:
    with daemon.paired_client() as client:
        status, raw = client.request("PUT", "/v1/attributes/sizes.shoe", b'{"value": 1' + b"0" * 400 + b"}")
        body = json.loads(raw)
        assert (status, body["error"]) == (400, "invalid_input"), raw
        assert body["message"].startswith("sizes.shoe: ") and "outside 15 to 52" in body["message"], body
        # Nested deep, but within bounds, is an ordinary answer.
        status, body = client.request_json("PUT", "/v1/attributes/interests", {"value": [[["jazz"]]]})
        assert (status, body["error"]) == (400, "invalid_input"), body
        status, body = client.request_json("GET", "/v1/attributes")
        assert status == 200 and body["values"]["sizes.shoe"] == 42
    assert "Traceback" not in daemon.log() and "request failed" not in daemon.log(), daemon.log()
