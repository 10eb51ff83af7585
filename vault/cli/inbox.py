"""`vault inbox`, `vault mute`, `vault unmute`: what sites wrote to you, and the sites you muted.

Site messages are plain text (the protocol refuses control and direction-changing characters), printed as
they are; a link is printed as text, with the origin it really goes to beside it."""

from typing import Any

import click
import msgspec

from vault.cli.context import CliState, pass_state, print_json, when
from vault.consent.inbox import KIND_WORDS, MUTABLE_KINDS, InboxMessage, inbox, mark_read, set_muted
from vault.consent.sites import typed_origin
from vault.words import count

MUTED_WORDS = (
    "its proposals and change notices are dropped; deletion confirmations and breach notices still arrive"
)


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.split("\n"))


def _describe(message: InboxMessage) -> list[str]:
    state = "read" if message.read else "unread"
    lines = [
        f"{KIND_WORDS.get(message.kind, message.kind)} from {message.origin}, {when(message.received_at)} "
        f"({state})",
        f"  {message.title}",
        _indented(message.body),
    ]
    if message.purpose is not None:
        title = message.purpose_title or "a purpose the site has not declared yet"
        lines.append(f"  Purpose: {title} ({message.purpose})")
    if message.effective_at is not None:
        lines.append(f"  Takes effect: {when(message.effective_at)}")
    if message.claims:
        lines.append(f"  Claims: {', '.join(message.claims)}")
    if message.url is not None:
        lines.append(f"  Link: {message.url} (goes to {message.url_origin})")
    if message.kind == "proposal":
        if message.accepted_at is not None:
            lines.append(f"  You chose to look at this proposal on {when(message.accepted_at)}.")
        else:
            lines.append(
                "  To accept: open the link; the site asks there through the usual prompt "
                "(accepting here shares nothing)."
            )
    lines.append(f"  Id: {message.jti}")
    return lines


@click.command("inbox")
@click.argument("origin", required=False)
@click.option("--all", "show_all", is_flag=True, help="Also the messages already read.")
@click.option("--mark-read", "mark", is_flag=True, help="Mark the messages shown as read.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def inbox_cmd(state: CliState, origin: str | None, show_all: bool, mark: bool, as_json: bool) -> None:
    """Messages from sites (of ORIGIN only, if given), newest first: proposals, change notices, deletion
    confirmations and breach notices, each signed by the site and recorded in the ledger.

    Only unread messages unless --all. Accepting a proposal never shares anything: its link leads to the
    site's page, which asks through the usual prompt.
    """
    site = typed_origin(origin) if origin is not None else None
    with state.open_vault() as vault:
        listed = inbox(vault, site)
        shown = [m for m in listed.messages if show_all or not m.read]
        unread = [m.jti for m in shown if not m.read]
        marked = mark_read(vault, jtis=unread, now=state.now()) if mark and unread else 0
    if as_json:
        print_json(
            {
                "messages": [msgspec.to_builtins(m) for m in shown],
                "unread": listed.unread,
                "unread_by_site": listed.unread_by_site,
                "muted": listed.muted,
                "marked_read": marked,
            }
        )
        return
    _print(shown, listed.messages, listed.muted, show_all, marked)


def _print(
    shown: list[InboxMessage], every: list[InboxMessage], muted: list[str], show_all: bool, marked: int
) -> None:
    if not shown:
        click.echo("No messages." if show_all or not every else "No unread messages.")
    for message in shown:
        click.echo("\n".join(_describe(message)))
        click.echo()
    hidden = len(every) - len(shown)
    if hidden:
        click.echo(f"{count(hidden, 'read message')} not shown; --all shows them.")
    if marked:
        click.echo(f"Marked {count(marked, 'message')} read.")
    for origin in muted:
        click.echo(f"Muted: {origin} ({MUTED_WORDS}).")


def _muted_json(origin: str, muted: bool, changed: bool) -> dict[str, Any]:
    return {"origin": origin, "muted": muted, "changed": changed}


@click.command("mute", help=f"Stop hearing from ORIGIN: {MUTED_WORDS}.")
@click.argument("origin")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def mute(state: CliState, origin: str, as_json: bool) -> None:
    _set(state, typed_origin(origin), True, as_json)


@click.command("unmute")
@click.argument("origin")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def unmute(state: CliState, origin: str, as_json: bool) -> None:
    """Hear from ORIGIN again: its proposals and change notices are kept again (none sent meanwhile)."""
    _set(state, typed_origin(origin), False, as_json)


def _set(state: CliState, origin: str, muted: bool, as_json: bool) -> None:
    with state.open_vault() as vault:
        changed = set_muted(vault, origin, muted, now=state.now())
    if as_json:
        print_json(_muted_json(origin, muted, changed))
        return
    if muted:
        click.echo(f"{'Muted' if changed else 'Already muted:'} {origin}: {MUTED_WORDS}.")
    else:
        kinds = " and ".join(KIND_WORDS[k].lower() + "s" for k in MUTABLE_KINDS)
        click.echo(f"{'Unmuted' if changed else 'Not muted:'} {origin}: its {kinds} are kept.")


COMMANDS = [inbox_cmd, mute, unmute]
