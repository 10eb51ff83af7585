"""Running the demo's two web services on 127.0.0.1.

- The shop, with uvicorn: in the foreground (`serve_shop`, what `python -m vault.demo.shop` does) or from
  a thread of this process (`ShopThread`, for `vault demo` and the tests).
- Its analytics partner, always as a process of its own (`PartnerProcess`: `python -m vault.demo.partner`
  on a free port, with a fresh shared secret in a 0600 file), since it is another party.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar

from vault.demo.partner import PARTNER_ID, PARTNER_NAME
from vault.demo.partner_api import HELD_PATH, PartnerLink
from vault.demo.shop import Shop, create_shop
from vault.site import SigningKey

STOP_TIMEOUT = 10.0


def bind_loopback(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


def uvicorn_server(app: Litestar):
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", loop="asyncio")
    return uvicorn.Server(config)


def serve_shop(
    *,
    port: int = 0,
    origin: str | None = None,
    site_key: SigningKey | None = None,
    partners: tuple[PartnerLink, ...] = (),
) -> None:
    """Serve the shop on 127.0.0.1 until interrupted (origin: http://127.0.0.1:PORT unless given)."""
    sock = bind_loopback(port)
    port = sock.getsockname()[1]
    app = create_shop(origin=origin or f"http://127.0.0.1:{port}", site_key=site_key, partners=partners)
    print(f"Demo Shoes on http://127.0.0.1:{port} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    try:
        asyncio.run(uvicorn_server(app).serve(sockets=[sock]))
    finally:
        sock.close()


class ShopThread:
    """The shop served from a thread of this process, on a free port of 127.0.0.1."""

    def __init__(self, *, site_key: SigningKey | None = None, **options: Any) -> None:
        self.sock = bind_loopback()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.app = create_shop(origin=self.url, site_key=site_key, **options)
        self.shop: Shop = self.app.state.shop
        self._server = uvicorn_server(self.app)
        self.loop: asyncio.AbstractEventLoop | None = None  # the shop's event loop, once it runs
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve()), name="demo-shop", daemon=True
        )

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self._server.serve(sockets=[self.sock])

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


# -- the partner, a process of its own -------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment for our children: none of the user's own vault settings leak in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}


def stop_process(proc: subprocess.Popen, *, group: bool = False, sig: int = signal.SIGTERM) -> None:
    """Stop one child we started (with its process group when `group`): `sig`, then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL) if group else proc.kill()
        proc.wait(STOP_TIMEOUT)


def _spawn(command: list[str], **options: Any) -> subprocess.Popen:
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, env=child_env(), start_new_session=True, **options
    )


_LISTENING = re.compile(re.escape(PARTNER_NAME) + r" on (http://127\.0\.0\.1:\d+)")


class PartnerProcess:
    """Demo Analytics as its own process on a free port of 127.0.0.1. The shared secret is made here and
    handed over in `<workdir>/partner-secret` (0600); `link` is how the shop reaches it. `spawn` starts
    the process (the demo environment's, so that it stops it in order); stop() stops it either way."""

    def __init__(self, workdir: Path, spawn: Callable[..., subprocess.Popen] = _spawn) -> None:
        self.secret = secrets.token_urlsafe(32)
        self.secret_file = workdir / "partner-secret"
        fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.secret + "\n")
        self.log = workdir / "partner.log"
        self._spawn = spawn
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 30.0) -> PartnerProcess:
        command = [sys.executable, "-m", "vault.demo.partner", "--port", "0"]
        command += ["--secret-file", str(self.secret_file)]
        with self.log.open("ab") as out:
            self.proc = self._spawn(command, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while not (found := _LISTENING.search(self.log.read_text(errors="replace"))):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the demo partner did not start:\n{tail}")
            time.sleep(0.02)
        self.url = found.group(1)  # listening already: its socket is bound before the line is written
        return self

    @property
    def link(self) -> PartnerLink:
        return PartnerLink(id=PARTNER_ID, url=self.url, secret=self.secret)

    def held(self) -> list[dict[str, Any]]:
        """What the partner says it holds (GET /api/held, with the shop's secret)."""
        request = urllib.request.Request(  # noqa: S310 (loopback http, our own child)
            self.url + HELD_PATH, headers={"Authorization": f"Bearer {self.secret}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())["records"]

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def __enter__(self) -> PartnerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
