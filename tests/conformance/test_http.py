"""The conformance client is bounded as a vault is (size, time, no redirects), keeps one cookie session, and
the manifest check says every problem a vault would refuse, in words. Against raw sockets of this process
that answer exactly what each test needs."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests import example
from vault.conformance.http import SiteClient, Unreachable
from vault.conformance.manifest_check import manifest_problems
from vault.protocol.manifest import encode_manifest

Handler = Callable[[socket.socket], None]


@contextlib.contextmanager
def raw_site(handler: Handler) -> Iterator[str]:
    """http://127.0.0.1:PORT, where each connection's request is read and `handler` answers it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(0.5)  # a request that never ends its head (a TLS hello) is answered anyway
                received = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in received:
                        received += conn.recv(65536) or b"\r\n\r\n"
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    handler(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        server.close()


def answer(status: str, body: bytes, *headers: str) -> Handler:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close", *headers]
    return lambda conn: conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)


def test_an_answer_longer_than_the_bound_is_cut_and_marked() -> None:
    with raw_site(answer("200 OK", b"x" * 5000, "Content-Type: application/json")) as origin:
        got = SiteClient(origin, max_bytes=1000).get(origin + "/big")
    assert (got.status, len(got.body), got.too_large, got.json()) == (200, 1000, True, None)


def test_a_site_that_drips_its_answer_is_cut_off_at_the_bound_of_the_whole_exchange() -> None:
    def drip(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.1)  # each read gets a byte in time; the whole would take 10 s

    with raw_site(drip) as origin:
        started = time.monotonic()
        with pytest.raises(Unreachable, match=r"no answer from http://127\.0\.0\.1:\d+ within 1 s"):
            SiteClient(origin, timeout=1.0).get(origin + "/slow")
        assert time.monotonic() - started < 2.0


def test_a_closed_port_is_unreachable_in_words() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(Unreachable, match=r"could not be reached \(connection refused\)"):
        SiteClient(origin).get(origin + "/")


def test_redirects_are_not_followed_and_cookies_make_one_session() -> None:
    with raw_site(answer("302 Found", b"", "Location: /elsewhere", "Set-Cookie: sid=abc; Path=/")) as origin:
        client = SiteClient(origin)
        assert client.get(origin + "/.well-known/vault-manifest.json").status == 302
        assert client.cookies == {"sid": "abc"}
        assert client.session().cookies == {}
    with pytest.raises(ValueError, match="is not on"):
        client.get("http://127.0.0.1:1/elsewhere")


MANIFEST = encode_manifest(example.manifest())
ORIGIN = example.ORIGIN
AT = f"{ORIGIN}/.well-known/vault-manifest.json answered"


@pytest.mark.parametrize(
    ("status", "content_type", "body", "problems"),
    [
        (404, "application/json", b"", [f"{AT} 404: this site has no vault manifest"]),
        (302, "", b"", [f"{AT} 302, a redirect: a vault never follows one (the origin must serve it)"]),
        (500, "text/html", b"", [f"{AT} 500, not 200"]),
        (200, "text/html", MANIFEST, ["its Content-Type is text/html, not application/json"]),
        (200, "application/json", b"\xff" + MANIFEST, ["it is not UTF-8"]),
        (200, "application/json", b" " * 70000, ["it is larger than 65536 bytes"]),
        (200, "", MANIFEST.replace(b'"version":1', b'"version":2'), [
            "its Content-Type is missing, not application/json",
            "a vault refuses it: manifest does not match the schema: Invalid enum value 2 - at `$.version`",
        ]),
    ],
)  # fmt: skip
def test_every_manifest_problem_a_vault_refuses_is_said(
    status: int, content_type: str, body: bytes, problems: list[str]
) -> None:
    assert manifest_problems(status, content_type, body, False, ORIGIN) == problems


def test_a_manifest_for_another_origin_is_refused_and_a_good_one_is_not() -> None:
    assert manifest_problems(200, "application/json", MANIFEST, False, ORIGIN) == []
    assert manifest_problems(200, "application/json", MANIFEST, False, "https://other.example") == [
        "it is for 'https://shop.example', not for https://other.example"
    ]


def test_an_https_origin_that_does_not_speak_tls_is_unreachable_in_words() -> None:
    with raw_site(answer("200 OK", b"{}", "Content-Type: application/json")) as plain:
        origin = plain.replace("http://127.0.0.1", "https://localhost")
        with pytest.raises(Unreachable, match=r"^the TLS connection to https://localhost:\d+ failed \(.+\)$"):
            SiteClient(origin).get(origin + "/.well-known/vault-manifest.json")
