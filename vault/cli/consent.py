"""`vault sites`, `site`, `consents`, `ledger`, `rules`: what left the vault, to whom, your choices."""

import click
import msgspec

from vault.cli import ERROR
from vault.cli.access import discrepancy_lines, overdue_lines
from vault.cli.context import CliState, pass_state, print_json, print_table, when
from vault.cli.context_words import (
    active_json,
    chosen_context,
    context_option,
    other_contexts_line,
    source_words,
)
from vault.cli.ledger_words import purpose_titles, value_words
from vault.cli.ledger_words import summary as _summary
from vault.consent import contexts
from vault.consent import ledger as ledger_module
from vault.consent.records import (
    RULE_KINDS,
    add_rule,
    load_rules,
    remember_days,
    remembered_decisions,
    remove_rule,
    set_remember_days,
)
from vault.consent.report import RecipientHolding, recipient_words, site_report, withdrawal_words
from vault.consent.sites import known_sites, stored_manifest, typed_origin
from vault.words import count


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def sites(state: CliState, as_json: bool) -> None:
    """Every site that asked for claims, and how much it currently holds."""
    now = state.now()
    with state.open_vault() as vault:
        summaries = known_sites(vault)
        reports = {s.origin: site_report(vault, s.origin) for s in summaries}
    holding = {origin: len(report.current(now)) for origin, report in reports.items()}
    waiting = {origin: len(report.pending_withdrawal()) for origin, report in reports.items()}
    if as_json:
        print_json(
            [
                msgspec.to_builtins(s)
                | {"current_disclosures": holding[s.origin], "withdrawals_unconfirmed": waiting[s.origin]}
                for s in summaries
            ]
        )
        return
    rows = [
        [
            s.origin,
            s.controller or "-",
            holding[s.origin],
            f"{waiting[s.origin]} (asked; the site has not confirmed)" if waiting[s.origin] else "-",
            when(s.manifest_seen_at),
        ]
        for s in summaries
    ]
    print_table(
        ["site", "controller", "holds now", "withdrawn, unconfirmed", "manifest since"],
        rows,
        "No site has asked for anything yet.",
    )


@click.command()
@click.argument("origin")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "show_all", is_flag=True, help="Include withdrawn and expired disclosures.")
@pass_state
def site(state: CliState, origin: str, as_json: bool, show_all: bool) -> None:
    """What ORIGIN knows about you: each value disclosed, when, for what, in which context, until when,
    acknowledged or not; and the context in force there now, and whether Global Privacy Control is sent."""
    origin, now = typed_origin(origin), state.now()
    with state.open_vault() as vault:
        report = site_report(vault, origin, now=now)
        manifest = stored_manifest(vault, origin)
    active, gpc_here = report.active, report.gpc
    assert active is not None and gpc_here is not None  # given the time, the report says both
    titles = {} if manifest is None else {p.id: p.title for p in manifest.purposes}
    # Withdrawn but not confirmed: the site may still hold them, so they are shown by default.
    disclosures = report.disclosures if show_all else report.current(now) + report.pending_withdrawal()
    if as_json:
        print_json(
            {
                "origin": origin,
                "disclosures": disclosures,
                "changes": report.changes,
                "broken_promises": report.broken_promises,
                "overdue": report.overdue,
                "discrepancies": report.discrepancies,
                "context": active_json(active),
                "gpc": gpc_here,
            }
        )
        return
    click.echo(f"Context here: {active.context.name} ({source_words(active, now)}).")
    click.echo(f"Global Privacy Control: {'sent' if gpc_here.sent else 'not sent'}. {gpc_here.why}")
    rows = [
        [
            when(d.disclosed_at),
            titles.get(d.purpose, d.purpose),
            d.context_name + (" (its own identity)" if d.identity else ""),
            "\n".join(f"{k} = {value_words(v)}" for k, v in d.claims.items())
            + "".join(f"\n(withdrawn: {c})" for c in d.withdrawn_claims),
            when(d.acknowledged_keep_until or d.keep_until),
            "yes" if d.acknowledged else "no",
            withdrawal_words(d, when) or "held",
            "\n".join(_recipient_line(r) for r in d.recipients) or "nobody",
        ]
        for d in sorted(disclosures, key=lambda d: d.disclosed_at)
    ]
    print_table(
        ["when", "purpose", "context", "claims", "kept until", "acknowledged", "state", "passed on to"],
        rows,
        f"{origin} holds nothing from you" + ("" if show_all else " now (see --all for history)."),
    )
    for promise in report.broken_promises:
        click.echo(
            f"{when(promise.at)}: BROKEN PROMISE: the site's signed acknowledgement of "
            f"{promise.presentation} "
            f"says it passed your data to {', '.join(promise.recipients)}, which you did not allow."
        )
    for change in report.changes:
        click.echo(f"{when(change.at)}: {_CHANGED[change.field]}: {change.after} (before: {change.before})")
    # Access requests (vault ask): what the site's latest answer showed, and holdings past their retention.
    for line in overdue_lines(report.overdue) + discrepancy_lines(report.discrepancies):
        click.echo(line)


def _recipient_line(holding: RecipientHolding) -> str:
    held = [c for c in holding.claims if c not in holding.withdrawn_claims]
    state = recipient_words(holding, when)
    what = ", ".join(held) if held else "nothing now"
    line = f"{holding.name} (id {holding.id}): " + (
        f"{what} until {when(holding.keep_until)}" if held else what
    )
    if holding.passed_on is False:
        line += " (the site says it did not pass it on)"
    return line + (f" — {state}" if state else "")


_CHANGED = {
    "controller": "now run by",
    "site_key": "changed its signing key",
    "revocation_endpoint": "changed where it receives revocations",
}


@click.command()
@context_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def consents(state: CliState, context_name: str | None, as_json: bool) -> None:
    """Your remembered decisions in one context, per site, purpose, and claim or third party. Decisions
    remembered in one context never answer requests in another."""
    with state.open_vault() as vault:
        context, shown = chosen_context(vault, context_name, state.now())
        decisions = remembered_decisions(vault, context.id)
        others = other_contexts_line(vault, context)
    if as_json:
        # `revoked_at` stays in the output for scripts that read it; a remembered decision has none.
        print_json([msgspec.structs.asdict(d) | {"revoked_at": None} for d in decisions])
        return
    table = [
        [
            d.origin,
            d.purpose_title or d.purpose,
            d.claim if d.claim is not None else f"third party: {d.recipient_name or d.recipient}",
            d.effect,
            when(d.decided_at),
            when(d.expires_at),
        ]
        for d in decisions
    ]
    click.echo(f"Remembered decisions in {shown}:")
    print_table(
        ["site", "purpose", "claim or third party", "decision", "decided", "until"],
        table,
        "None.",
    )
    if others:
        click.echo(others)


@click.group(invoke_without_command=True)
@click.option("--site", "origin", help="Only entries about this site.")
@click.option("--limit", type=click.IntRange(1), help="At most this many entries (the newest).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def ledger(ctx: click.Context, origin: str | None, limit: int | None, as_json: bool) -> None:
    """The tamper-evident record of every disclosure, acknowledgement, decision and revocation."""
    if ctx.invoked_subcommand is not None:
        return
    state: CliState = ctx.obj
    with state.open_vault() as vault:
        entries = list(
            ledger_module.entries(vault, origin=typed_origin(origin) if origin else None, newest=limit)
        )
        names = contexts.names(vault)
        titles = purpose_titles(vault, (e.origin for e in entries))
    if as_json:
        print_json(entries)
        return
    rows = [
        [
            e.seq,
            when(e.at),
            e.kind.replace("_", " "),
            e.origin or "-",
            titles.get((e.origin or "", e.purpose_id or ""), e.purpose_id or "-"),
            _summary(e, names),
        ]
        for e in entries
    ]
    print_table(["#", "when", "what", "site", "purpose", "details"], rows, "The ledger is empty.")


@ledger.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def ledger_verify(state: CliState, as_json: bool) -> None:
    """Check the hash chain. Exit 1 naming the first bad entry if anything was changed or removed."""
    with state.open_vault() as vault:
        result = ledger_module.verify(vault)
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "entries": result.entries,
                "bad_entry": result.bad_seq,
                "problem": result.problem,
            }
        )
    elif result.ok:
        click.echo(f"ledger ok: {count(result.entries, 'entry', 'entries')}, chain intact")
    else:
        click.echo(f"{ERROR}the ledger is BROKEN: {result.problem}", err=True)
    if not result.ok:
        raise click.exceptions.Exit(1)


RULE_HELP = {
    "never": "never share this claim with any site",
    "ask": "always ask about this claim, even when a decision was remembered",
    "deny_concept": "refuse every purpose of this DPV kind, e.g. dpv:TargetedAdvertising",
    "remember": "let a remembered decision cover this sensitive claim (sensitive claims are always asked)",
}


@click.group(invoke_without_command=True)
@context_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def rules(ctx: click.Context, context_name: str | None, as_json: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    state: CliState = ctx.obj
    with state.open_vault() as vault:
        context, shown = chosen_context(vault, context_name, state.now())
        current, days = load_rules(vault, context.id), remember_days(vault)
        others = other_contexts_line(vault, context)
    listed = {
        "never": current.never,
        "ask": current.ask,
        "deny_concept": current.deny_concepts,
        "remember": current.remember,
    }
    if as_json:
        print_json(
            {kind: sorted(targets) for kind, targets in listed.items()}
            | {"remember_days": {"default": days[0], "max": days[1]}}
            | {"context": context.id, "context_name": context.name}
        )
        return
    rows = [[kind, target, RULE_HELP[kind]] for kind, targets in listed.items() for target in sorted(targets)]
    click.echo(f"Rules of {shown}:")
    print_table(["rule", "target", "meaning"], rows, "No rules. Sensitive claims are always asked about.")
    click.echo(f"Remembered decisions last {days[0]} days by default, at most {days[1]}.")
    if others:
        click.echo(others)


rules.help = (
    "The rules of one context, applied on every site where that context is active (see: vault context)."
    "\n\n\b\nKinds:\n"
) + "".join(f"  {kind:<13} {text}\n" for kind, text in RULE_HELP.items())
kind_argument = click.argument("kind", type=click.Choice(RULE_KINDS))


@rules.command("add")
@kind_argument
@click.argument("target")
@context_option
@click.pass_context
def rules_add(ctx: click.Context, kind: str, target: str, context_name: str | None) -> None:
    """Add a rule: KIND is never, ask, deny_concept or remember; TARGET a claim name or a DPV concept."""
    state: CliState = ctx.obj
    with state.open_vault() as vault:
        context, shown = chosen_context(vault, _group_context(ctx, context_name), state.now())
        added = add_rule(vault, kind, target, now=state.now(), context=context.id)
    click.echo(f"rule {kind} {target} " + ("added" if added else "was already there") + f" in {shown}")


@rules.command("remove")
@kind_argument
@click.argument("target")
@context_option
@click.pass_context
def rules_remove(ctx: click.Context, kind: str, target: str, context_name: str | None) -> None:
    """Remove a rule."""
    state: CliState = ctx.obj
    with state.open_vault() as vault:
        context, shown = chosen_context(vault, _group_context(ctx, context_name), state.now())
        removed = remove_rule(vault, kind, target, now=state.now(), context=context.id)
    click.echo(f"rule {kind} {target} " + ("removed" if removed else "was not there") + f" in {shown}")


def _group_context(ctx: click.Context, own: str | None) -> str | None:
    """`vault rules add --context Work …` and `vault rules --context Work add …` both name Work."""
    return own if own is not None or ctx.parent is None else ctx.parent.params.get("context_name")


@rules.command("remember-days")
@click.argument("default", type=click.IntRange(1, 3650))
@click.option("--max", "maximum", type=click.IntRange(1, 3650), help="The longest a site may be remembered.")
@pass_state
def rules_remember_days(state: CliState, default: int, maximum: int | None) -> None:
    """How long "remember" lasts by default (days), and at most."""
    with state.open_vault() as vault:
        set_remember_days(vault, default=default, maximum=maximum or max(default, remember_days(vault)[1]))
    click.echo("saved")


COMMANDS = [sites, site, consents, ledger, rules]
