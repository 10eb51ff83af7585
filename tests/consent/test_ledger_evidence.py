"""`ledger verify` and the site's signed answers it keeps (vault/consent/ledger_evidence.py): someone holding
the database can rewrite an entry and recompute every hash after it, so the chain alone cannot tell; the
answer's own signature, by a key the site published, and its agreement with what the entry records can.
Each forgery here is made as such an attacker would make it, and verify must name that exact entry."""

import json
from pathlib import Path

import msgspec
import pytest

from tests import example
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.acknowledgements import store_acknowledgement
from vault.consent.outbox import deliver_due
from vault.consent.policy import Answer
from vault.consent.revocation import revoke
from vault.consent.service import decide_prompt, request_presentation
from vault.consent.sites import remember_manifest
from vault.consent.transport import Response
from vault.protocol.acknowledgement import Acknowledgement, sign_acknowledgement
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.manifest import decode_manifest
from vault.site import (
    InMemoryReplayStore,
    acknowledge_presentation,
    acknowledge_revocation,
    generate_site_key,
    verify_presentation,
    verify_revocation,
)
from vault.store import Vault

ORIGIN = example.ORIGIN
SITE_KEY = example.site_key()
ANSWERED_AT = NOW + 200


class Shop:
    """The example shop: it verifies presentations, acknowledges them, and answers notices, saying it
    forwarded each one to the third parties named."""

    def __init__(self) -> None:
        self.manifest = example.manifest()
        self.subjects: dict[str, str] = {}

    def post(self, url: str, body: bytes, timeout: float) -> Response:
        notice = verify_revocation(
            json.loads(body)["notice"],
            manifest=self.manifest,
            now=ANSWERED_AT,
            stored_subject=self.subjects.get,
        )
        outcomes = {r: ("forwarded", ANSWERED_AT) for r in notice.recipients}
        answer = acknowledge_revocation(
            SITE_KEY, notice, manifest=self.manifest, now=ANSWERED_AT, erased=False, recipients=outcomes
        )
        return Response(200, "application/json", json.dumps({"acknowledgement": answer}).encode())


@pytest.fixture
def vault(vault_home: Path):
    """Two acknowledged disclosures to the shop (stock and analytics allowed), a broken promise, and the
    shop's signed answer to a withdrawal from analytics: every kind of entry that keeps a signed answer."""
    ids = iter(f"id-{n:016d}" for n in range(1000))
    shop = Shop()
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        for name, value in (("birthdate", "1990-05-17"), ("country", "NL"), ("sizes.shoe", 42)):
            vault.set_attribute(name, value, now=NOW)
        for n, nonce in enumerate(("a" * 22, "b" * 22)):
            outcome = request_presentation(
                vault,
                manifest=shop.manifest,
                audience=ORIGIN,
                purpose_id="recommendations",
                nonce=nonce,
                now=NOW,
                new_id=lambda: next(ids),
            )
            if n == 0:
                everyone = Answer(True, frozenset(q.claim for q in outcome.prompt.questions), True,
                                  frozenset({"stock", "analytics"}))  # fmt: skip
                outcome = decide_prompt(vault, outcome.prompt.id, everyone, now=NOW, new_id=lambda: next(ids))
            seen = verify_presentation(
                outcome.token, manifest=shop.manifest, nonce=nonce, now=NOW, replay=InMemoryReplayStore()
            )
            shop.subjects[seen.jti] = seen.subject
            ack = acknowledge_presentation(SITE_KEY, seen, manifest=shop.manifest, now=NOW + 1)
            store_acknowledgement(vault, ack, now=NOW + 2)
        store_acknowledgement(vault, admission(seen, ("stock", "analytics", "ads")), now=NOW + 3)
        revoke(vault, ORIGIN, third_party="analytics", now=NOW + 100, new_id=lambda: next(ids))
        (delivered,) = deliver_due(vault, now=ANSWERED_AT, post=shop.post)
        assert delivered.delivered, delivered
        yield vault


def admission(seen, recipients: tuple[str, ...], key=SITE_KEY) -> str:
    """An acknowledgement the site signs itself, naming whom it likes."""
    return sign_acknowledgement(
        key,
        Acknowledgement(
            iss=ORIGIN,
            aud=seen.subject,
            iat=NOW + 3,
            presentation=seen.jti,
            purpose=seen.purpose,
            purpose_digest=seen.purpose_digest,
            claims=tuple(sorted(seen.claims)),
            keep_until=seen.issued_at + 30 * 86400,
            recipients=recipients,
        ),
    )


def entries_of(vault: Vault, kind: str) -> list[tuple[int, str | None, dict]]:
    rows = vault.conn.execute("SELECT seq, ref, body FROM ledger WHERE kind = ? ORDER BY seq", (kind,))
    return [(seq, ref, json.loads(body)) for seq, ref, body in rows]


def rewrite(vault: Vault, seq: int, body: dict) -> None:
    """As an attacker with the database would: the entry's body replaced, and every hash from there on
    recomputed (and the head), so that the chain itself is consistent again."""
    conn = vault.conn
    conn.execute("DROP TRIGGER IF EXISTS ledger_no_update")
    conn.execute("UPDATE ledger SET body = ? WHERE seq = ?", (msgspec.json.encode(body).decode(), seq))
    previous = ledger._genesis(conn) if seq == 1 else bytes(
        conn.execute("SELECT hash FROM ledger WHERE seq = ?", (seq - 1,)).fetchone()[0]
    )  # fmt: skip
    rows = conn.execute(
        "SELECT seq, at, kind, origin, purpose_id, ref, body FROM ledger WHERE seq >= ? ORDER BY seq", (seq,)
    ).fetchall()
    for row in rows:
        previous = ledger._row_hash(previous, *row)
        conn.execute("UPDATE ledger SET hash = ? WHERE seq = ?", (previous, row[0]))
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'ledger_head'", (rows[-1][0].to_bytes(8, "big") + previous,)
    )


def payload(token: str) -> dict:
    return json.loads(b64url_decode(token.split(".")[1]))


def with_payload(token: str, changes: dict) -> str:
    """The same header and signature over a changed payload."""
    header, _, signature = token.split(".")
    text = msgspec.json.encode({**payload(token), **changes})
    return f"{header}.{b64url_encode(text)}.{signature}"


def assert_forged(vault: Vault, seq: int, words: str) -> None:
    result = ledger.verify(vault)
    assert not result.ok and result.bad_seq == seq, result
    assert f"entry {seq}" in result.problem and "forged" in result.problem and words in result.problem


def test_the_honest_flows_verify(vault: Vault) -> None:
    kinds = [kind for (kind,) in vault.conn.execute("SELECT kind FROM ledger ORDER BY seq")]
    assert kinds.count("acknowledgement") == 2 and kinds.count("broken_promise") == 1
    (_, _, answer), = entries_of(vault, "delivery_ack")  # fmt: skip
    assert answer["recipients"] == [{"id": "analytics", "outcome": "forwarded", "at": ANSWERED_AT}]
    assert ledger.verify(vault) == ledger.Verification(True, len(kinds))
    # And the rewriting itself leaves a consistent chain: only what it writes is caught.
    seq, _, body = entries_of(vault, "acknowledgement")[0]
    rewrite(vault, seq, body)
    assert ledger.verify(vault).ok


def test_a_recipient_said_to_have_erased_what_the_site_says_it_forwarded(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "delivery_ack")
    body["recipients"][0]["outcome"] = "erased"
    rewrite(vault, seq, body)
    assert_forged(vault, seq, "not what the site's signed answer says")


def test_a_site_said_to_have_erased_what_it_kept(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "delivery_ack")
    rewrite(vault, seq, {**body, "erased": True})
    assert_forged(vault, seq, "not what the site's signed answer says")


def test_a_signed_answer_changed_to_agree_with_a_forged_entry(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "delivery_ack")
    outcomes = [{**body["recipients"][0], "outcome": "erased"}]
    forged = with_payload(body["token"], {"recipients": outcomes})
    rewrite(vault, seq, {**body, "recipients": outcomes, "token": forged})
    assert_forged(vault, seq, "signature")


def test_an_acknowledgement_whose_signature_does_not_verify(vault: Vault) -> None:
    seq, _, body = entries_of(vault, "acknowledgement")[0]
    shorter = body["keep_until"] - 86400  # as if the site had promised to keep it less long
    rewrite(
        vault,
        seq,
        {**body, "keep_until": shorter, "token": with_payload(body["token"], {"keep_until": shorter})},
    )
    assert_forged(vault, seq, "signature")


def test_an_acknowledgement_signed_by_a_key_the_site_never_published(vault: Vault) -> None:
    seq, _, body = entries_of(vault, "acknowledgement")[0]
    seen = payload(body["token"])
    forged = sign_acknowledgement(
        generate_site_key(),
        msgspec.convert({**seen, "recipients": ["stock"]}, Acknowledgement),
    )
    rewrite(vault, seq, {**body, "recipients": ["stock"], "token": forged})
    assert_forged(vault, seq, "never published")


def test_a_broken_promise_rewritten_to_name_someone_else(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "broken_promise")
    assert body["recipients"] == ["ads"]
    rewrite(vault, seq, {**body, "recipients": ["stock", "ads", "tracker"]})
    assert_forged(vault, seq, "not what the site's signed answer says")


def test_a_broken_promise_that_is_not_a_token(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "broken_promise")
    rewrite(vault, seq, {**body, "token": "x.y.z"})
    result = ledger.verify(vault)
    assert not result.ok and result.bad_seq == seq and "not a token" in result.problem


def test_an_acknowledgement_moved_to_another_presentation(vault: Vault) -> None:
    """Both presentations were acknowledged alike (same claims, keep_until, recipients): the first one's
    genuine token written into the second one's entry still does not belong there."""
    (_, first_ref, first), (seq, ref, body) = entries_of(vault, "acknowledgement")
    assert first_ref != ref and {**first, "token": ""} == {**body, "token": ""}
    rewrite(vault, seq, {**body, "token": first["token"]})
    assert_forged(vault, seq, "another")


def test_cli_ledger_verify_names_the_forged_entry(vault: Vault, run_vault) -> None:
    assert run_vault("ledger", "verify").code == 0
    ((seq, _, body),) = entries_of(vault, "delivery_ack")
    body["recipients"][0]["outcome"] = "erased"
    rewrite(vault, seq, body)
    result = run_vault("ledger", "verify")
    assert result.code == 1 and f"entry {seq}" in result.err and "forged" in result.err
    assert json.loads(run_vault("ledger", "verify", "--json").out)["bad_entry"] == seq


def test_answers_signed_before_the_site_changed_its_key_still_verify(vault: Vault) -> None:
    """The old key was published (its change is in the ledger): what it signed is still the site's word.
    A key never published stays refused after the change too."""
    rotated = msgspec.json.decode(msgspec.json.encode(example.manifest()))
    rotated["site_key"] = generate_site_key().public_jwk
    with vault.transaction() as conn:
        assert remember_manifest(conn, decode_manifest(msgspec.json.encode(rotated)), now=NOW + 300) == (
            "site_key",
        )
    assert ledger.verify(vault).ok
    seq, _, body = entries_of(vault, "acknowledgement")[0]
    forged = sign_acknowledgement(
        generate_site_key(), msgspec.convert(payload(body["token"]), Acknowledgement)
    )
    rewrite(vault, seq, {**body, "token": forged})
    assert_forged(vault, seq, "never published")
