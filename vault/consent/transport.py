"""The one way notices leave the vault: an HTTP POST with the standard library, bounded in size and time.
A site's answer is checked by the outbox, not here."""

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


class DeliveryFailed(Exception):
    """The POST did not get an HTTP answer. The message is a short reason, safe to store and show."""


def https_post(url: str, body: bytes, timeout: float) -> Response:
    """POST with the standard library: certificates and host names checked, no redirects followed, no
    proxy taken from the environment, at most MAX_RESPONSE_BYTES read, and `timeout` for the whole
    exchange (a watchdog closes the socket, so a site that answers one byte at a time cannot hold us)."""
    parts = urlsplit(url)
    if parts.hostname is None or parts.scheme not in ("https", "http"):
        raise DeliveryFailed("bad endpoint URL")
    try:
        port = parts.port
    except ValueError:
        raise DeliveryFailed("bad endpoint URL") from None
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    expired = threading.Event()
    connected: list[socket.socket] = []

    def watchdog() -> None:
        expired.set()
        # The socket as connected: http.client hands it to the response and forgets it (conn.sock).
        for sock in connected:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, watchdog)
    timer.daemon = True
    timer.start()
    try:
        conn.connect()  # bounded by `timeout` itself
        connected.append(conn.sock)
        if expired.is_set():
            raise DeliveryFailed("timed out")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        conn.request("POST", parts.path or "/", body=body, headers=headers)
        response = conn.getresponse()
        data = b""
        while len(data) <= MAX_RESPONSE_BYTES:
            chunk = response.read1(MAX_RESPONSE_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
        if expired.is_set():
            raise DeliveryFailed("timed out")
        if len(data) > MAX_RESPONSE_BYTES:
            raise DeliveryFailed("answer too large")
        return Response(response.status, response.getheader("Content-Type", ""), data)
    except DeliveryFailed:
        raise
    except Exception as error:
        raise DeliveryFailed("timed out" if expired.is_set() else _network_reason(error)) from None
    finally:
        timer.cancel()
        conn.close()


def _network_reason(error: Exception) -> str:
    # Fixed phrases: exception texts can carry addresses or server-controlled bytes.
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ssl.SSLError):
        return "TLS error (certificate or handshake)"
    if isinstance(error, socket.gaierror):
        return "host name not found"
    if isinstance(error, http.client.HTTPException | ValueError):
        return "bad HTTP answer"
    if isinstance(error, OSError):
        return f"network error ({type(error).__name__})"
    return f"delivery error ({type(error).__name__})"
