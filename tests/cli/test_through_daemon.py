"""While a daemon serves the vault unlocked, commands go through it: they take the vault's key from it
(admin token, Unix socket, same uid) instead of running Argon2id on a passphrase. A locked daemon, or one
serving another vault, is not used: the command asks for the passphrase as before.

Real parts only: a `vault serve` process on a real vault, and `vault` commands run as subprocesses with no
passphrase anywhere (no file, no environment, no terminal)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.daemon.support import DaemonProcess, make_vault
from tests.support import PASSPHRASE
from vault.daemon.client import HEADER_ADMIN, DaemonClient
from vault.store import read_header
from vault.store.kdf import derive_keys

NO_PASSPHRASE = "a passphrase is needed and there is no terminal to ask on"


@pytest.fixture
def daemon(vault_home: Path):
    with DaemonProcess(make_vault(vault_home), args=("--log-level", "debug")) as daemon:
        yield daemon


@pytest.fixture
def through(run_vault, daemon: DaemonProcess):
    """`vault ...` with VAULT_SOCKET at the daemon and no passphrase from anywhere."""

    def run(*args: str, home: Path | None = None):
        return run_vault(*args, passphrase=None, env={"VAULT_SOCKET": str(daemon.socket)}, home=home)

    return run


def database_key(home: Path) -> bytes:
    header = read_header(home / "vault-header.json")
    return derive_keys(PASSPHRASE, header.salt, header.kdf).database_key


def test_an_unlocked_daemon_opens_the_vault_for_commands(through, daemon: DaemonProcess) -> None:
    shown = through("profile", "list")
    assert shown.code == 0, shown.err
    assert "1990-05-17" in shown.out and "NL" in shown.out
    # Writes go through it too, and the daemon sees them on its own connection.
    assert through("profile", "set", "email", "me@example.org").code == 0
    with daemon.paired_client() as client:
        status, profile = client.request_json("GET", "/v1/attributes")
    assert status == 200 and profile["values"]["email"] == "me@example.org"
    assert through("rules").code == 0
    assert "the vault's key went to a command line" in daemon.log()


def test_a_locked_daemon_is_not_used_and_the_passphrase_is_asked_for(
    through, run_vault, daemon: DaemonProcess
) -> None:
    assert through("lock").code == 0
    refused = through("profile", "list")
    assert refused.code != 0
    assert refused.err.startswith("Error: ") and NO_PASSPHRASE in refused.err, refused.err
    assert "the daemon serving this vault is locked" in refused.err and "vault unlock" in refused.err
    # With the passphrase it works as it always did.
    shown = run_vault("profile", "list", env={"VAULT_SOCKET": str(daemon.socket)})
    assert shown.code == 0 and "1990-05-17" in shown.out


def test_status_says_locked_or_unlocked(through, daemon: DaemonProcess) -> None:
    pid = daemon.proc.pid
    assert f"Daemon:     serving this vault, unlocked (pid {pid})" in through("status").out
    assert json.loads(through("status", "--json").out)["daemon"] == {
        "running": True,
        "pid": pid,
        "locked": False,
    }
    assert through("lock").code == 0
    assert f"serving this vault, locked (pid {pid}); unlock it with: vault unlock" in through("status").out
    assert json.loads(through("status", "--json").out)["daemon"]["locked"] is True


def test_the_key_route_refuses_without_the_token_and_when_locked(daemon: DaemonProcess) -> None:
    with daemon.client() as stranger:
        status, body = stranger.request_json("POST", "/v1/admin/vault-key")
        assert (status, body["error"]) == (403, "admin_only")
        assert "key" not in body
    with DaemonClient(daemon.socket, headers={HEADER_ADMIN: "not-the-token"}) as wrong:
        assert wrong.request_json("POST", "/v1/admin/vault-key")[0] == 403
    # A paired extension is not the admin either.
    with daemon.paired_client() as paired:
        status, body = paired.request_json("POST", "/v1/admin/vault-key")
        assert (status, body["error"]) == (403, "admin_only")
    with daemon.admin() as admin:
        status, body = admin.request_json("POST", "/v1/admin/vault-key")
        assert status == 200 and base64.b64decode(body["key"]) == database_key(daemon.home)
        assert admin.request_json("POST", "/v1/admin/lock")[0] == 200
        status, body = admin.request_json("POST", "/v1/admin/vault-key")
        assert (status, body["error"]) == (423, "vault_locked") and "locked" in body["message"]
        assert "key" not in body
        status, body = admin.request_json("GET", "/v1/admin/serving")
        assert status == 200 and body["locked"] is True and body["home"] == str(daemon.home.absolute())


def test_the_key_never_reaches_the_log(through, daemon: DaemonProcess) -> None:
    assert through("profile", "list").code == 0
    daemon.stop()
    key = database_key(daemon.home)
    log = daemon.log()
    assert "the vault's key went to a command line" in log  # debug level: the log says all it ever says
    for shown in (
        key.hex(),
        key.hex().upper(),
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode(),
    ):
        assert shown not in log


def test_a_daemon_serving_another_vault_is_not_used(
    through, run_vault, daemon: DaemonProcess, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    assert run_vault("init", "--kdf-time", "2", "--kdf-memory-mib", "19", home=other).code == 0
    refused = through("profile", "list", home=other)
    assert refused.code != 0 and NO_PASSPHRASE in refused.err, refused.err
    assert "the daemon serving this vault is locked" not in refused.err
    assert json.loads(through("status", "--json", home=other).out)["daemon"]["running"] is False
    assert "the vault's key went to a command line" not in daemon.log()


def test_the_tcp_listener_never_hands_out_the_key(vault_home: Path) -> None:
    """In --tcp development mode the admin token and the bearer token together still do not get the key:
    the request did not come over the Unix socket, so the kernel vouches for no uid."""
    import http.client
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with DaemonProcess(make_vault(vault_home), args=("--tcp", f"127.0.0.1:{port}")) as daemon:
        bearer = next(line.rsplit(" ", 1)[1] for line in daemon.log().splitlines() if "bearer token" in line)
        headers = {
            "Authorization": f"Bearer {bearer}",
            HEADER_ADMIN: daemon.admin_token_path.read_text().strip(),
            "Host": f"127.0.0.1:{port}",
        }

        def over_tcp(method: str, route: str) -> tuple[int, dict]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request(method, route, headers=headers)
                answer = conn.getresponse()
                return answer.status, json.loads(answer.read())
            finally:
                conn.close()

        assert over_tcp("GET", "/v1/admin/serving")[0] == 200  # the tokens are right
        status, body = over_tcp("POST", "/v1/admin/vault-key")
        assert (status, body["error"]) == (403, "unix_socket_only") and "key" not in body


def test_passwd_still_asks_for_the_passphrase_and_refuses_under_a_daemon(
    through, daemon: DaemonProcess
) -> None:
    refused = through("passwd")
    assert refused.code != 0 and refused.err.startswith("Error: a daemon is serving the vault"), refused.err
    daemon.stop()
    asked = through("passwd")
    assert asked.code != 0 and NO_PASSPHRASE in asked.err, asked.err
