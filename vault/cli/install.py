"""`vault native-host`, `install-browser` and `install-service`: wiring the daemon into the desktop."""

import os
import sys
from pathlib import Path

import click

from vault.cli.context import CliState, pass_state, print_json
from vault.daemon import install

socket_option = click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The daemon's socket [default: $VAULT_SOCKET, else vault.sock in the user's runtime dir].",
)


def config_home() -> Path | None:
    # The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    value = os.environ.get("XDG_CONFIG_HOME")
    return Path(value) if value and os.path.isabs(value) else None


@click.command(
    "native-host",
    hidden=True,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True},
)
@socket_option
@click.argument("origins", nargs=-1, type=click.UNPROCESSED)
def native_host(socket_path: Path | None, origins: tuple[str, ...]) -> None:
    """The browser extension's native messaging host (the browser starts it; not for people).

    Reads length-prefixed JSON frames on stdin, forwards each to the daemon over its socket and writes
    the answers to stdout. ORIGIN is what the browser passes (the extension's origin, or Firefox's
    manifest path and add-on id).
    """
    from vault.daemon.native_host import main

    sys.exit(main(list(origins), socket_path=socket_path))


@click.command("install-browser")
@click.option(
    "--browser",
    type=click.Choice(install.BROWSERS),
    default="chromium",
    show_default=True,
    help="Which browser to register the native host with.",
)
@click.option(
    "--profile",
    type=click.Path(file_okay=False, path_type=Path),
    help="Chromium/Chrome: register for this --user-data-dir only [default: the user's default profile].",
)
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def install_browser(browser: str, profile: Path | None, socket_path: Path | None, as_json: bool) -> None:
    """Let the vault's browser extension talk to the daemon (writes the native messaging host manifest).

    Run it again after moving or reinstalling the vault: the manifest names this installation's Python
    by absolute path. With --socket, the host always uses that socket; without, it uses the default at
    run time.
    """
    result = install.install_browser(
        browser, profile=profile, socket_path=socket_path, home=Path.home(), config_home=config_home()
    )
    socket_text = str(result.socket_path) if result.socket_path else None
    if as_json:
        print_json(
            {
                "browser": result.browser,
                "manifest": str(result.manifest),
                "launcher": str(result.launcher),
                "extension_id": result.extension_id,
                "allowed": result.allowed,
                "socket": socket_text,
            }
        )
        return
    click.echo(f"Wrote the native messaging host manifest: {result.manifest}")
    click.echo(f"Wrote its launcher:                       {result.launcher}")
    click.echo(f"Allowed extension:                        {', '.join(result.allowed)}")
    click.echo(f"Daemon socket:                            {socket_text or 'the default at run time'}")
    click.echo(f"Restart {browser} if it is running, then start the daemon with: vault serve")


@click.command("install-service")
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Print the unit's path and the commands as JSON.")
@pass_state
def install_service(state: CliState, socket_path: Path | None, as_json: bool) -> None:
    """Run the daemon as a systemd user service (it starts locked; no passphrase is stored).

    Writes personal-vault.service to ~/.config/systemd/user/ (or $XDG_CONFIG_HOME) for the vault
    chosen with --vault, then prints the systemctl commands that enable and start it.
    """
    unit = install.install_service(
        home=Path.home(), vault_home=state.home, socket_path=socket_path, config_home=config_home()
    )
    commands = [
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {install.SERVICE_NAME}",
    ]
    if as_json:
        print_json(
            {"unit": str(unit), "commands": commands, "logs": f"journalctl --user -u {install.SERVICE_NAME}"}
        )
        return
    click.echo(f"Wrote {unit}")
    click.echo("Enable and start it with:")
    for command in commands:
        click.echo(f"  {command}")
    click.echo(f"Its log: journalctl --user -u {install.SERVICE_NAME}")


COMMANDS = [native_host, install_browser, install_service]
