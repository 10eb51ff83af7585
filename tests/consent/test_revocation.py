"""Revoking: decisions revoked, disclosures withdrawn by notices signed with the right pairwise key,
queued in the outbox, all in one transaction; "forget me" replaces the site's identity.

The helpers here build a vault with real disclosures (issue_from_profile + record_disclosure) and are
shared with test_outbox.py.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest

from tests import example
from tests.issuing import issue_from_profile
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.claims.issuer import Issued
from vault.consent import ledger
from vault.consent.disclosures import record_disclosure
from vault.consent.report import site_report
from vault.consent.revocation import revoke
from vault.consent.sites import remember_manifest
from vault.errors import InvalidInput
from vault.protocol.jwk import OkpPublicJwk, key_subject
from vault.protocol.keys import derive_pairwise_key
from vault.protocol.manifest import Manifest, decode_manifest
from vault.protocol.presentation import open_presentation
from vault.protocol.revocation import MAX_WITHDRAWN, open_notice
from vault.site import InMemoryReplayStore, NoticeInvalid, SigningKey, make_nonce, verify_presentation
from vault.site import verify_revocation as site_verify_revocation
from vault.store import Vault

ORIGIN = "https://shop.example"
SITE_KEY = SigningKey.from_seed(hashlib.sha256(b"revocation test site key").digest())


def manifest_for(origin: str = ORIGIN, site_key: SigningKey = SITE_KEY) -> Manifest:
    data = msgspec.to_builtins(example.manifest())
    data["origin"] = origin
    data["revocation_endpoint"] = origin + "/.well-known/vault-revocation"
    data["site_key"] = msgspec.to_builtins(OkpPublicJwk(**site_key.public_jwk))
    return decode_manifest(msgspec.json.encode(data))


def make_vault(home: Path, now: int = NOW) -> Vault:
    vault = Vault.create(home, PASSPHRASE, now=now, kdf=FAST_KDF)
    vault.set_attribute("birthdate", "1990-05-17", now=now)
    vault.set_attribute("country", "NL", now=now)
    return vault


def ids(prefix: str = "notice") -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter):016d}"


class Site:
    """What the site stored: the subject of every presentation it verified (as vault.site hands it out)."""

    def __init__(self) -> None:
        self.subjects: dict[str, str] = {}

    def verify_notice(self, token: str, manifest: Manifest, now: int):
        return site_verify_revocation(token, manifest=manifest, now=now, stored_subject=self.subjects.get)


def disclose(
    vault: Vault,
    manifest: Manifest,
    purpose_id: str,
    jti: str,
    *,
    now: int = NOW,
    site: Site | None = None,
    remember: bool = True,
    recipients: tuple[str, ...] | None = None,
) -> Issued:
    """A disclosure through the real path: the manifest stored, a presentation issued and recorded.
    `recipients`: the third parties allowed (default: the purpose's required ones that receive a claim)."""
    nonce = make_nonce()
    epoch = vault.site_epoch(manifest.origin)
    issued = issue_from_profile(
        attributes=vault.attributes(),
        master_seed=vault.master_seed(),
        epoch=epoch,
        manifest=manifest,
        purpose_id=purpose_id,
        audience=manifest.origin,
        nonce=nonce,
        requested=None,
        now=now,
        jti=jti,
        recipients=recipients,
    )
    with vault.transaction() as conn:
        if remember:
            remember_manifest(conn, manifest, now=now)
        record_disclosure(
            conn,
            issued=issued,
            manifest=manifest,
            purpose_id=purpose_id,
            epoch=epoch,
            prompt_id=None,
            recipients=open_presentation(issued.token)[1].recipients,
        )
    if site is not None:
        verified = verify_presentation(
            issued.token, manifest=manifest, nonce=nonce, now=now, replay=InMemoryReplayStore()
        )
        site.subjects[verified.jti] = verified.subject
    return issued


def add_decision(vault: Vault, origin: str, purpose_id: str, claim: str, *, now: int = NOW) -> None:
    with vault.transaction() as conn:
        conn.execute(
            "INSERT INTO decisions (origin, purpose_id, claim, claim_digest, effect, decided_at, expires_at) "
            "VALUES (?, ?, ?, 'digest', 'allow', ?, ?)",
            (origin, purpose_id, claim, now, now + 365 * 86400),
        )


def standing(vault: Vault, origin: str) -> list[tuple[str, str]]:
    rows = vault.conn.execute(
        "SELECT purpose_id, claim FROM decisions WHERE origin = ? AND revoked_at IS NULL ORDER BY id",
        (origin,),
    )
    return [tuple(row) for row in rows]


def outbox_rows(vault: Vault) -> list[tuple]:
    return list(vault.conn.execute("SELECT id, purpose_id, endpoint, notice, next_attempt_at FROM outbox"))


def kinds(vault: Vault) -> list[str]:
    return [entry.kind for entry in ledger.entries(vault)]


def jti(n: int, prefix: str = "p") -> str:
    return f"{prefix}-{n:016d}"


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    with make_vault(vault_home) as vault:
        yield vault


@pytest.fixture
def site() -> Site:
    return Site()


# -- revoking a site -------------------------------------------------------------------------------


def test_revoking_a_site_revokes_decisions_and_withdraws_each_purpose(vault: Vault, site: Site) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1), site=site)
    disclose(vault, manifest, "recommendations", jti(2), site=site, now=NOW + 10)
    disclose(vault, manifest, "age-check", jti(3), site=site, now=NOW + 20)
    add_decision(vault, ORIGIN, "recommendations", "age_over_18")
    add_decision(vault, ORIGIN, "recommendations", "location.country")
    add_decision(vault, ORIGIN, "age-check", "age_over_18")
    add_decision(vault, "https://other.example", "age-check", "age_over_18")

    result = revoke(vault, ORIGIN, now=NOW + 100, new_id=ids())

    assert result.decisions_revoked == 3
    assert standing(vault, ORIGIN) == []
    assert standing(vault, "https://other.example") == [("age-check", "age_over_18")]
    assert not result.nothing_to_withdraw and result.withdrawn == 3
    by_purpose = {notice.purpose_id: notice for notice in result.notices}
    assert by_purpose["recommendations"].presentations == (jti(1), jti(2))
    assert by_purpose["age-check"].presentations == (jti(3),)
    # Each notice verifies at the site against the subject it stored with those presentations.
    rows = outbox_rows(vault)
    assert len(rows) == 2
    for notice_id, purpose_id, endpoint, token, due in rows:
        assert endpoint == manifest.revocation_endpoint and due == NOW + 100
        received = site.verify_notice(token, manifest, NOW + 101)
        assert received.jti == notice_id
        assert received.purpose == purpose_id
        assert received.presentations == by_purpose[purpose_id].presentations
        assert received.unknown == () and received.erasure is False
        assert received.subject == site.subjects[jti(1)]
    # The ledger: one consent entry, one revocation entry per notice.
    revoked = list(ledger.entries(vault, kinds=("consent", "revocation")))
    assert revoked[0].body == {"action": "revoked", "purpose": None, "decisions": 3}
    assert {entry.ref: entry.body for entry in revoked[1:]} == {
        notice.jti: {
            "presentations": list(notice.presentations),
            "erasure": False,
            "endpoint": manifest.revocation_endpoint,
            "epoch": 0,
            # Withdrawing the site withdraws from every third party it passed the claims to.
            **({"recipients": ["stock"]} if notice.purpose_id == "recommendations" else {}),
        }
        for notice in result.notices
    }
    report = site_report(vault, ORIGIN)
    assert all(d.withdrawn_at == NOW + 100 and not d.withdrawal_acknowledged for d in report.disclosures)
    assert report.current(NOW + 100) == []
    assert ledger.verify(vault).ok


def test_revoking_one_purpose_leaves_the_others(vault: Vault, site: Site) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1), site=site)
    disclose(vault, manifest, "age-check", jti(2), site=site)
    add_decision(vault, ORIGIN, "recommendations", "age_over_18")
    add_decision(vault, ORIGIN, "age-check", "age_over_18")

    first = revoke(vault, ORIGIN, purpose_id="age-check", erase=True, now=NOW + 5, new_id=ids("a"))
    assert first.decisions_revoked == 1
    assert standing(vault, ORIGIN) == [("recommendations", "age_over_18")]
    assert [(n.purpose_id, n.presentations, n.erasure) for n in first.notices] == [
        ("age-check", (jti(2),), True)
    ]
    _, payload = open_notice(outbox_rows(vault)[0][3])
    assert payload.erasure is True
    assert next(ledger.entries(vault, kinds=("consent",))).body["purpose"] == "age-check"

    # The whole site afterwards: only what was not withdrawn yet.
    second = revoke(vault, ORIGIN, now=NOW + 6, new_id=ids("b"))
    assert [(n.purpose_id, n.presentations) for n in second.notices] == [("recommendations", (jti(1),))]
    report = {d.jti: d for d in site_report(vault, ORIGIN).disclosures}
    assert report[jti(2)].erasure_requested and not report[jti(1)].erasure_requested
    assert ledger.verify(vault).ok


def test_nothing_disclosed_still_revokes_decisions(vault: Vault) -> None:
    with vault.transaction() as conn:
        remember_manifest(conn, manifest_for(), now=NOW)
    add_decision(vault, ORIGIN, "recommendations", "age_over_18")

    result = revoke(vault, ORIGIN, now=NOW + 1, new_id=ids())
    assert result.decisions_revoked == 1 and result.nothing_to_withdraw and result.notices == ()
    assert outbox_rows(vault) == []
    assert kinds(vault) == ["consent"]

    again = revoke(vault, ORIGIN, now=NOW + 2, new_id=ids())
    assert again.decisions_revoked == 0 and again.nothing_to_withdraw
    assert ledger.verify(vault).ok


def test_a_withdrawn_disclosure_is_not_withdrawn_twice(vault: Vault) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1))
    assert len(revoke(vault, ORIGIN, now=NOW + 1, new_id=ids("a")).notices) == 1
    assert revoke(vault, ORIGIN, now=NOW + 2, new_id=ids("b")).nothing_to_withdraw
    # Disclosed again after the revocation (the user allowed it again): only the new one is withdrawn.
    disclose(vault, manifest, "recommendations", jti(2), now=NOW + 3)
    third = revoke(vault, ORIGIN, now=NOW + 4, new_id=ids("c"))
    assert [n.presentations for n in third.notices] == [(jti(2),)]


@pytest.mark.parametrize(
    ("origin", "purpose_id", "forget", "message"),
    [
        ("https://never.example", None, False, "never dealt with"),
        ("shop.example", None, False, "not a site origin"),
        ("https://shop.example/", None, False, "not a site origin"),
        ("http://shop.example", None, False, "not a site origin"),
        (ORIGIN, "Recommendations!", False, "not a purpose id"),
        (ORIGIN, "newsletter", False, "no purpose 'newsletter'"),
        (ORIGIN, "recommendations", True, "covers all its purposes"),
    ],
)
def test_refusals_change_nothing(
    vault: Vault, origin: str, purpose_id: str | None, forget: bool, message: str
) -> None:
    disclose(vault, manifest_for(), "recommendations", jti(1))
    add_decision(vault, ORIGIN, "recommendations", "age_over_18")
    before = len(kinds(vault))
    with pytest.raises(InvalidInput, match=message):
        revoke(vault, origin, purpose_id=purpose_id, forget=forget, now=NOW + 1, new_id=ids())
    assert len(kinds(vault)) == before
    assert standing(vault, ORIGIN) == [("recommendations", "age_over_18")]
    assert outbox_rows(vault) == [] and vault.site_epoch(ORIGIN) == 0


def test_without_a_stored_manifest_nothing_is_half_done(vault: Vault) -> None:
    disclose(vault, manifest_for(), "recommendations", jti(1), remember=False)
    add_decision(vault, ORIGIN, "recommendations", "age_over_18")
    with pytest.raises(InvalidInput, match="nowhere to send"):
        revoke(vault, ORIGIN, now=NOW + 1, new_id=ids())
    assert kinds(vault) == ["disclosure"]
    assert standing(vault, ORIGIN) == [("recommendations", "age_over_18")]


def test_one_transaction_a_failure_while_signing_leaves_nothing(vault: Vault) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1))
    disclose(vault, manifest, "age-check", jti(2))
    add_decision(vault, ORIGIN, "recommendations", "age_over_18")
    names = iter(["notice-000000000001", "bad id"])  # the second notice cannot be signed
    with pytest.raises(Exception, match="bad_jti"):
        revoke(vault, ORIGIN, now=NOW + 1, new_id=lambda: next(names))
    assert kinds(vault) == ["disclosure", "disclosure"]
    assert outbox_rows(vault) == [] and standing(vault, ORIGIN) != []


# -- epochs, chunks and forgetting -----------------------------------------------------------------


def test_notices_are_grouped_per_epoch_and_signed_with_that_epochs_key(vault: Vault, site: Site) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1), site=site)
    vault.bump_site_epoch(ORIGIN, now=NOW)  # e.g. an earlier "forget me" whose revocation failed
    disclose(vault, manifest, "recommendations", jti(2), site=site)
    assert site.subjects[jti(1)] != site.subjects[jti(2)]

    result = revoke(vault, ORIGIN, now=NOW + 1, new_id=ids())
    assert sorted((n.epoch, n.presentations) for n in result.notices) == [(0, (jti(1),)), (1, (jti(2),))]
    seed = vault.master_seed()
    for notice_id, _, _, token, _ in outbox_rows(vault):
        epoch = next(n.epoch for n in result.notices if n.jti == notice_id)
        received = site.verify_notice(token, manifest, NOW + 2)
        assert received.subject == key_subject(derive_pairwise_key(seed, ORIGIN, epoch).public_jwk)
    # A notice signed with the wrong epoch's key is refused: no one withdraws another identity's data.
    mixed = Site()
    mixed.subjects = {jti(1): site.subjects[jti(2)]}
    token = next(row[3] for row in outbox_rows(vault) if open_notice(row[3])[1].presentations == (jti(1),))
    with pytest.raises(NoticeInvalid, match="wrong_subject"):
        mixed.verify_notice(token, manifest, NOW + 2)


def test_many_disclosures_are_withdrawn_in_chunks(vault: Vault) -> None:
    manifest = manifest_for()
    total = MAX_WITHDRAWN + 44
    for n in range(total):
        disclose(vault, manifest, "age-check", jti(n), now=NOW + n)
    result = revoke(vault, ORIGIN, now=NOW + total, new_id=ids())
    assert [len(n.presentations) for n in result.notices] == [MAX_WITHDRAWN, 44]
    withdrawn = [j for n in result.notices for j in n.presentations]
    assert withdrawn == [jti(n) for n in range(total)]
    assert len(outbox_rows(vault)) == 2 and ledger.verify(vault).ok


def test_forget_withdraws_everything_with_the_old_key_then_changes_identity(vault: Vault, site: Site) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1), site=site)
    disclose(vault, manifest, "age-check", jti(2), site=site)
    old_subject = site.subjects[jti(1)]

    result = revoke(vault, ORIGIN, forget=True, erase=True, now=NOW + 1, new_id=ids())
    assert result.forgotten == (0, 1) and vault.site_epoch(ORIGIN) == 1
    for _, _, _, token, _ in outbox_rows(vault):
        received = site.verify_notice(token, manifest, NOW + 2)
        assert received.subject == old_subject and received.erasure
    assert kinds(vault)[-4:] == ["consent", "revocation", "revocation", "forget"]
    forget_entry = next(ledger.entries(vault, kinds=("forget",)))
    assert forget_entry.body == {"old_epoch": 0, "new_epoch": 1} and forget_entry.origin == ORIGIN

    # The next presentation comes from a new, unrelated identity.
    disclose(vault, manifest, "recommendations", jti(3), site=site, now=NOW + 3)
    assert site.subjects[jti(3)] != old_subject
    # And forgetting a site with nothing left to withdraw still gives it a new identity.
    again = revoke(vault, ORIGIN, forget=True, now=NOW + 4, new_id=ids("b"))
    assert again.forgotten == (1, 2) and [n.epoch for n in again.notices] == [1]
    assert ledger.verify(vault).ok
