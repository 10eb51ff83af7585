"""`vault gpc`: where the browser sends Global Privacy Control (`Sec-GPC: 1`, "do not sell or share my
personal information"), why, and turning it off or back on for one site. Per-site switches are standing
settings, exported with the rest; nothing is recorded per request."""

import click
import msgspec

from vault.cli.context import CliState, pass_state, print_json, print_table
from vault.consent import contexts, gpc
from vault.consent.sites import typed_origin
from vault.errors import InvalidInput

_ACTIONS = ("status", "on", "off")


def _state(site: gpc.SiteGpc) -> str:
    return "sent" if site.sent else "not sent"


@click.command("gpc")
@click.argument("words", nargs=-1, metavar="[status|on|off] [ORIGIN]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def gpc_command(state: CliState, words: tuple[str, ...], as_json: bool) -> None:
    """Global Privacy Control: the browser tells sites "do not sell or share my personal information"
    (the Sec-GPC: 1 header, and navigator.globalPrivacyControl in pages; legally binding in several US
    states).

    It is sent on a site when the rules of the context in force there refuse selling your data or
    targeted advertising (vault rules add deny_concept dpv:SellDataToThirdParties), unless you turned it
    off in that context (vault context set NAME --no-gpc) or on that site. The browser applies a site's
    setting to its whole host (every port and scheme) and the host's subdomains.

    \b
      vault gpc                 where it is sent, and why
      vault gpc ORIGIN          whether it is sent to that site, and why
      vault gpc off ORIGIN      never send it to that site
      vault gpc on ORIGIN       send it there again as the site's context says
    """
    action, origin = _parsed(words)
    now = state.now()
    with state.open_vault() as vault:
        if action in ("on", "off"):
            assert origin is not None
            shown = gpc.set_site_gpc(vault, origin, enabled=action == "on", now=now)
        elif origin is not None:
            shown = gpc.site_gpc(vault, origin, now=now)
        else:
            default = gpc.default_gpc(vault, now=now)
            origins = {o for o, _, _ in gpc.gpc_sites(vault)} | set(contexts.choices(vault, now=now).sites)
            sites = [gpc.site_gpc(vault, o, now=now) for o in sorted(origins)]
            _print_all(default, sites, as_json)
            return
    if as_json:
        print_json(shown)
        return
    assert origin is not None
    click.echo(f"Global Privacy Control on {origin}: {_state(shown)} (context {shown.context_name}).")
    click.echo(shown.why)
    if not shown.site_switch:
        click.echo(f"Send it there again with: vault gpc on {origin}")


def _parsed(words: tuple[str, ...]) -> tuple[str, str | None]:
    if len(words) > 2:
        raise InvalidInput("too many words", "vault gpc [status|on|off] [ORIGIN]")
    if not words:
        return "status", None
    if words[0].lower() not in _ACTIONS:
        if len(words) == 2:
            raise InvalidInput(f"{words[0]!r} is not status, on or off", "vault gpc [status|on|off] [ORIGIN]")
        return "status", typed_origin(words[0])
    action = words[0].lower()
    if len(words) == 1:
        if action == "status":
            return action, None
        raise InvalidInput(
            f"say which site to turn Global Privacy Control {action} for",
            f"vault gpc {action} https://shop.example; for a whole context: "
            f"vault context set NAME --{'' if action == 'on' else 'no-'}gpc",
        )
    return action, typed_origin(words[1])


def _print_all(default: gpc.SiteGpc, sites: list[gpc.SiteGpc], as_json: bool) -> None:
    if as_json:
        print_json({"default": default, "sites": [msgspec.to_builtins(s) for s in sites]})
        return
    click.echo(
        f"Global Privacy Control on sites without a setting of their own: {_state(default)} "
        f"(context {default.context_name})."
    )
    click.echo(default.why)
    if sites:
        click.echo()
        rows = [[s.origin, _state(s), s.context_name, s.why] for s in sites]
        print_table(["site", "GPC", "context", "why"], rows, "")


COMMANDS = [gpc_command]
