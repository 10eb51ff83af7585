"""Per-context identities, over a real vault and the site library: two contexts that keep separate
identities give one site tokens that share no field value it could link them by; a context without one
shows the identity every other such context shares; revoking at a site withdraws under each identity
with a notice signed by that identity's own key (verified as the site verifies it), and keeps it when
the outbox re-signs; forgetting the site replaces every identity there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.consent.test_contexts_flow import ORIGIN, add, answered, ask, profile_vault, shop
from tests.consent.test_outbox import FakeSite
from tests.consent.test_revocation import Site, ids
from tests.support import NOW
from vault.consent import contexts, ledger
from vault.consent.ledger_records import NoticeQueued
from vault.consent.outbox import deliver_due
from vault.consent.records import remembered_decisions
from vault.consent.revocation import revoke
from vault.consent.service import Shared
from vault.protocol.b64 import b64url_decode
from vault.protocol.jwk import OkpPublicJwk, jwk_thumbprint
from vault.protocol.presentation import open_presentation
from vault.protocol.revocation import open_notice
from vault.site import InMemoryReplayStore, NoticeInvalid, make_nonce, verify_presentation
from vault.store import Vault


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    yield from profile_vault(vault_home)


# What every token of this purpose at this site says, whoever sends it: equal by design, so not a link.
SAME_BY_DESIGN = (
    "header.alg",
    "header.typ",
    "header.jwk.kty",
    "header.jwk.crv",
    "payload.aud",
    "payload.purpose.",
    "payload.retention",
    "payload.purpose_digest",
    "payload.claims.",
    "payload.recipients.",
)
# Among the others, those that name the sender or the request: the test fails if one went missing.
IDENTIFYING = {"header.jwk.x", "payload.iss", "payload.sub", "payload.jti", "payload.nonce", "payload.iat"}


def leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, member in value.items():
            yield from leaves(member, f"{path}.{key}")
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from leaves(member, f"{path}.{index}")
    else:
        yield path, value


def token_fields(token: str) -> dict[str, Any]:
    """Every header and payload member of a compact JWS, by path, and its signature."""
    header, payload, signature = token.split(".")
    fields = dict(leaves(msgspec.json.decode(b64url_decode(header)), "header"))
    fields |= dict(leaves(msgspec.json.decode(b64url_decode(payload)), "payload"))
    fields["signature"] = signature
    return fields


def linking_values(token: str) -> dict[str, set[str]]:
    """Every value not equal by design, JSON-encoded (so 1 and "1" differ) -> where it is in the token."""
    fields = {p: v for p, v in token_fields(token).items() if not p.startswith(SAME_BY_DESIGN)}
    assert fields.keys() >= IDENTIFYING, fields.keys()
    found: dict[str, set[str]] = {}
    for path, value in fields.items():
        found.setdefault(msgspec.json.encode(value).decode(), set()).add(path)
    return found


def links(token: str, other: str) -> set[str]:
    """Where in `token` a value of `other` appears (in any place not equal by design)."""
    one, two = linking_values(token), linking_values(other)
    return {path for value in one.keys() & two.keys() for path in one[value]}


def in_context(vault: Vault, name: str, now: int, site: Site | None = None) -> tuple[Shared, str]:
    """A token from the shop in context `name` (asked, answered, verified by the site, which keeps its
    subject when given): the token, and the subject the site saw."""
    contexts.use_context(vault, name, now=now)
    nonce = make_nonce()
    shared = answered(vault, shop(), now, nonce=nonce)
    verified = verify_presentation(
        shared.token, manifest=shop(), nonce=nonce, now=now, replay=InMemoryReplayStore()
    )
    if site is not None:
        site.subjects[verified.jti] = verified.subject
    return shared, verified.subject


def test_two_separate_identities_at_one_site_share_no_linking_field(vault: Vault) -> None:
    add(vault, "Work", separate_identity=True)
    add(vault, "Family", separate_identity=True)
    tokens = {}
    for step, name in enumerate(("Everyday", "Work", "Family")):
        # Seven seconds apart, so that no iat or exp of one can equal another's by accident either.
        tokens[name] = in_context(vault, name, NOW + 7 * step)[0].token
    for first, second in (("Work", "Family"), ("Everyday", "Work"), ("Everyday", "Family")):
        assert links(tokens[first], tokens[second]) == set(), f"{first} and {second} can be linked"
        assert thumbprint(tokens[first]) != thumbprint(tokens[second])
    # The fields equal by design are equal (the same purpose, claims and site): the test compares like
    # with like, so an empty intersection above means something.
    same = [token_fields(tokens[name]) for name in ("Work", "Family")]
    assert same[0]["payload.aud"] == same[1]["payload.aud"] == ORIGIN
    assert same[0]["payload.claims.sizes.shoe"] == same[1]["payload.claims.sizes.shoe"] == 42


def thumbprint(token: str) -> str:
    """The RFC 7638 thumbprint of the key a token embeds."""
    header = msgspec.json.decode(b64url_decode(token.split(".")[0]))
    return jwk_thumbprint(msgspec.convert(header["jwk"], OkpPublicJwk))


def test_a_context_without_its_own_identity_shows_the_shared_one(vault: Vault) -> None:
    add(vault, "Shopping")
    add(vault, "Work", separate_identity=True)
    first, everyday = in_context(vault, "Everyday", NOW)
    second, shopping = in_context(vault, "Shopping", NOW + 1)
    _, work = in_context(vault, "Work", NOW + 2)
    assert shopping == everyday != work
    # The same identity links, and the check above would say so: its key and subject are in both.
    linked = links(first.token, second.token)
    assert linked == {"header.jwk.x", "payload.iss", "payload.sub"}
    # Turning a separate identity on acts from then on; what was shared before keeps its identity.
    contexts.change_context(vault, "Shopping", now=NOW + 3, separate_identity=True)
    shopping_id = contexts.find(vault, "Shopping").id
    contexts.use_context(vault, "Shopping", now=NOW + 4)
    again = ask(vault, shop(), NOW + 4)  # its remembered decisions are still its own: no prompt
    assert isinstance(again, Shared)
    assert open_presentation(again.token)[1].sub not in (everyday, work)
    identities = [e.record.identity for e in ledger.entries(vault, kinds=("disclosure",))]
    assert identities == [None, None, contexts.find(vault, "Work").id, shopping_id]


def test_revoking_withdraws_under_each_identity_with_its_own_key(vault: Vault) -> None:
    site, manifest = Site(), shop()
    work = add(vault, "Work", separate_identity=True)
    add(vault, "Shopping")  # the shared identity, as Everyday
    shared_jtis = {
        in_context(vault, "Everyday", NOW, site)[0].jti,
        in_context(vault, "Shopping", NOW, site)[0].jti,
    }
    (work_jti,) = {in_context(vault, "Work", NOW + 1, site)[0].jti}
    assert len(set(site.subjects.values())) == 2

    result = revoke(vault, ORIGIN, now=NOW + 10, new_id=ids())

    # Revoking is per site: every context's decisions go.
    assert remembered_decisions(vault) == [] and result.decisions_revoked > 0
    by_identity = {notice.identity: notice for notice in result.notices}
    assert by_identity.keys() == {None, work.id}
    assert set(by_identity[None].presentations) == shared_jtis
    assert by_identity[work.id].presentations == (work_jti,)
    queued = {e.ref: e.record for e in ledger.entries(vault, kinds=("revocation",))}
    assert {jti: record.identity for jti, record in queued.items() if isinstance(record, NoticeQueued)} == {
        notice.jti: notice.identity for notice in result.notices
    }
    tokens = dict(vault.conn.execute("SELECT id, notice FROM outbox"))
    for notice in result.notices:
        # The site checks each notice against the subject it stored for the presentations it names.
        verified = site.verify_notice(tokens[notice.jti], manifest, NOW + 10)
        assert verified.subject == site.subjects[notice.presentations[0]]
        assert verified.unknown == ()
    # Signed by the other identity's key, the site would refuse it: the subject does not match.
    swapped = Site()
    swapped.subjects = {jti: site.subjects[work_jti] for jti in shared_jtis} | {
        work_jti: site.subjects[next(iter(shared_jtis))]
    }
    for notice in result.notices:
        with pytest.raises(NoticeInvalid):
            swapped.verify_notice(tokens[notice.jti], manifest, NOW + 10)
    assert ledger.verify(vault).ok

    # After a long outage each notice is re-signed before it is sent: with its own identity's key still.
    later = NOW + 3 * 86400
    fake = FakeSite(manifest, site, now=later)
    outcomes = deliver_due(vault, now=later, post=fake)
    assert sorted(o.delivered for o in outcomes) == [True, True]
    for token in fake.received:
        _, payload = open_notice(token)
        _, original = open_notice(tokens[payload.jti])
        assert payload.iat == later and payload.sub == original.sub
    assert ledger.verify(vault).ok


def test_forgetting_a_site_replaces_every_identity_there(vault: Vault) -> None:
    add(vault, "Work", separate_identity=True)
    before = {name: in_context(vault, name, NOW + step)[1] for step, name in enumerate(("Everyday", "Work"))}
    revoke(vault, ORIGIN, forget=True, now=NOW + 10, new_id=ids())
    after = {
        name: in_context(vault, name, NOW + 20 + step)[1] for step, name in enumerate(("Everyday", "Work"))
    }
    assert len({*before.values(), *after.values()}) == 4
    epochs = {e.record.epoch for e in ledger.entries(vault, kinds=("disclosure",))}
    assert epochs == {0, 1}
