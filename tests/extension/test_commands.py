"""Every `vault …` command the extension's UI prints really parses with the CLI.

The extension builds each command it shows in one module (extension/shared/commands.js). Node runs each
builder with realistic values, and click's own parser (the `vault` group, not resilient: unknown options,
extra arguments and bad choices are errors) must accept the result. The extension's other sources may not
spell out a command themselves: a `vault <subcommand>` anywhere else fails the test.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import click
import pytest

from tests.extension.test_lint import EXTENSION, ROOT, node
from vault.cli.app import cli
from vault.daemon.install import BROWSERS

COMMANDS_JS = EXTENSION / "shared" / "commands.js"
PAIRING_CODE = "K7QM-2XDP"
# Arguments for each builder in commands.js `Command`: every builder must be listed here.
EXAMPLES = {
    "serve": [[]],
    "installBrowser": [["chromium"], ["firefox"], ["chrome"]],
    "pairApprove": [[PAIRING_CODE]],
}

RENDER_JS = """
const [path, examples] = process.argv.slice(1);
const { BROWSERS, Command } = await import(path);
const commands = [];
for (const [name, argLists] of Object.entries(JSON.parse(examples))) {
  for (const args of argLists) commands.push(Command[name](...args));
}
console.log(JSON.stringify({ builders: Object.keys(Command), browsers: BROWSERS, commands }));
"""


def rendered() -> dict:
    proc = subprocess.run(
        [node(), "--input-type=module", "-e", RENDER_JS, COMMANDS_JS.as_uri(), json.dumps(EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def parse(command: str) -> click.Context:
    """Parses `command` as `vault` would, without running it: raises click.UsageError if it does not parse."""
    words = shlex.split(command)
    assert words[0] == "vault", command
    group: click.Command = cli
    context = click.Context(cli, info_name="vault")
    rest = words[1:]
    while isinstance(group, click.Group):
        if not rest or rest[0].startswith("-"):
            raise click.UsageError(f"{command!r}: no subcommand where `{context.command_path}` needs one")
        name, *rest = rest
        command_object = group.get_command(context, name)
        if command_object is None:
            raise click.UsageError(f"{command!r}: no such command {name!r}")
        if isinstance(command_object, click.Group):
            context = click.Context(command_object, info_name=name, parent=context)
        else:
            return command_object.make_context(name, rest, parent=context)
        group = command_object
    raise AssertionError("unreachable")


def test_every_command_the_ui_prints_parses_with_the_cli() -> None:
    shown = rendered()
    assert set(shown["builders"]) == set(EXAMPLES), "give each builder in commands.js example arguments here"
    assert shown["browsers"] == list(BROWSERS)
    assert shown["commands"] == [
        "vault serve",
        "vault install-browser --browser chromium",
        "vault install-browser --browser firefox",
        "vault install-browser --browser chrome",
        f"vault pair approve {PAIRING_CODE}",
    ]
    for command in shown["commands"]:
        parse(command)  # raises on anything click would refuse
    assert parse("vault install-browser --browser firefox").params["browser"] == "firefox"
    assert parse(f"vault pair approve {PAIRING_CODE}").params["code"] == PAIRING_CODE


@pytest.mark.parametrize(
    "command",
    [
        "vault install-browser chromium",  # what the popup used to print
        "vault install-browser --browser safari",
        "vault pair approve",
        "vault pair",
        "vault serf",
    ],
)
def test_the_check_refuses_commands_that_do_not_parse(command: str) -> None:
    with pytest.raises(click.UsageError):
        parse(command)


def without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"(^|\s)//.*$", "", source, flags=re.M)


def test_no_other_extension_source_spells_out_a_command() -> None:
    mention = re.compile(rf"\bvault ({'|'.join(map(re.escape, sorted(cli.commands)))})\b")
    found = [
        f"{path.relative_to(EXTENSION)}: {match.group(0)}"
        for path in sorted([*EXTENSION.rglob("*.js"), *EXTENSION.rglob("*.html")])
        if path != COMMANDS_JS
        for match in mention.finditer(without_comments(path.read_text()))
    ]
    assert found == [], "build commands with extension/shared/commands.js"
