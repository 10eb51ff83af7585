"""Running the demo shop with uvicorn on 127.0.0.1: in the foreground (`serve_shop`, what
`python -m vault.demo.shop` does) or from a thread of this process (`ShopThread`, for `vault demo` and
the tests)."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from typing import Any

from litestar import Litestar

from vault.demo.shop import Shop, create_shop
from vault.site import SigningKey


def bind_loopback(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


def _server(app: Litestar):
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", loop="asyncio")
    return uvicorn.Server(config)


def serve_shop(*, port: int = 0, origin: str | None = None, site_key: SigningKey | None = None) -> None:
    """Serve the shop on 127.0.0.1 until interrupted (origin: http://127.0.0.1:PORT unless given)."""
    sock = bind_loopback(port)
    port = sock.getsockname()[1]
    app = create_shop(origin=origin or f"http://127.0.0.1:{port}", site_key=site_key)
    print(f"Demo Shoes on http://127.0.0.1:{port} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    try:
        asyncio.run(_server(app).serve(sockets=[sock]))
    finally:
        sock.close()


class ShopThread:
    """The shop served from a thread of this process, on a free port of 127.0.0.1."""

    def __init__(self, *, site_key: SigningKey | None = None, **options: Any) -> None:
        self.sock = bind_loopback()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.app = create_shop(origin=self.url, site_key=site_key, **options)
        self.shop: Shop = self.app.state.shop
        self._server = _server(self.app)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self.sock])), name="demo-shop", daemon=True
        )

    def start(self, timeout: float = 15.0) -> ShopThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the demo shop did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(10)
        self.sock.close()

    def __enter__(self) -> ShopThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
