"""`vault ask`: ask a site what it holds about you, and compare its signed answer with the ledger."""

from __future__ import annotations

import click

from vault.cli.context import CliState, pass_state, print_json, when
from vault.cli.ledger_words import value_words
from vault.consent.access import queue_request
from vault.consent.access_compare import claim_label, day
from vault.consent.access_delivery import ask
from vault.consent.access_views import AccessView, OverdueHolding, access_view, no_endpoint_view
from vault.consent.ledger_records import Discrepancy

OVERDUE_WORDS = {
    "asking": "asked the site to confirm it no longer holds it; no answer yet",
    "gone": "the site confirmed it no longer holds it",
    "still_held": "the site STILL HOLDS it",
    "unanswered": "the site did not answer when asked whether it still holds it",
}


def _claims(claims: list[str], values: dict | None) -> str:
    shown = []
    for claim in claims:
        value = "" if values is None or claim not in values else f" = {value_words(values[claim])}"
        shown.append(f"{claim_label(claim)} ({claim}{value})")
    return ", ".join(shown)


def view_lines(view: AccessView) -> list[str]:
    """What the site said it holds and every discrepancy, in words."""
    if view.state == "no_endpoint":
        return [f"{view.origin}: {view.error}. Nothing was asked."]
    if view.state == "waiting":
        plural = "" if view.attempts == 1 else "s"
        tried = f" ({view.attempts} attempt{plural}, last: {view.error})" if view.attempts else ""
        again = f"will try again at {when(view.next_try_at)}" if view.next_try_at else "will try again later"
        return [
            f"{view.origin} has not answered yet{tried}; {again} "
            "(the daemon retries by itself, or run: vault ask again)."
        ]
    lines = []
    if view.state == "answered":
        lines.append(f"{view.origin} answered on {day(view.answered_at or view.asked_at)}. It holds:")
        for held in view.holdings:
            passed = f"; passed on to {', '.join(held.recipient_names)}" if held.recipient_names else ""
            lines.append(
                f"  {held.purpose_title or held.purpose}: {_claims(held.claims, held.values)}, "
                f"since {day(held.since)}, until {day(held.until)}{passed}"
            )
        if not view.holdings:
            lines.append("  nothing")
    lines += discrepancy_lines(view.discrepancies)
    if view.state == "answered" and not view.discrepancies:
        lines.append("No discrepancies: what it says it holds matches what you shared and for how long.")
    return lines


def discrepancy_lines(discrepancies: list[Discrepancy]) -> list[str]:
    return [f"DISCREPANCY: {d.text}" for d in discrepancies]


def overdue_lines(rows: list[OverdueHolding]) -> list[str]:
    """The holdings whose retention has ended (`vault site ORIGIN` shows them too)."""
    return [
        f"Retention ended {day(row.keep_until)}: {row.purpose_title or row.purpose} "
        f"({', '.join(row.claims)}): {OVERDUE_WORDS[row.state]}"
        for row in rows
    ]


@click.command("ask")
@click.argument("origin")
@click.option("--json", "as_json", is_flag=True, help="Print the request and its answer as JSON.")
@click.option("--no-wait", is_flag=True, help="Only queue the request; the daemon (or a later ask) sends it.")
@click.option("--allow-loopback-http", is_flag=True, hidden=True, help="Test mode: plain http to loopback.")
@pass_state
def ask_command(
    state: CliState, origin: str, as_json: bool, no_wait: bool, allow_loopback_http: bool
) -> None:
    """Ask ORIGIN (e.g. https://shop.example) what it holds about you, and compare its signed answer with
    what you shared: per purpose, which claims, since when, until when, passed on to whom, and every
    discrepancy (kept too long, never shared, kept after it confirmed deleting it, passed on to someone
    you never allowed, or no answer at all).

    The request is signed with the identity the site knows you by, so it learns nothing new. It waits at
    most 12 seconds for the answer; without one, the request stays queued and is retried with backoff
    (by the daemon, or by running this again) until the site answers or six attempts have failed."""
    with state.open_vault() as vault:
        if no_wait:
            request = queue_request(vault, origin, now=state.now())
        else:
            request = ask(vault, origin, now=state.now, allow_loopback_http=allow_loopback_http)
        view = no_endpoint_view(origin, state.now()) if request is None else access_view(vault, request)
    assert view is not None
    if as_json:
        print_json(view)
        return
    # A site that knows you by several identities (contexts that keep their own) was asked once for each.
    views = [view, *view.also]
    for shown in views:
        if len(views) > 1:
            click.echo(f"Asked {shown.identity_words or 'for your shared identity'}:")
        if no_wait and shown.state == "waiting":
            click.echo(f"Queued request {shown.request} to {origin}; the daemon sends it.")
            continue
        for line in view_lines(shown):
            click.echo(line)


COMMANDS = [ask_command]
