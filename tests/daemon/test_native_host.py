"""The native host as the browser runs it: a real `vault native-host` process, frames over its stdin and
stdout, and a real HTTP server on a real Unix socket standing in for the daemon."""

import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.native_support import (
    ORIGIN,
    EchoDaemon,
    Host,
    frame,
    host_env,
    parse_frames,
    short_dir,
    start_host_process,
)
from vault.daemon.client import DaemonClient, DaemonUnavailable, ResponseTooLarge

TOKEN = "pairing-token_0123456789abcdef"
HEAVY = ("msgspec", "click", "rich", "litestar", "cryptography", "sqlcipher3")


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    with short_dir() as directory:
        yield directory


@pytest.fixture
def daemon(socket_dir: Path) -> Iterator[EchoDaemon]:
    echo = EchoDaemon(socket_dir / "vault.sock").start()
    yield echo
    echo.stop()


@pytest.fixture
def start_host(tmp_path: Path) -> Iterator:
    hosts: list[Host] = []

    def start(socket_path: Path, *args: str) -> Host:
        command = [sys.executable, "-m", "vault", "native-host", "--socket", str(socket_path), *args]
        hosts.append(start_host_process(command, tmp_path))
        return hosts[-1]

    yield start
    for host in hosts:
        host.kill()


def get(frame_id: Any, path: str = "/v1/echo", **extra: Any) -> dict[str, Any]:
    return {"id": frame_id, "method": "GET", "path": path, **extra}


def test_round_trip_keeps_id_status_and_body(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    body = {"claims": ["age_over_18"], "nested": {"n": 1.5, "ok": True, "text": "zürich ✓"}}
    reply = host.ask(
        {"id": "r-1", "method": "POST", "path": "/v1/requests?x=1", "body": body, "client": TOKEN}
    )
    assert reply["id"] == "r-1"
    assert reply["status"] == 200
    echo = reply["body"]
    assert echo["method"] == "POST"
    assert echo["path"] == "/v1/requests?x=1"
    assert echo["body"] == body
    assert echo["headers"]["content-type"] == "application/json"
    assert host.ask(get(7, "/v1/status/404")) == {
        "id": 7,
        "status": 404,
        "body": {"error": "nope", "message": "m", "hint": "h"},
    }
    assert host.ask(get(8, "/v1/empty")) == {"id": 8, "status": 204, "body": None}
    for method in ("PUT", "DELETE"):
        reply = host.ask({"id": method, "method": method, "path": "/v1/thing/1", "body": [1]})
        assert reply["body"]["method"] == method
        assert reply["body"]["body"] == [1]
    code, rest, _ = host.finish()
    assert (code, rest) == (0, b"")


def test_headers_carry_client_and_caller_and_never_admin(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    headers = host.ask(get(1, client=TOKEN))["body"]["headers"]
    assert headers["x-vault-client"] == TOKEN
    assert headers["x-vault-caller"] == ORIGIN
    assert "x-vault-admin" not in headers
    # Without a pairing token, no client header at all (not an empty one).
    assert "x-vault-client" not in host.ask(get(2))["body"]["headers"]
    # A frame cannot add headers or an admin token: unknown keys are refused outright.
    for smuggled in ({"headers": {"X-Vault-Admin": "t"}}, {"admin": "t"}, {"X-Vault-Admin": "t"}):
        reply = host.ask(get(3, **smuggled))
        assert reply["status"] == 400
        assert reply["body"]["error"] == "bad_frame"
        assert reply["id"] == 3


def test_firefox_caller_is_the_add_on_id(daemon, start_host, tmp_path) -> None:
    manifest = str(tmp_path / "org.personal_vault.json")
    host = start_host(daemon.socket_path, manifest, "personal-vault@personal-vault.org")
    headers = host.ask(get(1))["body"]["headers"]
    assert headers["x-vault-caller"] == "personal-vault@personal-vault.org"


BAD_FRAMES = [
    (get(1, "/v1/admin/lock"), 1),
    (get(1, "/v1/ADMIN/lock"), 1),
    (get(1, "/v1/%61dmin/lock"), 1),
    (get(1, "/v1/../v1/admin/lock"), 1),
    (get(1, "/v1/a/%2e%2e/b"), 1),
    (get(1, "/v1/a//b"), 1),
    (get(1, "/v1/a\\b"), 1),
    (get(1, "/v1/a b"), 1),
    (get(1, "/v1/a\r\nX-Vault-Admin: t"), 1),
    (get(1, "/v2/echo"), 1),
    (get(1, "http://evil.example/v1/echo"), 1),
    (get(1, "/v1/" + "a" * 2045), 1),
    (get(1, 5), 1),
    ({"id": 1, "method": "PATCH", "path": "/v1/echo"}, 1),
    ({"id": 1, "method": "get", "path": "/v1/echo"}, 1),
    ({"id": 1, "path": "/v1/echo"}, 1),
    (get(1, body={"a": 1}), 1),
    (get(1, client="token with spaces"), 1),
    (get(1, client="t" * 129), 1),
    (get(1, client=5), 1),
    (get("x" * 65), None),
    (get(True), None),
    (get(2**60), None),
    (get(None), None),
    ({"method": "GET", "path": "/v1/echo"}, None),
    (b"not json", None),
    (b"\xff\xfe", None),
    (b"[1, 2]", None),
    (b"", None),
    (b'{"id": 1, "method": "GET", "path": "/v1/echo", "body": NaN}', None),
    (b"[" * 100_000, None),
]


def test_bad_frames_are_refused_and_the_host_keeps_going(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    for message, expected_id in BAD_FRAMES:
        reply = host.ask(message)
        assert reply["status"] == 400, message
        assert reply["id"] == expected_id, message
        assert reply["body"]["error"] == "bad_frame", message
        assert reply["body"]["message"] and reply["body"]["hint"]
    # Exactly at the limits is fine, and the host still answers.
    assert host.ask(get("x" * 64, "/v1/" + "a" * 2044))["status"] == 200
    assert host.ask(get(1, client="t" * 128))["status"] == 200
    code, rest, _ = host.finish()
    assert (code, rest) == (0, b"")


def test_daemon_not_running_then_started(socket_dir, start_host) -> None:
    socket_path = socket_dir / "vault.sock"
    host = start_host(socket_path, ORIGIN)
    reply = host.ask(get("a"))
    assert reply["id"] == "a"
    assert reply["status"] == 503
    assert reply["body"]["error"] == "daemon_unavailable"
    assert str(socket_path) in reply["body"]["message"]
    assert "vault serve" in reply["body"]["hint"]
    # A stale socket file with nothing listening is "not running" too.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(socket_path))
    stale.close()
    assert host.ask(get("b"))["body"]["error"] == "daemon_unavailable"
    socket_path.unlink()
    echo = EchoDaemon(socket_path).start()
    try:
        assert host.ask(get("c"))["status"] == 200
    finally:
        echo.stop()


def test_daemon_restarted_between_messages(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    assert host.ask(get(1))["status"] == 200
    daemon.stop()
    assert host.ask(get(2))["body"]["error"] == "daemon_unavailable"
    daemon.start()
    assert host.ask(get(3))["status"] == 200
    # Restarted while the host held a live connection: the next message reconnects transparently.
    daemon.stop()
    daemon.start()
    assert host.ask({"id": 4, "method": "POST", "path": "/v1/echo", "body": {"n": 4}})["body"]["body"] == {
        "n": 4
    }
    assert daemon.connections == 1


def test_one_connection_carries_many_messages(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    for i in range(50):
        assert host.ask(get(i))["id"] == i
    assert daemon.connections == 1


def test_response_too_large_for_a_native_message(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    reply = host.ask(get("big", "/v1/big"))
    assert reply["id"] == "big"
    assert reply["status"] == 502
    assert reply["body"]["error"] == "response_too_large"
    assert host.ask(get("next"))["status"] == 200


def test_a_body_that_is_not_json_is_a_bad_response(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    reply = host.ask(get("t", "/v1/text"))
    assert (reply["id"], reply["status"], reply["body"]["error"]) == ("t", 502, "bad_response")


@pytest.mark.parametrize("cut", ["mid-line", "between-lines", "after-length"])
def test_an_answer_cut_off_mid_headers_is_an_error(daemon, start_host, cut: str) -> None:
    """http.client takes the end of the stream for the blank line that ends the headers: without a check,
    a daemon that died mid-answer would reach the page as a 200 with no body."""
    host = start_host(daemon.socket_path, ORIGIN)
    reply = host.ask(get("cut", f"/v1/cut/{cut}"))
    assert (reply["id"], reply["status"], reply["body"]["error"]) == ("cut", 503, "daemon_unavailable")
    assert "in the middle of its answer" in reply["body"]["message"]
    assert host.ask(get("next"))["status"] == 200  # the host goes on, on a new connection


def test_eof_exits_quietly(daemon, start_host) -> None:
    for partial in (b"", b"\x10\x00", frame(get(1))[:-3]):
        host = start_host(daemon.socket_path, ORIGIN)
        assert host.proc.stdin is not None
        host.proc.stdin.write(partial)
        code, rest, err = host.finish()
        assert (code, rest) == (0, b""), err
        assert "Traceback" not in err


def test_oversized_frame_is_refused_then_the_host_exits(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    assert host.proc.stdin is not None
    host.proc.stdin.write(struct.pack("<I", 1024 * 1024 + 1) + b"{" * 1000)
    reply = host.recv()
    assert reply["id"] is None
    assert reply["status"] == 400
    assert reply["body"]["error"] == "bad_frame"
    assert host.proc.wait(timeout=20) == 1


def test_stdout_carries_nothing_but_frames(daemon, start_host) -> None:
    host = start_host(daemon.socket_path, ORIGIN)
    messages = [get(1), get(2, "/v1/admin"), b"junk", get(3, "/v1/big"), get(4, "/v1/empty"), get(5)]
    for message in messages:
        host.send(message)
    code, out, err = host.finish()
    assert code == 0, err
    replies = parse_frames(out)
    assert [reply["id"] for reply in replies] == [1, 2, None, 3, 4, 5]
    assert [reply["status"] for reply in replies] == [200, 400, 400, 502, 204, 200]


IMPORT_CHECK = """
import atexit, runpy, sys
heavy = {heavy!r}
atexit.register(lambda: sys.stderr.write(
    "HEAVY=" + ",".join(sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))) + "\\n"))
sys.argv = ["vault", "native-host", "--socket", {socket!r}, {origin!r}]
runpy.run_module("vault", run_name="__main__")
"""


def test_host_imports_nothing_heavy(daemon, tmp_path) -> None:
    script = IMPORT_CHECK.format(heavy=HEAVY, socket=str(daemon.socket_path), origin=ORIGIN)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=frame(get(1)),
        capture_output=True,
        env=host_env(tmp_path),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert parse_frames(proc.stdout)[0]["status"] == 200
    assert "HEAVY=\n" in proc.stderr.decode(), proc.stderr.decode()


def test_client_over_a_unix_socket(daemon, socket_dir) -> None:
    with DaemonClient(daemon.socket_path, headers={"X-Vault-Client": TOKEN}) as client:
        status, body = client.request_json("POST", "/v1/echo", {"a": [1, 2]})
        assert status == 200
        assert body["body"] == {"a": [1, 2]}
        assert body["headers"]["x-vault-client"] == TOKEN
        assert client.request("GET", "/v1/empty") == (204, b"")
        assert client.request_json("GET", "/v1/empty") == (204, None)
    small = DaemonClient(daemon.socket_path, max_response_bytes=1000)
    with pytest.raises(ResponseTooLarge):
        small.request("GET", "/v1/big")
    assert small.request_json("GET", "/v1/echo")[0] == 200
    small.close()
    assert daemon.connections == 3
    missing = DaemonClient(socket_dir / "nothing.sock")
    with pytest.raises(DaemonUnavailable) as raised:
        missing.request("GET", "/v1/echo")
    assert str(socket_dir / "nothing.sock") in raised.value.message
    assert raised.value.hint == "start it with: vault serve"


def test_client_retries_only_what_may_be_repeated(daemon) -> None:
    with DaemonClient(daemon.socket_path) as client:
        assert client.request("GET", "/v1/echo")[0] == 200
        # The kept-alive connection is closed unanswered: a GET is sent again on a new connection...
        assert client.request("GET", "/v1/flaky")[0] == 200
        assert daemon.connections == 2
        # ...a POST is not (the daemon might have acted on it), and the caller hears so.
        with pytest.raises(DaemonUnavailable, match="closed the connection without answering"):
            client.request_json("POST", "/v1/flaky", {"a": 1})
        assert daemon.connections == 2
        assert client.request("GET", "/v1/echo")[0] == 200
        assert daemon.connections == 3
