"""Registering the native host with a browser, and the daemon with the user's systemd.

The host manifest names a launcher script beside it rather than the `vault` console script: a browser
started from the desktop has no shell PATH, virtualenv or pyenv, so the launcher names the interpreter
(and so the installation) by absolute path, and runs it isolated (-I) from PYTHON* variables and the
working directory the browser starts it in.
"""

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vault.daemon.browser import EXTENSION_ID, GECKO_ID, HOST_NAME
from vault.daemon.paths import MAX_SOCKET_PATH
from vault.errors import InvalidInput

BROWSERS = ("chromium", "chrome", "firefox")
LAUNCHER_NAME = f"{HOST_NAME}-host"
SERVICE_NAME = "personal-vault.service"
DESCRIPTION = "Personal data vault: connects the browser extension to the vault daemon"
# Linux reads at most this much of a "#!" line (older kernels); a longer interpreter path needs /bin/sh.
MAX_SHEBANG = 127


@dataclass(frozen=True)
class InstallResult:
    browser: str
    manifest: Path
    launcher: Path
    # The Chromium extension id, or Firefox's add-on id.
    extension_id: str
    allowed: list[str]
    socket_path: Path | None


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(path)))


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Readers (a browser starting the host) see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_socket(socket_path: Path | None) -> Path | None:
    if socket_path is None:
        return None
    socket_path = _absolute(socket_path)
    if len(os.fsencode(socket_path)) > MAX_SOCKET_PATH:
        raise InvalidInput(
            f"the socket path {socket_path} is longer than {MAX_SOCKET_PATH} bytes",
            "Unix sockets need a shorter path; pick one nearer the root",
        )
    return socket_path


def host_dir(
    browser: str, *, home: Path, profile: Path | None = None, config_home: Path | None = None
) -> Path:
    """Where the browser looks for the host manifest (per user; with a profile, for that user-data-dir)."""
    if browser not in BROWSERS:
        raise InvalidInput(f"unknown browser {browser!r}", f"use one of: {', '.join(BROWSERS)}")
    if browser == "firefox":
        if profile is not None:
            raise InvalidInput(
                "Firefox reads native messaging hosts only from ~/.mozilla/native-messaging-hosts",
                "leave out --profile for Firefox; the host is installed for every profile",
            )
        return home / ".mozilla" / "native-messaging-hosts"
    if profile is not None:
        profile = _absolute(profile)
        if profile.exists() and not profile.is_dir():
            raise InvalidInput(f"{profile} is not a directory", "--profile takes the browser's user-data-dir")
        return profile / "NativeMessagingHosts"
    config = config_home or home / ".config"
    return config / ("chromium" if browser == "chromium" else "google-chrome") / "NativeMessagingHosts"


def launcher_script(socket_path: Path | None, python: str | None = None) -> str:
    python = python or sys.executable
    call = (
        "main(sys.argv[1:])"
        if socket_path is None
        else f"main(sys.argv[1:], socket_path={str(socket_path)!r})"
    )
    body = (
        "# Written by `vault install-browser`; run it again after moving or reinstalling the vault.\n"
        "import sys\n\n"
        "from vault.daemon.native_host import main\n\n"
        f"sys.exit({call})\n"
    )
    if len(python) + 5 <= MAX_SHEBANG and not any(c.isspace() for c in python):
        return f"#!{python} -I\n{body}"
    # A shebang cannot hold spaces or a long path: /bin/sh reads the first line and execs Python on this
    # file, for which the same line is only a string (the trick pip uses for its console scripts).
    quoted = "'" + python.replace("'", "'\"'\"'") + "'"
    return f"#!/bin/sh\n'''exec' {quoted} -I \"$0\" \"$@\"\n' '''\n{body}"


def install_browser(
    browser: str,
    *,
    profile: Path | None,
    socket_path: Path | None,
    home: Path,
    config_home: Path | None = None,
) -> InstallResult:
    """Writes the launcher and the host manifest for `browser`; running it again overwrites both."""
    directory = host_dir(browser, home=home, profile=profile, config_home=config_home)
    socket_path = check_socket(socket_path)
    directory = _absolute(directory)
    launcher = directory / LAUNCHER_NAME
    manifest = directory / f"{HOST_NAME}.json"
    content: dict = {"name": HOST_NAME, "description": DESCRIPTION, "path": str(launcher), "type": "stdio"}
    if browser == "firefox":
        extension_id, allowed = GECKO_ID, [GECKO_ID]
        content["allowed_extensions"] = allowed
    else:
        # Chromium ignores a manifest whose origin lacks the trailing slash ("host not found").
        extension_id, allowed = EXTENSION_ID, [f"chrome-extension://{EXTENSION_ID}/"]
        content["allowed_origins"] = allowed
    # The launcher first: a manifest must never point at a file that is not there yet.
    _atomic_write(launcher, launcher_script(socket_path).encode(), 0o755)
    _atomic_write(manifest, (json.dumps(content, indent=2) + "\n").encode(), 0o644)
    return InstallResult(browser, manifest, launcher, extension_id, allowed, socket_path)


def _systemd_quote(arg: str) -> str:
    """One ExecStart word: quoted, with systemd's C escapes, % specifiers and $ expansion neutralised."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in arg):
        raise InvalidInput(f"{arg!r} contains control characters", "use a path without them")
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def vault_command() -> list[str]:
    """The installed `vault` beside this interpreter, else the interpreter running the package."""
    script = Path(sys.executable).parent / "vault"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "vault"]


def service_unit(*, vault_home: Path, socket_path: Path | None) -> str:
    args = [*vault_command(), "--vault", str(_absolute(vault_home)), "serve"]
    if socket_path is not None:
        args += ["--socket", str(socket_path)]
    exec_start = " ".join(_systemd_quote(arg) for arg in args)
    # Hardening kept to what works in any user manager: namespace options (PrivateTmp, ProtectSystem,
    # ProtectHome) need unprivileged user namespaces, which some distributions disable, and the unit
    # would then fail to start. The daemon needs its vault dir, the runtime dir, and outbound network
    # (delivering revocation notices), so those stay open.
    return f"""\
# Written by `vault install-service`; run it again after moving or reinstalling the vault.
[Unit]
Description=Personal data vault daemon (starts locked; unlock it from the extension or the CLI)

[Service]
Type=simple
ExecStart={exec_start}
Restart=on-failure
RestartSec=2
Environment=PYTHONUNBUFFERED=1
UnsetEnvironment=VAULT_PASSPHRASE VAULT_NEW_PASSPHRASE
UMask=0077
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native

[Install]
WantedBy=default.target
"""


def install_service(
    *, home: Path, vault_home: Path, socket_path: Path | None, config_home: Path | None = None
) -> Path:
    """Writes the systemd user unit; enabling it is left to `systemctl --user` (printed by the CLI)."""
    unit = _absolute(config_home or home / ".config") / "systemd" / "user" / SERVICE_NAME
    _atomic_write(
        unit, service_unit(vault_home=vault_home, socket_path=check_socket(socket_path)).encode(), 0o644
    )
    return unit
