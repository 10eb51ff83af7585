"""Registering the native host with browsers and the daemon with systemd: the files as a browser (or
systemd) reads them, and a launcher that really starts the host."""

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.native_support import ORIGIN, EchoDaemon, Host, frame, short_dir
from vault.daemon import install
from vault.daemon.browser import EXTENSION_ID, GECKO_ID, HOST_NAME
from vault.errors import InvalidInput


@pytest.fixture
def daemon() -> Iterator[EchoDaemon]:
    with short_dir() as directory:
        echo = EchoDaemon(directory / "vault.sock").start()
        yield echo
        echo.stop()


def read_manifest(path: Path) -> dict:
    assert path.name == f"{HOST_NAME}.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("browser", "where"),
    [
        ("chromium", ".config/chromium/NativeMessagingHosts"),
        ("chrome", ".config/google-chrome/NativeMessagingHosts"),
        ("firefox", ".mozilla/native-messaging-hosts"),
    ],
)
def test_manifest_where_and_what_each_browser_reads(tmp_path: Path, browser: str, where: str) -> None:
    result = install.install_browser(browser, profile=None, socket_path=None, home=tmp_path)
    assert result.manifest == tmp_path / where / "org.personal_vault.json"
    assert result.launcher == tmp_path / where / "org.personal_vault-host"
    manifest = read_manifest(result.manifest)
    # Chromium treats a name that differs from the file name, or a relative path, as "host not found".
    assert manifest["name"] == result.manifest.stem == HOST_NAME
    assert manifest["type"] == "stdio"
    assert manifest["description"]
    assert Path(manifest["path"]).is_absolute()
    assert manifest["path"] == str(result.launcher)
    if browser == "firefox":
        assert manifest["allowed_extensions"] == [GECKO_ID] == result.allowed
        assert "allowed_origins" not in manifest
    else:
        # The trailing slash is required; without it Chromium does not find the host.
        assert manifest["allowed_origins"] == [f"chrome-extension://{EXTENSION_ID}/"] == result.allowed
        assert "allowed_extensions" not in manifest
    assert stat.S_IMODE(result.manifest.stat().st_mode) == 0o644


def test_profile_and_xdg_config_home(tmp_path: Path) -> None:
    profile = tmp_path / "chromium-profile"
    result = install.install_browser("chromium", profile=profile, socket_path=None, home=tmp_path / "home")
    assert result.manifest == profile / "NativeMessagingHosts" / "org.personal_vault.json"
    config = tmp_path / "xdg"
    result = install.install_browser(
        "chrome", profile=None, socket_path=None, home=tmp_path / "home", config_home=config
    )
    assert result.manifest == config / "google-chrome" / "NativeMessagingHosts" / "org.personal_vault.json"


def test_firefox_has_no_per_profile_hosts(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Firefox") as raised:
        install.install_browser("firefox", profile=tmp_path / "p", socket_path=None, home=tmp_path)
    assert "--profile" in raised.value.hint
    assert not (tmp_path / ".mozilla").exists()


def test_bad_socket_path_or_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="longer than"):
        install.install_browser("chromium", profile=None, socket_path=Path("/" + "s" * 120), home=tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidInput, match="not a directory"):
        install.install_browser("chromium", profile=tmp_path / "file", socket_path=None, home=tmp_path)
    assert not (tmp_path / ".config").exists()


def test_rerunning_overwrites_cleanly(tmp_path: Path) -> None:
    first = install.install_browser("chromium", profile=None, socket_path=Path("/tmp/a.sock"), home=tmp_path)
    before = first.launcher.read_text()
    again = install.install_browser("chromium", profile=None, socket_path=Path("/tmp/b.sock"), home=tmp_path)
    assert again == install.InstallResult(
        "chromium", first.manifest, first.launcher, EXTENSION_ID, first.allowed, Path("/tmp/b.sock")
    )
    assert "/tmp/b.sock" in again.launcher.read_text() and before != again.launcher.read_text()
    # Nothing left behind by the atomic writes.
    assert sorted(p.name for p in first.manifest.parent.iterdir()) == [
        "org.personal_vault-host",
        "org.personal_vault.json",
    ]


def run_launcher(launcher: Path, args: list[str], tmp: Path, env: dict[str, str] | None = None) -> dict:
    """Starts the launcher as a desktop browser would: by path, no shell PATH, cwd = its directory."""
    with (tmp / "launcher.err").open("wb") as err:
        proc = subprocess.run(
            [str(launcher), *args],
            input=frame({"id": "x", "method": "GET", "path": "/v1/echo", "client": "tok"}),
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=launcher.parent,
            env={"HOME": str(tmp), **(env or {})},
            timeout=60,
        )
    assert proc.returncode == 0, (tmp / "launcher.err").read_text()
    reply = json.loads(proc.stdout[4:])
    assert len(proc.stdout) == 4 + int.from_bytes(proc.stdout[:4], "little")
    assert (reply["id"], reply["status"]) == ("x", 200)
    return reply["body"]["headers"]


def test_launcher_is_executable_and_starts_the_host(tmp_path: Path, daemon: EchoDaemon) -> None:
    result = install.install_browser("chromium", profile=None, socket_path=daemon.socket_path, home=tmp_path)
    assert stat.S_IMODE(result.launcher.stat().st_mode) == 0o755
    shebang = result.launcher.read_text().splitlines()[0]
    assert shebang == f"#!{sys.executable} -I"
    headers = run_launcher(result.launcher, [ORIGIN], tmp_path)
    assert headers["x-vault-caller"] == ORIGIN
    assert headers["x-vault-client"] == "tok"
    assert "x-vault-admin" not in headers


def test_launcher_without_a_socket_uses_the_default_at_run_time(tmp_path: Path, daemon: EchoDaemon) -> None:
    result = install.install_browser("firefox", profile=None, socket_path=None, home=tmp_path)
    headers = run_launcher(
        result.launcher,
        [str(result.manifest), GECKO_ID],
        tmp_path,
        env={"VAULT_SOCKET": str(daemon.socket_path)},
    )
    assert headers["x-vault-caller"] == GECKO_ID


def test_launcher_for_an_interpreter_path_a_shebang_cannot_hold(tmp_path: Path, daemon: EchoDaemon) -> None:
    # An interpreter in a directory with a space (a shebang line ends at the first space).
    python = tmp_path / "my python" / "python"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    launcher = tmp_path / "host dir" / "launcher"
    launcher.parent.mkdir()
    launcher.write_text(install.launcher_script(daemon.socket_path, python=str(python)))
    launcher.chmod(0o755)
    assert launcher.read_text().startswith("#!/bin/sh\n")
    assert run_launcher(launcher, [ORIGIN], tmp_path)["x-vault-caller"] == ORIGIN


def exec_start_words(unit: str) -> list[str]:
    """systemd's reading of ExecStart for the quoting used here: "..." words, \\ escapes, %% and $$."""
    line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    words, rest = [], line.removeprefix("ExecStart=")
    while rest:
        assert rest.startswith('"'), rest
        i, word = 1, ""
        while rest[i] != '"':
            if rest[i] == "\\":
                i += 1
            word += rest[i]
            i += 1
        words.append(word.replace("%%", "%").replace("$$", "$"))
        rest = rest[i + 1 :].lstrip(" ")
    return words


def test_systemd_user_unit(tmp_path: Path) -> None:
    vault_home = tmp_path / 'my vault %h $HOME \\ "quoted"'
    socket_path = Path("/run/user/1000/vault dir/vault.sock")
    unit_path = install.install_service(home=tmp_path, vault_home=vault_home, socket_path=socket_path)
    assert unit_path == tmp_path / ".config" / "systemd" / "user" / "personal-vault.service"
    unit = unit_path.read_text()
    vault_script = Path(sys.executable).parent / "vault"
    assert exec_start_words(unit) == [
        str(vault_script),
        "--vault",
        str(vault_home),
        "serve",
        "--socket",
        str(socket_path),
    ]
    for line in ("Restart=on-failure", "UMask=0077", "NoNewPrivileges=yes", "WantedBy=default.target"):
        assert line in unit.splitlines()
    # Starts locked: no passphrase in the unit, and none inherited from the user manager.
    assert "UnsetEnvironment=VAULT_PASSPHRASE VAULT_NEW_PASSPHRASE" in unit
    assert "PrivateTmp" not in unit  # the socket may live in /tmp, where the browser must reach it
    again = install.install_service(
        home=tmp_path, vault_home=tmp_path / "v", socket_path=None, config_home=tmp_path / "xdg"
    )
    assert again == tmp_path / "xdg" / "systemd" / "user" / "personal-vault.service"
    assert exec_start_words(again.read_text())[1:] == ["--vault", str(tmp_path / "v"), "serve"]
    # systemd itself accepts it (syntax, quoting, an executable first word) where it is installed.
    analyze = shutil.which("systemd-analyze")
    if analyze:
        with short_dir() as runtime:
            proc = subprocess.run(
                [analyze, "verify", "--user", str(unit_path)],
                capture_output=True,
                text=True,
                env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
                timeout=60,
            )
        assert proc.returncode == 0, proc.stderr
        assert "personal-vault.service" not in proc.stderr, proc.stderr


def test_cli_install_browser_and_service(run_vault, tmp_path: Path, vault_home: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    result = run_vault("install-browser", "--socket", "/tmp/v.sock", "--json", env=env)
    assert result.code == 0, result.err
    out = json.loads(result.out)
    manifest = tmp_path / "xdg" / "chromium" / "NativeMessagingHosts" / "org.personal_vault.json"
    assert out["manifest"] == str(manifest) and manifest.is_file()
    assert out["extension_id"] == EXTENSION_ID and out["socket"] == "/tmp/v.sock"
    result = run_vault("install-browser", "--browser", "firefox")
    assert result.code == 0, result.err
    assert str(tmp_path / "home" / ".mozilla" / "native-messaging-hosts") in result.out
    result = run_vault("install-browser", "--browser", "firefox", "--profile", str(tmp_path))
    assert result.code == 1 and "Firefox" in result.err and "--profile" in result.err
    result = run_vault("install-service", "--json", env=env)
    assert result.code == 0, result.err
    out = json.loads(result.out)
    unit = tmp_path / "xdg" / "systemd" / "user" / "personal-vault.service"
    assert out["unit"] == str(unit)
    assert "systemctl --user enable --now personal-vault.service" in out["commands"]
    assert f'"--vault" "{vault_home}" "serve"' in unit.read_text()
    result = run_vault("install-service", env=env)
    assert result.code == 0 and "systemctl --user daemon-reload" in result.out


def test_cli_native_host_help_and_the_click_path(run_vault, daemon: EchoDaemon, tmp_path: Path) -> None:
    result = run_vault("native-host", "--help")
    assert result.code == 0 and "native messaging host" in result.out
    # With a global option first, the command goes through click rather than the fast path: same host.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    command = [sys.executable, "-m", "vault", "--vault", str(tmp_path), "native-host"]
    host = Host([*command, "--socket", str(daemon.socket_path), ORIGIN], environment, tmp_path / "h.err")
    try:
        reply = host.ask({"id": 1, "method": "GET", "path": "/v1/echo"})
        assert reply["body"]["headers"]["x-vault-caller"] == ORIGIN
        code, rest, err = host.finish()
        assert (code, rest) == (0, b""), err
    finally:
        host.kill()
