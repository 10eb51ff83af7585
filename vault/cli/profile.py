"""`vault profile ...`: the attributes your claims are derived from."""

import difflib
import re

import click

from vault.claims.attributes import ATTRIBUTES, CUSTOM_PREFIX
from vault.claims.attributes import lookup as _lookup
from vault.cli.context import CliState, pass_state, print_json, print_table
from vault.errors import InvalidInput


def lookup(name: str):
    """The attribute's spec; a mistyped name gets "did you mean ...?", as a mistyped command does."""
    if name not in ATTRIBUTES and not name.startswith(CUSTOM_PREFIX):
        close = _close_names(name)
        if close:
            raise InvalidInput(
                f"unknown attribute {name!r}",
                f"did you mean {' or '.join(close)}? see `vault profile list --all` for the catalogue",
            )
    return _lookup(name)


def _words(name: str) -> str:
    # "shoe_size" and "sizes.shoe" are the same words in another order.
    return " ".join(sorted(w.removesuffix("s") for w in re.split(r"[^a-z0-9]+", name.lower()) if w))


def _close_names(name: str) -> list[str]:
    by_words = {_words(known): known for known in ATTRIBUTES}
    close = difflib.get_close_matches(name, list(ATTRIBUTES), n=3, cutoff=0.6)
    close += [by_words[w] for w in difflib.get_close_matches(_words(name), list(by_words), n=3, cutoff=0.8)]
    return list(dict.fromkeys(close))[:3]


@click.group()
def profile() -> None:
    """Read and change your profile (the raw attributes; sites only ever get claims derived from them)."""


@profile.command("set")
@click.argument("name")
@click.argument("value")
@pass_state
def set_(state: CliState, name: str, value: str) -> None:
    """Set attribute NAME to VALUE. Lists are comma-separated or a JSON array.

    \b
    Examples:
      vault profile set birthdate 1990-05-17
      vault profile set languages en-GB,nl
      vault profile set custom.favourite_colour teal
    """
    spec = lookup(name)
    # Validate before asking for the passphrase: a typo should not cost an unlock.
    canonical = spec.from_text(value, state.validation_context())
    with state.open_vault() as vault:
        vault.set_attribute(name, canonical, now=state.now())
    click.echo(f"{name} = {spec.to_text(canonical)}")


@profile.command("get")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the value as JSON.")
@pass_state
def get(state: CliState, name: str, as_json: bool) -> None:
    """Print the value of attribute NAME."""
    spec = lookup(name)
    with state.open_vault() as vault:
        value = vault.get_attribute(name)
    if value is None:
        raise InvalidInput(f"{name} is not set", f"set it with: vault profile set {name} VALUE")
    if as_json:
        print_json(value)
    else:
        click.echo(spec.to_text(value))


@profile.command("unset")
@click.argument("name")
@pass_state
def unset(state: CliState, name: str) -> None:
    """Remove attribute NAME from the profile."""
    lookup(name)
    with state.open_vault() as vault:
        removed = vault.unset_attribute(name)
    click.echo(f"{name} removed" if removed else f"{name} was not set")


@profile.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {name: value}.")
@click.option("--all", "show_all", is_flag=True, help="Also list catalogue attributes you have not set.")
@pass_state
def list_(state: CliState, as_json: bool, show_all: bool) -> None:
    """List your attributes."""
    with state.open_vault() as vault:
        values = vault.attributes()
    if as_json:
        print_json(values)
        return
    names = sorted(set(values) | (set(ATTRIBUTES) if show_all else set()))
    rows = [
        [
            name,
            lookup(name).to_text(values[name]) if name in values else "not set",
            lookup(name).sensitivity,
            lookup(name).description,
        ]
        for name in names
    ]
    print_table(
        ["attribute", "value", "sensitivity", "description"],
        rows,
        "Your profile is empty. Add to it with: vault profile set NAME VALUE (see --all for names)",
    )


COMMANDS = [profile]
