"""`vault inbox`, `vault mute`, `vault unmute` through the real command, on a real vault file that the
example shop was shared with and that received its signed messages."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from tests.cli.conftest import ORIGIN
from tests.consent.test_inbox import message, share
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent.inbox import receive
from vault.store import Vault


def local(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def received(vault_home: Path) -> dict[str, int]:
    """A breach notice (older) and a proposal (newer) from the shop; returns their jtis' receipt times."""
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        vault.set_attribute("birthdate", "1990-05-17", now=NOW)
        vault.set_attribute("country", "NL", now=NOW)
        _, verified = share(vault)
        now = int(time.time())
        times = {}
        for at, kind in ((now - 60, "breach"), (now - 30, "proposal")):
            kept = receive(vault, ORIGIN, message(verified.subject, kind, now=at), via="page", now=at)
            times[kept.jti] = at
    return times


def test_inbox_lists_unread_messages_in_words(run_vault, received: dict[str, int]) -> None:
    result = run_vault("inbox")
    assert result.code == 0, result.err
    out = result.out
    assert out.index("Proposal from https://shop.example") < out.index(
        "Breach notice from https://shop.example"
    )
    assert "(unread)" in out and "A proposal from the shop" in out
    assert "    Line one.\n    Line two." in out  # the body as sent, line by line
    assert "Link: https://shop.example/offers/newsletter (goes to https://shop.example)" in out
    assert "accepting here shares nothing" in out
    assert "Purpose: a purpose the site has not declared yet (newsletter)" in out
    for jti, at in received.items():
        assert f"Id: {jti}" in out and local(at) in out


def test_inbox_json_mark_read_and_all(run_vault, received: dict[str, int]) -> None:
    listed = json.loads(run_vault("inbox", ORIGIN, "--json").out)
    assert [m["kind"] for m in listed["messages"]] == ["proposal", "breach"]
    assert listed["unread"] == 2 and listed["unread_by_site"] == {ORIGIN: 2} and listed["muted"] == []
    proposal = listed["messages"][0]
    assert proposal["url_origin"] == ORIGIN and proposal["read"] is False and proposal["via"] == "page"
    marked = json.loads(run_vault("inbox", "--mark-read", "--json").out)
    assert marked["marked_read"] == 2
    assert json.loads(run_vault("inbox", "--json").out)["messages"] == []
    assert json.loads(run_vault("inbox", "--json").out)["unread"] == 0
    human = run_vault("inbox").out
    assert "No unread messages." in human and "2 read messages not shown; --all shows them." in human
    every = json.loads(run_vault("inbox", "--all", "--json").out)
    assert [m["read"] for m in every["messages"]] == [True, True]
    assert "(read)" in run_vault("inbox", "--all").out
    assert json.loads(run_vault("inbox", "https://other.example", "--all", "--json").out)["messages"] == []
    result = run_vault("inbox", "shop.example")
    assert result.code == 1 and "not a site origin" in result.err


def test_mute_and_unmute(run_vault, received: dict[str, int]) -> None:
    result = run_vault("mute", ORIGIN + "/")
    assert result.code == 0 and "Muted https://shop.example: its proposals and change notices" in result.out
    assert "Already muted" in run_vault("mute", ORIGIN).out
    assert json.loads(run_vault("mute", ORIGIN, "--json").out) == {
        "origin": ORIGIN,
        "muted": True,
        "changed": False,
    }
    assert json.loads(run_vault("inbox", "--json").out)["muted"] == [ORIGIN]
    assert f"Muted: {ORIGIN} (" in run_vault("inbox").out
    result = run_vault("unmute", ORIGIN)
    assert result.code == 0 and "Unmuted https://shop.example" in result.out
    assert json.loads(run_vault("unmute", ORIGIN, "--json").out)["changed"] is False
    assert json.loads(run_vault("inbox", "--json").out)["muted"] == []
    result = run_vault("mute", "http://shop.example")
    assert result.code == 1 and "not a site origin" in result.err
