"""`vault revoke` and `vault outbox`: taking back what a site was told, and delivering the notice."""

import secrets
from typing import Any

import click

from vault.cli.context import CliState, pass_state, print_json, when
from vault.cli.ledger_words import purpose_titles
from vault.consent.outbox import DeliveryOutcome, OutboxItem, deliver_due, items, pending
from vault.consent.revocation import RevokeResult, revoke
from vault.words import count

loopback_option = click.option(
    "--allow-loopback-http",
    is_flag=True,
    help="Test mode: also deliver over plain http to a site on 127.0.0.1, localhost or [::1].",
)


def _outcome_json(outcome: DeliveryOutcome) -> dict[str, Any]:
    return {
        "delivered": outcome.delivered,
        "attempt": outcome.attempt,
        "status": outcome.status,
        "error": outcome.error,
        "next_attempt_at": outcome.next_attempt_at,
        "erased": outcome.erased,
        "recipients": [{"id": r.id, "outcome": r.outcome, "at": r.at} for r in outcome.recipients],
    }


RECIPIENT_OUTCOME_WORDS = {
    "erased": "erased it",
    "not_held": "never held it",
    "forwarded": "was told by the site (no answer from it yet)",
}


def _outcome_line(outcome: DeliveryOutcome, site: bool = True) -> str:
    if outcome.delivered:
        erased = "; the site says it erased the data" if outcome.erased and site else ""
        told = "".join(
            f"; {r.id} {RECIPIENT_OUTCOME_WORDS.get(r.outcome, r.outcome)} ({when(r.at)})"
            for r in outcome.recipients
        )
        return f"delivered, confirmed by the site{erased}{told}"
    return (
        f"not delivered ({outcome.error}): waiting for the site's confirmation, "
        f"next try {when(outcome.next_attempt_at)}"
    )


def _revoke_json(result: RevokeResult, outcomes: dict[str, DeliveryOutcome]) -> dict[str, Any]:
    return {
        "origin": result.origin,
        "purpose": result.purpose_id,
        "claim": result.claim,
        "third_party": result.third_party,
        "decisions_revoked": result.decisions_revoked,
        "erasure": result.erasure,
        "withdrawn": result.withdrawn,
        "nothing_to_withdraw": result.nothing_to_withdraw,
        "forgotten": None
        if result.forgotten is None
        else {"old_epoch": result.forgotten[0], "new_epoch": result.forgotten[1]},
        "notices": [
            {
                "jti": notice.jti,
                "purpose": notice.purpose_id,
                "epoch": notice.epoch,
                "presentations": list(notice.presentations),
                "claims": list(notice.claims),
                "site": notice.site,
                "recipients": list(notice.recipients),
                "endpoint": notice.endpoint,
                "delivery": _outcome_json(outcomes[notice.jti]) if notice.jti in outcomes else None,
            }
            for notice in result.notices
        ],
    }


@click.command("revoke")
@click.argument("origin")
@click.option(
    "--purpose", "purpose_id", help="Revoke only this purpose [default: every purpose of the site]."
)
@click.option("--claim", help="Revoke only this claim (e.g. sizes.shoe), wherever it went.")
@click.option(
    "--third-party",
    "third_party",
    help="Withdraw only from this third party of the site (its id, as `vault site ORIGIN` shows it); "
    "the site keeps its own copy.",
)
@click.option("--erase", is_flag=True, help="Also ask the site to erase what it was told.")
@click.option(
    "--forget",
    is_flag=True,
    help="Forget me on this site: revoke every purpose and use a new, unlinkable identity from now on.",
)
@loopback_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_state
def revoke_command(
    state: CliState,
    origin: str,
    purpose_id: str | None,
    claim: str | None,
    third_party: str | None,
    erase: bool,
    forget: bool,
    allow_loopback_http: bool,
    as_json: bool,
) -> None:
    """Take back consent given to ORIGIN (e.g. https://shop.example) and withdraw what it was told.

    The whole site (and so every third party it passed your data to), one --purpose, one --claim, or
    one --third-party. Future requests from the site ask again about what you revoked. Each disclosure
    not yet withdrawn is named in a notice signed with the identity the site knows you by; the site
    must forward it to the third parties it names and answer for each. Notices go into the outbox, and
    one delivery attempt is made at once; undelivered notices are retried by `vault outbox deliver`
    with backoff until the site acknowledges them.
    """
    with state.open_vault() as vault:
        result = revoke(
            vault,
            origin,
            purpose_id=purpose_id,
            erase=erase,
            forget=forget,
            now=state.now(),
            new_id=lambda: secrets.token_urlsafe(16),
            claim=claim,
            third_party=third_party,
        )
        outcomes = {}
        if result.notices:
            delivered = deliver_due(
                vault,
                now=state.now(),
                only=[notice.jti for notice in result.notices],
                allow_loopback_http=allow_loopback_http,
            )
            outcomes = {outcome.jti: outcome for outcome in delivered}
        titles = purpose_titles(vault, [origin])
    if as_json:
        print_json(_revoke_json(result, outcomes))
        return
    scope = (
        "every purpose" if purpose_id is None else f"purpose {titles.get((origin, purpose_id), purpose_id)}"
    )
    if claim is not None:
        scope = f"claim {claim}, {scope}"
    if third_party is not None:
        scope = f"third party {third_party}, {scope}"
    click.echo(f"Revoked {count(result.decisions_revoked, 'standing decision')} for {origin} ({scope}).")
    if result.nothing_to_withdraw:
        click.echo(
            "Nothing to withdraw: the site holds nothing from this vault that was not withdrawn before."
        )
    else:
        erasure = ", asking the site to erase them" if erase else ""
        click.echo(
            f"Withdrew {count(result.withdrawn, 'disclosure')} in "
            f"{count(len(result.notices), 'signed notice')}{erasure}:"
        )
        for notice in result.notices:
            outcome = outcomes.get(notice.jti)
            line = _outcome_line(outcome, notice.site) if outcome is not None else "queued"
            whom = ", ".join((["the site"] if notice.site else []) + list(notice.recipients))
            click.echo(
                f"  {notice.jti} ({titles.get((origin, notice.purpose_id), notice.purpose_id)}, "
                f"{count(len(notice.presentations), 'presentation')}; from {whom}): {line}"
            )
    if result.forgotten is not None:
        click.echo(f"Forgot your identity on {origin}: from now on it sees a new, unrelated one.")


def _item_json(item: OutboxItem) -> dict[str, Any]:
    return {
        "jti": item.jti,
        "origin": item.origin,
        "purpose": item.purpose_id,
        "endpoint": item.endpoint,
        "created_at": item.created_at,
        "state": "delivered" if item.delivered_at is not None else "pending",
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at,
        "last_error": item.last_error,
        "delivered_at": item.delivered_at,
        "erased": item.erased,
    }


def _list(state: CliState, as_json: bool, pending_only: bool) -> None:
    with state.open_vault() as vault:
        listed = items(vault, include_delivered=not pending_only)
        titles = purpose_titles(vault, (item.origin for item in listed))
    if as_json:
        print_json([_item_json(item) for item in listed])
        return
    if not listed:
        click.echo("The outbox is empty." if not pending_only else "No notices are waiting for delivery.")
        return
    for item in listed:
        if item.delivered_at is not None:
            erased = ", erased" if item.erased else ""
            what = f"delivered {when(item.delivered_at)} (acknowledged{erased})"
        else:
            failed = ""
            if item.attempts:
                failed = f"{count(item.attempts, 'failed attempt')}, last: {item.last_error}; "
            what = f"pending: {failed}next attempt at {when(item.next_attempt_at)}"
        purpose = titles.get((item.origin, item.purpose_id), item.purpose_id)
        click.echo(f"{item.jti}  {item.origin}  {purpose}  {what}")


listing_options = [
    click.option("--pending", "pending_only", is_flag=True, help="Only notices not yet acknowledged."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON."),
]


def _with_listing_options(command):
    for option in reversed(listing_options):
        command = option(command)
    return command


@click.group("outbox", invoke_without_command=True)
@_with_listing_options
@click.pass_context
def outbox(ctx: click.Context, pending_only: bool, as_json: bool) -> None:
    """Revocation notices and their delivery. With no command: the same as `vault outbox list`.

    \b
    vault outbox [list] [--pending] [--json]   every notice: pending (with its retry time) or delivered
    vault outbox deliver [--retry-now]         one delivery pass over the notices that are due
    """
    if ctx.invoked_subcommand is None:
        _list(ctx.find_object(CliState), as_json, pending_only)


@outbox.command("list")
@_with_listing_options
@pass_state
def outbox_list(state: CliState, pending_only: bool, as_json: bool) -> None:
    """List the notices: pending (with the last error and the next attempt) or delivered."""
    _list(state, as_json, pending_only)


@outbox.command("deliver")
@click.option("--retry-now", is_flag=True, help="Also send notices whose next attempt is not due yet.")
@loopback_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
@pass_state
def outbox_deliver(state: CliState, retry_now: bool, allow_loopback_http: bool, as_json: bool) -> None:
    """One delivery pass over the notices that are due.

    Each is sent once; a failure is retried on a later pass with backoff (30 s, doubling, at most an
    hour apart). Every attempt and every acknowledgement is recorded in the ledger.
    """
    with state.open_vault() as vault:
        outcomes = deliver_due(
            vault, now=state.now(), allow_loopback_http=allow_loopback_http, retry_now=retry_now
        )
        waiting = len(pending(vault))
    if as_json:
        print_json(
            [{"jti": o.jti, "origin": o.origin, "purpose": o.purpose_id} | _outcome_json(o) for o in outcomes]
        )
        return
    if not outcomes:
        click.echo("Nothing is due." if waiting else "Nothing to deliver.")
        if waiting:
            verb = "waits" if waiting == 1 else "wait"
            click.echo(f"{count(waiting, 'notice')} {verb} for a later attempt; --retry-now sends them now.")
        return
    for outcome in outcomes:
        click.echo(f"{outcome.jti}  {outcome.origin}  {outcome.purpose_id}: {_outcome_line(outcome)}")


COMMANDS = [revoke_command, outbox]
