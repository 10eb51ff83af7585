"""Words, not codes, for people: `vault --help` in sections, internal commands hidden, mistyped attribute
names answered with a suggestion, one way errors begin, yes/no and one date-time format."""

import re

import pytest

from vault.cli.app import HELP_SECTIONS, cli
from vault.cli.ledger_words import value_words


def test_help_lists_every_command_under_its_heading(run_vault) -> None:
    result = run_vault("--help", passphrase=None)
    assert result.code == 0, result.err
    headings = re.findall(r"^(\w+):$", result.out, re.MULTILINE)
    assert headings == ["Options", "Vault", "Profile", "Sharing", "Sites", "Daemon", "Data"]
    assert "Commands:" not in result.out and "Other:" not in result.out
    profile_section = result.out.split("Profile:")[1].split("Sharing:")[0]
    assert re.search(r"^  profile ", profile_section, re.MULTILINE)
    sharing_section = result.out.split("Sharing:")[1].split("Sites:")[0]
    assert re.search(r"^  revoke ", sharing_section, re.MULTILINE)


def test_every_visible_command_has_a_section() -> None:
    sectioned = {name for names in HELP_SECTIONS.values() for name in names}
    visible = {name for name, command in cli.commands.items() if not command.hidden}
    assert visible <= sectioned, visible - sectioned


def test_native_host_is_hidden_but_still_runs(run_vault) -> None:
    listed = run_vault("--help", passphrase=None)
    assert "native-host" not in listed.out
    own_help = run_vault("native-host", "--help", passphrase=None)
    assert own_help.code == 0 and "native messaging host" in own_help.out


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("countr", "country"), ("shoe_size", "sizes.shoe"), ("givenname", "given_name")],
)
def test_a_mistyped_attribute_gets_a_suggestion(run_vault, profile, typed: str, meant: str) -> None:
    result = run_vault("profile", "get", typed)
    assert result.code == 1
    assert result.err.startswith(f"Error: unknown attribute {typed!r} (did you mean {meant}?")


def test_an_unknown_attribute_without_a_close_one_gets_the_catalogue(run_vault, profile) -> None:
    result = run_vault("profile", "set", "zzzzzz", "1")
    assert result.code == 1 and "did you mean" not in result.err
    assert "vault profile list --all" in result.err


def test_errors_begin_the_same_way(run_vault, profile) -> None:
    ours = run_vault("profile", "get", "email")  # a VaultError: not set
    clicks = run_vault("profile", "get")  # a click usage error: missing argument
    mistyped = run_vault("profil", "list")  # a click usage error: no such command
    for result in (ours, clicks, mistyped):
        assert result.code != 0
        assert re.search(r"^Error: ", result.err, re.MULTILINE), result.err


def test_status_shows_when_in_the_one_format(run_vault, profile) -> None:
    result = run_vault("status", passphrase=None)
    created = re.search(r"^Created: +(.*)$", result.out, re.MULTILINE)
    assert created and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", created.group(1)), result.out


@pytest.mark.parametrize(
    ("value", "words"),
    [(True, "yes"), (False, "no"), (None, "—"), (["en-GB", "nl"], "en-GB, nl"), ("NL", "NL"), (39.5, "39.5")],
)
def test_claim_values_in_words(value: object, words: str) -> None:
    assert value_words(value) == words


def test_revoke_and_outbox_say_real_plurals_titles_and_times(run_vault, profile, present) -> None:
    from vault.site import make_nonce

    assert present(make_nonce(), "--decide", "allow", "--remember").code == 0
    revoked = run_vault("revoke", "https://shop.example", "--purpose", "recommendations")
    assert revoked.code == 0, revoked.err
    assert "(s)" not in revoked.out
    assert re.search(
        r"Revoked \d+ standing decisions? for https://shop.example \(purpose Shoe recommendations\)",
        revoked.out,
    ), revoked.out
    assert "Withdrew 1 disclosure in 1 signed notice:" in revoked.out
    assert "(Shoe recommendations, 1 presentation; from the site, stock)" in revoked.out
    listed = run_vault("outbox")
    assert listed.code == 0 and "(s)" not in listed.out and "Shoe recommendations" in listed.out
    assert not re.search(r"\d{4}-\d\d-\d\dT", listed.out), listed.out
