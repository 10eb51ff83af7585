"""Checking the site's signed answers kept in the ledger: each `acknowledgement`, `delivery_ack`,
`broken_promise`, `access_answer` and `message` entry embeds the token the site signed, and what the entry
records must be what that token says, under a key the site published. The hash chain shows that rows were
not edited one by one; this shows that a recorded answer (say, "the analytics partner erased your data")
is the site's own word.
"""

from typing import Any

import msgspec

from vault.consent.ledger_records import RecordInvalid, decode_record
from vault.consent.sites import stored_manifest
from vault.protocol.access import ACCESS_STATEMENT_TYP, MAX_STATEMENT_LENGTH
from vault.protocol.acknowledgement import ACK_TYP, REVOCATION_ACK_TYP
from vault.protocol.b64 import b64url_decode
from vault.protocol.errors import TokenInvalid
from vault.protocol.jwk import jwk_thumbprint
from vault.protocol.jws import key_id, open_compact
from vault.protocol.keys import VerifyingKey
from vault.protocol.message import MESSAGE_TYP
from vault.store import Vault

SIGNED_KINDS = ("acknowledgement", "delivery_ack", "broken_promise", "access_answer", "message")
_TYP = {
    "acknowledgement": ACK_TYP,
    "delivery_ack": REVOCATION_ACK_TYP,
    "broken_promise": ACK_TYP,
    "access_answer": ACCESS_STATEMENT_TYP,
    "message": MESSAGE_TYP,
}
# The member of the signed payload that names what the entry is about (its `ref`; for a statement, the
# attempt's request, which the entry records beside the first request's jti).
_NAMES = {"delivery_ack": "notice", "access_answer": "request", "message": "jti"}


class SignedAnswers:
    """One per ledger walk: keeps each site's published keys (its manifest's, and every key the ledger
    recorded it changing from or to)."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._keys: dict[str, tuple[VerifyingKey | None, frozenset[str]]] = {}

    def _site_keys(self, origin: str) -> tuple[VerifyingKey | None, frozenset[str]]:
        if origin not in self._keys:
            manifest = stored_manifest(self._vault, origin)
            current = (
                None if manifest is None else VerifyingKey.from_bytes(b64url_decode(manifest.site_key.x))
            )
            known = {jwk_thumbprint(manifest.site_key)} if manifest is not None else set()
            rows = self._vault.conn.execute(
                "SELECT body FROM ledger WHERE origin = ? AND kind = 'site_changed'", (origin,)
            )
            for (body,) in rows:
                change = msgspec.json.decode(body)
                if change.get("field") == "site_key":
                    known.update(
                        str(change.get(side, "")).removeprefix("key ") for side in ("before", "after")
                    )
            self._keys[origin] = (current, frozenset(known))
        return self._keys[origin]

    def problem(self, kind: str, origin: str | None, ref: str | None, body: str) -> str | None:
        """What is wrong with this entry's evidence, in words, or None. `ref`: the entry's presentation
        or notice, which the signed answer must name (a genuine answer copied from another entry is not
        evidence for this one)."""
        try:
            record: Any = decode_record(kind, msgspec.json.decode(body))
            header_text, payload_text, _ = record.token.split(".")
            header = msgspec.json.decode(b64url_decode(header_text))
            payload = msgspec.json.decode(b64url_decode(payload_text))
        except (RecordInvalid, msgspec.DecodeError, ValueError, AttributeError):
            return "the site's signed answer it records is not a token"
        current, known = self._site_keys(origin or "")
        kid = header.get("kid") if isinstance(header, dict) else None
        if current is not None and kid == key_id(current):
            try:
                open_compact(record.token, _TYP[kind], current, max_length=MAX_STATEMENT_LENGTH)
            except TokenInvalid:
                return "the site's signature on the answer it records does not verify (forged?)"
        elif kid not in known:
            return "the answer it records is signed by a key this site never published (forged?)"
        if not isinstance(payload, dict) or not _says(kind, record, payload):
            return "what it records is not what the site's signed answer says (forged?)"
        answered = payload.get(_NAMES.get(kind, "presentation"))
        expected = record.request if kind == "access_answer" else ref
        if answered != expected or payload.get("iss") != origin:
            return (
                "the site's signed answer it records is about another presentation, notice or site (forged?)"
            )
        return None


def _says(kind: str, record: Any, payload: dict[str, Any]) -> bool:
    if kind == "delivery_ack":
        answers = [msgspec.to_builtins(answer) for answer in record.recipients]
        return payload.get("erased") == record.erased and payload.get("recipients", []) == answers
    if kind == "acknowledgement":
        return (
            payload.get("claims") == list(record.claims)
            and payload.get("keep_until") == record.keep_until
            and payload.get("recipients", []) == list(record.recipients)
        )
    if kind == "message":
        return payload.get("kind") == record.message_kind
    if kind == "access_answer":
        return True  # the discrepancies are the vault's reading of the statement, not the site's words
    return set(record.recipients) <= set(payload.get("recipients", []))  # broken_promise
