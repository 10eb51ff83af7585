"""The command group and the vault's own life cycle: init, status, passwd."""

from pathlib import Path

import click

from vault.cli import EXIT_CODES
from vault.cli.context import CliState, iso_when, pass_state, print_json
from vault.cli.daemon import socket_option
from vault.cli.passphrases import get_passphrase
from vault.daemon.lockfile import serving_pid
from vault.errors import VaultError, VaultExists
from vault.store import DEFAULT_KDF, KdfParams, Vault, VaultPaths, default_home, read_header
from vault.store.kdf import check_new_passphrase

# `vault --help` lists the commands under these headings, in this order; a command missing here is listed
# under "Other" (a test checks there is none).
HELP_SECTIONS = {
    "Vault": ("init", "status", "passwd", "setup", "demo"),
    "Profile": ("profile", "context", "rules", "gpc"),
    "Sharing": ("present", "verify", "consents", "revoke", "outbox", "ledger"),
    "Sites": ("sites", "site", "ask", "inbox", "mute", "unmute", "report", "check-report", "conformance"),
    "Daemon": ("serve", "lock", "unlock", "pair", "install-browser", "install-service"),
    "Data": ("export", "backup", "restore"),
}


# Where each command lives (the module under vault.cli, whose COMMANDS lists it). A command's module is
# imported only when that command runs (or help lists them all): `vault serve` then loads what the daemon
# needs and not, say, the demo's web servers or the conformance report's XML (a test checks this table
# against every module's COMMANDS).
COMMAND_MODULES = {
    "profile": "profile",
    "present": "handshake",
    "verify": "handshake",
    **dict.fromkeys(("sites", "site", "consents", "ledger", "rules"), "consent"),
    "context": "contexts",
    "gpc": "gpc",
    "revoke": "revocation",
    "outbox": "revocation",
    **dict.fromkeys(("inbox", "mute", "unmute"), "inbox"),
    "ask": "access",
    "report": "complaint",
    "check-report": "complaint",
    "conformance": "conformance",
    **dict.fromkeys(("export", "backup", "restore"), "backup"),
    **dict.fromkeys(("serve", "lock", "unlock", "pair"), "daemon"),
    **dict.fromkeys(("native-host", "install-browser", "install-service"), "install"),
    "demo": "demo",
    "setup": "setup",
}


class SectionedGroup(click.Group):
    """A group whose help lists its commands under headings (HELP_SECTIONS); hidden commands stay out.

    Commands in COMMAND_MODULES are loaded on first use; `commands` (all of them) loads every module."""

    @property
    def commands(self) -> dict[str, click.Command]:  # type: ignore[override]
        for module in set(COMMAND_MODULES.values()):
            self._load(module)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = value
        self._loaded: set[str] = set()

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        self._commands[name or cmd.name or ""] = cmd

    def _load(self, module_name: str) -> None:
        if module_name not in self._loaded:
            import importlib

            module = importlib.import_module(f"vault.cli.{module_name}")
            self._loaded.add(module_name)
            for command in module.COMMANDS:
                self._commands[command.name] = command

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._commands and cmd_name in COMMAND_MODULES:
            self._load(COMMAND_MODULES[cmd_name])
        return self._commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self._commands, *COMMAND_MODULES})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        shown = {}
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                shown[name] = command
        width = formatter.width - 6 - max((len(name) for name in shown), default=0)
        placed: set[str] = set()
        for heading, names in [*HELP_SECTIONS.items(), ("Other", tuple(sorted(shown)))]:
            rows = [(n, shown[n].get_short_help_str(width)) for n in names if n in shown and n not in placed]
            placed.update(n for n, _ in rows)
            if rows:
                with formatter.section(heading):
                    formatter.write_dl(rows)


@click.group(
    cls=SectionedGroup,
    help=(
        "Your personal data vault: your profile stays encrypted on this machine, and websites get only "
        "signed, purpose-scoped claims you agreed to.\n\n"
        "The passphrase is read from --passphrase-file, else from the VAULT_PASSPHRASE environment variable "
        "(convenient for scripts, but other programs running as you may read it), else asked on the "
        "terminal; none is needed while a daemon serves the vault unlocked: commands go through it "
        "(see vault status)."
    ),
    epilog=EXIT_CODES,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--vault",
    "home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="VAULT_HOME",
    default=default_home,
    show_default="the platform's user data dir",
    help="The vault's directory (env VAULT_HOME).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from this file (its first line ending is ignored).",
)
@click.version_option(package_name="personal-vault", prog_name="vault")
@click.pass_context
def cli(ctx: click.Context, home: Path, passphrase_file: Path | None) -> None:
    ctx.obj = CliState(home=home, passphrase_file=passphrase_file)


def kdf_options(command):
    command = click.option(
        "--kdf-memory-mib",
        type=click.IntRange(19, 4096),
        help=f"Argon2id memory [default: {DEFAULT_KDF.memory_kib // 1024}]",
    )(command)
    return click.option(
        "--kdf-time", type=click.IntRange(2, 64), help=f"Argon2id passes [default: {DEFAULT_KDF.time_cost}]"
    )(command)


def kdf_params(base: KdfParams, time_cost: int | None, memory_mib: int | None) -> KdfParams:
    return KdfParams(
        time_cost=time_cost or base.time_cost,
        memory_kib=memory_mib * 1024 if memory_mib else base.memory_kib,
        parallelism=base.parallelism,
    )


@cli.command()
@click.option(
    "--force", is_flag=True, help="Replace an existing vault (asks first; everything in it is lost)."
)
@click.option("--yes", is_flag=True, help="With --force: do not ask.")
@kdf_options
@pass_state
def init(state: CliState, force: bool, yes: bool, kdf_time: int | None, kdf_memory_mib: int | None) -> None:
    """Create a new, empty vault (asks for a passphrase twice)."""
    paths = VaultPaths(state.home)
    if paths.exists():
        if not force:
            raise VaultExists(f"a vault already exists at {paths.home}", "use --force to replace it")
        if not yes:
            if not click.get_text_stream("stdin").isatty():
                raise VaultError("refusing to replace a vault without confirmation", "add --yes to confirm")
            click.confirm(f"Replace the vault at {paths.home}? Everything in it will be lost", abort=True)
    kdf = kdf_params(DEFAULT_KDF, kdf_time, kdf_memory_mib)
    passphrase = get_passphrase(
        state.passphrase_file, env="VAULT_PASSPHRASE", prompt="New passphrase", confirm=True
    )
    check_new_passphrase(passphrase)
    if paths.exists():
        for path in paths.all_files():
            path.unlink(missing_ok=True)
    Vault.create(state.home, passphrase, now=state.now(), kdf=kdf).close()
    click.echo(f"Created a vault at {paths.home}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@socket_option
@pass_state
def status(state: CliState, as_json: bool, socket_path: Path | None) -> None:
    """Where the vault is, how it is protected, and whether a daemon serves it unlocked (needs no
    passphrase)."""
    paths = VaultPaths(state.home)
    info: dict = {"vault": str(paths.home), "initialised": paths.header.exists()}
    if paths.header.exists():
        header = read_header(paths.header)
        info |= {
            "created_at": header.created_at,
            "kdf": {
                "algorithm": header.kdf.algorithm,
                "time_cost": header.kdf.time_cost,
                "memory_mib": header.kdf.memory_kib // 1024,
                "parallelism": header.kdf.parallelism,
            },
            "database_bytes": sum(
                p.stat().st_size for p in [paths.database, *paths.sidecars()] if p.exists()
            ),
        }
        pid = serving_pid(paths.home)
        info["daemon"] = {"running": pid is not None, "pid": pid if pid and pid > 0 else None, "locked": None}
        # Locked or not is the daemon's to say; one on another socket (or not answering) leaves it unknown.
        serving = state.serving(socket_path) if pid is not None else None
        if serving is not None:
            info["daemon"] |= {"pid": serving.get("pid"), "locked": serving.get("locked") is not False}
    if as_json:
        print_json(info)
        return
    if not info["initialised"]:
        click.echo(f"No vault at {paths.home} (create one with: vault init)")
        return
    kdf = info["kdf"]
    click.echo(f"Vault:      {paths.home}")
    click.echo(f"Created:    {iso_when(info['created_at'])}")
    click.echo(
        f"Encryption: SQLCipher 4, key from Argon2id ({kdf['time_cost']} passes, {kdf['memory_mib']} MiB)"
    )
    click.echo(f"Size:       {info['database_bytes']} bytes")
    daemon = info["daemon"]
    if daemon["running"] and daemon["locked"] is not None:
        lock_state = "locked" if daemon["locked"] else "unlocked"
        unlock = "; unlock it with: vault unlock" if daemon["locked"] else ""
        click.echo(f"Daemon:     serving this vault, {lock_state} (pid {daemon['pid'] or '?'}){unlock}")
    elif daemon["running"]:
        click.echo(
            f"Daemon:     serving this vault (pid {daemon['pid'] or '?'}), on another socket: "
            "locked or not is unknown (pass its --socket)"
        )
    else:
        click.echo("Daemon:     not running (start it with: vault serve)")


@cli.command()
@click.option(
    "--new-passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the new passphrase from this file (else env VAULT_NEW_PASSPHRASE, else asked twice).",
)
@kdf_options
@pass_state
def passwd(
    state: CliState, new_passphrase_file: Path | None, kdf_time: int | None, kdf_memory_mib: int | None
) -> None:
    """Change the passphrase: the vault is re-encrypted in place and the old passphrase stops working."""
    # A daemon would go on with the old key (and hand it out): its connection could no longer read the file.
    if serving_pid(state.home) is not None:
        raise VaultError(
            f"a daemon is serving the vault at {state.home}", "stop it first, then run vault passwd"
        )
    # A change of secret proves the old one: never opened with a running daemon's key.
    with state.open_with_passphrase() as vault:
        new = get_passphrase(
            new_passphrase_file, env="VAULT_NEW_PASSPHRASE", prompt="New passphrase", confirm=True
        )
        vault.change_passphrase(
            new, now=state.now(), kdf=kdf_params(vault.header.kdf, kdf_time, kdf_memory_mib)
        )
    click.echo("Passphrase changed.")
