"""`vault demo`, as a user runs it: a real daemon, the demo shop, a real native host process driven like
the browser, and everything gone afterwards (processes and the temporary directory), also on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import Result
from vault.demo.chromium import EXTENSION_DIR
from vault.protocol.presentation import open_presentation

pytestmark = pytest.mark.slow


def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "XDG_"))}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env |= {"HOME": str(tmp_path / "home"), "CI": "true"}
    return env


def run_demo(tmp_path: Path, *args: str) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "vault", "demo", *args],
        capture_output=True,
        text=True,
        env=demo_env(tmp_path),
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return Result(proc.returncode, proc.stdout, proc.stderr)


def processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if text.encode() in cmdline:
            words = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{pid}: {words}")
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def assert_cleaned_up(summary: dict[str, Any]) -> None:
    assert not Path(summary["workdir"]).exists()
    assert processes_mentioning(summary["workdir"]) == []
    for pid in (summary["daemon_pid"], summary["native_host_pid"], summary["partner_pid"]):
        assert not alive(pid) or summary["workdir"] not in Path(f"/proc/{pid}/cmdline").read_text()


def test_demo_json_runs_the_whole_handshake_and_cleans_up(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--no-browser", "--json")
    assert result.code == 0, result.err
    s = json.loads(result.out)

    # The shop asked, the vault prompted with the values it would send, the user kept one claim back.
    assert s["asked"]["purpose"] == "recommendations" and s["asked"]["retention"] == "P30D"
    assert {q["claim"]: q["value"] for q in s["prompt"]["questions"]} == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 39.5,
        "interests": ["trail running", "jazz", "board games"],
    }
    assert s["withheld"] == ["interests"] and s["decision"]["remember"] is True
    # The token is a real presentation for the shop, carrying exactly what was shared.
    _, payload = open_presentation(s["token"])
    assert payload.aud == s["shop"] and payload.claims == s["shared"]
    assert s["shared"] == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 39.5}
    # The shop verified those claims (and no others), and personalised from them.
    verified = s["verified"]
    assert verified["claims"] == s["shared"] and verified["not_shared"] == ["interests"]
    assert verified["subject"] == payload.sub and verified["jti"] == payload.jti
    assert [use["claim"] for use in s["personalised"]["used"]] == list(s["shared"])
    # Its acknowledgement verified in the vault and is stored there.
    stored = s["acknowledgement"]["stored"]
    assert s["acknowledgement"]["token"].count(".") == 2
    assert stored == {
        "presentation": payload.jti,
        "claims": sorted(s["shared"]),
        "keep_until": payload.iat + 30 * 86400,
        "recipients": ["demo-analytics"],  # the shop's signed word: it passed them on to its partner
        "not_allowed": [],  # and to nobody the user did not allow
    }
    # The user switched the analytics partner on: the shop passed it the claims it declares that were
    # shared (the shoe size; interests were kept back), and its acknowledgement names it.
    assert s["decision"]["recipients"] == ["demo-analytics"] and payload.recipients == ("demo-analytics",)
    [partner] = s["third_parties"]
    assert (partner["id"], partner["required"], partner["asked"]) == ("demo-analytics", False, True)
    assert verified["passed_to"] == ["demo-analytics"]
    # The next request was granted from the remembered decisions, the partner's included.
    assert s["second"]["outcome"] == "granted" and s["second"]["prompted"] is False
    assert s["second"]["passed_to"] == ["demo-analytics"]

    # The inbox: the change notice the first acknowledgement carried, and the proposal the page handed
    # over (as personalVault.notify does), both verified and kept, unread.
    inbox = s["inbox"]
    kinds = {m["kind"]: m for m in inbox["messages"]}
    assert set(kinds) == {"change", "proposal"} and inbox["unread"] == 2
    assert kinds["change"]["via"] == "acknowledgement" and kinds["change"]["effective_at"] > payload.iat
    proposal = kinds["proposal"]
    assert (proposal["via"], proposal["purpose"], proposal["claims"]) == (
        "page",
        "suggestions",
        ["interests"],
    )
    assert proposal["url"] == s["shop"] + "/offers/interests"
    # Accepted: the vault shared nothing itself; the page it opened asked, the vault prompted, the user
    # shared their interests for that purpose, and the shop verified and acknowledged them.
    accepted = s["proposal"]
    assert accepted["accepted"] == {"url": proposal["url"], "origin": s["shop"], "purpose": "suggestions"}
    assert accepted["prompt"]["purpose"] == "Suggestions for your interests"
    assert [q["claim"] for q in accepted["prompt"]["questions"]] == ["interests"]
    assert accepted["shared"] == {"interests": ["trail running", "jazz", "board games"]}
    assert accepted["acknowledged"]["claims"] == ["interests"] and accepted["suggested"]

    # Asked what it holds: the shop's signed statement lists both purposes, with the values it holds, and
    # the vault finds no discrepancy with its ledger (the honest shop).
    access = s["access"]
    assert access["state"] == "answered" and access["discrepancies"] == []
    held = {h["purpose"]: h for h in access["holdings"]}
    assert set(held) == {"recommendations", "suggestions"}
    assert held["recommendations"]["values"] == s["shared"]
    assert held["recommendations"]["recipients"] == ["demo-analytics"]
    assert sorted(held["recommendations"]["presentations"]) == sorted([payload.jti, s["second"]["jti"]])
    assert held["suggestions"]["presentations"] == [accepted["jti"]]
    # The same question while the shop's records keep everything a year longer than it promised: its
    # statement says so, and the vault names the broken promise for each purpose, in words.
    careless = s["careless"]
    assert careless["state"] == "answered"
    assert {(d["kind"], d["purpose"]) for d in careless["discrepancies"]} == {
        ("held_past_retention", "recommendations"),
        ("held_past_retention", "suggestions"),
    }
    assert all("but promised to keep it only until" in d["text"] for d in careless["discrepancies"])

    # Withdrawn from the partner alone, with erasure: the partner holds nothing, the shop keeps its own.
    p = s["partner"]
    assert p["request"] == {"origin": s["shop"], "third_party": "demo-analytics", "erase": True}
    assert p["held_before"] == [{"sizes.shoe": 39.5}] * 2 and p["held_after"] == []
    assert p["shop_after"] == p["shop_before"]
    assert sorted(p["shop_before"], key=json.dumps) == sorted(
        [s["shared"], s["shared"], accepted["shared"]], key=json.dumps
    )
    assert [n["delivered_at"] is not None for n in p["notices"]] == [True]
    notice = p["shop_notice"]
    assert (notice["site"], notice["erasure"], notice["deleted"]) == (False, True, 0)
    assert notice["recipients"] == {"demo-analytics": "erased"}
    # The shop's signed answer is in the vault's ledger: the partner erased, the shop kept its copy.
    [answer] = p["signed_answers"]
    assert answer["erased"] is False
    assert [(o["id"], o["outcome"]) for o in answer["recipients"]] == [("demo-analytics", "erased")]
    assert len(p["vault_report"]) == 2  # one per disclosure
    assert {(h["withdrawal_state"], h["outcome"]) for h in p["vault_report"]} == {("confirmed", "erased")}

    # Revocation of everything with erasure: delivered by the daemon, acknowledged by the shop, nothing left.
    r = s["revocation"]
    assert r["erasure"] is True and r["withdrawn"] == 3
    assert r["delivered"] is True and r["erased"] is True
    assert r["held_before"] == 3 and r["held_after"] == 0 and r["partner_held_after"] == 0
    notices = [(n["site"], n["erasure"], n["deleted"]) for n in r["shop_notices"]]
    assert notices[0] == (False, True, 0) and all(n[:2] == (True, True) for n in notices[1:])
    assert sum(n[2] for n in notices) == 3
    # Asked again: the shop holds nothing, and says so, signed; nothing is held after the erasure.
    assert r["access"]["state"] == "answered"
    assert r["access"]["holdings"] == [] and r["access"]["discrepancies"] == []
    assert all(d["withdrawal_acknowledged"] and d["acknowledged"] for d in r["vault_report"])
    assert s["ledger"]["ok"] is True

    # Global Privacy Control: a fresh vault's Everyday refuses selling data and targeted advertising, so the
    # extension sends it; the shop's page, fetched with it, says it received it; the shop declares GPC.
    gpc = s["gpc"]
    assert gpc["sent"] is True and gpc["context"] == "Everyday" and gpc["why"].startswith("Sent: ")
    assert gpc["page_says"].startswith("We received your browser's Global Privacy Control signal")
    assert gpc["declared"] == {"gpc": True, "lastUpdate": "2026-01-01"}
    # A context with its own identity, chosen for the shop alone: its request was asked about in that
    # context, and the shop saw a pseudonym it cannot link to the one it saw before.
    context = s["context"]
    assert context["context"]["name"] == "Shopping for the family"
    assert context["context"]["separate_identity"] is True
    assert context["prompt_context"] == "Shopping for the family"
    assert context["shared"] == {"age_over_18": True, "location.country": "NL"}
    assert context["subject"].startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-256:")
    assert context["subject"] != verified["subject"]

    assert s["vault"] is None and s["kept"] is False and s["seconds"] < 60
    assert_cleaned_up(s)
    assert "started the daemon" in result.err and "stopped everything and removed it" in result.err
    assert "started the shop's analytics partner" in result.err


def test_demo_prints_a_readable_story_and_keeps_the_vault_when_asked(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--keep")  # CI=true and no display: no browser
    assert result.code == 0, result.err
    out = result.out
    for line in (
        "1. Demo Shoes (http://127.0.0.1:",
        "asks for 'Shoe recommendations', kept 30 days",
        "     interests          trail running, jazz, board games",
        "share all but interests,",
        "3. Shared: one signed presentation for this shop only: age_over_18 = yes; location.country = NL; "
        "sizes.shoe = 39.5",
        "Not shown: Prairie boots (not delivered to NL)",
        "5. The shop's signed acknowledgement is stored in the vault",
        "also received by Demo Analytics B.V. (NL, only if you allow it): sizes.shoe, interests",
        "switch on Demo Analytics B.V., and remember.",
        "It passed Demo Analytics B.V. what you allowed it (sizes.shoe), and nothing to anyone else.",
        "6. Next visit: granted without a prompt",
        "7. The vault's inbox holds 2 messages signed by Demo Shoes (2 unread), shown as plain text:",
        "   - change (with its acknowledgement, from 1 ",
        "our analytics partner works from Germany",
        "   - proposal (through its page): Share your interests and we will suggest shoes and events",
        "       Offers 'Suggestions for your interests'; Accept opens http://127.0.0.1:",
        "8. Accepted the proposal: the vault shared nothing, it opened http://127.0.0.1:",
        "   That page asked for 'Suggestions for your interests' (kept 90 days),",
        "     interests          trail running, jazz, board games",
        "   Answered: share (interests = trail running, jazz, board games).",
        "(you like trail running)",
        "9. Asked Demo Shoes what it holds (as `vault ask http://127.0.0.1:",
        "     Shoe recommendations: age_over_18 = yes, location.country = NL, sizes.shoe = 39.5",
        "passed to demo-analytics; 2 presentations",
        "     Suggestions for your interests: interests = trail running, jazz, board games",
        "   Compared with the vault's ledger: no discrepancies.",
        "10. To make the point, the shop's records are made to keep everything 365 days longer",
        "   Compared with the vault's ledger: 2 discrepancies:",
        "     - Keeps ",  # the vault's own words for each broken promise (vault.consent.access_compare)
        "   Each one is in the vault's ledger (and would be in `vault report`); the records are put back.",
        "11. Withdrawn from Demo Analytics B.V. alone, with erasure (2 presentations). The daemon",
        "Demo Analytics B.V. held 2 records (sizes.shoe = 39.5); now it holds 0.",
        "The shop still holds its own 3 presentations, with every claim it had",
        "The shop's signed answer, now in the vault's ledger: demo-analytics erased on ",
        "the shop itself kept its own copy.",
        "12. Revoked with erasure: 3 presentations withdrawn. The daemon delivered the signed notice;",
        "the shop says it erased them; it now holds 0 presentations (it held 3); the partner holds 0.",
        "   Asked again what it holds: its signed statement lists\n     nothing: it holds nothing about you.",
        "The ledger verifies: ",
        "13. Global Privacy Control: the extension sends Sec-GPC: 1 to the shop. Sent: the rules of Everyday",
        "   The shop's page says: We received your browser's Global Privacy Control signal with this page",
        "   Its /.well-known/gpc.json declares gpc=true.",
        "   A context, 'Shopping for the family': a copy of Everyday with its own identity, chosen for the",
        "prompt (Context: Shopping for the family)",
        "it cannot link the two.",
        "Done in ",
    ):
        assert line in out, f"{line!r} not in:\n{out}"
    match = re.search(r"Kept in (\S+)\. Explore", out)
    assert match, out
    kept = Path(match.group(1))
    try:
        assert (kept / "vault" / "vault.db").exists() and (kept / "daemon.log").exists()
        assert f"VAULT_HOME={kept / 'vault'} VAULT_PASSPHRASE=demo-" in out
        assert processes_mentioning(str(kept)) == []  # kept on disk, but nothing left running
        assert "vault demo [" in result.err  # progress on stderr, with the time
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def test_browser_mode_waits_for_the_browser_and_ctrl_c_cleans_up(tmp_path: Path) -> None:
    """With a display, the demo opens Chromium and waits; Ctrl-C stops the browser (its whole process
    group), the daemon and the shop, and removes the directory. A stand-in `chromium` on PATH records its
    arguments and waits like a browser would, so the moment of the Ctrl-C is certain."""
    shim = tmp_path / "bin" / "chromium"
    shim.parent.mkdir()
    shim.write_text('#!/bin/sh\necho "$@" > "$DEMO_TEST_ARGS"\nexec sleep 600\n')
    shim.chmod(0o755)
    args_file = tmp_path / "chromium-args"
    env = demo_env(tmp_path)
    del env["CI"]
    env |= {"DISPLAY": ":99", "PATH": f"{shim.parent}:{env['PATH']}", "DEMO_TEST_ARGS": str(args_file)}
    err_path = tmp_path / "stderr"
    with err_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vault", "demo"],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            text=True,
            # A shell's background job ignores SIGINT; a terminal's Ctrl-C does not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        deadline = time.monotonic() + 60
        while not args_file.exists() or "opened Chromium" not in err_path.read_text():
            assert proc.poll() is None, err_path.read_text()
            assert time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.02)
        chromium_args = args_file.read_text().split()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 130, err_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    err = err_path.read_text()
    assert "interrupted: stopped everything and removed it" in err and "Traceback" not in err, err
    workdir = err.split("vault with a sample profile in ", 1)[1].split()[0].removesuffix("/vault")
    assert not Path(workdir).exists()
    assert processes_mentioning(workdir) == []  # the daemon, and the "browser" with its group
    extension = str(EXTENSION_DIR)
    assert f"--user-data-dir={workdir}/chromium" in chromium_args
    assert f"--load-extension={extension}" in chromium_args
    assert f"--disable-extensions-except={extension}" in chromium_args
    assert chromium_args[-1].startswith("http://127.0.0.1:")
    assert f"Demo Shoes is open at {chromium_args[-1]}" in out
