"""Revoking at a finer grain: one third party (the site keeps its copy) or one claim (wherever it went),
and the whole site reaching every third party. Checked at the site's end too: each notice verifies with
the site library, names exactly whom to tell, and the vault folds the site's signed per-recipient answer
into the report, the export and a ledger that still verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.consent.test_revocation import (
    ORIGIN,
    SITE_KEY,
    Site,
    add_decision,
    disclose,
    ids,
    jti,
    kinds,
    make_vault,
    manifest_for,
    outbox_rows,
)
from tests.support import NOW
from vault.consent import ledger
from vault.consent.ledger_records import NoticeAcknowledged, RecipientAnswer
from vault.consent.report import recipient_words, site_report
from vault.consent.revocation import revoke
from vault.errors import InvalidInput
from vault.protocol.revocation import open_notice
from vault.site import acknowledge_revocation, recipients_to_tell
from vault.store import Vault

BOTH = ("stock", "analytics")


@pytest.fixture
def site() -> Site:
    return Site()


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    with make_vault(vault_home) as vault:
        vault.set_attribute("sizes.shoe", 42, now=NOW)
        vault.set_attribute("interests", ["jazz"], now=NOW)
        yield vault


def scopes(result) -> list[tuple[str, tuple[str, ...], bool, tuple[str, ...], tuple[str, ...]]]:
    return [(n.purpose_id, n.presentations, n.site, n.recipients, n.claims) for n in result.notices]


def recipient_standing(vault: Vault) -> list[tuple[str, str]]:
    rows = vault.conn.execute(
        "SELECT recipient, effect FROM recipient_decisions "
        "WHERE origin = ? AND revoked_at IS NULL ORDER BY id",
        (ORIGIN,),
    )
    return [tuple(row) for row in rows]


def allow_recipient(vault: Vault, recipient: str, effect: str = "allow") -> None:
    with vault.transaction() as conn:
        conn.execute(
            "INSERT INTO recipient_decisions (origin, purpose_id, recipient, digest, effect, decided_at, "
            "expires_at) VALUES (?, 'recommendations', ?, 'digest', ?, ?, ?)",
            (ORIGIN, recipient, effect, NOW, NOW + 86400),
        )


def test_withdrawing_one_third_party_leaves_the_site_its_copy(vault: Vault, site: Site) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1), site=site, recipients=BOTH)
    disclose(vault, manifest, "recommendations", jti(2), site=site, recipients=("stock",), now=NOW + 5)
    add_decision(vault, ORIGIN, "recommendations", "sizes.shoe")
    allow_recipient(vault, "analytics")
    allow_recipient(vault, "stock")

    result = revoke(vault, ORIGIN, third_party="analytics", erase=True, now=NOW + 100, new_id=ids())

    # Only the presentation the analytics partner received, only from it; claim decisions untouched.
    assert scopes(result) == [("recommendations", (jti(1),), False, ("analytics",), ())]
    assert result.recipients == ("analytics",) and result.decisions_revoked == 1
    assert recipient_standing(vault) == [("stock", "allow")]
    assert vault.conn.execute("SELECT count(*) FROM decisions WHERE revoked_at IS NULL").fetchone() == (1,)
    # The site: the notice verifies, says the site keeps its copy, and names whom to tell.
    (row,) = outbox_rows(vault)
    received = site.verify_notice(row[3], manifest, NOW + 100)
    assert received.site is False and received.recipients == ("analytics",) and received.erasure
    assert [party.name for party in recipients_to_tell(received, manifest)] == ["Example Analytics B.V."]
    # Until the site answers, the report says the partner was asked, and the site still holds all.
    report = site_report(vault, ORIGIN)
    first = report.disclosures[0]
    assert first.withdrawal_state == "none" and report.current(NOW + 100) == report.disclosures
    partner = next(r for r in first.recipients if r.id == "analytics")
    assert partner.withdrawal_state == "pending" and partner.withdrawn_claims == ["interests", "sizes.shoe"]
    assert recipient_words(partner, str).startswith("asked to delete — waiting for the site's confirmation")
    stock = next(r for r in first.recipients if r.id == "stock")
    assert stock.withdrawal_state == "none" and stock.claims == ["location.country"]
    # Asking again finds nothing more to withdraw from it.
    again = revoke(vault, ORIGIN, third_party="analytics", now=NOW + 101, new_id=ids("again"))
    assert again.nothing_to_withdraw


def test_the_sites_answer_per_recipient_is_what_the_report_and_export_say(vault: Vault, site: Site) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1), site=site, recipients=BOTH)
    result = revoke(vault, ORIGIN, third_party="analytics", erase=True, now=NOW + 100, new_id=ids())
    (notice,) = result.notices
    token = outbox_rows(vault)[0][3]
    received = site.verify_notice(token, manifest, NOW + 100)
    answer = acknowledge_revocation(
        SITE_KEY,
        received,
        manifest=manifest,
        now=NOW + 110,
        erased=False,
        recipients={"analytics": ("erased", NOW + 105)},
    )
    with (
        vault.transaction() as conn
    ):  # as the outbox records a verified answer (test_outbox drives it over HTTP)
        ledger.append(
            conn,
            at=NOW + 110,
            origin=ORIGIN,
            purpose_id="recommendations",
            ref=notice.jti,
            body=NoticeAcknowledged(
                erased=False,
                token=answer,
                recipients=(RecipientAnswer(id="analytics", outcome="erased", at=NOW + 105),),
            ),
        )
    partner = next(r for r in site_report(vault, ORIGIN).disclosures[0].recipients if r.id == "analytics")
    assert (partner.withdrawal_state, partner.outcome, partner.outcome_at) == (
        "confirmed",
        "erased",
        NOW + 105,
    )
    assert recipient_words(partner, lambda t: str(t)) == f"deleted, confirmed by the site on {NOW + 105}"
    assert ledger.verify(vault).ok
    assert open_notice(token)[1].recipients == ("analytics",)


def test_revoking_one_claim_withdraws_it_wherever_it_went(vault: Vault, site: Site) -> None:
    manifest = manifest_for()
    disclose(vault, manifest, "recommendations", jti(1), site=site, recipients=BOTH)
    disclose(vault, manifest, "age-check", jti(2), site=site, now=NOW + 5)
    add_decision(vault, ORIGIN, "recommendations", "sizes.shoe")
    add_decision(vault, ORIGIN, "recommendations", "age_over_18")

    result = revoke(vault, ORIGIN, claim="sizes.shoe", now=NOW + 100, new_id=ids())

    # The site and the partner that received the shoe size; not the stock check, not the age check.
    assert scopes(result) == [("recommendations", (jti(1),), True, ("analytics",), ("sizes.shoe",))]
    assert [c for (c,) in vault.conn.execute("SELECT claim FROM decisions WHERE revoked_at IS NULL")] == [
        "age_over_18"
    ]
    received = site.verify_notice(outbox_rows(vault)[0][3], manifest, NOW + 100)
    assert received.claims == ("sizes.shoe",) and received.site
    first = site_report(vault, ORIGIN).disclosures[0]
    assert first.withdrawn_claims == ["sizes.shoe"] and first.withdrawal_state == "none"
    partner = next(r for r in first.recipients if r.id == "analytics")
    assert partner.withdrawn_claims == ["sizes.shoe"]
    # The whole site afterwards: the rest of what is held, from the site and every third party holding any.
    rest = revoke(vault, ORIGIN, now=NOW + 200, new_id=ids("rest"))
    assert sorted(scopes(rest)) == [
        ("age-check", (jti(2),), True, (), ()),
        ("recommendations", (jti(1),), True, ("analytics", "stock"), ()),
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"third_party": "nobody"}, "no third party 'nobody'"),
        ({"third_party": "analytics", "purpose_id": "age-check"}, "no third party 'analytics' for purpose"),
        ({"third_party": "Not An Id"}, "not a third party id"),
        ({"claim": "Shoe Size"}, "not a claim name"),
        ({"claim": "sizes.shoe", "third_party": "analytics"}, "one claim or one third party"),
        ({"third_party": "analytics", "forget": True}, "covers all its purposes"),
        ({"claim": "sizes.shoe", "forget": True}, "covers all its purposes"),
    ],
)
def test_refusals_change_nothing(vault: Vault, arguments: dict, message: str) -> None:
    disclose(vault, manifest_for(), "recommendations", jti(1), recipients=BOTH)
    allow_recipient(vault, "analytics")
    before = kinds(vault)
    with pytest.raises(InvalidInput, match=message):
        revoke(vault, ORIGIN, now=NOW + 1, new_id=ids(), **arguments)
    assert kinds(vault) == before and outbox_rows(vault) == []
    assert recipient_standing(vault) == [("analytics", "allow")]
