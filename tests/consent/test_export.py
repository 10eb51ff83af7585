"""`vault export`: a vault with 10,000 disclosures against the committed JSON Schema (checked by jsonschema,
not by msgspec), consent records after ISO/IEC TS 27560, a ledger a reader can re-check, no secrets."""

import dataclasses
import hashlib
import io
import itertools
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import msgspec
import pytest

from tests import example
from tests.issuing import issue_from_profile
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.disclosures import record_disclosure
from vault.consent.export import export_vault, write_export
from vault.consent.export_format import SCHEMA_PATH, schema_text
from vault.consent.policy import Answer
from vault.consent.records import add_rule
from vault.consent.report import site_report
from vault.consent.revocation import revoke
from vault.consent.service import decide_prompt, request_presentation
from vault.consent.sites import remember_manifest
from vault.protocol.acknowledgement import Acknowledgement, sign_acknowledgement
from vault.protocol.manifest import Manifest, decode_manifest, manifest_index
from vault.protocol.presentation import open_presentation
from vault.site import make_nonce
from vault.store import Vault

DAY = 86400
# Disclosures 20 minutes apart, as a busy user's might be.
STEP = 1200
START = NOW + 10
SITES = ("https://shop.example", "https://news.example", "https://books.example")
PROFILE = {"birthdate": "1990-05-17", "country": "NL", "sizes.shoe": 42, "interests": ["jazz", "hiking"]}
FIELDS_27560 = (
    "record_id",
    "subject",
    "controller",
    "purpose",
    "personal_data",
    "retention",
    "recipients",
    "withdrawal_method",
    "event_time",
    "validity",
    "state",
)
_ids = (f"id-{n:016d}" for n in itertools.count())


def new_id() -> str:
    return next(_ids)


def manifest_for(origin: str) -> Manifest:
    built = msgspec.structs.replace(
        example.manifest(), origin=origin, revocation_endpoint=f"{origin}/.well-known/vault-revocation"
    )
    return decode_manifest(msgspec.json.encode(built))


ISSUED_TOKENS: list[str] = []  # every presentation token record_disclosures signed


def record_disclosures(vault: Vault, count: int, *, start: int = START, signed: int = 20) -> None:
    """Real ledger rows through record_disclosure; `signed` real tokens per (site, purpose) are reused
    with fresh jtis and times."""
    seed, attributes = vault.master_seed(), vault.attributes()
    manifests = {origin: manifest_for(origin) for origin in SITES}
    templates = {}
    with vault.transaction() as conn:
        for manifest in manifests.values():
            remember_manifest(conn, manifest, now=start)
        for i in range(count):
            origin, purpose = SITES[i % 3], ("recommendations", "age-check")[i // 3 % 2]
            key = (origin, purpose, i % signed)
            if key not in templates:
                templates[key] = issue_from_profile(
                    attributes=attributes,
                    master_seed=seed,
                    epoch=vault.site_epoch(origin),
                    manifest=manifests[origin],
                    purpose_id=purpose,
                    audience=origin,
                    nonce=make_nonce(),
                    requested=None,
                    now=start + i * STEP,
                    jti=f"jti-{i:012d}",
                )
                ISSUED_TOKENS.append(templates[key].token)
            template = templates[key]
            issued = dataclasses.replace(
                template,
                jti=f"jti-{i:012d}",
                issued_at=start + i * STEP,
                expires_at=start + i * STEP + (template.expires_at - template.issued_at),
            )
            record_disclosure(
                conn,
                issued=issued,
                manifest=manifests[origin],
                purpose_id=purpose,
                epoch=vault.site_epoch(origin),
                prompt_id=None,
                recipients=open_presentation(issued.token)[1].recipients,
            )


def revoked_at(disclosures: int) -> int:
    return START + disclosures * STEP


EXPORTED_AT = revoked_at(10_000) + DAY


def fill(vault: Vault, disclosures: int) -> None:
    """A vault with a bit of everything: profile, rules, decisions made through a prompt (one remembered,
    one refused claim), a pending prompt, bulk disclosures, an acknowledgement, a revocation in the outbox."""
    for name, value in PROFILE.items():
        vault.set_attribute(name, value, now=NOW)
    add_rule(vault, "never", "email", now=NOW)
    news = manifest_for("https://news.example")
    asked = request_presentation(
        vault,
        manifest=news,
        audience=news.origin,
        purpose_id="recommendations",
        nonce=make_nonce(),
        now=NOW,
        new_id=new_id,
    )
    share = frozenset({"age_over_18", "location.country", "sizes.shoe"})  # interests left unticked
    decided = decide_prompt(
        vault,
        asked.prompt.id,
        Answer(share=True, claims=share, remember=True, recipients=frozenset({"stock"})),
        now=NOW + 5,
        new_id=new_id,
    )
    assert decided.outcome == "granted"
    books = manifest_for("https://books.example")
    pending = request_presentation(
        vault,
        manifest=books,
        audience=books.origin,
        purpose_id="age-check",
        nonce=make_nonce(),
        now=NOW + 6,
        new_id=new_id,
    )
    assert pending.outcome == "consent_required"
    record_disclosures(vault, disclosures)
    # The site's signed promise (ledger verification checks what the entry says against it).
    promise = Acknowledgement(
        iss=SITES[0],
        aud="urn:ietf:params:oauth:jwk-thumbprint:sha-256:x",
        iat=NOW + 20,
        presentation="jti-000000000000",
        purpose="recommendations",
        purpose_digest=manifest_index(manifest_for(SITES[0]))["recommendations"].digest,
        claims=("age_over_18",),
        keep_until=NOW + 20 * DAY,
        recipients=(),
    )
    token = sign_acknowledgement(example.site_key(), promise)
    with vault.transaction() as conn:
        ledger.append(
            conn,
            at=NOW + 20,
            kind="acknowledgement",
            origin=SITES[0],
            purpose_id="recommendations",
            ref="jti-000000000000",
            body={"claims": ["age_over_18"], "keep_until": NOW + 20 * DAY, "token": token},
        )
    revoke(
        vault, SITES[0], purpose_id="recommendations", erase=True, now=revoked_at(disclosures), new_id=new_id
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Vault:
    home = tmp_path_factory.mktemp("export") / "vault"
    with Vault.create(home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        fill(vault, 10_000)
        yield vault


@pytest.fixture(scope="module")
def exported(big: Vault) -> dict:
    out = io.BytesIO()
    write_export(big, out, now=EXPORTED_AT)
    return json.loads(out.getvalue())


def test_committed_schema_is_the_one_the_structs_generate() -> None:
    assert SCHEMA_PATH.read_bytes() == schema_text(), "regenerate it: python -m vault.consent.export"


@pytest.mark.slow  # jsonschema is pure Python: about 3 ms per consent record
def test_export_of_10000_disclosures_validates_against_the_committed_schema(exported: dict) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = list(itertools.islice(validator.iter_errors(exported), 5))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    disclosures = [d for site in exported["sites"] for d in site["disclosures"]]
    assert len(disclosures) == 10_001  # the bulk, plus the one the prompt granted
    assert [s["origin"] for s in exported["sites"]] == sorted(SITES)
    assert exported["ledger_verification"]["ok"] is True
    assert len(exported["ledger"]) == exported["ledger_verification"]["entries"]


def test_schema_rejects_what_it_should(exported: dict) -> None:
    """The schema is not a rubber stamp: broken records fail it."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    small = {**exported, "ledger": exported["ledger"][:3], "consent_records": exported["consent_records"][:3]}
    small["sites"] = [{**s, "disclosures": s["disclosures"][:2]} for s in exported["sites"]]
    assert validator.is_valid(small)
    for breakage in (
        lambda e: e["consent_records"][0].pop("withdrawal_method"),
        lambda e: e["consent_records"][0].update(state="maybe"),
        lambda e: e["ledger"][0].update(hash="not hex"),
        lambda e: e.update(surprise=1),
        lambda e: e["sites"][0]["disclosures"][0].pop("claims"),
    ):
        broken = json.loads(json.dumps(small))
        breakage(broken)
        assert not validator.is_valid(broken)


def test_streamed_export_equals_the_in_memory_one(big: Vault, exported: dict) -> None:
    in_memory = msgspec.json.decode(msgspec.json.encode(export_vault(big, now=EXPORTED_AT)))
    assert in_memory == exported


def test_sites_show_what_vault_site_shows(big: Vault, exported: dict) -> None:
    for site in exported["sites"]:
        report = msgspec.to_builtins(site_report(big, site["origin"]).disclosures)
        assert site["disclosures"] == report
    shop = next(s for s in exported["sites"] if s["origin"] == SITES[0])
    assert shop["manifest"]["controller"]["name"] == "Example Shoes B.V."
    assert shop["subject"].startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-256:")
    first = next(d for d in shop["disclosures"] if d["jti"] == "jti-000000000000")
    assert (
        first["acknowledged"] and first["withdrawn_at"] == revoked_at(10_000) and first["erasure_requested"]
    )


def test_consent_records_follow_27560(exported: dict) -> None:
    records = exported["consent_records"]
    decisions = [r for r in records if r["record_kind"] == "decision"]
    disclosures = [r for r in records if r["record_kind"] == "disclosure"]
    assert len(disclosures) == 10_001 and len(decisions) == 4  # three claims allowed, interests refused
    assert len({r["record_id"] for r in records}) == len(records)
    for record in records:
        for field in FIELDS_27560:
            assert record[field] not in (None, [], ""), (field, record["record_id"])
        assert record["schema_version"] == "ISO/IEC TS 27560:2023"
        assert record["lawful_basis"] == "dpv:Consent"
        assert record["purpose"]["concept"].startswith("dpv:")
        assert record["controller"]["name"] == "Example Shoes B.V."
        assert record["recipients"][0]["role"] == "controller"
        origin = record["notice"]["manifest_url"].removesuffix("/.well-known/vault-manifest.json")
        assert record["withdrawal_method"].startswith(
            f"vault revoke {origin} --purpose {record['purpose']['id']}"
        )
        assert record["event_time"] == record["events"][-1]["event_time"]
        assert record["dpv_status"] == "dpv:Consent" + record["state"].capitalize()
    states = {(r["record_kind"], r["state"]) for r in records}
    assert states == {
        ("decision", "given"),
        ("decision", "refused"),
        ("disclosure", "given"),
        ("disclosure", "expired"),
        ("disclosure", "withdrawn"),
        ("recipient_decision", "given"),  # the required stock check, switched on
        ("recipient_decision", "refused"),  # the optional analytics partner, left off
    }
    about = {r["recipient"]: r for r in records if r["record_kind"] == "recipient_decision"}
    assert [p["claim"] for p in about["stock"]["personal_data"]] == ["location.country"]
    assert about["analytics"]["state"] == "refused"
    assert [p["claim"] for p in about["analytics"]["personal_data"]] == ["sizes.shoe", "interests"]
    parties = about["stock"]["recipients"][1:]  # after the controller: the purpose's third parties
    assert [(p["id"], p["dpv_role"], p["country"], p["required"]) for p in parties] == [
        ("stock", "dpv:Processor", "IE", True),
        ("analytics", "dpv:ThirdParty", "NL", False),
    ]
    refused = next(r for r in decisions if r["state"] == "refused")
    assert [p["claim"] for p in refused["personal_data"]] == ["interests"]
    assert refused["prompt"] is None and refused["subject"]["pairwise_id"] is None
    given = next(r for r in decisions if r["state"] == "given")
    assert given["subject"]["pairwise_id"].startswith("urn:ietf:params:oauth:jwk-thumbprint:")
    assert given["retention"] == "P30D" and given["validity"]["until"] > given["validity"]["from"]
    shop_first = next(r for r in disclosures if r["disclosure"] == "jti-000000000000")
    assert shop_first["state"] == "withdrawn"
    assert [e["state"] for e in shop_first["events"]] == ["given", "withdrawn"]
    assert {p["claim"]: p["value"] for p in shop_first["personal_data"]} == {
        "age_over_18": True,
        "location.country": "NL",
        "sizes.shoe": 42,
        "interests": ["jazz", "hiking"],
    }
    # A disclosure lists the third parties the user allowed (the required stock check), each with what it
    # received and the withdrawal asked of it: the site's revocation covers them too.
    assert [p["name"] for p in shop_first["recipients"]] == ["Example Shoes B.V.", "Example Stock Check Ltd."]
    stock = shop_first["recipients"][1]
    assert stock["claims"] == ["location.country"] and stock["allowed"] is True
    assert [(w["claims"], w["erasure"], w["state"], w["outcome"]) for w in stock["withdrawals"]] == [
        (["location.country"], True, "pending", None)
    ]
    assert shop_first["notice"]["matches_stored_manifest"] is True
    age_check = next(r for r in disclosures if r["purpose"]["id"] == "age-check")
    assert age_check["state"] == "expired" and age_check["retention"] == "P1D"


def test_refused_decision_is_not_given_a_subject_but_standing_ones_are(big: Vault) -> None:
    later = export_vault(big, now=NOW + 400 * DAY)  # past every remembered decision's expiry
    states = {r.state for r in later.consent_records if r.record_kind == "decision"}
    assert states == {"expired"}
    assert all(r.subject.pairwise_id is None for r in later.consent_records if r.record_kind == "decision")


def test_the_ledger_can_be_rechecked_from_the_export_alone(exported: dict) -> None:
    previous = hashlib.sha256(b"personal-vault ledger v1\n" + exported["vault"]["vault_id"].encode()).digest()
    for entry in exported["ledger"]:
        columns = json.dumps(
            [entry[k] for k in ("seq", "at", "kind", "origin", "purpose_id", "ref")], separators=(",", ":")
        )
        body = json.dumps(entry["body"], separators=(",", ":"), ensure_ascii=False)
        previous = hashlib.sha256(previous + columns.encode() + b"\n" + body.encode()).digest()
        assert previous.hex() == entry["hash"], entry["seq"]
    assert exported["ledger_verification"]["head_hash"] == previous.hex()


def test_no_secrets_in_the_export(big: Vault) -> None:
    out = io.BytesIO()
    write_export(big, out, now=NOW)
    text = out.getvalue()
    seed = big.master_seed()
    assert seed.hex().encode() not in text
    assert msgspec.json.encode(seed).strip(b'"') not in text
    assert ISSUED_TOKENS and not any(token.encode() in text for token in ISSUED_TOKENS)
    outcomes = [o for (o,) in big.conn.execute("SELECT outcome FROM prompts WHERE outcome IS NOT NULL")]
    assert outcomes and b'"token"' not in b"".join(
        json.dumps(p).encode() for p in json.loads(text)["prompts"]
    )


def test_outbox_rules_and_prompts_are_exported(exported: dict) -> None:
    # A fresh vault's Everyday context refuses the purposes Global Privacy Control speaks for.
    assert exported["rules"] == [
        {"kind": kind, "target": target, "created_at": NOW, "context": "everyday"}
        for kind, target in (
            ("deny_concept", "dpv:SellDataToThirdParties"),
            ("deny_concept", "dpv:TargetedAdvertising"),
            ("never", "email"),
        )
    ]
    assert exported["outbox"] and all(n["origin"] == SITES[0] for n in exported["outbox"])
    assert all(n["notice"].count(".") == 2 for n in exported["outbox"])
    assert {p["state"] for p in exported["prompts"]} == {"decided", "pending"}
    assert {a["name"]: a["value"] for a in exported["profile"]} == PROFILE


def test_empty_vault_exports_and_validates(tmp_path: Path) -> None:
    with Vault.create(tmp_path / "v", PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        out = io.BytesIO()
        write_export(vault, out, now=NOW)
    document = json.loads(out.getvalue())
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()), cls=jsonschema.Draft202012Validator)
    assert document["ledger"] == [] and document["ledger_verification"]["ok"] is True
    assert document["format"] == "personal-vault-export" and document["version"] == 1


def test_a_broken_ledger_is_reported_in_the_export(tmp_path: Path) -> None:
    with Vault.create(tmp_path / "v", PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        vault.set_attribute("birthdate", "1990-05-17", now=NOW)
        vault.set_attribute("country", "NL", now=NOW)
        record_disclosures(vault, 3, signed=1)
        with vault.transaction() as conn:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'ledger_head'", (b"\0" * 40,))
        verification = export_vault(vault, now=NOW).ledger_verification
    assert not verification.ok and "head" in verification.problem


def test_ledger_benchmark_runs_at_small_scale() -> None:
    """scripts/bench_ledger.py at a size a test can afford; the real run is 1,000,000 disclosures."""
    script = Path(__file__).parents[2] / "scripts" / "bench_ledger.py"
    args = ["--disclosures", "3000", "--sites", "10", "--samples", "5", "--batch", "1000"]
    proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Filled 3,000 disclosures" in proc.stdout
    assert "ok=True" in proc.stdout and "bytes per disclosure" in proc.stdout
    assert "SEARCH disclosures USING PRIMARY KEY (origin=?)" in proc.stdout


def test_records_say_when_the_site_changed_its_purpose_or_was_never_stored(tmp_path: Path) -> None:
    with Vault.create(tmp_path / "v", PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        for name, value in PROFILE.items():
            vault.set_attribute(name, value, now=NOW)
        record_disclosures(vault, 3, signed=1)  # shop, news, books: one each, all with stored manifests
        shop = manifest_for(SITES[0])
        purposes = [msgspec.structs.replace(p, title="Changed title") for p in shop.purposes]
        changed = decode_manifest(
            msgspec.json.encode(msgspec.structs.replace(shop, purposes=tuple(purposes)))
        )
        with vault.transaction() as conn:
            remember_manifest(conn, changed, now=NOW + 1)
            conn.execute("UPDATE sites SET manifest = NULL WHERE origin = ?", (SITES[1],))
        exported = export_vault(vault, now=NOW + 2)
    jsonschema.validate(
        msgspec.json.decode(msgspec.json.encode(exported)),
        json.loads(SCHEMA_PATH.read_text()),
        cls=jsonschema.Draft202012Validator,
    )
    records = {r.notice.manifest_url.split("/.well-known")[0]: r for r in exported.consent_records}
    shop_record, news_record = records[SITES[0]], records[SITES[1]]
    assert not shop_record.notice.matches_stored_manifest
    assert (
        shop_record.purpose.title == "Changed title"
    )  # what the site says now; the digest says what was shown
    assert shop_record.notice.purpose_digest != manifest_index(changed)["recommendations"].digest
    assert news_record.controller is None and news_record.purpose.title is None
    # No manifest to name it by, but the ledger still says which third party was allowed, and what it got.
    assert [(p.id, p.name, p.claims) for p in news_record.recipients] == [
        ("stock", "stock", ["location.country"])
    ]
    assert news_record.retention == "P30D"  # from the disclosure itself
    assert records[SITES[2]].notice.matches_stored_manifest
