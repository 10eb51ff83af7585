"""`vault conformance ORIGIN`: play a vault against a running site and say, case by case, whether it
refuses what it must (vault.conformance). Needs no vault of its own: the keys are fresh each run."""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path

import click

from vault.cli.context import print_json, print_table
from vault.conformance import BadTarget, Result, Target, Unreachable, run_conformance
from vault.conformance.report import HEADERS, as_json, as_junit, summary, table_rows

EXIT_WORDS = """\b
Exit codes:
  0  every case passed
  1  a case failed
  2  bad usage, or the site could not be reached
"""


def _progress(total: int):
    count = 0

    def show(result: Result) -> None:
        nonlocal count
        count += 1
        mark = "skip" if result.skipped else "pass" if result.passed else "FAIL"
        click.echo(f"[{count:2}/{total}] {mark:4}  {result.id}", err=True)

    return show


@click.command("conformance", epilog=EXIT_WORDS)
@click.argument("origin")
@click.option("--nonce-url", metavar="URL", help="Where the site gives nonces [default: ORIGIN/vault/nonce].")
@click.option(
    "--submit-url",
    metavar="URL",
    help="Where the site takes presentations [default: ORIGIN/vault/presentation].",
)
@click.option("--purpose", metavar="ID", help="The purpose to present [default: the first one a vault can].")
@click.option("--json", "as_json_output", is_flag=True, help="Print one JSON object instead of a table.")
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE",
    help="Also write JUnit XML to FILE, for CI systems.",
)
@click.pass_context
def conformance_command(
    ctx: click.Context, origin: str, nonce_url: str | None, submit_url: str | None, purpose: str | None,
    as_json_output: bool, junit: Path | None,
) -> None:  # fmt: skip
    """Play a vault against the running site at ORIGIN and check every case: its manifest as a vault
    fetches it, a valid presentation and its acknowledgement, every kind of broken presentation (each
    must be refused with 4xx, never 5xx), revocation notices and access requests.

    Plain http only for localhost, 127.0.0.1 and [::1]; https otherwise. Each case is one exchange of
    at most 10 seconds; progress goes to stderr.

    \b
      vault conformance http://127.0.0.1:8000
      vault conformance https://shop.example --json
      vault conformance http://127.0.0.1:8000 --nonce-url http://127.0.0.1:8000/api/nonce \\
          --submit-url http://127.0.0.1:8000/api/verify --junit conformance.xml
    """
    if as_json_output and junit is not None:
        raise click.UsageError("give --json or --junit, not both")
    target = Target.at(origin.rstrip("/"), nonce_url, submit_url, purpose)
    from vault.conformance.catalogue import CASES

    try:
        report = run_conformance(
            target, clock=lambda: int(time.time()), rng=secrets.token_bytes, progress=_progress(len(CASES))
        )
    except BadTarget as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)
    except Unreachable as error:
        click.echo(f"Error: the site could not be reached: {error}", err=True)
        ctx.exit(2)
    if junit is not None:
        junit.write_bytes(as_junit(report))
    if as_json_output:
        print_json(as_json(report))
    else:
        print_table(HEADERS, table_rows(report), "no case was played")
        click.echo(summary(report))
    sys.stdout.flush()
    ctx.exit(0 if report.passed else 1)


COMMANDS = [conformance_command]
