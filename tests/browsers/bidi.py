"""Debian's firefox-esr, headless, driven over WebDriver BiDi (served by Firefox itself; no geckodriver).

See ../shared/FIREFOX-TESTING.md for what is known to work on these machines and why it is done this way.
One connection carries commands and events: a reader thread resolves each command's answer by id and keeps
every event in a log that waiters scan from a cursor, so an event that fires before anyone waits for it is
not lost (a consent prompt can open before the test starts waiting for it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

FIREFOX = "firefox-esr"
MIN_VERSION = 142  # the manifest's gecko.strict_min_version; Debian main's 140 refuses the add-on
COMMAND_TIMEOUT = 60.0


class BidiError(Exception):
    """An error answer to a BiDi command: `error` is its code (e.g. "no such frame")."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error


def firefox_executable() -> str | None:
    """The ELF binary (/usr/bin/firefox is a wrapper script), if it is recent enough, else None."""
    found = shutil.which(FIREFOX)
    return found if found and firefox_version(found) >= MIN_VERSION else None


def firefox_version(executable: str) -> int:
    out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"(\d+)\.", out)
    return int(match.group(1)) if match else 0


class Connection:
    """One BiDi session over a WebSocket."""

    def __init__(self, url: str) -> None:
        self._stack = contextlib.ExitStack()
        # No keepalive pings: websockets draws their payload from the global `random`, which the shared
        # Firefox's connection would then touch during later Hypothesis tests (they fail on that).
        self._ws = self._stack.enter_context(
            connect(url, max_size=256 * 2**20, open_timeout=30, ping_interval=None)
        )
        self._lock = threading.Lock()
        self._answers: dict[int, Future[dict[str, Any]]] = {}
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):  # the connection closes when Firefox stops
            for raw in self._ws:
                message = json.loads(raw)
                if "id" in message and message["id"] in self._answers:
                    self._answers.pop(message["id"]).set_result(message)
                    continue
                if message.get("type") == "event":
                    for listener in list(self.listeners):
                        listener(message)
                    with self.changed:
                        self.events.append(message)
                        self.changed.notify_all()
        with self.changed:
            self.closed = True
            self.changed.notify_all()
        for future in list(self._answers.values()):
            future.set_result({"type": "error", "error": "closed", "message": "the connection closed"})

    closed = False

    def send(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = COMMAND_TIMEOUT
    ) -> Any:
        with self._lock:
            self._next_id += 1
            number = self._next_id
            answer: Future[dict[str, Any]] = Future()
            self._answers[number] = answer
            self._ws.send(json.dumps({"id": number, "method": method, "params": params or {}}))
        message = answer.result(timeout)
        if message.get("type") == "error":
            raise BidiError(message.get("error", "?"), message.get("message", ""))
        return message["result"]

    def wait_event(
        self, matches: Callable[[dict[str, Any]], bool], *, since: int, timeout: float
    ) -> tuple[int, dict[str, Any]]:
        """The first event at index >= since that matches; returns (index, event)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for index in range(since, len(self.events)):
                    if matches(self.events[index]):
                        return index, self.events[index]
                since = len(self.events)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise TimeoutError("no such event")
                self.changed.wait(left)

    def close(self) -> None:
        self._stack.close()


class FirefoxProcess:
    """firefox-esr with a fresh profile, HOME `home` (where it finds the native host manifest), and a BiDi
    session. `prefs` go to user.js before the first start."""

    downloads: Path | None = None  # where its prefs save downloads, if set
    first_context = ""  # the tab Firefox opened at start

    def __init__(self, executable: str, profile: Path, home: Path, prefs: dict[str, Any]) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        lines = [f"user_pref({json.dumps(name)}, {json.dumps(value)});" for name, value in prefs.items()]
        (profile / "user.js").write_text("\n".join(lines) + "\n")
        env = {**os.environ, "HOME": str(home), "MOZ_CRASHREPORTER_DISABLE": "1", "MOZ_HEADLESS": "1"}
        env.pop("DISPLAY", None)
        self.log = profile / "firefox.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [executable, "--headless", "--no-remote", "--profile", str(profile),
                 "--remote-debugging-port=0", "--remote-allow-system-access"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            self.connection = Connection(self._bidi_url(profile / "WebDriverBiDiServer.json"))
            self.connection.send("session.new", {"capabilities": {}})
        except BaseException:
            self.stop()
            raise

    def _bidi_url(self, server_file: Path, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"Firefox exited at start: {self.log.read_text(errors='replace')[-2000:]}"
                )
            with contextlib.suppress(OSError, ValueError, KeyError):
                server = json.loads(server_file.read_text())
                return f"ws://{server['ws_host']}:{server['ws_port']}/session"
            time.sleep(0.05)
        raise AssertionError("Firefox did not open its WebDriver BiDi port")

    def stop(self) -> None:
        if getattr(self, "connection", None) is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
