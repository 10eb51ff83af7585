"""Developer commands: sign a presentation as the vault would, verify one as a site would."""

import secrets
import sys
from pathlib import Path

import click

from vault.claims.issuer import issue_from_profile
from vault.cli.context import CliState, pass_state, print_json
from vault.errors import InvalidInput
from vault.protocol.errors import IssueError, ManifestInvalid
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
@click.option("--json", "as_json", is_flag=True, help="Print the token with its claims and times as JSON.")
@pass_state
def present(
    state: CliState,
    manifest_path: Path,
    purpose_id: str,
    audience: str,
    nonce: str,
    claims: str | None,
    as_json: bool,
) -> None:
    """Sign a presentation from your local vault, with no daemon and no prompt (for testing the handshake).

    Prints the compact JWS token. Optional claims whose attribute is not in your profile are left out.
    """
    manifest = load_manifest(manifest_path)
    requested = _claim_list(claims)
    with state.open_vault() as vault:
        attributes = vault.attributes()
        seed, epoch = vault.master_seed(), vault.site_epoch(manifest.origin)
    try:
        issued = issue_from_profile(
            attributes=attributes,
            master_seed=seed,
            epoch=epoch,
            manifest=manifest,
            purpose_id=purpose_id,
            audience=audience,
            nonce=nonce,
            requested=requested,
            now=state.now(),
            jti=secrets.token_urlsafe(16),
        )
    except IssueError as e:
        raise InvalidInput(f"cannot sign this presentation: {e.reason.replace('_', ' ')}") from None
    if as_json:
        print_json(
            {
                "token": issued.token,
                "jti": issued.jti,
                "audience": audience,
                "purpose": purpose_id,
                "claims": issued.claims,
                "issued_at": issued.issued_at,
                "expires_at": issued.expires_at,
                "dropped": list(issued.dropped),
            }
        )
        return
    for name in issued.dropped:
        click.echo(f"note: optional claim {name} left out: your profile does not have it", err=True)
    click.echo(issued.token)


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
            click.echo(f"invalid: {e.reason.value}", err=True)
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
    click.echo(f"valid: purpose {verified.purpose}, retention {verified.retention}, from {verified.subject}")
    for name, value in verified.claims.items():
        click.echo(f"  {name} = {value}")


COMMANDS = [present, verify]
