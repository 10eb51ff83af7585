"""`vault context` and `vault gpc` through the real command, on a real vault file: words for people,
JSON for scripts, and every bad input refused in words with nothing changed."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import FAST_KDF, PASSPHRASE
from vault.cli.context_words import parse_duration, until_words
from vault.consent import contexts
from vault.errors import InvalidInput
from vault.site import make_nonce
from vault.store import Vault

SHOP = "https://shop.example"


@pytest.fixture
def fresh(vault_home: Path) -> None:
    """A new vault, made in-process (the command's own `init` is tested elsewhere)."""
    Vault.create(vault_home, PASSPHRASE, now=int(time.time()), kdf=FAST_KDF).close()


def as_json(run_vault, *args: str):
    result = run_vault(*args, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_add_use_end_rename_set_rm(run_vault, fresh) -> None:
    listed = as_json(run_vault, "context", "list")
    assert [(c["id"], c["name"], c["active"]) for c in listed["contexts"]] == [("everyday", "Everyday", True)]
    assert listed["active"]["source"] == "default" and listed["timed"] is None and listed["sites"] == []

    work = as_json(run_vault, "context", "add", "Work", "--copy-from", "everyday", "--separate-identity")
    assert work["name"] == "Work" and work["separate_identity"] is True and work["gpc"] is True
    assert work["id"].startswith("c-")
    # The copy starts with Everyday's rules (a fresh vault refuses what GPC speaks for).
    assert as_json(run_vault, "rules", "--context", "work")["deny_concept"] == [
        "dpv:SellDataToThirdParties",
        "dpv:TargetedAdvertising",
    ]
    added = run_vault("context", "add", "Family", "--no-gpc")
    assert added.code == 0, added.err
    assert added.out.startswith(
        "Added the context Family: no rules and no remembered decisions yet; the shared identity; "
        "never Global Privacy Control.\n"
    )

    assert run_vault("context", "use", "work").out == "Work is active for the whole browser.\n"
    used = run_vault("context", "use", "FAMILY", "--site", SHOP + "/")
    assert used.out == f"Family is active on {SHOP}.\n"
    before = int(time.time())
    timed = as_json(run_vault, "context", "use", "family", "--for", "1h")
    assert timed["name"] == "Family" and timed["source"] == "timed" and timed["then"] == "Work"
    assert before + 3600 <= timed["until"] <= int(time.time()) + 3600
    words = run_vault("context").out  # without a command: the list
    end = until_words(timed["until"], int(time.time()))
    assert f"Active for the whole browser: Family, {end}; then Work comes back." in words
    assert f"1 site has a context of its own:\n  {SHOP}: Family\n" in words
    assert "Work      c-" in words and "yes" in words  # Work keeps its own identity

    listed = as_json(run_vault, "context", "list")
    assert listed["timed"]["name"] == "Family" and listed["chosen"]["name"] == "Work"
    # Contexts made in the same second are listed by name: find Family by its name, not its place.
    family = next(c["id"] for c in listed["contexts"] if c["name"] == "Family")
    assert listed["sites"] == [
        {
            "origin": SHOP,
            "context": family,
            "name": "Family",
            "source": "site",
            "until": None,
        }
    ]

    ended = run_vault("context", "end")
    assert ended.out == "Ended Family for the whole browser; Work is active for the whole browser now.\n"
    again = run_vault("context", "end")
    assert again.code == 0 and again.out.startswith("Nothing to end: no context was switched on for a while.")
    site_end = as_json(run_vault, "context", "end", "--site", SHOP)
    assert site_end["ended"] is True and site_end["active"]["name"] == "Work"

    assert run_vault("context", "rename", "family", "Household").out == (
        "Renamed the context Family to Household.\n"
    )
    changed = as_json(run_vault, "context", "set", "household", "--separate-identity", "--gpc")
    assert changed["separate_identity"] is True and changed["gpc"] is True
    assert run_vault("context", "set", "household", "--gpc").out.startswith("Nothing to change: Household")

    run_vault("context", "use", "household", "--site", SHOP)
    assert run_vault("rules", "add", "ask", "email", "--context", "household").code == 0
    removed = run_vault("context", "rm", "household", "--yes")
    assert removed.code == 0, removed.err
    assert (
        "Removed the context Household: its rules and remembered decisions are forgotten (one rule and no "
        "remembered decisions); what was shared in it stays in the ledger" in removed.out
    )
    assert "1 site had it as its own context; Work answers there now." in removed.out
    assert [c["name"] for c in as_json(run_vault, "context", "list")["contexts"]] == ["Everyday", "Work"]

    ledger = run_vault("ledger").out
    for line in (
        "Added the context Work (a copy of Everyday, its own identity)",
        "Added the context Family (the shared identity, GPC off)",
        "Renamed the context Family to Household",
        "Changed the context Household: its own identity, GPC on",
        "Removed the context Household",
    ):
        assert line in ledger
    # Switching is not recorded: the ledger must not become a browsing history.
    assert [e["body"]["action"] for e in as_json(run_vault, "ledger")] == [
        "added",
        "added",
        "renamed",
        "changed",
        "rule_added",
        "removed",
    ]


def test_a_timed_choice_ends_by_itself(run_vault, vault_home: Path) -> None:
    """The CLI's clock is the real one: a choice made an hour ago for an hour has ended; one made a
    minute ago for two is still in force, and shows its end."""
    now = int(time.time())
    with Vault.create(vault_home, PASSPHRASE, now=now, kdf=FAST_KDF) as vault:
        contexts.add_context(vault, "Urgent", now=now, new_id=contexts.new_context_id("u"))
        contexts.use_context(vault, "urgent", now=now - 3600, seconds=3600)
        contexts.use_context(vault, "urgent", now=now - 60, seconds=120, origin=SHOP)
    listed = as_json(run_vault, "context", "list")
    assert listed["active"] == {"context": "everyday", "name": "Everyday", "source": "default", "until": None}
    assert listed["timed"] is None
    [site] = listed["sites"]
    assert site["name"] == "Urgent" and site["until"] == now + 60
    words = run_vault("context", "list").out
    assert "Active for the whole browser: Everyday.\n" in words
    assert f"  {SHOP}: Urgent, {until_words(now + 60, int(time.time()))}\n" in words
    assert "Context here: Urgent (this site's own, until" in run_vault("site", SHOP).out
    # The ended one is not in force, so ending it ends nothing; the site's still is.
    assert run_vault("context", "end").out.startswith(
        "Nothing to end: no context was switched on for a while."
    )
    assert run_vault("context", "end", "--site", SHOP).out == (
        f"Ended Urgent on {SHOP}; Everyday is active on {SHOP} now.\n"
    )


def test_bad_input_is_refused_in_words_and_changes_nothing(run_vault, fresh) -> None:
    assert run_vault("context", "add", "Work").code == 0
    run_vault("context", "use", "work", "--site", SHOP)
    state = (as_json(run_vault, "context", "list"), as_json(run_vault, "ledger"), as_json(run_vault, "gpc"))
    for args, words in (
        (("context", "use", "nope"), "there is no context called 'nope' (contexts: Everyday, Work)"),
        (("context", "add", "everyday"), "there is already a context called 'Everyday'"),
        (("context", "add", " "), "a context's name is 1 to 40 characters on one line"),
        (("context", "add", "x" * 41), "a context's name is 1 to 40 characters"),
        (("context", "add", "Tab\there"), "on one line"),
        (("context", "add", "New", "--copy-from", "nope"), "there is no context called 'nope'"),
        (("context", "rename", "work", "EVERYDAY"), "there is already a context called 'Everyday'"),
        (("context", "rename", "nope", "x"), "there is no context called 'nope'"),
        (("context", "use", "work", "--for", "5s"), "'5s' is not a duration (write minutes, hours or days"),
        (("context", "use", "work", "--for", "soon"), "'soon' is not a duration"),
        (("context", "use", "work", "--for", "0m"), "1 minute to 30 days, not 0 seconds"),
        (("context", "use", "work", "--for", "31d"), "1 minute to 30 days, not 31 days"),
        (("context", "use", "work", "--site", "shop.example"), "'shop.example' is not a site origin"),
        (("context", "end", "--site", "https://shop.example/path"), "is not a site origin"),
        (("context", "set", "work"), "say what to change"),
        (("context", "set", "nope", "--gpc"), "there is no context called 'nope'"),
        (("context", "rm", "everyday", "--yes"), "'Everyday' is the context every other one falls back to"),
        (("context", "rm", "everyday"), "'Everyday' is the context every other one falls back to"),
        (("context", "rm", "nope", "--yes"), "there is no context called 'nope'"),
        (
            ("context", "rm", "work"),
            "refusing to remove a context without confirmation (add --yes to confirm)",
        ),
        (("gpc", "off", "shop.example"), "'shop.example' is not a site origin"),
        (("gpc", "off"), "say which site to turn Global Privacy Control off for"),
        (("gpc", "maybe", SHOP), "'maybe' is not status, on or off"),
        (("gpc", "on", SHOP, "extra"), "too many words"),
        (("rules", "--context", "nope"), "there is no context called 'nope'"),
        (("rules", "add", "never", "sizes.shoe", "--context", "nope"), "there is no context called 'nope'"),
        (("consents", "--context", "nope"), "there is no context called 'nope'"),
    ):
        result = run_vault(*args)
        assert result.code == 1, (args, result.out, result.err)
        assert result.err.startswith("Error: ") and words in result.err, (args, result.err)
        assert result.out == "", args
    assert run_vault("context", "use").code == 2  # click's usage error: the name is missing
    after = (as_json(run_vault, "context", "list"), as_json(run_vault, "ledger"), as_json(run_vault, "gpc"))
    assert after == state


def test_gpc_default_and_per_site(run_vault, fresh) -> None:
    shown = as_json(run_vault, "gpc")
    assert shown["default"]["sent"] is True and shown["sites"] == []
    assert shown["default"]["why"] == (
        "Sent: the rules of Everyday refuse selling your data and targeted advertising."
    )
    off = run_vault("gpc", "off", "https://news.example/")
    assert off.out == (
        "Global Privacy Control on https://news.example: not sent (context Everyday).\n"
        "Not sent: you turned it off for this site.\n"
        "Send it there again with: vault gpc on https://news.example\n"
    )
    site = as_json(run_vault, "gpc", "https://news.example")
    assert (site["sent"], site["site_switch"], site["context_name"]) == (False, False, "Everyday")
    assert [(s["origin"], s["sent"]) for s in as_json(run_vault, "gpc")["sites"]] == [
        ("https://news.example", False)
    ]
    listed = run_vault("gpc").out
    assert (
        "Global Privacy Control on sites without a setting of their own: sent (context Everyday)." in listed
    )
    assert "https://news.example  not sent" in listed
    assert "Global Privacy Control: not sent. Not sent: you turned it off for this site." in (
        run_vault("site", "https://news.example").out
    )
    assert as_json(run_vault, "gpc", "on", "https://news.example")["sent"] is True
    assert as_json(run_vault, "gpc", "status", "https://news.example")["site_switch"] is True

    # Per context: off in Everyday, on in a copy of it used on one site.
    run_vault("context", "set", "everyday", "--no-gpc")
    run_vault("context", "add", "Work", "--copy-from", "everyday")
    assert as_json(run_vault, "context", "set", "work", "--gpc")["gpc"] is True
    run_vault("context", "use", "work", "--site", SHOP)
    shown = as_json(run_vault, "gpc")
    assert shown["default"]["sent"] is False
    assert shown["default"]["why"] == "Not sent: you turned it off in the context Everyday."
    assert [(s["origin"], s["sent"], s["context_name"]) for s in shown["sites"]] == [(SHOP, True, "Work")]
    words = run_vault("site", SHOP).out
    assert "Context here: Work (this site's own)." in words
    assert "Global Privacy Control: sent. Sent: the rules of Work refuse" in words
    assert as_json(run_vault, "site", SHOP)["context"]["name"] == "Work"


def test_rules_and_consents_of_a_context(run_vault, fresh) -> None:
    run_vault("context", "add", "Work")
    added = run_vault("rules", "--context", "work", "add", "never", "sizes.shoe")
    assert added.out == "rule never sizes.shoe added in Work\n"
    assert as_json(run_vault, "rules")["never"] == []  # Everyday is the browser's context
    assert as_json(run_vault, "rules", "--context", "WORK")["never"] == ["sizes.shoe"]
    assert "Rules of Everyday (active for the whole browser now):" in run_vault("rules").out
    run_vault("context", "use", "work")
    listed = as_json(run_vault, "rules")
    assert (listed["context_name"], listed["never"], listed["deny_concept"]) == ("Work", ["sizes.shoe"], [])
    assert "Rules of Work (active for the whole browser now):" in run_vault("rules").out
    assert run_vault("rules", "remove", "never", "sizes.shoe").out == (
        "rule never sizes.shoe removed in Work (active for the whole browser now)\n"
    )
    assert as_json(run_vault, "consents", "--context", "everyday") == []
    assert (
        run_vault("consents").out
        == "Remembered decisions in Work (active for the whole browser now):\nNone.\n"
        "Other contexts: Everyday (see --context NAME).\n"
    )


def test_what_is_shared_in_a_context_says_so(run_vault, profile, present) -> None:
    """A site with a context of its own: what is shared there is remembered, shown and recorded in it."""
    run_vault("context", "add", "Work", "--separate-identity")
    run_vault("context", "use", "work", "--site", SHOP)
    shared = present(make_nonce(), "--decide", "allow", "--remember")
    assert shared.code == 0, shared.err
    [disclosure] = as_json(run_vault, "site", SHOP)["disclosures"]
    assert disclosure["context_name"] == "Work" and disclosure["identity"] is not None
    words = run_vault("site", SHOP).out
    assert "Context here: Work (this site's own)." in words and "Work (its own identity)" in words
    assert "may pass on to stock (in Work)" in run_vault("ledger").out
    assert as_json(run_vault, "consents") == []  # Everyday's: none
    decisions = as_json(run_vault, "consents", "--context", "work")
    assert ("sizes.shoe", "allow", "Work") in {
        (d["claim"], d["effect"], d["context_name"]) for d in decisions
    }


@pytest.mark.parametrize(
    ("typed", "seconds"),
    [
        ("30m", 1800),
        ("1h", 3600),
        ("2d", 172800),
        ("1h30m", 5400),
        ("2 hours", 7200),
        ("1m", 60),
        ("30d", 2592000),
    ],
)
def test_durations_people_type(typed: str, seconds: int) -> None:
    assert parse_duration(typed) == seconds


@pytest.mark.parametrize("typed", ["", "h", "5", "5s", "59s", "1 h x", "x1h", "-1h", "30d1m", "1.5h", "1w"])
def test_durations_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_duration(typed)


def test_until_in_words() -> None:
    now = int(dt.datetime(2026, 12, 1, 9, 0).timestamp())  # a Tuesday, local time
    assert until_words(now + 5 * 3600 + 30 * 60, now) == "until 14:30 today"
    assert until_words(now + 86400, now) == "until 09:00 tomorrow"
    assert until_words(now + 3 * 86400, now) == "until 09:00 on Friday"
    assert until_words(now + 10 * 86400, now) == "until 2026-12-11 09:00"


def _on_a_terminal(vault_home: Path, tmp_path: Path, answer: str, *args: str) -> subprocess.CompletedProcess:
    """Runs `vault` with a terminal as its stdin (a pseudo-terminal), answering its question."""
    controller, terminal = os.openpty()
    try:
        os.write(controller, answer.encode() + b"\n")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        environment |= {"VAULT_HOME": str(vault_home), "VAULT_PASSPHRASE": PASSPHRASE, "HOME": str(tmp_path)}
        return subprocess.run(
            [sys.executable, "-m", "vault", *args],
            stdin=terminal,
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
        )
    finally:
        os.close(terminal)
        os.close(controller)


def test_rm_asks_on_a_terminal(run_vault, fresh, vault_home: Path, tmp_path: Path) -> None:
    run_vault("context", "add", "Work")
    run_vault("rules", "add", "never", "sizes.shoe", "--context", "work")
    refused = _on_a_terminal(vault_home, tmp_path, "n", "context", "rm", "work")
    assert refused.returncode == 1 and "aborted; nothing was changed" in refused.stderr
    assert (
        "Remove the context Work? Its one rule and no remembered decisions are forgotten; what was shared in "
        "it stays in the ledger [y/N]" in refused.stdout
    )
    assert [c["name"] for c in as_json(run_vault, "context", "list")["contexts"]] == ["Everyday", "Work"]
    agreed = _on_a_terminal(vault_home, tmp_path, "y", "context", "rm", "work")
    assert agreed.returncode == 0, agreed.stderr
    assert "Removed the context Work" in agreed.stdout
    assert [c["name"] for c in as_json(run_vault, "context", "list")["contexts"]] == ["Everyday"]
