"""`vault demo`: a throw-away vault with a sample profile, so a newcomer sees the product in one command."""

import secrets
import shutil
import tempfile
from pathlib import Path

import click

from vault.claims.attributes import lookup
from vault.cli.context import CliState, pass_state, print_json
from vault.store import Vault

SAMPLE_PROFILE = {
    "given_name": "Ada",
    "family_name": "Lovelace",
    "email": "ada@example.org",
    "birthdate": "1990-12-10",
    "country": "NL",
    "region": "Noord-Holland",
    "city": "Amsterdam",
    "postal_code": "1017 CT",
    "languages": "en-GB, nl",
    "interests": "trail running, jazz, board games",
    "sizes.shoe": "39.5",
    "sizes.clothing": "S",
    "diet": "vegetarian",
    "accessibility": "reduced-motion",
}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the demo profile as JSON.")
@click.option("--keep", is_flag=True, help="Keep the demo vault and print where it is (and its passphrase).")
@pass_state
def demo(state: CliState, as_json: bool, keep: bool) -> None:
    """Create a throw-away demo vault with a sample profile and show it. Your own vault is not touched."""
    workdir = Path(tempfile.mkdtemp(prefix="vault-demo-"))
    home, passphrase = workdir / "vault", "demo-" + secrets.token_urlsafe(12)
    try:
        ctx = state.validation_context()
        with Vault.create(home, passphrase, now=state.now()) as vault:
            for name, text in SAMPLE_PROFILE.items():
                vault.set_attribute(name, lookup(name).from_text(text, ctx), now=state.now())
            profile = vault.attributes()
        if as_json:
            print_json({"vault": str(home) if keep else None, "profile": profile})
        else:
            click.echo(f"Demo vault created at {home} (encrypted with SQLCipher 4, key from Argon2id)\n")
            for name, value in profile.items():
                click.echo(f"  {name:<16} {lookup(name).to_text(value)}")
            click.echo(
                "\nSites never see these values: they get only claims derived from them, with your consent."
            )
            if keep:
                env = f"VAULT_HOME={home} VAULT_PASSPHRASE={passphrase}"
                click.echo(f"\nKept. Explore it with:\n  {env} vault profile list")
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


COMMANDS = [demo]
