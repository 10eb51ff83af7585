"""`vault serve` as a real process on a real Unix socket: file modes, other users, one daemon per vault,
clean shutdown, development TCP mode, the CLI's admin commands, and the native host in front of it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import uvicorn

from tests.daemon.native_support import start_host_process
from tests.daemon.support import EXAMPLE_MANIFEST, DaemonProcess, make_vault, new_client_token, short_dir
from tests.support import PASSPHRASE, in_ci
from vault.daemon.server import peer_checked
from vault.site import make_nonce

NOBODY = 65534


@pytest.fixture
def home(vault_home: Path) -> Path:
    return make_vault(vault_home)


def connect_as(uid: int, path: Path) -> str:
    """Tries GET /v1/status on the socket from a process running as `uid`; returns what happened."""
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({str(path)!r})\n"
        "except OSError as e:\n"
        "    print('connect', e.errno); sys.exit()\n"
        "s.settimeout(10)\n"
        "try:\n"
        "    s.sendall(b'GET /v1/status HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
        "    print('answer', s.recv(100)[:12])\n"
        "except OSError as e:\n"
        "    print('reset', e.errno)\n"
    )
    # The system interpreter: the project's virtualenv may sit where another user cannot read it.
    return subprocess.run(
        ["/usr/bin/python3", "-c", probe], user=uid, capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()


def test_socket_and_token_are_private_and_removed_on_stop(home: Path) -> None:
    with DaemonProcess(home) as daemon:
        assert oct(daemon.socket.parent.stat().st_mode & 0o777) == "0o700"
        assert oct(daemon.socket.stat().st_mode & 0o777) == "0o600"
        assert oct(daemon.admin_token_path.stat().st_mode & 0o777) == "0o600"
        with daemon.client() as client:
            assert client.request_json("GET", "/v1/status")[1]["locked"] is False
        assert daemon.stop() == 0
    assert not daemon.socket.exists() and not daemon.admin_token_path.exists()
    assert "stopped" in daemon.log()


def test_other_users_cannot_connect(home: Path) -> None:
    if os.getuid() != 0:
        if in_ci():
            pytest.fail("CI runs as root: this test must run")
        pytest.skip("needs root to run a process as another user")
    with DaemonProcess(home) as daemon:
        # The directory (0700) stops them first...
        assert connect_as(NOBODY, daemon.socket) == "connect 13"
        # ...and if its modes were loosened by mistake, the peer-credential check still refuses them.
        os.chmod(daemon.dir, 0o755)  # noqa: S103 - the mistake this test makes on purpose
        os.chmod(daemon.socket.parent, 0o755)  # noqa: S103
        os.chmod(daemon.socket, 0o777)  # noqa: S103
        outcome = connect_as(NOBODY, daemon.socket)
        # Closed at once: the request may not even be sent (32, a broken pipe) before the close arrives.
        assert outcome in ("answer b''", "reset 104", "reset 32"), outcome
        assert "refused a connection from uid 65534" in daemon.log()
        with daemon.client() as client:  # we still get in
            assert client.request_json("GET", "/v1/status")[0] == 200


def test_peer_check_refuses_a_mismatching_uid() -> None:
    """The seam: the same protocol class, told to expect another uid, refuses even us."""
    directory = short_dir()
    path = directory / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.listen()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"in"})

    server = uvicorn.Server(
        uvicorn.Config(app, http=peer_checked(os.getuid() + 1), lifespan="off", log_level="critical")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        with socket.socket(socket.AF_UNIX) as probe, contextlib.suppress(ConnectionResetError):
            probe.connect(str(path))
            probe.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            probe.settimeout(10)
            assert probe.recv(100) == b""
    finally:
        server.should_exit = True
        thread.join(10)


def test_one_daemon_per_vault_and_per_socket(home: Path, vault_home: Path, tmp_path: Path) -> None:
    with DaemonProcess(home) as first:
        second = DaemonProcess(home)
        with pytest.raises(AssertionError, match="already serving the vault"):
            second.start()
        other = make_vault(tmp_path / "other")
        third = DaemonProcess(other, socket_dir=first.dir)
        with pytest.raises(AssertionError, match="already listening"):
            third.start()
    # A socket left behind by a daemon that died is replaced.
    crashed = DaemonProcess(home).start()
    crashed.kill()
    assert crashed.socket.exists()
    with DaemonProcess(home, socket_dir=crashed.dir) as again, again.client() as client:
        assert client.request_json("GET", "/v1/status")[0] == 200


def test_refuses_a_runtime_dir_others_can_enter(home: Path) -> None:
    directory = short_dir()
    (directory / "vault").mkdir(mode=0o755)
    os.chmod(directory / "vault", 0o755)  # noqa: S103 - the unsafe directory under test
    with pytest.raises(AssertionError, match="must be 700"):
        DaemonProcess(home, socket_dir=directory).start()


def test_sigterm_finishes_requests_in_flight(home: Path) -> None:
    manifest = EXAMPLE_MANIFEST.read_text()
    daemon = DaemonProcess(home).start()
    request = {"origin": "https://shop.example", "manifest": manifest, "purpose": "recommendations"}
    with daemon.paired_client() as client:
        _, body = client.request_json("POST", "/v1/presentations", request | {"nonce": make_nonce()})
    assert body["outcome"] == "consent_required"
    daemon.proc.send_signal(signal.SIGINT)
    assert daemon.proc.wait(30) == 0
    assert "stopped" in daemon.log()


def test_tcp_development_mode(home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with DaemonProcess(home, args=("--tcp", f"127.0.0.1:{port}")) as daemon:
        token = re.search(r"bearer token (\S+)", daemon.log()).group(1)

        def get(headers: dict[str, str]) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", "/v1/status", headers=headers)
                return conn.getresponse().status
            finally:
                conn.close()

        assert get({"Authorization": f"Bearer {token}"}) == 200
        assert get({}) == 401
        assert get({"Authorization": f"Bearer {token}", "Host": f"rebind.example:{port}"}) == 403
        assert get({"Authorization": f"Bearer {token}", "Origin": "https://evil.example"}) == 403
        with daemon.client() as client:  # the Unix socket needs no token
            assert client.request_json("GET", "/v1/status")[0] == 200
    refused = DaemonProcess(home, args=("--tcp", "0.0.0.0:8765"))
    with pytest.raises(AssertionError, match="not a loopback address"):
        refused.start()


def test_cli_pairs_locks_and_unlocks(home: Path, run_vault, request) -> None:
    with DaemonProcess(home) as daemon:
        sock = ["--socket", str(daemon.socket)]
        client = daemon.client(new_client_token())
        request.addfinalizer(client.close)
        code = client.request_json("POST", "/v1/pairing", {"name": "Chromium on this laptop"})[1]["code"]
        listed = run_vault("pair", "list", *sock)
        assert code in listed.out and "waiting for approval" in listed.out
        assert run_vault("pair", "approve", "AAAA-AAAA", *sock).code == 1
        approved = run_vault("pair", "approve", code, *sock)
        assert approved.code == 0 and "Paired Chromium on this laptop" in approved.out
        assert client.request_json("GET", "/v1/attributes")[0] == 200
        assert run_vault("lock", *sock).out.strip() == "Locked."
        assert client.request_json("GET", "/v1/attributes")[0] == 423
        assert run_vault("unlock", *sock, passphrase="wrong passphrase").code == 1
        time.sleep(2.1)  # the daemon makes a guesser wait (a second or more) after each wrong passphrase
        assert run_vault("unlock", *sock).out.strip() == "Unlocked."
        client_id = json.loads(run_vault("pair", "list", "--json", *sock).out)["clients"][0]["id"]
        assert run_vault("pair", "remove", client_id, *sock).code == 0
        assert client.request_json("GET", "/v1/attributes")[0] == 403
    gone = run_vault("lock", *sock)
    assert gone.code == 1 and "no daemon is running" in gone.err


def test_native_host_in_front_of_the_real_daemon(home: Path, tmp_path: Path) -> None:
    with DaemonProcess(home) as daemon:
        command = [sys.executable, "-m", "vault", "native-host", "--socket", str(daemon.socket)]
        host = start_host_process(command, tmp_path)
        try:
            token = new_client_token()
            asked = host.ask({"id": 1, "method": "POST", "path": "/v1/pairing", "body": {}, "client": token})
            assert asked["status"] == 200 and asked["body"]["state"] == "pending"
            refused = host.ask({"id": 2, "method": "GET", "path": "/v1/attributes", "client": token})
            assert refused["status"] == 403 and refused["body"]["error"] == "not_paired"
            admin = host.ask({"id": 3, "method": "GET", "path": "/v1/admin/pairings", "client": token})
            assert admin["status"] == 400 and admin["body"]["error"] == "bad_frame"
            with daemon.admin() as client:
                client.request_json("POST", "/v1/admin/pairings/approve", {"code": asked["body"]["code"]})
            profile = host.ask({"id": 4, "method": "GET", "path": "/v1/attributes", "client": token})
            assert profile["status"] == 200 and profile["body"]["values"]["country"] == "NL"
        finally:
            host.kill()


def test_restore_refuses_while_a_daemon_serves_the_vault(home: Path, run_vault, tmp_path: Path) -> None:
    backup = tmp_path / "vault.backup"
    assert run_vault("backup", str(backup)).code == 0
    with DaemonProcess(home):
        refused = run_vault("restore", "--force", str(backup))
        assert refused.code == 1 and "a daemon is serving the vault" in refused.err
    assert run_vault("restore", "--force", str(backup)).code == 0


def test_status_says_whether_a_daemon_serves_the_vault(home: Path, run_vault) -> None:
    assert "Daemon:     not running" in run_vault("status").out
    with DaemonProcess(home) as daemon:
        shown = json.loads(run_vault("status", "--json").out)["daemon"]
        assert shown == {"running": True, "pid": daemon.proc.pid, "locked": None}  # on another socket
        assert f"serving this vault (pid {daemon.proc.pid})" in run_vault("status").out


def test_parallel_wrong_passphrases_meet_the_throttle(home: Path) -> None:
    """Twelve wrong guesses at once: one runs Argon2id, the other eleven are told to wait (429) without
    trying; after the wait the right passphrase opens the vault."""
    guesses = 12
    with DaemonProcess(home, unlocked=False) as daemon:
        paired = daemon.paired_client()
        clients = [paired] + [daemon.client() for _ in range(guesses - 1)]
        try:
            for client in clients:
                client.headers.update(paired.headers)
            start = threading.Barrier(guesses)

            def guess(n: int) -> tuple[int, str]:
                start.wait()
                status, body = clients[n].request_json("POST", "/v1/unlock", {"passphrase": f"guess {n}"})
                return status, body["error"]

            with ThreadPoolExecutor(guesses) as pool:
                answers = sorted(pool.map(guess, range(guesses)))
            assert answers.count((403, "wrong_passphrase")) == 1, answers
            assert answers.count((429, "too_many_attempts")) == guesses - 1, answers
            failed_at = time.monotonic()
            while True:
                status, body = clients[0].request_json("POST", "/v1/unlock", {"passphrase": PASSPHRASE})
                if status != 429:
                    break
                time.sleep(0.1)
            waited = time.monotonic() - failed_at
            assert (status, body) == (200, {"locked": False, "changed": True})
            assert 0.9 <= waited <= 3, waited  # the first wait is a second (at least, on a 1 s clock)
        finally:
            for client in clients:
                client.close()
