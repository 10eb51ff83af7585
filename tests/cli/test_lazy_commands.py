"""The CLI loads a command's module only when that command runs: the table that says where each lives
must match what the modules define, and `vault serve` must not load the rest."""

import importlib
import pkgutil
import subprocess
import sys

import vault.cli
from vault.cli.app import COMMAND_MODULES, cli


def test_the_table_names_every_command_where_it_is_defined() -> None:
    defined = {}
    for info in pkgutil.iter_modules(vault.cli.__path__):
        module = importlib.import_module(f"vault.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            defined[command.name] = info.name
    assert defined == COMMAND_MODULES


def test_every_command_is_listed_and_found() -> None:
    names = cli.list_commands(None)  # type: ignore[arg-type]
    assert {"init", "status", "passwd", *COMMAND_MODULES} == set(names)
    for name in names:
        assert cli.get_command(None, name).name == name  # type: ignore[arg-type,union-attr]
    assert set(cli.commands) == set(names)


def test_serve_loads_only_its_own_command_module() -> None:
    script = (
        "import sys\n"
        "from vault.cli.app import cli\n"
        "assert cli.get_command(None, 'serve') is not None\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('vault.cli.'))))\n"
        "heavy = ('vault.demo', 'vault.conformance', 'http.client', 'xml', 'sqlite3')\n"
        "print(' '.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    cli_modules, heavy = out.splitlines()
    loaded = {name.removeprefix("vault.cli.") for name in cli_modules.split()}
    assert not loaded & (set(COMMAND_MODULES.values()) - {"daemon"}), loaded
    assert heavy.strip() == ""
