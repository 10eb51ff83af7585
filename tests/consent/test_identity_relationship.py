"""The relationship with a site that knows the user by two unlinked identities: the shared one, and the own
identity of a context that keeps one ("Work"). Real parts: a real SQCipher vault, disclosures through the
real request path (vault.consent.service), and the real access-request site process
(tests/consent/access_site.py, only vault.site inside).

- An access request goes once per identity, each signed with (and verified by the site as) its own
  subject, and each statement is held only against what was disclosed under that identity: a site that
  lists under the Work identity what only the shared one was given is caught, the shared one is not.
- Retention-end requests are per identity too.
- The inbox takes a message addressed to the Work identity's subject, and refuses one addressed to the
  subject the Work identity has at another site.
- The complaint, the site report and the export each keep the identities apart, and say which context.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import msgspec
import pytest

from tests.consent.test_access import DAY, SiteProcess, real_now
from tests.consent.test_revocation import SITE_KEY, make_vault
from vault.consent import ledger
from vault.consent.access import erasures, schedule_retention_checks
from vault.consent.access_delivery import ask
from vault.consent.access_views import access_view, latest_discrepancies
from vault.consent.complaint import collect
from vault.consent.contexts import Context, add_context, new_context_id, use_context
from vault.consent.export import export_vault
from vault.consent.export_format import SCHEMA_PATH
from vault.consent.gpc import set_site_gpc
from vault.consent.inbox import MessageRefused, inbox, receive
from vault.consent.ledger_records import AccessRequested
from vault.consent.policy import Answer
from vault.consent.report import site_report
from vault.consent.service import Shared, decide_prompt, request_presentation
from vault.consent.sites import current_subjects, identities, subject_of
from vault.site import InMemoryReplayStore, make_message, make_nonce, verify_presentation
from vault.store import Vault

OTHER = "https://elsewhere.example"


def _ids(prefix: str):
    counter = iter(range(1, 10**6))
    return lambda: f"{prefix}-{next(counter):016d}"


new_id = _ids("id")


def share(vault: Vault, shop: SiteProcess, purpose: str, *, now: int, keep_days: int) -> str:
    """The site asks, the user shares (once); the site verifies the presentation, keeps it under the
    subject it learnt, and the subject is returned."""
    nonce = make_nonce()
    asked = request_presentation(
        vault,
        manifest=shop.manifest,
        audience=shop.origin,
        purpose_id=purpose,
        nonce=nonce,
        now=now,
        new_id=new_id,
    )
    claims = frozenset(q.claim for q in asked.prompt.questions)
    shared = decide_prompt(vault, asked.prompt.id, Answer(True, claims, False), now=now, new_id=new_id)
    assert isinstance(shared, Shared)
    verified = verify_presentation(
        shared.token, manifest=shop.manifest, nonce=nonce, now=now, replay=InMemoryReplayStore()
    )
    shop.held.append(
        {
            "presentation": shared.jti,
            "subject": verified.subject,
            "purpose": purpose,
            "claims": shared.claims,
            "received_at": now,
            "keep_until": now + keep_days * DAY,
            "recipients": [],
        }
    )
    shop.write()
    return verified.subject


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    with make_vault(vault_home, real_now() - 30 * DAY) as vault:
        vault.set_attribute("sizes.shoe", 42, now=real_now() - 30 * DAY)
        yield vault


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[SiteProcess]:
    site = SiteProcess(tmp_path / "site")
    yield site
    site.stop()


@pytest.fixture
def two(vault: Vault, shop: SiteProcess) -> tuple[Context, str, str]:
    """Recommendations shared under the shared identity (Everyday), then an age check under Work's own
    identity (Work is always used on this site): (Work, the shared subject, Work's subject)."""
    now = real_now()
    shared = share(vault, shop, "recommendations", now=now - 10 * DAY, keep_days=30)
    work = add_context(
        vault, "Work", now=now - 9 * DAY, new_id=new_context_id("work context"), separate_identity=True
    )
    use_context(vault, "Work", now=now - 9 * DAY, origin=shop.origin)
    own = share(vault, shop, "age-check", now=now - DAY // 2, keep_days=1)
    assert shared != own
    return work, shared, own


def test_an_access_request_goes_once_per_identity_and_each_answer_is_held_against_its_own(
    vault: Vault, shop: SiteProcess, two: tuple[Context, str, str]
) -> None:
    work, shared, own = two
    # The site links the two: under Work it also lists what only the shared identity was given.
    (linked,) = [dict(item, subject=own) for item in shop.held if item["subject"] == shared]
    shop.held.append(linked)
    shop.start("honest")
    assert identities(vault, shop.origin, 0) == [None, work.id]

    first = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)
    assert first is not None
    answered = [r for r in shop.received() if r["outcome"] == "answered"]
    # Two requests, each verified by the site under its own subject (one key each).
    assert sorted(r["subject"] for r in answered) == sorted([shared, own])
    assert len({r["jti"] for r in answered}) == 2
    view = access_view(vault, first)
    assert view is not None and view.state == "answered" and view.identity is None
    assert view.identity_words is None and view.discrepancies == []  # the shared identity's holds up
    (other,) = view.also
    assert other.state == "answered" and other.identity == work.id
    assert other.identity_words == "for your Work identity"
    (flag,) = other.discrepancies  # Work never gave its recommendations
    assert flag.kind == "never_disclosed" and flag.purpose == "recommendations"
    assert {h.purpose for h in other.holdings} == {"age-check", "recommendations"}
    assert latest_discrepancies(vault, shop.origin) == [flag]
    requested = [e.record for e in ledger.entries(vault, kinds=("access_request",))]
    assert all(isinstance(r, AccessRequested) for r in requested)
    assert sorted((r.identity or "") for r in requested) == ["", work.id]  # type: ignore[union-attr]

    # Both were answered, so asking again makes new requests.
    again = ask(vault, shop.origin, now=real_now, allow_loopback_http=True)
    assert again not in (None, first)


def test_retention_end_asks_each_identity_about_its_own_disclosures(
    vault: Vault, shop: SiteProcess, two: tuple[Context, str, str]
) -> None:
    work, _, _ = two
    queued = schedule_retention_checks(vault, now=real_now() + 40 * DAY, new_id=_ids("retention"))
    rows = vault.conn.execute(
        "SELECT identity, presentations FROM access_requests WHERE reason = 'retention_end' ORDER BY id"
    ).fetchall()
    assert len(queued) == 2
    by_identity = {identity: json.loads(presentations) for identity, presentations in rows}
    assert set(by_identity) == {None, work.id}
    held = {item["subject"]: item["presentation"] for item in shop.held}
    assert by_identity[work.id] == [held[two[2]]] and by_identity[None] == [held[two[1]]]


def test_the_inbox_takes_a_message_to_any_identity_the_site_knows_and_no_other(
    vault: Vault, shop: SiteProcess, two: tuple[Context, str, str]
) -> None:
    work, shared, own = two
    assert current_subjects(vault, shop.origin) == {shared: None, own: work.id}
    now = real_now()

    def message(subject: str, n: int) -> str:
        return make_message(
            SITE_KEY,
            manifest=shop.manifest,
            subject=subject,
            kind="breach",
            title="We were breached",
            body="Your data may have leaked.",
            now=now,
            jti=f"message-{n:016d}",
        )

    assert receive(vault, shop.origin, message(own, 1), via="page", now=now).kind == "breach"
    assert receive(vault, shop.origin, message(shared, 2), via="page", now=now).kind == "breach"
    # The Work identity's subject at another site is not one this site knows.
    with pytest.raises(MessageRefused) as refused:
        receive(vault, shop.origin, message(subject_of(vault, OTHER, 0, work.id), 3), via="page", now=now)
    assert refused.value.code == "wrong_audience"
    # Nor is an identity the vault never disclosed under at this site.
    with pytest.raises(MessageRefused) as refused:
        never = subject_of(vault, shop.origin, 0, "c-never")
        receive(vault, shop.origin, message(never, 4), via="page", now=now)
    assert refused.value.code == "wrong_audience"
    assert {m.jti for m in inbox(vault, shop.origin).messages} == {f"message-{n:016d}" for n in (1, 2)}
    # A deletion confirmed to the Work identity is an erasure of Work's disclosures only.
    deletion = make_message(
        SITE_KEY,
        manifest=shop.manifest,
        subject=own,
        kind="deletion",
        title="Deleted",
        body="We deleted your age check.",
        now=now,
        jti="message-deletion-0001",
        purpose="age-check",
    )
    assert receive(vault, shop.origin, deletion, via="page", now=now).kind == "deletion"
    assert [e.purpose for e in erasures(vault, shop.origin, 0, own, work.id)] == ["age-check"]
    assert erasures(vault, shop.origin, 0, shared) == []


def test_complaint_report_and_export_keep_the_identities_apart_and_name_the_context(
    vault: Vault, shop: SiteProcess, two: tuple[Context, str, str]
) -> None:
    work, shared, own = two
    now = real_now()
    # The complaint: one identity at a time, the shared one by default.
    default = collect(vault, shop.origin, now=now)
    assert default.bundle["subject"] == shared and default.other_identities == 1
    assert own not in msgspec.json.encode(default.bundle).decode()
    in_work = collect(vault, shop.origin, now=now, identity="work")
    assert in_work.bundle["subject"] == own and shared not in msgspec.json.encode(in_work.bundle).decode()
    assert {e["purpose"] for e in in_work.bundle["evidence"] if e["kind"] == "disclosure"} == {"age-check"}

    # The site report: each disclosure's context, the context in force and whether GPC is sent.
    set_site_gpc(vault, shop.origin, enabled=False, now=now)
    report = site_report(vault, shop.origin, now=now)
    assert [(d.purpose, d.context, d.context_name, d.identity) for d in report.disclosures] == [
        ("recommendations", "everyday", "Everyday", None),
        ("age-check", work.id, "Work", work.id),
    ]
    assert report.active is not None and report.active.context.id == work.id
    assert report.active.source == "site"
    assert report.gpc is not None and not report.gpc.sent and not report.gpc.site_switch

    # The export: contexts, choices, GPC switches, and each disclosure's context and identity.
    exported = msgspec.json.decode(msgspec.json.encode(export_vault(vault, now=now)))
    jsonschema.validate(exported, json.loads(SCHEMA_PATH.read_text()), cls=jsonschema.Draft202012Validator)
    assert [(c["id"], c["name"], c["separate_identity"], c["removed_at"]) for c in exported["contexts"]] == [
        ("everyday", "Everyday", False, None),
        (work.id, "Work", True, None),
    ]
    choices = exported["context_choices"]
    assert choices["browser"] is None and choices["timed"] is None
    assert [(s["origin"], s["context"], s["until"]) for s in choices["sites"]] == [
        (shop.origin, work.id, None)
    ]
    assert exported["gpc_sites"] == [{"origin": shop.origin, "enabled": False, "set_at": now}]
    assert exported["gpc_default"]["sent"] is True and exported["gpc_default"]["context"] == "everyday"
    (site,) = [s for s in exported["sites"] if s["origin"] == shop.origin]
    assert [(s["identity"], s["subject"], s["current"]) for s in site["subjects"]] == [
        (None, shared, True),
        (work.id, own, True),
    ]
    assert [(d["context"], d["context_name"]) for d in site["disclosures"]] == [
        ("everyday", "Everyday"),
        (work.id, "Work"),
    ]
    records = {r["purpose"]["id"]: r for r in exported["consent_records"] if r["record_kind"] == "disclosure"}
    assert records["age-check"]["subject"]["pairwise_id"] == own
    assert records["age-check"]["subject"]["identity"] == work.id
    assert (records["age-check"]["context"], records["age-check"]["context_name"]) == (work.id, "Work")
    assert records["recommendations"]["subject"]["pairwise_id"] == shared
    assert records["recommendations"]["subject"]["identity"] is None
    assert {r["context"] for r in exported["rules"]} == {"everyday"}  # Work started empty
