"""`vault context`: named sets of rules and remembered decisions (Everyday, Work, Urgent), which one is
active for the whole browser, for one site, or for a while, and whether each keeps an identity of its own.

Switching contexts is a standing setting, not a ledger entry (it would say when and where you browsed);
adding, renaming, changing and removing one are in the ledger."""

import re
import secrets
from typing import Any

import click
import msgspec

from vault.cli.context import CliState, pass_state, print_json, print_table
from vault.cli.context_words import active_json, identity_words, parse_duration, until_words
from vault.consent import contexts
from vault.consent.contexts import Active, Choices, Context
from vault.consent.records import load_rules, remembered_decisions
from vault.consent.sites import typed_origin
from vault.errors import InvalidInput, VaultError
from vault.store import Vault
from vault.store.migration_contexts import DEFAULT_CONTEXT
from vault.words import count


def _list_json(listed: list[Context], chosen: Choices, browser: Active) -> dict[str, Any]:
    return {
        "contexts": [msgspec.to_builtins(c) | {"active": c.id == browser.context.id} for c in listed],
        "active": active_json(browser),  # for every site without a context of its own, now
        "chosen": {"context": chosen.browser.id, "name": chosen.browser.name},  # for good
        "timed": None
        if chosen.timed is None
        else {"context": chosen.timed.id, "name": chosen.timed.name, "until": chosen.timed_until},
        "sites": [{"origin": origin} | active_json(active) for origin, active in chosen.sites.items()],
    }


def _after_timed(vault: Vault, until: int) -> str:
    """The context that comes back when a timed choice ends (with every other choice as it is now)."""
    return contexts.browser_context(vault, now=until).context.name


def _browser_line(vault: Vault, browser: Active, now: int) -> str:
    name = browser.context.name
    if browser.source == "timed" and browser.until is not None:
        back = _after_timed(vault, browser.until)
        until = until_words(browser.until, now)
        return f"Active for the whole browser: {name}, {until}; then {back} comes back."
    return f"Active for the whole browser: {name}."


def _browser_cell(context: Context, chosen: Choices, browser: Active, now: int) -> str:
    if context.id == browser.context.id:
        return "active" if browser.until is None else f"active {until_words(browser.until, now)}"
    if browser.source == "timed" and context.id == chosen.browser.id:
        return "comes back then"
    return ""


def _sites(n: int, one: str, many: str) -> str:
    """'1 site has …', '2 sites have …': the verb agrees with the count."""
    return f"{count(n, 'site')} {one if n == 1 else many}"


def _site_line(origin: str, active: Active, now: int) -> str:
    until = "" if active.until is None else f", {until_words(active.until, now)}"
    return f"  {origin}: {active.context.name}{until}"


@click.group("context", invoke_without_command=True)
@click.pass_context
def context_group(ctx: click.Context) -> None:
    """Contexts: named sets of rules and remembered decisions, for different situations (everyday
    browsing, work, shopping for the family, something urgent).

    One context answers each site's requests: the site's own one if you chose one for it, else one you
    switched on for a while, else the one you chose for the whole browser, else Everyday. Decisions
    remembered in one context never answer requests in another. A context may keep an identity of its
    own: then sites see it as someone unrelated to you in your other contexts.

    Without a command: the list.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command)


@context_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_command(state: CliState, as_json: bool = False) -> None:
    """Every context, which is active for the whole browser (and until when), and the sites with a
    context of their own."""
    now = state.now()
    with state.open_vault() as vault:
        listed, chosen = contexts.list_contexts(vault), contexts.choices(vault, now=now)
        browser = contexts.browser_context(vault, now=now)
        browser_line = _browser_line(vault, browser, now)
    if as_json:
        print_json(_list_json(listed, chosen, browser))
        return
    rows = [
        [
            c.name,
            c.id,
            "yes" if c.separate_identity else "no",
            "on" if c.gpc else "off",
            _browser_cell(c, chosen, browser, now),
        ]
        for c in listed
    ]
    print_table(["context", "id", "own identity", "GPC", "for the browser"], rows, "No contexts.")
    click.echo(browser_line)
    if chosen.sites:
        click.echo(_sites(len(chosen.sites), "has a context of its own:", "have a context of their own:"))
        for origin, active in chosen.sites.items():
            click.echo(_site_line(origin, active, now))


@context_group.command("add")
@click.argument("name")
@click.option(
    "--copy-from",
    metavar="CONTEXT",
    help="Start with a copy of this context's rules and remembered decisions.",
)
@click.option(
    "--separate-identity",
    is_flag=True,
    help="Keep an identity of its own: sites see unrelated keys and subjects for what it shares.",
)
@click.option(
    "--no-gpc", is_flag=True, help="Never send Global Privacy Control while this context is active."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def add_command(
    state: CliState, name: str, copy_from: str | None, separate_identity: bool, no_gpc: bool, as_json: bool
) -> None:
    """Add a context called NAME (empty, or a copy of another). It is not switched on: see `vault context
    use`."""
    now, new_id = state.now(), contexts.new_context_id(secrets.token_urlsafe(16))
    with state.open_vault() as vault:
        added = contexts.add_context(
            vault,
            name,
            now=now,
            new_id=new_id,
            copy_from=copy_from,
            separate_identity=separate_identity,
            gpc=not no_gpc,
        )
        source = None if copy_from is None else contexts.find(vault, copy_from)
    if as_json:
        print_json(added)
        return
    copied = (
        "no rules and no remembered decisions yet"
        if source is None
        else f"a copy of {source.name}'s rules and remembered decisions"
    )
    gpc = "Global Privacy Control as its rules say" if added.gpc else "never Global Privacy Control"
    click.echo(f"Added the context {added.name}: {copied}; {identity_words(added)}; {gpc}.")
    click.echo(f"Switch to it with: vault context use {_quoted(added.name)}")


def _quoted(name: str) -> str:
    return name if re.fullmatch(r"[\w.-]+", name) else "'" + name.replace("'", "'\\''") + "'"


@context_group.command("use")
@click.argument("name")
@click.option("--site", "origin", metavar="ORIGIN", help="Only on this site (e.g. https://shop.example).")
@click.option(
    "--for",
    "duration",
    metavar="DURATION",
    help="Only for a while: 30m, 1h, 2d (1 minute to 30 days); then the previous choice comes back.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def use_command(state: CliState, name: str, origin: str | None, duration: str | None, as_json: bool) -> None:
    """Switch to the context NAME: for the whole browser, or only on one --site; for good, or only --for
    a while. Sites with a context of their own keep it when the browser's one changes."""
    site = None if origin is None else typed_origin(origin)
    seconds = None if duration is None else parse_duration(duration)
    now = state.now()
    with state.open_vault() as vault:
        active = contexts.use_context(vault, name, now=now, origin=site, seconds=seconds)
        back = None if active.until is None else _after_timed(vault, active.until)
        others = len(contexts.choices(vault, now=now).sites)
    if as_json:
        print_json(active_json(active) | {"origin": site, "then": back})
        return
    where = f"on {site}" if site else "for the whole browser"
    when = "" if active.until is None else f", {until_words(active.until, now)}; then {back} comes back"
    click.echo(f"{active.context.name} is active {where}{when}.")
    if site is None and others:
        click.echo(
            _sites(others, "keeps its own context", "keep their own context") + " (see: vault context list)."
        )


@context_group.command("end")
@click.option("--site", "origin", metavar="ORIGIN", help="Forget this site's own context.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def end_command(state: CliState, origin: str | None, as_json: bool) -> None:
    """End the context switched on for a while (or, with --site, the site's own context): the previous
    choice comes back."""
    site = None if origin is None else typed_origin(origin)
    now = state.now()
    with state.open_vault() as vault:
        before = _in_force(vault, site, now)
        # A choice whose time was up is cleared too, but it ended by itself: nothing in force ended now.
        ended = contexts.end_choice(vault, origin=site) and before.source in ("site", "timed")
        after = _in_force(vault, site, now)
    if as_json:
        print_json({"ended": ended, "origin": site, "active": active_json(after)})
        return
    where = f"on {site}" if site else "for the whole browser"
    if not ended:
        nothing = f"{site} had no context of its own" if site else "no context was switched on for a while"
        click.echo(f"Nothing to end: {nothing}. {after.context.name} is active {where}.")
        return
    click.echo(f"Ended {before.context.name} {where}; {after.context.name} is active {where} now.")


def _in_force(vault: Vault, origin: str | None, now: int) -> Active:
    return (
        contexts.active_context(vault, origin, now=now)
        if origin
        else contexts.browser_context(vault, now=now)
    )


@context_group.command("rename")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def rename_command(state: CliState, old: str, new: str, as_json: bool) -> None:
    """Rename the context OLD to NEW. Its id, and so its identity, stays the same."""
    with state.open_vault() as vault:
        before = contexts.find(vault, old)
        renamed = contexts.rename_context(vault, old, new, now=state.now())
    if as_json:
        print_json(renamed)
    elif renamed.name == before.name:
        click.echo(f"The context is already called {renamed.name}.")
    else:
        click.echo(f"Renamed the context {before.name} to {renamed.name}.")


@context_group.command("set")
@click.argument("name")
@click.option(
    "--separate-identity/--shared-identity",
    "separate_identity",
    default=None,
    help="Its own identity (sites see unrelated keys and subjects from now on), or the one your other "
    "contexts share. What was shared before stays under the identity it was shared with.",
)
@click.option(
    "--gpc/--no-gpc",
    "gpc",
    default=None,
    help="Send Global Privacy Control where its rules refuse selling your data or targeted advertising, "
    "or never.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def set_command(
    state: CliState, name: str, separate_identity: bool | None, gpc: bool | None, as_json: bool
) -> None:
    """Change whether the context NAME keeps its own identity, and whether it sends Global Privacy
    Control."""
    if separate_identity is None and gpc is None:
        raise InvalidInput("say what to change", "--separate-identity, --shared-identity, --gpc or --no-gpc")
    with state.open_vault() as vault:
        before = contexts.find(vault, name)
        changed = contexts.change_context(
            vault, name, now=state.now(), separate_identity=separate_identity, gpc=gpc
        )
    if as_json:
        print_json(changed)
        return
    now_so = f"{identity_words(changed)} and " + (
        "sends Global Privacy Control as its rules say"
        if changed.gpc
        else "never sends Global Privacy Control"
    )
    if changed == before:
        click.echo(f"Nothing to change: {changed.name} already has {now_so}.")
    else:
        click.echo(f"Changed {changed.name}: it now has {now_so}.")
    if changed.separate_identity != before.separate_identity:
        click.echo("What was shared before stays under the identity it was shared with.")


@context_group.command("rm")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def rm_command(state: CliState, name: str, yes: bool, as_json: bool) -> None:
    """Remove the context NAME (Everyday stays). Its rules and remembered decisions are forgotten; what
    was shared in it stays in the ledger. Sites and the browser that used it go back to the next choice."""
    now = state.now()
    with state.open_vault() as vault:
        target = contexts.find(vault, name)
        book = load_rules(vault, target.id)
        forgotten = (
            sum(map(len, (book.never, book.ask, book.deny_concepts, book.remember))),
            len(remembered_decisions(vault, target.id)),
        )
        what = _forgotten_words(*forgotten)
        # Everyday cannot go: remove_context says so, before anyone is asked to confirm.
        if target.id != DEFAULT_CONTEXT and not yes:
            if not click.get_text_stream("stdin").isatty():
                raise VaultError("refusing to remove a context without confirmation", "add --yes to confirm")
            click.confirm(
                f"Remove the context {target.name}? Its {what} are forgotten; what was shared in it stays in "
                "the ledger",
                abort=True,
            )
        sites = [o for o, a in contexts.choices(vault, now=now).sites.items() if a.context.id == target.id]
        removed = contexts.remove_context(vault, target.id, now=now)
        browser = contexts.browser_context(vault, now=now)
    if as_json:
        print_json(
            {
                "removed": removed,
                "rules_forgotten": forgotten[0],
                "decisions_forgotten": forgotten[1],
                "sites": sites,
                "active": active_json(browser),
            }
        )
        return
    click.echo(
        f"Removed the context {removed.name}: its rules and remembered decisions are forgotten ({what}); "
        "what was shared in it stays in the ledger (vault ledger)."
    )
    if sites:
        had = _sites(len(sites), "had it as its own context", "had it as their own context")
        click.echo(f"{had}; {browser.context.name} answers there now.")
    click.echo(f"Active for the whole browser: {browser.context.name}.")


def _forgotten_words(rules: int, decisions: int) -> str:
    """'one rule and no remembered decisions' (the verb after it is plural either way: 'are forgotten')."""
    return f"{count(rules, 'rule', spelled=True)} and {count(decisions, 'remembered decision', spelled=True)}"


COMMANDS = [context_group]
