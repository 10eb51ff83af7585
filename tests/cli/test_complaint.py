"""`vault report` and `vault check-report`, the real command in a subprocess against a real vault (built by
tests/consent/test_complaint.build_vault: disclosures, acknowledgements, a broken promise, notices, an
access statement with discrepancies, a message, and another site)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.consent.test_access import DAY, SiteProcess, given_to, real_now
from tests.consent.test_complaint import CONTROLLER, NEVER_SHARED, ORIGIN, PAST_RETENTION, build_vault, flip
from tests.consent.test_revocation import SITE_KEY, make_vault
from vault.consent.access_delivery import ask
from vault.consent.access_views import access_view
from vault.consent.complaint_text import md
from vault.consent.inbox import receive
from vault.protocol.jwk import key_subject
from vault.site import make_message


@pytest.fixture
def built(vault_home: Path) -> Path:
    build_vault(vault_home)
    return vault_home


@pytest.fixture
def out(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


def written(out: Path) -> tuple[Path, Path]:
    (md,) = out.glob("complaint-shop.example-*.md")
    (bundle,) = out.glob("complaint-shop.example-*.json")
    assert md.stem == bundle.stem
    return md, bundle


def test_report_writes_the_draft_and_the_evidence_which_checks_clean(built, out, run_vault) -> None:
    result = run_vault("report", ORIGIN, "--out", str(out), "--note", "They sold my size to an ad broker.")
    assert result.code == 0, result.err
    md, bundle = written(out)
    assert f"Wrote a complaint draft about {ORIGIN}:" in result.out
    assert str(md) in result.out and str(bundle) in result.out
    for words in ("two versions of the site manifest", "three records of what I shared",
                  "one signed acknowledgement naming third parties I did not allow",
                  "four discrepancies in plain words", "your own statement",
                  f"vault check-report {bundle}"):  # fmt: skip
        assert words in result.out, words
    text = md.read_text()
    assert f"# Complaint about {CONTROLLER} ({ORIGIN})" in text
    assert "They sold my size to an ad broker." in text and "## Timeline" in text
    assert PAST_RETENTION.replace("(", "\\(").split(",")[0] in text
    assert oct(md.stat().st_mode & 0o777) == oct(0o600) == oct(bundle.stat().st_mode & 0o777)
    for secret in NEVER_SHARED:
        assert secret not in text and secret not in bundle.read_text(), secret

    checked = run_vault("check-report", str(bundle))
    assert checked.code == 0, checked.out + checked.err
    assert "FAILED" not in checked.out and checked.out.rstrip().splitlines()[-1].startswith("All ")
    assert "ok      acknowledgement p-0000000000000001 (ledger entry 2): signed by the site" in checked.out


def test_check_report_needs_no_vault_and_no_passphrase(built, out, run_vault, tmp_path) -> None:
    assert run_vault("report", ORIGIN, "--out", str(out)).code == 0
    _, bundle = written(out)
    checked = run_vault("check-report", str(bundle), "--json", passphrase=None, home=tmp_path / "nothing")
    assert checked.code == 0, checked.err
    result = json.loads(checked.out)
    assert result["ok"] is True and result["failed"] == 0 and result["origin"] == ORIGIN
    assert all(check["ok"] for check in result["checks"]) and len(result["checks"]) > 20


def test_a_tampered_token_or_ledger_body_fails_naming_it(built, out, run_vault) -> None:
    assert run_vault("report", ORIGIN, "--out", str(out)).code == 0
    _, bundle_path = written(out)
    original = json.loads(bundle_path.read_text())

    bundle = json.loads(json.dumps(original))
    [statement] = [i for i in bundle["evidence"] if i["kind"] == "access_answer"]
    statement["token"] = flip(statement["token"], len(statement["token"]) - 10)
    bundle_path.write_text(json.dumps(bundle))
    checked = run_vault("check-report", str(bundle_path))
    assert checked.code == 1
    failed = [line for line in checked.out.splitlines() if line.startswith("FAILED")]
    assert failed == [
        f"FAILED  access_answer request-00000000001 (ledger entry {statement['seq']}): "
        "signature or token refused: bad_signature"
    ]
    assert "one check of" in checked.err

    bundle = json.loads(json.dumps(original))
    entry = bundle["ledger"]["entries"][0]
    entry["body"] = entry["body"].replace('"NL"', '"DE"')
    bundle_path.write_text(json.dumps(bundle))
    result = json.loads(run_vault("check-report", str(bundle_path), "--json").out)
    assert result["ok"] is False
    assert {c["item"] for c in result["checks"] if not c["ok"]} == {
        f"ledger entry {entry['seq']}",
        f"disclosure {entry['ref']} (ledger entry {entry['seq']})",
    }


def test_report_json(built, out, run_vault) -> None:
    result = run_vault("report", ORIGIN, "--out", str(out), "--json")
    assert result.code == 0, result.err
    md, bundle = written(out)
    summary = json.loads(result.out)
    assert summary["markdown"] == str(md) and summary["bundle"] == str(bundle)
    assert summary["origin"] == ORIGIN and summary["subject"].startswith(
        "urn:ietf:params:oauth:jwk-thumbprint"
    )
    assert summary["manifests"] == 2 and summary["discrepancies"] == 4
    assert summary["evidence"]["disclosure"] == 3 and summary["evidence"]["message"] == 1
    assert json.loads(bundle.read_text())["format"] == "vault-complaint/1"


def test_an_existing_draft_is_not_overwritten_without_force(built, out, run_vault) -> None:
    assert run_vault("report", ORIGIN, "--out", str(out)).code == 0
    md, _ = written(out)
    md.write_text("my completed letter")
    again = run_vault("report", ORIGIN, "--out", str(out))
    assert again.code == 1 and "already exists" in again.err and "--force" in again.err
    assert md.read_text() == "my completed letter"
    assert run_vault("report", ORIGIN, "--out", str(out), "--force").code == 0
    assert md.read_text().startswith("# Complaint about")


@pytest.mark.parametrize(
    ("origin", "error"),
    [
        ("shop.example", "is not a site origin"),
        ("https://shop.example/path", "is not a site origin"),
        ("https://never.example", "the vault has no record of https://never.example"),
    ],
)
def test_a_bad_origin_or_unknown_site_writes_nothing(built, out, run_vault, origin, error) -> None:
    result = run_vault("report", origin, "--out", str(out))
    assert result.code == 1 and error in result.err, result.err
    assert list(out.iterdir()) == []


def test_the_users_own_files_are_attached_and_bounded(built, out, run_vault, tmp_path) -> None:
    letter = tmp_path / "their-reply.txt"
    letter.write_text("We keep your data as long as we like.")
    assert run_vault("report", ORIGIN, "--out", str(out), "--attach", str(letter)).code == 0
    md, bundle = written(out)
    [attached] = json.loads(bundle.read_text())["attachments"]
    assert attached["name"] == "their-reply.txt" and attached["bytes"] == 37
    assert "my own file their-reply.txt (37 bytes" in md.read_text()
    assert run_vault("check-report", str(bundle)).code == 0

    huge = tmp_path / "huge.bin"
    huge.write_bytes(b"x" * (1024 * 1024 + 1))
    refused = run_vault("report", ORIGIN, "--out", str(tmp_path), "--attach", str(huge))
    assert refused.code == 1 and "at most 1048576" in refused.err
    assert not list(tmp_path.glob("complaint-*"))


def test_check_report_refuses_what_is_not_a_bundle(run_vault, tmp_path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format": "something else"}')
    result = run_vault("check-report", str(path), passphrase=None)
    assert result.code == 1 and "is not a complaint bundle: not a vault-complaint/1 bundle" in result.err


# -- with the real access and inbox code, against a real lying site process --------------------------


@pytest.fixture
def lying_shop(tmp_path: Path):
    site = SiteProcess(tmp_path / "site")
    yield site
    site.stop()


def test_a_real_lying_sites_statement_and_message_end_up_checkable(vault_home, lying_shop, out, run_vault):
    now = real_now()
    with make_vault(vault_home, now - 30 * DAY) as vault:
        given_to(vault, lying_shop, now)
        lying_shop.start("lying")
        request = ask(vault, lying_shop.origin, now=real_now, allow_loopback_http=True)
        found = access_view(vault, request).discrepancies
        assert len(found) == 6
        subject = key_subject(vault.pairwise_key(lying_shop.origin, 0).public_jwk)
        message = make_message(
            SITE_KEY, manifest=lying_shop.manifest, subject=subject, kind="breach", title="A breach",
            body="Someone copied our customer list.", now=now,
        )  # fmt: skip
        receive(vault, lying_shop.origin, message, via="page", now=now)
    result = run_vault("report", lying_shop.origin, "--out", str(out), "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["discrepancies"] == 6 and summary["evidence"]["message"] == 1
    text = Path(summary["markdown"]).read_text()
    for discrepancy in found:
        assert md(discrepancy.text) in text
    assert "signed breach message: “A breach”" in text
    checked = run_vault("check-report", summary["bundle"], "--json", passphrase=None)
    assert checked.code == 0, checked.out
    kinds = {c["item"].split()[0] for c in json.loads(checked.out)["checks"]}
    assert {"access_answer", "message", "discrepancy", "ledger"} <= kinds
