"""DaemonClient's own HTTP/1.1 against canned answers: each framing it must read, and each malformed or
cut-off answer it must refuse, on a real Unix socket."""

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.native_support import short_dir
from vault.daemon.client import BadResponse, DaemonClient, DaemonUnavailable, ResponseTooLarge


class CannedDaemon:
    """Answers each request, on each connection, with the next canned answer; records what it read."""

    def __init__(self, path: Path, answers: list[bytes]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while self.answers:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(data) < length:
                    data += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + data[:length])
                data = data[length:]
                answer = self.answers.pop(0)
                if answer == b"CLOSE":
                    return
                conn.sendall(answer)
                if b"connection: close" in answer.lower() or (
                    b"content-length" not in answer.lower() and (b"chunked" not in answer.lower())
                ):
                    return

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def serve() -> Iterator:
    with short_dir() as directory:
        daemons: list[CannedDaemon] = []

        def start(*answers: bytes) -> tuple[CannedDaemon, DaemonClient]:
            path = directory / f"d{len(daemons)}.sock"
            daemons.append(CannedDaemon(path, list(answers)))
            return daemons[-1], DaemonClient(path, timeout=10)

        yield start
        for daemon in daemons:
            daemon.close()


OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}'


def test_content_length_answers_share_one_connection(serve) -> None:
    daemon, client = serve(OK, OK, OK)
    with client:
        for _ in range(3):
            assert client.request_json("GET", "/v1/x") == (200, {"a": 1})
    assert daemon.connections == 1
    assert daemon.requests[0].startswith(b"GET /v1/x HTTP/1.1\r\nHost: localhost\r\n")


def test_a_post_carries_its_length_and_type(serve) -> None:
    daemon, client = serve(OK, OK)
    with client:
        client.request_json("POST", "/v1/x", {"é": [1]})
        client.request("POST", "/v1/x")
    first, second = daemon.requests
    assert b"Content-Type: application/json\r\n" in first and first.endswith('{"é":[1]}'.encode())
    assert b"Content-Length: 0\r\n" in second


def test_chunked_answer(serve) -> None:
    chunked = (
        b'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\n{"a\r\n4\r\n":2}\r\n0\r\nT: 1\r\n\r\n'
    )
    daemon, client = serve(chunked, OK)
    with client:
        assert client.request_json("GET", "/v1/x") == (200, {"a": 2})
        assert client.request_json("GET", "/v1/x") == (200, {"a": 1})
    assert daemon.connections == 1


def test_answer_framed_by_the_end_of_the_stream_then_a_new_connection(serve) -> None:
    daemon, client = serve(b'HTTP/1.1 200 OK\r\n\r\n{"b":3}', OK)
    with client:
        assert client.request_json("GET", "/v1/x") == (200, {"b": 3})
        assert client.request_json("GET", "/v1/x") == (200, {"a": 1})
    assert daemon.connections == 2


def test_connection_close_and_http_1_0_are_not_reused(serve) -> None:
    closing = OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    old = OK.replace(b"HTTP/1.1", b"HTTP/1.0")
    daemon, client = serve(closing, old, OK)
    with client:
        for _ in range(3):
            assert client.request("GET", "/v1/x")[0] == 200
    assert daemon.connections == 3


def test_interim_answers_are_skipped(serve) -> None:
    _, client = serve(b"HTTP/1.1 100 Continue\r\n\r\n" + OK)
    with client:
        assert client.request_json("GET", "/v1/x") == (200, {"a": 1})


@pytest.mark.parametrize(
    "answer",
    [
        b"SMTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\n" + b"x: y\r\n" * 101 + b"content-length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx: " + b"y" * 70_000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n" * 9 + OK,
    ],
)
def test_malformed_answers_are_bad_responses(serve, answer: bytes) -> None:
    _, client = serve(answer, OK)
    with client, pytest.raises(BadResponse, match="malformed"):
        client.request("GET", "/v1/x")


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200 OK\r\ncontent-le",
    ],
)
def test_answers_cut_off_are_unavailable(serve, answer: bytes) -> None:
    _, client = serve(answer + b"")
    with client, pytest.raises(DaemonUnavailable, match="in the middle of its answer"):
        client.request("GET", "/v1/x")


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 101\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n65\r\n" + b"x" * 101 + b"\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 101,
    ],
)
def test_bodies_over_the_limit_are_refused(serve, answer: bytes) -> None:
    daemon, _ = serve(answer)
    small = DaemonClient(Path(daemon.server.getsockname()), max_response_bytes=100)
    with small, pytest.raises(ResponseTooLarge):
        small.request("GET", "/v1/x")


def test_nothing_can_break_out_of_a_header_line(serve) -> None:
    daemon, client = serve(OK)
    with client:
        for headers in ({"X-A": "1\r\nX-Admin: t"}, {"X-A\r\n": "1"}, {"X A": "1"}):
            with pytest.raises(ValueError):
                client.request("GET", "/v1/x", headers=headers)
        for path in ("/v1/x y", "/v1/x\r\nX: 1", "v1/x"):
            with pytest.raises(ValueError):
                client.request("GET", path)
    assert daemon.requests == []


def test_closed_without_an_answer_on_a_fresh_connection(serve) -> None:
    _, client = serve(b"CLOSE")
    with client, pytest.raises(DaemonUnavailable, match="without answering"):
        client.request("GET", "/v1/x")


def test_json_both_ways_is_strict_and_survives_lone_surrogates() -> None:
    from vault.daemon.client import dumps, loads

    assert loads(b'{"a":[1,"\xc3\xa9"]}') == loads('{"a":[1,"é"]}') == {"a": [1, "é"]}
    for text in (b"NaN", b"[Infinity]", "\ufeff{}", b"{", b"\xff"):
        with pytest.raises(ValueError):
            loads(text)
    assert dumps({"a": "é"}) == '{"a":"é"}'.encode()
    assert dumps({"a": "\ud800"}) == b'{"a":"\\ud800"}'
    with pytest.raises(ValueError):
        dumps(float("nan"))
