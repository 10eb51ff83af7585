"""No input gets a 5xx from a real `vault serve`: bodies nested far too deep (on every route the daemon
documents, and on the pairing route nobody needs to be paired for), and numbers too large for a float."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.daemon.support import DaemonProcess, make_vault, new_client_token
from vault.daemon.app import MAX_JSON_DEPTH, nested_deeper_than

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


def nested(depth: int) -> object:
    value: object = "leaf"
    for level in range(depth):
        value = [value, 7] if level % 2 else {"k": value, "n": None}  # each level adds exactly one
    return value


def test_nesting_is_measured_on_the_decoded_value_at_the_bound() -> None:
    assert not nested_deeper_than("text", 0) and nested_deeper_than([], 0)
    assert not nested_deeper_than(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)
    assert nested_deeper_than(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)
    # The deepest branch counts, wherever it is; empty containers count as a level.
    assert nested_deeper_than([1, {"a": [[]]}, "x"], 3) and not nested_deeper_than([1, {"a": [[]]}], 4)
    assert not nested_deeper_than({"a": 1, "b": "two", "c": None}, 1)


def test_just_past_the_bound_is_refused_and_at_it_is_not(daemon: DaemonProcess) -> None:
    """Bodies msgspec decodes without trouble: the bound is the daemon's own, checked on every body."""
    with daemon.paired_client() as client:
        for depth, expected in ((MAX_JSON_DEPTH, "invalid_input"), (MAX_JSON_DEPTH + 1, "bad_request")):
            body = {"value": json.loads("[" * (depth - 1) + '"jazz"' + "]" * (depth - 1))}
            status, answer = client.request_json("PUT", "/v1/attributes/interests", body)
            assert (status, answer["error"]) == (400, expected), (depth, answer)
            assert ("nested too deeply" in answer["message"]) == (expected == "bad_request"), answer


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
