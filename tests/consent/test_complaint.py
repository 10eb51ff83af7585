"""`vault report`'s evidence (vault/consent/complaint*.py): a real SQLCipher vault with real disclosures,
acknowledgements signed by the site (one a broken promise), withdrawal and erasure notices (one confirmed,
one the site never answered), an access statement with its discrepancies and a site message; the bundle
checks clean without the vault, any tampering is named, and nothing the site was not told is in it.

`build_vault` is shared with tests/cli/test_complaint.py."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import msgspec
import pytest

from tests.consent.test_outbox import FakeSite
from tests.consent.test_revocation import SITE_KEY, Site, disclose, ids, jti, make_vault, manifest_for
from tests.support import NOW
from vault.consent import ledger
from vault.consent.acknowledgements import store_acknowledgement
from vault.consent.complaint import FORMAT, collect
from vault.consent.complaint_check import BundleInvalid, check_bundle, load_bundle
from vault.consent.complaint_text import md, render
from vault.consent.ledger_records import (
    AccessAnswered,
    AccessRequested,
    AccessUnanswered,
    Discrepancy,
    MessageReceived,
)
from vault.consent.outbox import deliver_due
from vault.consent.revocation import revoke
from vault.consent.sites import remember_manifest
from vault.consent.transport import Response
from vault.errors import InvalidInput
from vault.protocol.acknowledgement import Acknowledgement, sign_acknowledgement
from vault.protocol.jwk import key_subject
from vault.protocol.manifest import Manifest
from vault.protocol.presentation import open_presentation
from vault.site import SigningKey, acknowledge_revocation, make_message
from vault.site.access import HeldRecord, VerifiedAccessRequest, answer_access_request
from vault.store import Vault

ORIGIN = "https://shop.example"
OTHER_ORIGIN = "https://elsewhere.example"
CONTROLLER = "Example Shoes B.V."
NEW_CONTACT = "dpo@shop.example"
PAST_RETENTION = (
    "Keeps your shoe size for Shoe recommendations until 3 March 2027, but promised to keep it only "
    "until 21 October 2026."
)
UNALLOWED = "Passed your country for Shoe recommendations to adbroker, which no disclosure allowed."
NEVER_SHARED = ("1990-05-17", "1990", "1017 CT", "postal", "birthdate", OTHER_ORIGIN, "elsewhere")


def site_ack(token: str, recipients: tuple[str, ...], at: int) -> str:
    """The site's own acknowledgement of a presentation, naming whom it passed the claims to."""
    _, seen = open_presentation(token)
    return sign_acknowledgement(
        SITE_KEY,
        Acknowledgement(
            iss=seen.aud,
            aud=seen.sub,
            iat=at,
            presentation=seen.jti,
            purpose=seen.purpose.id,
            purpose_digest=seen.purpose_digest,
            claims=tuple(sorted(seen.claims)),
            keep_until=seen.iat + 30 * 86400,
            recipients=recipients,
        ),
    )


def with_contact(manifest: Manifest, contact: str) -> Manifest:
    data = msgspec.to_builtins(manifest)
    data["controller"]["contact"] = contact
    return msgspec.convert(data, Manifest)


def build_vault(home: Path) -> None:
    """The shop's whole relationship with this vault (see the module docstring), and another site."""
    manifest, site = manifest_for(), Site()
    with make_vault(home, now=NOW - 10_000) as vault:
        vault.set_attribute("sizes.shoe", 42, now=NOW - 10_000)
        vault.set_attribute("postal_code", "1017 CT", now=NOW - 10_000)
        honest = disclose(vault, manifest, "recommendations", jti(1), site=site, now=NOW - 9000)
        store_acknowledgement(vault, site_ack(honest.token, ("stock",), NOW - 8990), now=NOW - 8990)
        liar = disclose(vault, manifest, "recommendations", jti(2), site=site, now=NOW - 8000)
        store_acknowledgement(vault, site_ack(liar.token, ("stock", "analytics"), NOW - 7990), now=NOW - 7990)
        disclose(vault, manifest, "age-check", jti(3), site=site, now=NOW - 7000)
        # The site's manifest changes its contact: a second version, and a site_changed entry.
        changed = with_contact(manifest, NEW_CONTACT)
        with vault.transaction() as conn:
            remember_manifest(conn, changed, now=NOW - 6000)
        subject = key_subject(vault.pairwise_key(ORIGIN, 0).public_jwk)
        message = make_message(
            SITE_KEY,
            manifest=changed,
            subject=subject,
            kind="change",
            title="We will keep recommendations data longer",
            body="From March we keep your shoe size for a year.",
            now=NOW - 5000,
            jti="message-000000000001",
            effective_at=NOW + 86400 * 90,
        )
        statement = answer_access_request(
            SITE_KEY,
            VerifiedAccessRequest(
                subject=subject, jti="request-00000000001", purposes=(), issued_at=NOW - 4000
            ),
            manifest=changed,
            now=NOW - 3990,
            held=[
                HeldRecord(
                    presentation=jti(1),
                    purpose="recommendations",
                    claims={"location.country": "NL", "sizes.shoe": 42},
                    received_at=NOW - 9000,
                    keep_until=1804032000,  # 3 March 2027
                    recipients=("stock", "adbroker"),
                )
            ],
        )
        found = (
            Discrepancy(
                kind="held_past_retention",
                purpose="recommendations",
                claims=("sizes.shoe",),
                recipients=(),
                text=PAST_RETENTION,
            ),
            Discrepancy(
                kind="unallowed_recipient",
                purpose="recommendations",
                claims=("location.country",),
                recipients=("adbroker",),
                text=UNALLOWED,
            ),
        )
        with vault.transaction() as conn:
            ledger.append(
                conn,
                at=NOW - 5000,
                origin=ORIGIN,
                ref="message-000000000001",
                body=MessageReceived(message_kind="change", via="page", token=message),
            )
            ledger.append(
                conn,
                at=NOW - 4000,
                origin=ORIGIN,
                ref="request-00000000001",
                body=AccessRequested(
                    reason="ask", endpoint=ORIGIN + "/.well-known/vault-access", epoch=0, presentations=()
                ),
            )
            ledger.append(
                conn,
                at=NOW - 3990,
                origin=ORIGIN,
                ref="request-00000000001",
                body=AccessAnswered(token=statement, request="request-00000000001", discrepancies=found),
            )
        # Withdrawals with erasure: recommendations answered (erased), age-check never delivered.
        fake = FakeSite(changed, site, now=NOW - 1000)
        revoke(
            vault, ORIGIN, purpose_id="recommendations", erase=True, now=NOW - 1000, new_id=ids("notice-r")
        )
        assert all(outcome.delivered for outcome in deliver_due(vault, now=NOW - 1000, post=fake))
        revoke(vault, ORIGIN, purpose_id="age-check", erase=True, now=NOW - 500, new_id=ids("notice-a"))
        fake.mode = "down"
        assert not any(outcome.delivered for outcome in deliver_due(vault, now=NOW - 500, post=fake))
        # Another site the user dealt with: none of it may show up in the shop's complaint.
        disclose(vault, manifest_for(OTHER_ORIGIN), "recommendations", jti(9), now=NOW - 200)


@pytest.fixture
def vault(vault_home: Path):
    build_vault(vault_home)
    with Vault.open(vault_home, "correct horse battery staple", now=NOW) as vault:
        yield vault


def test_the_bundle_holds_the_evidence_and_checks_clean(vault: Vault) -> None:
    complaint = collect(vault, ORIGIN, now=NOW)
    bundle = complaint.bundle
    assert bundle["format"] == FORMAT and bundle["origin"] == ORIGIN
    assert bundle["subject"] == key_subject(vault.pairwise_key(ORIGIN, 0).public_jwk)
    assert bundle["controller"]["name"] == CONTROLLER
    assert len(bundle["manifests"]) == 2
    kinds = [item["kind"] for item in bundle["evidence"]]
    for kind in ("disclosure", "acknowledgement", "broken_promise", "revocation", "delivery", "delivery_ack",
                 "site_changed", "access_request", "access_answer", "message", "notice"):  # fmt: skip
        assert kind in kinds, kind
    assert kinds.count("disclosure") == 3 and kinds.count("notice") == 3
    assert "consent" not in kinds and "forget" not in kinds
    words = [d["text"] for d in bundle["discrepancies"]]
    assert PAST_RETENTION in words and UNALLOWED in words
    assert any("which you did not allow" in w and "analytics" in w for w in words)  # the broken promise
    assert any(w.startswith("Has not confirmed your request of") for w in words)  # age-check erasure
    assert len(words) == 4, words  # the confirmed erasure is no discrepancy
    checks = check_bundle(load_bundle(msgspec.json.encode(bundle)))
    assert checks and all(c.ok for c in checks), [c for c in checks if not c.ok]
    signed = [c for c in checks if "signed by" in c.reason]
    assert len(signed) == sum(1 for item in bundle["evidence"] if "token" in item) == 10
    assert sum(1 for c in checks if c.item.startswith("ledger entry")) == len(bundle["ledger"]["entries"])


def test_the_draft_names_the_controller_the_timeline_and_each_discrepancy(vault: Vault) -> None:
    complaint = collect(vault, ORIGIN, now=NOW, note="I never agreed to an ad broker.\n\n  Please act.\n")
    text = render(complaint, "complaint.json")
    assert f"# Complaint about {CONTROLLER} ({ORIGIN})" in text
    needles = (
        *("privacy@shop.example", NEW_CONTACT, "https://shop.example/privacy", complaint.bundle["subject"]),
        *("## Timeline", "## What is wrong", "## What I ask for", "Signature: ____"),
        *("`vault check-report complaint.json`", "I never agreed to an ad broker.\n\nPlease act.\n"),
        *("location.country = NL", "sizes.shoe = 42", "age\\_over\\_18 = yes"),
    )
    for needle in needles:
        assert needle in text, needle
    for found in complaint.bundle["discrepancies"]:
        assert md(found["text"]) in text
    timeline = text.split("## Timeline")[1].split("## What is wrong")[0]
    notices = sum(1 for item in complaint.bundle["evidence"] if item["kind"] == "notice")
    assert (
        timeline.count("\n- ") == len(complaint.bundle["evidence"]) - notices
    )  # shown under "What is wrong"
    assert "I withdrew my consent for “Shoe recommendations”" in timeline
    assert "says it erased the data" in timeline and "changed its controller" in timeline
    assert "signed change message: “We will keep recommendations data longer”" in timeline


def test_nothing_the_site_was_not_told_is_in_it(vault: Vault) -> None:
    complaint = collect(vault, ORIGIN, now=NOW)
    for text in (msgspec.json.encode(complaint.bundle).decode(), render(complaint, "c.json")):
        for secret in NEVER_SHARED:
            assert secret not in text, secret
    entries = complaint.bundle["ledger"]["entries"]
    assert {e["origin"] for e in entries} == {ORIGIN}
    assert not {e["kind"] for e in entries} & {"consent", "forget"}


def flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def test_a_flipped_character_in_a_token_is_named(vault: Vault) -> None:
    bundle = collect(vault, ORIGIN, now=NOW).bundle
    [item] = [i for i in bundle["evidence"] if i["kind"] == "acknowledgement" and i["ref"] == jti(1)]
    item["token"] = flip(item["token"], item["token"].rindex(".") + 5)  # in the signature
    checks = check_bundle(load_bundle(msgspec.json.encode(bundle)))
    failed = [c for c in checks if not c.ok]
    assert [c.item for c in failed] == [f"acknowledgement {jti(1)} (ledger entry {item['seq']})"]
    assert "bad_signature" in failed[0].reason


def test_a_changed_ledger_body_is_named(vault: Vault) -> None:
    bundle = collect(vault, ORIGIN, now=NOW).bundle
    [entry] = [e for e in bundle["ledger"]["entries"] if e["kind"] == "disclosure" and e["ref"] == jti(1)]
    body = json.loads(entry["body"])
    body["keep_until"] += 365 * 86400  # "it promised to keep it longer"
    entry["body"] = json.dumps(body, separators=(",", ":"))
    failed = [c for c in check_bundle(bundle) if not c.ok]
    assert f"ledger entry {entry['seq']}" in [c.item for c in failed]
    assert any("hash does not match" in c.reason for c in failed)
    assert any(c.item == f"disclosure {jti(1)} (ledger entry {entry['seq']})" for c in failed)


def test_a_message_from_another_key_is_refused(vault: Vault) -> None:
    bundle = collect(vault, ORIGIN, now=NOW).bundle
    [item] = [i for i in bundle["evidence"] if i["kind"] == "message"]
    item["manifest"] = "no-such-version"
    failed = [c for c in check_bundle(bundle) if not c.ok]
    assert [c.item for c in failed] == [f"message message-000000000001 (ledger entry {item['seq']})"]


def test_a_forged_notice_is_named(vault: Vault) -> None:
    bundle = collect(vault, ORIGIN, now=NOW).bundle
    notice = next(i for i in bundle["evidence"] if i["kind"] == "notice")
    header, payload, signature = notice["token"].split(".")
    notice["token"] = f"{header}.{flip(payload, 10)}.{signature}"
    failed = [c for c in check_bundle(bundle) if not c.ok]
    assert [c.item for c in failed] == [f"notice {notice['ref']}"]


def test_unknown_site_and_bad_origin_are_refused(vault: Vault) -> None:
    with pytest.raises(InvalidInput, match=r"no record of https://never\.example"):
        collect(vault, "https://never.example", now=NOW)
    with pytest.raises(InvalidInput, match="not a site origin"):
        collect(vault, "shop.example/path", now=NOW)


def test_after_forget_only_one_identity_is_in_it(vault_home: Path) -> None:
    build_vault(vault_home)
    with Vault.open(vault_home, "correct horse battery staple", now=NOW) as vault:
        old = key_subject(vault.pairwise_key(ORIGIN, 0).public_jwk)
        revoke(vault, ORIGIN, forget=True, now=NOW, new_id=ids("notice-f"))
        disclose(vault, manifest_for(), "age-check", jti(20), now=NOW + 10)
        new = key_subject(vault.pairwise_key(ORIGIN, 1).public_jwk)
        complaint = collect(vault, ORIGIN, now=NOW + 20)
        text = msgspec.json.encode(complaint.bundle).decode() + render(complaint, "c.json")
        assert complaint.bundle["subject"] == new and old not in text and complaint.other_identities == 1
        assert "left out so that this complaint does not tell the site" in text
        earlier = collect(vault, ORIGIN, now=NOW + 20, epoch=0).bundle
        assert earlier["subject"] == old and new not in msgspec.json.encode(earlier).decode()
        assert all(c.ok for c in check_bundle(earlier))
        with pytest.raises(InvalidInput, match="nothing under identity 7"):
            collect(vault, ORIGIN, now=NOW + 20, epoch=7)


def test_an_erasure_the_site_refused_and_an_unanswered_access_request_are_named(vault: Vault) -> None:
    site = Site()
    disclose(vault, manifest_for(), "age-check", jti(30), site=site, now=NOW + 10)
    (notice,) = revoke(
        vault, ORIGIN, purpose_id="age-check", erase=True, now=NOW + 20, new_id=ids("n-x")
    ).notices

    def keeps_it(url: str, body: bytes, timeout: float) -> Response:
        verified = site.verify_notice(json.loads(body)["notice"], manifest_for(), NOW + 30)
        answer = acknowledge_revocation(
            SITE_KEY, verified, manifest=manifest_for(), now=NOW + 30, erased=False
        )
        return Response(200, "application/json", json.dumps({"acknowledgement": answer}).encode())

    (outcome,) = deliver_due(vault, now=NOW + 30, post=keeps_it, only=[notice.jti])
    assert outcome.delivered and outcome.erased is False
    silent = Discrepancy(
        kind="no_answer",
        purpose=None,
        claims=(),
        recipients=(),
        text="Did not answer when asked what it holds.",
    )
    with vault.transaction() as conn:
        where = {"origin": ORIGIN, "ref": "request-00000000002"}
        endpoint = ORIGIN + "/.well-known/vault-access"
        ledger.append(
            conn,
            at=NOW + 40,
            **where,
            body=AccessRequested(reason="ask", endpoint=endpoint, epoch=0, presentations=()),
        )
        ledger.append(
            conn,
            at=NOW + 50,
            **where,
            body=AccessUnanswered(attempts=6, error="connection refused", discrepancies=(silent,)),
        )
    # The unreachable site fails a second time: one line says so, at the latest failure.
    down = FakeSite(manifest_for(), site)
    down.mode = "down"
    assert [o.attempt for o in deliver_due(vault, now=NOW + 45, post=down, retry_now=True)] == [2]
    # A notice queued a moment ago is not held against the site yet; after a day it is.
    disclose(vault, manifest_for(), "age-check", jti(31), now=NOW + 55)
    revoke(vault, ORIGIN, purpose_id="age-check", erase=True, now=NOW + 58, new_id=ids("n-y"))
    complaint = collect(vault, ORIGIN, now=NOW + 60)
    words = [d["text"] for d in complaint.bundle["discrepancies"]]
    assert "it has not been delivered yet" not in " ".join(words)
    later = collect(vault, ORIGIN, now=NOW + 58 + 86400).bundle["discrepancies"]
    assert len(later) == len(words) + 1 and "(it has not been delivered yet)" in later[-1]["text"]
    assert "Did not answer when asked what it holds." in words
    assert any(w.startswith("Answered on") and "but says it did not erase it" in w for w in words), words
    text = render(complaint, "c.json")
    assert "says it did NOT erase the data" in text
    assert text.count("Delivering my notice notice-a-0000000000000001 failed") == 1
    assert (
        "Delivering my notice notice-a-0000000000000001 failed 2 times (the last time: connection refused)"
        in text
    )
    assert "The site did not answer my access request after 6 attempts (connection refused)." in text
    assert all(c.ok for c in check_bundle(complaint.bundle))


def test_tokens_are_checked_against_the_key_of_the_manifest_that_signed_them(vault: Vault) -> None:
    new_key = SigningKey.from_seed(b"\x05" * 32)
    data = msgspec.to_builtins(with_contact(manifest_for(), NEW_CONTACT))
    data["site_key"] = new_key.public_jwk
    rotated = msgspec.convert(data, Manifest)
    with vault.transaction() as conn:
        assert remember_manifest(conn, rotated, now=NOW + 100) == ("site_key",)
        subject = key_subject(vault.pairwise_key(ORIGIN, 0).public_jwk)
        message = make_message(
            new_key, manifest=rotated, subject=subject, kind="breach", title="We were hacked", body="Sorry.",
            now=NOW + 200, jti="message-000000000002",
        )  # fmt: skip
        ledger.append(
            conn,
            at=NOW + 200,
            origin=ORIGIN,
            ref="message-000000000002",
            body=MessageReceived(message_kind="breach", via="page", token=message),
        )
    bundle = collect(vault, ORIGIN, now=NOW + 300).bundle
    first, _, third = (version["digest"] for version in bundle["manifests"])
    signed_by = {(i["kind"], i["ref"]): i.get("manifest") for i in bundle["evidence"]}
    assert signed_by[("acknowledgement", jti(1))] == first
    assert signed_by[("message", "message-000000000002")] == third
    assert all(c.ok for c in check_bundle(bundle)), [c for c in check_bundle(bundle) if not c.ok]
    # The new key cannot stand in for the old: a bundle naming it for an old acknowledgement fails.
    [ack] = [i for i in bundle["evidence"] if i["kind"] == "acknowledgement" and i["ref"] == jti(1)]
    ack["manifest"] = third
    [failed] = [c for c in check_bundle(bundle) if not c.ok]
    assert failed.item.startswith(f"acknowledgement {jti(1)}") and "bad_key" in failed.reason


def _forge_discrepancy(bundle: dict) -> str:
    [found] = [d for d in bundle["discrepancies"] if d["kind"] == "held_past_retention"]
    found["text"] = found["text"].replace("3 March 2027", "3 March 2030")
    return f"discrepancy {bundle['discrepancies'].index(found) + 1}"


def _drop(field: str):
    def forge(bundle: dict) -> str:
        [item] = [i for i in bundle["evidence"] if i["kind"] == "acknowledgement" and i["ref"] == jti(1)]
        del item[field]
        return f"acknowledgement {jti(1)}" + (f" (ledger entry {item['seq']})" if "seq" in item else "")

    return forge


def _controller(bundle: dict) -> str:
    bundle["controller"]["name"] = "Somebody Else Ltd"
    return "controller"


def _attachment(bundle: dict) -> str:
    data = b"their letter"
    bundle["attachments"] = [
        {"name": "a.txt", "bytes": 12, "sha256": hashlib.sha256(b"another").hexdigest(),
         "content_base64": base64.b64encode(data).decode()}
    ]  # fmt: skip
    return "your attachment a.txt"


@pytest.mark.parametrize(
    "forge", [_forge_discrepancy, _drop("seq"), _drop("token"), _controller, _attachment]
)
def test_what_the_vault_wrote_beside_the_evidence_is_checked_too(vault: Vault, forge) -> None:
    bundle = collect(vault, ORIGIN, now=NOW).bundle
    assert all(c.ok for c in check_bundle(bundle))
    named = forge(bundle)
    assert [c.item for c in check_bundle(load_bundle(msgspec.json.encode(bundle))) if not c.ok] == [named]


def test_a_bundle_nested_too_deeply_is_refused_in_words() -> None:
    with pytest.raises(BundleInvalid, match="nested too deeply"):
        load_bundle(b"[" * 100_000 + b"]" * 100_000)


def test_a_deletion_message_confirms_an_erasure_the_notice_did_not_reach(vault: Vault) -> None:
    def unconfirmed() -> list[str]:
        found = collect(vault, ORIGIN, now=NOW).bundle["discrepancies"]
        return [d["text"] for d in found if d["kind"] == "erasure_unconfirmed"]

    assert len(unconfirmed()) == 1
    subject = key_subject(vault.pairwise_key(ORIGIN, 0).public_jwk)
    deleted = make_message(
        SITE_KEY, manifest=manifest_for(), subject=subject, kind="deletion", title="We deleted your data",
        body="As you asked.", now=NOW - 100, jti="message-000000000003", purpose="age-check",
    )  # fmt: skip
    with vault.transaction() as conn:
        ledger.append(
            conn,
            at=NOW - 100,
            origin=ORIGIN,
            ref="message-000000000003",
            body=MessageReceived(message_kind="deletion", via="page", token=deleted),
        )
    assert unconfirmed() == []
