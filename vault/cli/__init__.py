"""The `vault` command. Expected failures print one line on stderr and exit with a documented code."""

import sys

from vault.errors import VaultError

# How every failure begins on stderr: click's own usage errors say "Error: ", and so do ours.
ERROR = "Error: "

EXIT_CODES = """\b
Exit codes:
  0  success
  1  invalid input or a failed operation (nothing was changed)
  2  bad usage (unknown option, missing argument)
  3  wrong passphrase
  4  no vault here, or the vault is damaged
  5  a vault already exists (init without --force)
  6  the daemon's vault is locked (unlock it: vault unlock)
"""

# The import names of the `personal-vault[app]` dependencies (pyproject.toml). `pip install personal-vault`
# alone is the site library, which has none of them.
APP_MODULES = frozenset(
    {"sqlcipher3", "argon2", "platformdirs", "click", "rich", "litestar", "uvicorn", "httptools", "uvloop"}
)
APP_MISSING = (
    "Error: the vault application is not installed (no module named {module!r}; "
    "this may be the site library alone): pip install 'personal-vault[app]'\n"
)


def _missing_app_module(e: ModuleNotFoundError) -> str | None:
    root = (e.name or "").split(".")[0]
    return root if root in APP_MODULES else None


def main() -> None:
    if sys.argv[1:2] == ["native-host"] and not {"-h", "--help"} & set(sys.argv[2:]):
        # The browser starts the host for every port it opens: skip click and the vault's heavy imports.
        from vault.daemon.native_host import main as native_host

        sys.exit(native_host(sys.argv[2:]))

    try:
        _main()
    except ModuleNotFoundError as e:
        # A site-only install (or one missing part of [app]): one line saying what to install, no traceback.
        module = _missing_app_module(e)
        if module is None:
            raise
        sys.stderr.write(APP_MISSING.format(module=module))
        sys.exit(1)


def _main() -> None:
    from vault.daemon.deferred import defer_unused_imports

    defer_unused_imports()  # first: before click and the libraries that import them (vault.daemon.deferred)
    import click

    from vault.cli.app import cli

    try:
        # Without standalone mode, click returns (rather than raises) the code of a click.exceptions.Exit.
        code = cli.main(standalone_mode=False, prog_name="vault")
    except VaultError as e:
        click.echo(f"{ERROR}{e}", err=True)
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
