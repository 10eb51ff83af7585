"""`vault demo`: the whole product in one command, on a throw-away vault.

It creates a demo vault with a sample profile, starts the daemon on it and the demo shop beside it (with
its analytics partner, a separate process), installs the native host for a fresh browser profile and
pairs the demo client automatically. Then, with a display, it opens Chromium with the extension on the
shop; without one (or with --no-browser, --json, or CI=true) it drives the same handshake through a real
native host process, reads the shop's messages, accepts its proposal through the prompt, asks the shop what
it holds, withdraws from the analytics partner alone, revokes, shows Global Privacy Control on the shop and
a context with its own identity (vault.demo.standing), and prints what happened.
Everything is stopped and removed at the end (unless --keep), also on Ctrl-C and on errors.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vault.claims.attributes import lookup
from vault.cli.context import CliState, pass_state, print_json, when
from vault.demo.chromium import EXTENSION_DIR, find_chromium
from vault.demo.environment import DemoEnvironment
from vault.demo.handshake import NativeHost, ShopClient, run_handshake
from vault.demo.pages import claim_value, retention_words
from vault.demo.relationship import CARELESS, overstay
from vault.demo.shop import GPC_PATH
from vault.words import count


def _browser(progress) -> tuple[str, Path] | None:
    """(chromium, extension dir) when a browser can be shown here, else None (saying why if it matters)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    chromium = shutil.which("chromium") or find_chromium()
    if chromium is None:
        progress("no Chromium found (Debian: apt install chromium): running without a browser")
        return None
    if not (EXTENSION_DIR / "manifest.json").is_file():
        progress(f"no extension in {EXTENSION_DIR}: running without a browser")
        return None
    return chromium, EXTENSION_DIR


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up exactly as Ctrl-C does


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Run without a browser; print one JSON object.")
@click.option(
    "--keep", is_flag=True, help="Keep the demo directory (vault, logs) and print how to explore it."
)
@click.option(
    "--no-browser", is_flag=True, help="Drive the handshake without a browser, even with a display."
)
@pass_state
def demo(state: CliState, as_json: bool, keep: bool, no_browser: bool) -> None:
    """Try the whole flow on a throw-away vault: daemon, demo shop and its analytics partner, consent,
    acknowledgement, the shop's messages (a change notice, a proposal accepted through the prompt), asking
    what it holds, withdrawal from the partner alone, revocation, Global Privacy Control, a context with
    its own identity.

    Your own vault is not touched. With a display, Chromium opens on the demo shop with the extension
    (the demo pairs it for you); close the browser or press Ctrl-C to end. Without one, the same
    handshake runs through a real native host and a summary is printed.
    """
    started = time.monotonic()

    def progress(message: str) -> None:
        click.echo(f"vault demo [{time.monotonic() - started:5.1f}s] {message}", err=True)

    browser = None if no_browser or as_json else _browser(progress)
    previous = signal.signal(signal.SIGTERM, _interrupted)
    env: DemoEnvironment | None = None
    try:
        try:
            env = DemoEnvironment(progress, keep=keep)
            summary = _run(env, state, browser, progress)
        finally:
            if env is not None:
                env.close()
    except KeyboardInterrupt:
        if env is not None:
            env.close()  # again: the interrupt may have come while closing
        kept = f"; kept {env.workdir}" if keep and env is not None else " and removed it"
        progress(f"interrupted: stopped everything{kept}")
        raise click.exceptions.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    seconds = round(time.monotonic() - started, 2)
    progress(f"stopped everything; kept {env.workdir}" if keep else "stopped everything and removed it")
    summary |= {"vault": str(env.home) if keep else None, "workdir": str(env.workdir), "kept": keep}
    summary["seconds"] = seconds
    if as_json:
        print_json(summary)
        return
    if browser is None:
        _print_summary(summary)
    else:
        click.echo(
            f"The shop held {count(summary['held_at_exit'], 'presentation')}, and its analytics partner "
            f"{count(summary['partner_held_at_exit'], 'record')}, when the browser closed."
        )
    if keep:
        explore = f"VAULT_HOME={env.home} VAULT_PASSPHRASE={env.passphrase} vault"
        click.echo(
            f"\nKept in {env.workdir}. Explore the demo vault with:\n"
            f"  {explore} ledger\n  {explore} site {summary['shop']}"
        )
    click.echo(f"\nDone in {seconds:.1f} s.")


def _run(
    env: DemoEnvironment, state: CliState, browser: tuple[str, Path] | None, progress: Callable[[str], None]
) -> dict[str, Any]:
    profile = env.make_vault(state.now(), state.validation_context())
    env.start_daemon()
    partner = env.start_partner()
    shop = env.start_shop()
    installed = env.install_native_host()
    summary: dict[str, Any] = {"profile": profile, "shop": shop.url, "partner_url": partner.url}
    summary["partner_pid"] = partner.proc.pid if partner.proc else None
    summary["daemon_pid"] = env.daemon.pid if env.daemon else None
    if browser is not None:
        env.approve_pairings_automatically()
        chromium = env.open_browser(*browser, shop.url)
        click.echo(
            f"Demo Shoes is open at {shop.url} in a fresh Chromium profile with the extension;\n"
            f"what the shop holds about you is at {shop.url}/held. Its analytics partner, Demo Analytics,\n"
            f"runs apart at {partner.url}: switch it on in the prompt and it gets your shoe size; withdraw\n"
            "from it alone in the extension's popup and it erases it. Once you shared, the shop writes\n"
            "to you: its messages are in the popup, where you can accept its proposal and ask what it holds\n"
            "about you. Your vault's rules refuse selling your data, so the extension sends Global Privacy\n"
            "Control, and the shop's page says it received it. The demo vault is throw-away, so the\n"
            "extension is paired for you. Close the browser, or press Ctrl-C here, to end the demo;\n"
            "everything is then stopped and removed."
        )
        if chromium.wait() != 0:
            progress(f"Chromium exited with code {chromium.returncode}: {env.log_tail('chromium.log')}")
        summary["held_at_exit"] = len(shop.shop.held.current(state.now()))
        try:
            summary["partner_held_at_exit"] = len(partner.held())
        except OSError as error:  # it stopped meanwhile: say so rather than guess
            progress(f"the analytics partner did not answer ({error}): {env.log_tail('partner.log')}")
            summary["partner_held_at_exit"] = "an unknown number of"
        return summary
    client = secrets.token_urlsafe(32)  # what the extension keeps as its pairing token
    host = NativeHost(env.spawn, installed.launcher, env.workdir / "native-host.log", client=client)
    summary["native_host_pid"] = host.proc.pid
    try:
        return summary | run_handshake(
            host, ShopClient(shop.url), shop.url, approve=env.approve, progress=progress,
            partner_held=partner.held, careless=lambda seconds: overstay(shop.shop, seconds),
        )  # fmt: skip
    finally:
        host.close()


def _print_summary(s: dict[str, Any]) -> None:
    echo = click.echo
    echo("A throw-away demo vault holds this sample profile (encrypted; sites never see these values):")
    for name, value in s["profile"].items():
        echo(f"  {name:<16} {lookup(name).to_text(value)}")
    asked = s["asked"]
    echo(
        f"\n1. Demo Shoes ({s['shop']}) asks for {asked['title']!r}, "
        f"kept {retention_words(asked['retention'])}"
    )
    for third in asked["third_parties"]:
        when_allowed = "always" if third["required"] else "only if you allow it"
        gets = ", ".join(third["claims"])
        echo(f"   also received by {third['name']} ({third['country']}, {when_allowed}): {gets}")
        echo(f"     {third['why']}")
    for claim in asked["claims"]:
        echo(f"     {claim['name']:<18} {'required' if claim['required'] else 'optional':<9} {claim['why']}")
    echo("\n2. The vault asks you first, showing the exact values it would send:")
    for q in s["prompt"]["questions"]:
        echo(f"     {q['claim']:<18} {claim_value(q['value'])}")
    for third in s["third_parties"]:
        echo(f"     {third['name']}, if you switch it on: {', '.join(third['claims'])} (starts off)")
    withheld = ", ".join(s["withheld"]) or "nothing"
    allowed = ", ".join(t["name"] for t in s["third_parties"] if t["id"] in s["decision"]["recipients"])
    echo(f"   Answered (as the extension's popup would): share all but {withheld},")
    echo(f"   switch on {allowed or 'nobody'}, and remember.")
    shared = "; ".join(f"{k} = {claim_value(v)}" for k, v in s["shared"].items())
    echo(f"\n3. Shared: one signed presentation for this shop only: {shared}")
    verified = s["verified"]
    echo(f"\n4. The shop verified it (visitor …{verified['subject'][-12:]}) and personalised from it alone:")
    for use in s["personalised"]["used"]:
        echo(f"     {use['claim']:<18} {claim_value(use['value'])}: {use['effect']}")
    first = s["personalised"]["first"]
    echo(f"   First on the page: {first['name']} ({'; '.join(first['why'])})")
    for hidden in s["personalised"]["hidden"]:
        echo(f"   Not shown: {hidden['name']} ({hidden['why']})")
    for third in s["third_parties"]:
        if third["id"] in verified["passed_to"]:
            got = ", ".join(c for c in third["claims"] if c in verified["claims"])
            echo(f"   It passed {third['name']} what you allowed it ({got}), and nothing to anyone else.")
    stored = s["acknowledgement"]["stored"]
    echo(
        "\n5. The shop's signed acknowledgement is stored in the vault: it keeps "
        f"{', '.join(stored['claims'])} until {when(stored['keep_until'])} at most."
    )
    second = s["second"]
    how = "after a prompt" if second["prompted"] else "without a prompt (the decision was remembered)"
    echo(f"\n6. Next visit: {second['outcome']} {how}, verified and acknowledged again.")
    _print_inbox(s)
    _print_accepted(s)
    echo(f"\n9. Asked Demo Shoes what it holds (as `vault ask {s['shop']}` does): its signed statement lists")
    _print_statement(s["access"])
    if s.get("careless"):
        days = CARELESS // 86400
        echo(
            f"\n10. To make the point, the shop's records are made to keep everything {days} days longer\n"
            "   than it promised (as a careless shop might). Asked again, its signed statement lists"
        )
        _print_statement(s["careless"])
        echo(
            "   Each one is in the vault's ledger (and would be in `vault report`); the records are put back."
        )
    _print_partner_withdrawal(s)
    r = s["revocation"]
    state = "delivered" if r["delivered"] else "NOT delivered"
    erased = "erased" if r["erased"] else "did not erase"
    echo(
        f"\n12. Revoked with erasure: {count(r['withdrawn'], 'presentation')} withdrawn. The daemon {state} "
        f"the signed notice;\n   the shop says it {erased} them; it now holds "
        f"{count(r['held_after'], 'presentation')} (it held {r['held_before']}); the partner holds "
        f"{r['partner_held_after']}."
    )
    if r["vault_report"] and all(d["withdrawal_acknowledged"] for d in r["vault_report"]):
        echo("   The vault's ledger keeps the notice and the shop's signed answer beside each disclosure.")
    echo("   Asked again what it holds: its signed statement lists")
    _print_statement(r["access"])
    ledger = s["ledger"]
    echo(f"   The ledger verifies: {ledger['entries']} entries, hash chain intact." if ledger["ok"] else
         f"   The ledger does NOT verify: {ledger['problem']}")  # fmt: skip
    _print_standing(s)


def _print_standing(s: dict[str, Any]) -> None:
    echo, gpc, context = click.echo, s["gpc"], s["context"]
    sent = "sends" if gpc["sent"] else "does not send"
    echo()
    said = f"Global Privacy Control: the extension {sent} Sec-GPC: 1 to the shop. {gpc['why']}"
    _wrapped(said, "   ", "13. ")
    _wrapped(f"The shop's page says: {gpc['page_says']}", "     ", "   ")
    if gpc["declared"]:
        echo(f"   Its {GPC_PATH} declares gpc={str(gpc['declared'].get('gpc')).lower()}.")
    prompt = f" (Context: {context['prompt_context']})" if context["prompt_context"] else ""
    _wrapped(
        f"A context, {context['context']['name']!r}: a copy of Everyday with its own identity, chosen "
        f"for the shop alone. The shop's next request brought a prompt{prompt}; the required claims were "
        f"shared once, and the shop saw visitor …{context['subject'][-12:]}, not "
        f"…{s['verified']['subject'][-12:]}: it cannot link the two.",
        "   ",
    )


def _print_partner_withdrawal(s: dict[str, Any]) -> None:
    echo, p = click.echo, s["partner"]
    name = next((t["name"] for t in s["third_parties"] if t["id"] == p["request"]["third_party"]), "")
    state = "delivered" if all(n["delivered_at"] for n in p["notices"]) else "NOT delivered"
    values = dict.fromkeys(f"{k} = {claim_value(v)}" for c in p["held_before"] for k, v in c.items())
    echo(
        f"\n11. Withdrawn from {name} alone, with erasure ({count(p['withdrawn'], 'presentation')}). "
        f"The daemon {state}\n   the signed notice to the shop, and the shop forwarded it to its partner."
    )
    before, after = len(p["held_before"]), len(p["held_after"])
    held = ", ".join(values) or "nothing"
    echo(f"   {name} held {count(before, 'record')} ({held}); now it holds {after}.")
    kept = len(p["shop_after"])
    same = "with every claim it had" if p["shop_after"] == p["shop_before"] else "NOT as it had them"
    own = count(kept, "presentation")
    echo(f"   The shop still holds its own {own}, {same}: it was not asked to erase them.")
    for answer in p["signed_answers"]:
        for told in answer["recipients"]:
            outcome = told["outcome"].replace("_", " ")
            said = f"{told['id']} {outcome} on {when(told['at'])}"
            echo(f"   The shop's signed answer, now in the vault's ledger: {said};")
        echo(f"   the shop itself {'erased' if answer['erased'] else 'kept'} its own copy.")


def _wrapped(text: str, indent: str, first: str | None = None) -> None:
    for paragraph in text.splitlines():
        start, first = first or indent, None
        click.echo(textwrap.fill(paragraph, 106, initial_indent=start, subsequent_indent=indent))


def _print_inbox(s: dict[str, Any]) -> None:
    echo, inbox = click.echo, s["inbox"]
    how = {
        "acknowledgement": "with its acknowledgement",
        "page": "through its page",
        "statement": "with a statement",
    }
    echo(
        f"\n7. The vault's inbox holds {count(len(inbox['messages']), 'message')} signed by Demo Shoes "
        f"({inbox['unread']} unread), shown as plain text:"
    )
    for m in inbox["messages"]:
        effective = f", from {_day(m['effective_at'])}" if m.get("effective_at") else ""
        echo(f"   - {m['kind']} ({how.get(m['via'], m['via'])}{effective}): {m['title']}")
        _wrapped(m["body"], "       ")
        if m["kind"] == "proposal":
            echo(f"       Offers {m['purpose_title'] or m['purpose']!r}; Accept opens {m['url']}")
    echo("   The page that handed over the proposal learns nothing of it: not whether it was kept, nor read.")


def _print_accepted(s: dict[str, Any]) -> None:
    echo, p = click.echo, s["proposal"]
    prompt = p["prompt"]
    echo(
        f"\n8. Accepted the proposal: the vault shared nothing, it opened {p['accepted']['url']}.\n"
        f"   That page asked for {prompt['purpose']!r} (kept {retention_words(prompt['retention'])}),\n"
        "   and the vault asked you first, as always:"
    )
    for q in prompt["questions"]:
        echo(f"     {q['claim']:<18} {claim_value(q['value'])}")
    shared = "; ".join(f"{k} = {claim_value(v)}" for k, v in p["shared"].items())
    echo(f"   Answered: share ({shared}).\n   The shop verified it, acknowledged it, and suggests:")
    for product in p["suggested"]:
        echo(f"     {product['name']} ({'; '.join(product['why'])})")


def _print_statement(view: dict[str, Any]) -> None:
    echo = click.echo
    if not view["holdings"]:
        echo("     nothing: it holds nothing about you.")
    for h in view["holdings"]:
        values = h.get("values") or {}
        claims = ", ".join(f"{c} = {claim_value(values[c])}" if c in values else c for c in h["claims"])
        echo(f"     {h['purpose_title'] or h['purpose']}: {claims}")
        passed = ", ".join(h["recipients"]) or "nobody"
        echo(
            f"       since {_day(h['since'])}, until {_day(h['until'])}; passed to {passed}; "
            f"{count(len(h['presentations']), 'presentation')}"
        )
    if not view["discrepancies"]:
        echo("   Compared with the vault's ledger: no discrepancies.")
        return
    found = len(view["discrepancies"])
    echo(f"   Compared with the vault's ledger: {found} discrepanc{'y' if found == 1 else 'ies'}:")
    for d in view["discrepancies"]:
        _wrapped(d["text"], "       ", "     - ")


def _day(timestamp: int) -> str:
    return time.strftime("%-d %B %Y", time.gmtime(timestamp))


COMMANDS = [demo]
