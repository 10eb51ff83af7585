"""Developer commands: sign a presentation as the vault would, verify one as a site would."""

import secrets
import sys
from pathlib import Path

import click

from vault.cli import ERROR
from vault.cli.context import CliState, pass_state, print_json
from vault.cli.context_words import retention_words
from vault.cli.ledger_words import value_words
from vault.consent.policy import Answer
from vault.consent.prompt_view import PromptView, get_prompt
from vault.consent.service import (
    NotShared,
    PromptNeeded,
    Shared,
    decide_prompt,
    request_presentation,
)
from vault.errors import InvalidInput
from vault.protocol.errors import ManifestInvalid
from vault.protocol.manifest import MAX_MANIFEST_BYTES, Manifest, decode_manifest


def load_manifest(path: Path) -> Manifest:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as e:
        raise InvalidInput(f"cannot read manifest {path}: {e.strerror}") from None
    try:
        return decode_manifest(data)
    except ManifestInvalid as e:
        raise InvalidInput(f"manifest {path} is not valid: {e}") from None


def _claim_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise click.BadParameter("name at least one claim", param_hint="--claims")
    return names


manifest_option = click.option(
    "--manifest",
    "manifest_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The site's manifest (JSON), as served at ORIGIN/.well-known/vault-manifest.json.",
)
audience_option = click.option(
    "--audience", required=True, help="The site's origin, e.g. https://shop.example"
)
nonce_option = click.option("--nonce", required=True, help="The nonce the site made for this request.")


@click.command()
@manifest_option
@click.option("--purpose", "purpose_id", required=True, help="The purpose id in the manifest.")
@audience_option
@nonce_option
@click.option("--claims", help="Comma-separated claim names [default: every claim the purpose declares].")
@click.option(
    "--decide",
    type=click.Choice(["allow", "deny"]),
    help="Answer a consent prompt without asking: allow every claim asked about, or deny.",
)
@click.option("--remember", is_flag=True, help="With --decide allow/deny: remember the answer for this site.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_state
def present(
    state: CliState,
    manifest_path: Path,
    purpose_id: str,
    audience: str,
    nonce: str,
    claims: str | None,
    decide: str | None,
    remember: bool,
    as_json: bool,
) -> None:
    """Sign a presentation from your local vault as the daemon would, with no browser (to test the handshake).

    It goes through your decisions and rules: a remembered decision signs at once; otherwise you are asked on
    the terminal, or --decide answers for you. Prints the compact JWS token (or, with --json, the outcome).
    Exit 1 when nothing was signed (denied), with the reason.
    """
    manifest = load_manifest(manifest_path)
    requested = _claim_list(claims)
    now = state.now()
    with state.open_vault() as vault:
        outcome = request_presentation(
            vault,
            manifest=manifest,
            audience=audience,
            purpose_id=purpose_id,
            nonce=nonce,
            now=now,
            new_id=_new_id,
            requested=requested,
            prompt_view=False,  # read below, once
        )
        if isinstance(outcome, PromptNeeded):
            prompt = get_prompt(vault, outcome.prompt.id, now=now)
            answer = _answer(prompt, decide, remember)
            outcome = decide_prompt(vault, prompt.id, answer, now=now, new_id=_new_id)
    if as_json:
        print_json(outcome)
    match outcome:
        case Shared(token=token, dropped=dropped) if not as_json:
            for name, why in dropped.items():
                click.echo(f"note: {name} left out: {why}", err=True)
            click.echo(token)
        case NotShared(reason=reason, message=message):
            if not as_json:
                click.echo(f"{ERROR}not shared: {message} ({reason})", err=True)
            raise click.exceptions.Exit(1)


def _new_id() -> str:
    return secrets.token_urlsafe(16)


def _answer(prompt: PromptView, decide: str | None, remember: bool) -> Answer:
    asked = frozenset(q.claim for q in prompt.questions)
    if decide is not None:  # `allow` shares every claim asked, with the required third parties only
        return Answer(
            share=decide == "allow", claims=asked if decide == "allow" else frozenset(), remember=remember
        )
    if not sys.stdin.isatty():
        raise InvalidInput(
            "consent is needed and there is no terminal to ask on", "answer with --decide allow|deny"
        )
    click.echo(f"{prompt.controller['name']} ({prompt.origin}) asks for: {prompt.purpose['title']}", err=True)
    click.echo(f"  {prompt.purpose['description']}\n  Benefit to you: {prompt.purpose['benefit']}", err=True)
    click.echo(f"  Kept for {retention_words(prompt.retention)}.", err=True)
    if prompt.context is not None:  # where "remember" keeps the answer; other contexts never see it
        click.echo(f"  Context: {prompt.context.name}", err=True)
    for name, value in prompt.already_allowed.items():
        click.echo(f"  already allowed: {name} = {value_words(value)}", err=True)
    shared = set()
    for q in prompt.questions:
        need = "required" if q.required else "optional"
        question = f"  Share {q.claim} = {value_words(q.value)} ({need}; {q.why})?"
        if click.confirm(question, default=q.required, err=True):
            shared.add(q.claim)
    recipients = set()
    for party in prompt.third_parties:
        what = f"{party.name} ({party.role}, {party.country}) would receive {', '.join(party.claims)}"
        if not party.asked:
            before = {True: "allowed before", False: "refused before"}.get(party.allowed, "not asked about")
            click.echo(f"  {what}: {before}", err=True)
            continue
        need = "required: refusing it is not sharing at all" if party.required else "optional"
        if click.confirm(f"  Let {what}? ({need}; {party.why})", default=party.required, err=True):
            recipients.add(party.id)
    remember = click.confirm("  Remember for this site?", default=False, err=True)
    return Answer(
        share=bool(shared), claims=frozenset(shared), remember=remember, recipients=frozenset(recipients)
    )


def read_token(token: str) -> str:
    """`-` reads the token from stdin, so a token never has to sit in shell history."""
    return sys.stdin.read(64 * 1024).strip() if token == "-" else token.strip()  # noqa: S105


@click.command()
@click.argument("token")
@manifest_option
@audience_option
@nonce_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_state
def verify(
    state: CliState, token: str, manifest_path: Path, audience: str, nonce: str, as_json: bool
) -> None:
    """Verify TOKEN as the site would, against its own manifest (TOKEN `-` reads it from stdin).

    \b
    Exit codes: 0 valid, 1 invalid (the reason is printed), 2 bad usage.
    Replay protection is per run here: a site keeps its replay store across requests.
    """
    from vault.site import InMemoryReplayStore, PresentationInvalid, verify_presentation

    manifest = load_manifest(manifest_path)
    if manifest.origin != audience:
        raise click.UsageError(f"--audience {audience} is not the manifest's origin ({manifest.origin})")
    try:
        verified = verify_presentation(
            read_token(token), manifest=manifest, nonce=nonce, now=state.now(), replay=InMemoryReplayStore()
        )
    except PresentationInvalid as e:
        if as_json:
            print_json({"valid": False, "reason": e.reason.value})
        else:
            click.echo(f"{ERROR}the presentation is invalid: {e.reason.value}", err=True)
        raise click.exceptions.Exit(1) from None
    if as_json:
        print_json(
            {
                "valid": True,
                "subject": verified.subject,
                "jti": verified.jti,
                "purpose": verified.purpose,
                "retention": verified.retention,
                "claims": verified.claims,
                "issued_at": verified.issued_at,
                "expires_at": verified.expires_at,
            }
        )
        return
    title = next((p.title for p in manifest.purposes if p.id == verified.purpose), verified.purpose)
    click.echo(
        f"valid: purpose {title}, kept for {retention_words(verified.retention)}, from {verified.subject}"
    )
    for name, value in verified.claims.items():
        click.echo(f"  {name} = {value_words(value)}")


COMMANDS = [present, verify]
