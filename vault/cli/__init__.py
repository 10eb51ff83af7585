"""The `vault` command. Expected failures print one line on stderr and exit with a documented code."""

import sys

import click

from vault.errors import VaultError

EXIT_CODES = """\b
Exit codes:
  0  success
  1  invalid input or a failed operation (nothing was changed)
  2  bad usage (unknown option, missing argument)
  3  wrong passphrase
  4  no vault here, or the vault is damaged
  5  a vault already exists (init without --force)
"""


def main() -> None:
    from vault.cli.app import cli

    try:
        # Without standalone mode, click returns (rather than raises) the code of a click.exceptions.Exit.
        code = cli.main(standalone_mode=False, prog_name="vault")
    except VaultError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted; nothing was changed", err=True)
        sys.exit(1)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
