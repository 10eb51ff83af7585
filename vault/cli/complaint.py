"""`vault report ORIGIN`: a complaint draft for a data protection authority, with its evidence; and
`vault check-report BUNDLE.json`, which anyone can run to check that evidence (no vault needed)."""

import datetime as dt
import os
from pathlib import Path
from typing import Any

import click
import msgspec

from vault.cli import ERROR
from vault.cli.context import CliState, pass_state, print_json
from vault.consent.complaint import MAX_ATTACHMENTS, collect, read_attachment
from vault.consent.complaint_check import MAX_BUNDLE_BYTES, BundleInvalid, check_bundle, load_bundle
from vault.consent.complaint_text import EVIDENCE_WORDS, evidence_words, render
from vault.consent.sites import typed_origin
from vault.errors import InvalidInput, VaultError
from vault.words import count


def _file_stem(origin: str, now: int) -> str:
    host = origin.split("://", 1)[1].replace("[", "").replace("]", "").replace(":", "-")
    return f"complaint-{host}-{dt.datetime.fromtimestamp(now, dt.UTC).strftime('%Y-%m-%d')}"


def _write_new(path: Path, data: bytes, force: bool) -> None:
    # O_EXCL: an existing draft (perhaps already completed by hand) is never overwritten by accident.
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    with os.fdopen(os.open(path, flags, 0o600), "wb") as file:
        file.write(data)


@click.command("report")
@click.argument("origin")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default="the current directory",
    help="Where to write the draft (.md) and the evidence (.json).",
)
@click.option("--note", help="Your own statement, added to the draft as yours (at most 8000 characters).")
@click.option(
    "--attach",
    "attach",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"A file of your own to include in the evidence (at most {MAX_ATTACHMENTS}, 1 MiB each).",
)
@click.option(
    "--identity",
    "epoch",
    type=click.IntRange(0),
    help="Which of your identities at the site (after `vault revoke --forget`) [default: the current "
    "one, if the site saw it].",
)
@click.option(
    "--context",
    "identity",
    metavar="NAME",
    help="Which identity at the site: the own identity of the context NAME, or 'shared' [default: the "
    "shared one if the site saw anything under it, else the first it did].",
)
@click.option("--force", is_flag=True, help="Overwrite an existing draft of the same name.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@pass_state
def report_command(
    state: CliState,
    origin: str,
    out_dir: Path,
    note: str | None,
    attach: tuple[Path, ...],
    epoch: int | None,
    identity: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Write a complaint about ORIGIN for your data protection authority: a draft letter (Markdown) and
    the evidence from your vault (JSON), for you to complete, sign and send.

    The evidence is only what the site was told or said to you, under the identity it knows you by:
    the versions of its manifest, what you shared with it, its signed acknowledgements and answers,
    your withdrawals and erasure requests (and whether it answered), what it said it holds and the
    discrepancies found, and its messages. Nothing else from your vault goes in, except what you add
    with --note and --attach. Anyone can check the signatures with `vault check-report FILE.json`.
    """
    origin = typed_origin(origin)
    if not out_dir.is_dir():
        raise InvalidInput(f"{out_dir} is not a directory", "create it first, or choose another --out")
    attachments = [read_attachment(path) for path in attach]
    with state.open_vault() as vault:
        now = state.now()
        complaint = collect(
            vault, origin, now=now, epoch=epoch, identity=identity, note=note, attachments=attachments
        )
    stem = _file_stem(origin, now)
    md_path, json_path = out_dir / f"{stem}.md", out_dir / f"{stem}.json"
    if not force:
        for path in (md_path, json_path):
            if path.exists():
                raise InvalidInput(
                    f"{path} already exists", "add --force to replace it, or choose another --out"
                )
    bundle = complaint.bundle
    data = msgspec.json.format(msgspec.json.encode(bundle), indent=2) + b"\n"
    text = render(complaint, json_path.name).encode()
    try:
        _write_new(json_path, data, force)
        try:
            _write_new(md_path, text, force)
        except OSError:
            json_path.unlink()  # both files or neither
            raise
    except FileExistsError as error:
        raise InvalidInput(f"{error.filename} already exists", "add --force to replace it") from None
    except OSError as error:
        raise VaultError(f"cannot write {error.filename}: {error.strerror}", "check --out") from None
    counts: dict[str, int] = {}
    for item in bundle["evidence"]:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    if as_json:
        print_json(
            {
                "origin": origin,
                "subject": bundle["subject"],
                "markdown": str(md_path),
                "bundle": str(json_path),
                "manifests": len(bundle["manifests"]),
                "evidence": counts,
                "discrepancies": len(bundle["discrepancies"]),
                "ledger_entries": len(bundle["ledger"]["entries"]),
                "attachments": len(bundle["attachments"]),
            }
        )
        return
    click.echo(f"Wrote a complaint draft about {origin}:")
    click.echo(f"  {md_path}  (the letter: complete the blanks, sign it)")
    click.echo(f"  {json_path}  (the evidence: attach it)")
    click.echo("It contains:")
    click.echo(f"  {count(len(bundle['manifests']), 'version', spelled=True)} of the site manifest")
    for kind in EVIDENCE_WORDS:
        if counts.get(kind):
            click.echo(f"  {evidence_words(kind, counts[kind], spelled=True)}")
    found = count(len(bundle["discrepancies"]), "discrepancy", "discrepancies", spelled=True)
    click.echo(f"  {found} in plain words")
    entries = count(len(bundle["ledger"]["entries"]), "ledger entry", "ledger entries", spelled=True)
    click.echo(f"  {entries} with their hashes")
    if note or attachments:
        files = " and " + count(len(attachments), "file", spelled=True) if attachments else ""
        click.echo(f"  your own statement{files}")
    if complaint.other_identities:
        others = count(complaint.other_identities, "other identity", "other identities", spelled=True)
        click.echo(
            f"Evidence under {others} at this site was left out, so the complaint does not link them "
            "(--identity chooses)."
        )
    click.echo(f"Anyone can check it: vault check-report {json_path}")


@click.command("check-report")
@click.argument("bundle_path", metavar="BUNDLE.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def check_report_command(bundle_path: Path, as_json: bool) -> None:
    """Check a complaint bundle written by `vault report`: every signature in it (the site's, against the
    keys of its own manifests; yours, against the identity the site knows you by) and the hashes of the
    ledger entries. Needs no vault and no passphrase. Exit 0 only if every check passes."""
    try:
        with bundle_path.open("rb") as file:  # never more than a bundle may hold, whatever the file is
            data = file.read(MAX_BUNDLE_BYTES + 1)
    except OSError as error:
        raise InvalidInput(f"cannot read {bundle_path}: {error.strerror}", "check the file name") from None
    try:
        bundle = load_bundle(data)
    except BundleInvalid as error:
        raise InvalidInput(f"{bundle_path} is not a complaint bundle: {error}") from None
    checks = check_bundle(bundle)
    failed = [c for c in checks if not c.ok]
    if as_json:
        result: dict[str, Any] = {
            "ok": not failed,
            "origin": bundle["origin"],
            "subject": bundle["subject"],
            "checks": [{"item": c.item, "ok": c.ok, "reason": c.reason} for c in checks],
            "failed": len(failed),
        }
        print_json(result)
    else:
        for check in checks:
            status = "ok" if check.ok else "FAILED"
            click.echo(f"{status:6}  {check.item}" + (f": {check.reason}" if check.reason else ""))
        if failed:
            failures = count(len(failed), "check", spelled=True)
            click.echo(f"{ERROR}{failures} of {len(checks)} FAILED.", err=True)
        else:
            click.echo(f"All {len(checks)} checks passed: {bundle['origin']}, subject {bundle['subject']}.")
    if failed:
        raise click.exceptions.Exit(1)


COMMANDS = [report_command, check_report_command]
