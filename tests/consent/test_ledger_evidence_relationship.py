"""`ledger verify` checks the signed words of the two-way relationship as it checks acknowledgements: a
site's message and its access statement, kept in the ledger, must verify under a key the site published
and say what the entry records (vault/consent/ledger_evidence.py)."""

from pathlib import Path

import pytest

from tests import example
from tests.consent.test_ledger_evidence import assert_forged, entries_of, payload, rewrite, with_payload
from tests.support import FAST_KDF, NOW, PASSPHRASE
from vault.consent import ledger
from vault.consent.ledger_records import AccessAnswered, MessageReceived
from vault.consent.sites import remember_manifest
from vault.protocol.access import sign_access_request
from vault.protocol.b64 import b64url_decode
from vault.protocol.jwk import key_subject
from vault.protocol.jws import sign_raw
from vault.site import (
    InMemoryReplayStore,
    answer_access_request,
    generate_site_key,
    make_message,
    verify_access_request,
)
from vault.store import Vault

ORIGIN = example.ORIGIN
SITE_KEY = example.site_key()
FIRST, ATTEMPT = "first-request-0000", "second-attempt-000"


@pytest.fixture
def vault(vault_home: Path):
    manifest = example.manifest()
    with Vault.create(vault_home, PASSPHRASE, now=NOW, kdf=FAST_KDF) as vault:
        subject = key_subject(vault.pairwise_key(ORIGIN, 0).public_jwk)
        message = make_message(
            SITE_KEY, manifest=manifest, subject=subject, kind="breach", title="We lost data",
            body="Your shoe size was in a file that was stolen.", now=NOW,
        )  # fmt: skip
        request = sign_access_request(vault.pairwise_key(ORIGIN, 0), origin=ORIGIN, now=NOW, jti=ATTEMPT)
        seen = verify_access_request(request, manifest=manifest, now=NOW, replay=InMemoryReplayStore())
        statement = answer_access_request(SITE_KEY, seen, manifest=manifest, now=NOW, held=[])
        with vault.transaction() as conn:
            remember_manifest(conn, manifest, now=NOW)
            where = {"at": NOW, "origin": ORIGIN, "purpose_id": None}
            kept = MessageReceived(message_kind="breach", via="page", token=message)
            ledger.append(conn, **where, ref=payload(message)["jti"], body=kept)
            answered = AccessAnswered(token=statement, request=ATTEMPT, discrepancies=())
            ledger.append(conn, **where, ref=FIRST, body=answered)
        yield vault


def test_a_kept_message_and_statement_verify(vault: Vault) -> None:
    assert ledger.verify(vault).ok


def test_a_breach_notice_recorded_as_a_proposal(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "message")
    rewrite(vault, seq, {**body, "message_kind": "proposal"})
    assert_forged(vault, seq, "not what the site's signed answer says")


def test_a_message_whose_text_was_changed(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "message")
    rewrite(vault, seq, {**body, "token": with_payload(body["token"], {"body": "Nothing happened."})})
    assert_forged(vault, seq, "signature")


def test_a_message_signed_by_someone_else_under_the_sites_key_id(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "message")
    header, payload_text, _ = body["token"].split(".")
    forged = sign_raw(generate_site_key(), b64url_decode(header), b64url_decode(payload_text))
    rewrite(vault, seq, {**body, "token": forged})
    assert_forged(vault, seq, "signature")


def test_a_statement_kept_for_another_request(vault: Vault) -> None:
    ((seq, _, body),) = entries_of(vault, "access_answer")
    rewrite(vault, seq, {**body, "request": "someone-elses-req"})
    assert_forged(vault, seq, "another presentation, notice or site")
