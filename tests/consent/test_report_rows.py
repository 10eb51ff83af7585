"""site_report reads a site's disclosures as one JSON array SQLite builds; each must come out exactly as the
row-by-row reading it replaced (below, as the reference): claims as written (floats, lists), third parties
named from the stored manifest (or by id when it no longer names them), contexts and identities."""

from __future__ import annotations

import msgspec

from tests.consent.test_recipients import NOW, answer, ask, shop, vault  # noqa: F401 (the fixture)
from vault.consent import ledger, report
from vault.consent.contexts import names
from vault.consent.report import Disclosure, RecipientHolding, site_report
from vault.consent.sites import stored_manifest
from vault.store import Vault
from vault.store.migration_contexts import DEFAULT_CONTEXT


def row_by_row(vault: Vault, origin: str) -> list[Disclosure]:  # noqa: F811
    rows = vault.conn.execute(
        "SELECT jti, purpose_id, claims, disclosed_at, expires_at, keep_until, recipients, context, identity "
        "FROM disclosures WHERE origin = ? ORDER BY seq",
        (origin,),
    )
    context_names, manifest = names(vault), stored_manifest(vault, origin)
    parties = {}
    if manifest is not None:
        parties = {(p.id, t.id): t for p in manifest.purposes for t in p.third_parties}
    found = []
    for jti, purpose_id, claims, at, expires_at, keep_until, recipients, context, identity in rows:
        holdings = []
        for recipient, received in msgspec.json.decode(recipients).items():
            party = parties.get((purpose_id, recipient))
            holdings.append(
                RecipientHolding(
                    id=recipient, name=recipient if party is None else party.name,
                    role=None if party is None else party.role,
                    country=None if party is None else party.country, claims=list(received),
                    keep_until=keep_until,
                )
            )  # fmt: skip
        found.append(
            Disclosure(
                jti=jti, purpose=purpose_id, claims=msgspec.json.decode(claims), disclosed_at=at,
                expires_at=expires_at, keep_until=keep_until, recipients=holdings,
                context=context or DEFAULT_CONTEXT,
                context_name=context_names.get(context or DEFAULT_CONTEXT, context or DEFAULT_CONTEXT),
                identity=identity,
            )
        )  # fmt: skip
    return found


def test_the_disclosures_are_those_read_row_by_row(vault: Vault) -> None:  # noqa: F811
    m = shop()
    answer(vault, ask(vault, m).prompt, recipients={"stock", "analytics"})
    ask(vault, m, now=NOW + 5, nonce="m" * 22)  # remembered: shared again
    with vault.transaction() as conn:  # one with a float, a list, no third parties and no context
        ledger.append_disclosure(
            conn, origin=m.origin, purpose_id="recommendations", jti="x" * 22, at=NOW + 9,
            body={"claims": {"sizes.shoe": 42.5, "interests": ["jazz", "é\\\"x"]}, "purpose_digest": "d",
                  "concept": "c", "retention": "P1D", "expires_at": NOW + 99, "keep_until": NOW + 999,
                  "epoch": 0, "subject": "s", "prompt": None},
        )  # fmt: skip
        conn.execute("UPDATE disclosures SET context = NULL WHERE jti = ?", ("x" * 22,))
    # A third party the stored manifest no longer names is shown by its id.
    conn = vault.conn
    conn.execute("UPDATE disclosures SET recipients = ? WHERE jti = ?", ('{"gone":["sizes.shoe"]}', "x" * 22))
    report = site_report(vault, m.origin)
    expected = row_by_row(vault, m.origin)
    assert len(expected) == 3 and any(d.recipients for d in expected)
    assert report.disclosures == expected
    assert site_report(vault, "https://nobody.example").disclosures == []


def test_disclosures_are_in_ledger_order_even_if_sqlite_hands_them_over_otherwise(
    vault: Vault,  # noqa: F811
    monkeypatch,
) -> None:
    m = shop()
    answer(vault, ask(vault, m).prompt, recipients={"stock"})
    for n in range(1, 4):
        ask(vault, m, now=NOW + n, nonce=str(n) * 22)  # remembered: shared again
    expected = row_by_row(vault, m.origin)
    reversed_query = report._DISCLOSURES_JSON.replace(" ORDER BY seq\n)", " ORDER BY seq DESC\n)")
    assert reversed_query != report._DISCLOSURES_JSON
    monkeypatch.setattr(report, "_DISCLOSURES_JSON", reversed_query)
    assert len(expected) == 4 and site_report(vault, m.origin).disclosures == expected
