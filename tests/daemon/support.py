"""A real `vault serve` process on a real Unix socket, for end-to-end tests (and a client to talk to it)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.daemon.client import HEADER_ADMIN, HEADER_CLIENT, DaemonClient
from vault.store import Vault

PROFILE = {"birthdate": "1990-05-17", "country": "NL", "sizes.shoe": 42, "interests": ["jazz"]}
EXAMPLE_MANIFEST = Path(__file__).parents[2] / "vault" / "protocol" / "examples" / "manifest.json"


def make_vault(home: Path, profile: dict[str, Any] = PROFILE) -> Path:
    with Vault.create(home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        for name, value in profile.items():
            vault.set_attribute(name, value, now=NOW)
    return home


def short_dir() -> Path:
    """Socket paths must stay under 108 bytes; pytest's tmp_path can be longer."""
    return Path(tempfile.mkdtemp(prefix="vd-", dir="/tmp"))


def new_client_token() -> str:
    return secrets.token_urlsafe(32)


class DaemonProcess:
    """`vault serve` in a subprocess. Use as a context manager; stop() asserts a clean exit."""

    def __init__(
        self, home: Path, *, socket_dir: Path | None = None, args: tuple[str, ...] = (), unlocked=True
    ):
        self.home = home
        self.dir = socket_dir or short_dir()
        os.chmod(self.dir, 0o700)
        self.socket = self.dir / "vault" / "vault.sock"
        self.passphrase_file = self.dir / "passphrase"
        self.passphrase_file.write_text(PASSPHRASE + "\n")
        self.args = args
        self.unlocked = unlocked
        self.proc: subprocess.Popen | None = None
        self.stderr_path = Path(tempfile.mkstemp(prefix="serve-", suffix=".log", dir=self.dir)[1])

    def start(self, timeout: float = 30.0) -> DaemonProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "XDG_RUNTIME"))}
        unlock = ["--passphrase-file", str(self.passphrase_file)] if self.unlocked else []
        command = [sys.executable, "-m", "vault", "--vault", str(self.home), *unlock, "serve"]
        command += ["--socket", str(self.socket), *([] if self.unlocked else ["--locked"]), *self.args]
        with open(self.stderr_path, "ab") as log:
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"vault serve exited {self.proc.returncode}:\n{self.log()}")
            if "vault: serving" in self.log():
                return self
            time.sleep(0.05)
        raise AssertionError(f"vault serve did not start in {timeout} s:\n{self.log()}")

    @property
    def admin_token_path(self) -> Path:
        return self.socket.parent / "admin-token"

    def admin(self) -> DaemonClient:
        return DaemonClient(self.socket, headers={HEADER_ADMIN: self.admin_token_path.read_text().strip()})

    def client(self, token: str | None = None) -> DaemonClient:
        return DaemonClient(self.socket, headers={HEADER_CLIENT: token} if token else {})

    def paired_client(self) -> DaemonClient:
        """A client that asked to pair and was approved through the admin channel, as a user would."""
        token = new_client_token()
        client = self.client(token)
        status, body = client.request_json("POST", "/v1/pairing", {"name": "test client"})
        assert status == 200 and body["state"] == "pending", body
        with self.admin() as admin:
            status, _ = admin.request_json("POST", "/v1/admin/pairings/approve", {"code": body["code"]})
        assert status == 200
        return client

    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        assert "Traceback" not in self.log(), self.log()
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9: no cleanup at all, as after a crash or power cut of the process."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()


def ask(
    client: DaemonClient, manifest: str, nonce: str, *, purpose: str = "recommendations"
) -> tuple[int, Any]:
    """A presentation request as the extension sends it (the origin is the example shop's)."""
    request = {"origin": "https://shop.example", "manifest": manifest, "purpose": purpose, "nonce": nonce}
    return client.request_json("POST", "/v1/presentations", request)


def remember_consent(client: DaemonClient, manifest: str, nonce: str) -> dict[str, Any]:
    """First visit: the prompt is answered "share everything, remember", so later requests need no prompt."""
    status, body = ask(client, manifest, nonce)
    assert status == 200 and body["outcome"] == "consent_required", body
    prompt = body["prompt"]
    decision = {"share": True, "claims": [q["claim"] for q in prompt["questions"]], "remember": True}
    status, body = client.request_json("POST", f"/v1/prompts/{prompt['id']}/decision", decision)
    assert status == 200 and body["outcome"] == "granted", body
    return body
