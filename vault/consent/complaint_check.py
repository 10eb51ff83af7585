"""`vault check-report BUNDLE.json`: check a complaint bundle (vault.consent.complaint) without the vault.

Anyone (the user, the authority, the controller) can run it: it needs the bundle alone. It checks
- each manifest version: its text is a valid manifest of the bundle's origin, with the digest given;
- each token signed by the site (acknowledgements, answers to notices, access statements, messages)
  against the site key of the manifest version named beside it, and that it is addressed to the
  bundle's subject, from the origin, about the entry it is filed under, and says what the entry records;
- each notice signed by the vault against the pairwise key it embeds, which must be the subject's;
- each ledger entry's hash (recomputed from the hash before it, its columns and its stored body), the
  links between entries that follow each other, and that each piece of evidence is its ledger entry;
- the controller named against the manifests, each discrepancy against the ledger record (or the
  evidence) it was read from, and the user's attachments against their SHA-256.
What stays the vault's own word (unsigned): the outbox's delivery state of a notice, the dates a manifest
version was first and last seen, and the plain words of discrepancies it read from the evidence.
Each check is one line: ok, or FAILED with the reason. A bundle passes only if every check does.
"""

import base64
import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

from vault.consent.ledger import _row_hash  # the one definition of an entry's hash
from vault.protocol.access import ACCESS_STATEMENT_TYP, MAX_STATEMENT_LENGTH, AccessStatement
from vault.protocol.acknowledgement import (
    ACK_TYP,
    REVOCATION_ACK_TYP,
    Acknowledgement,
    RevocationAcknowledgement,
)
from vault.protocol.b64 import b64url_encode
from vault.protocol.errors import ManifestInvalid, MessageInvalid, TokenInvalid
from vault.protocol.jws import key_id, open_compact, site_verifying_key
from vault.protocol.manifest import Manifest, decode_manifest
from vault.protocol.message import verify_message
from vault.protocol.origin import origin_problem
from vault.protocol.revocation import open_notice
from vault.protocol.strictjson import decode_unique

FORMAT = "vault-complaint/1"
SITE_SIGNED_TYP = ("acknowledgement", "broken_promise", "delivery_ack", "access_answer", "message")
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    item: str
    ok: bool
    reason: str = ""


class BundleInvalid(ValueError):
    """Not a complaint bundle at all (nothing in it can be checked)."""


def load_bundle(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleInvalid(f"larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        bundle = msgspec.json.decode(data)
    except msgspec.DecodeError as error:
        raise BundleInvalid(f"not JSON: {error}") from None
    except RecursionError:
        raise BundleInvalid("nested too deeply") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleInvalid(f"not a {FORMAT} bundle")
    if origin_problem(bundle.get("origin")) is not None or not isinstance(bundle.get("subject"), str):
        raise BundleInvalid("its origin or subject is missing or malformed")
    for part in ("manifests", "evidence", "discrepancies", "attachments"):
        if not isinstance(bundle.get(part), list):
            raise BundleInvalid(f"`{part}` is missing")
    if not isinstance(bundle.get("ledger"), dict) or not isinstance(bundle["ledger"].get("entries"), list):
        raise BundleInvalid("`ledger.entries` is missing")
    return bundle


_ack = msgspec.json.Decoder(Acknowledgement)
_revocation_ack = msgspec.json.Decoder(RevocationAcknowledgement)
_statement = msgspec.json.Decoder(AccessStatement)


def _manifests(bundle: dict[str, Any], checks: list[Check]) -> dict[str, Manifest]:
    keys: dict[str, Manifest] = {}
    for n, version in enumerate(bundle["manifests"], 1):
        name = f"manifest version {n}"
        try:
            text = version["text"]
            manifest = decode_manifest(text.encode())
            digest = b64url_encode(hashlib.sha256(text.encode()).digest())
            if digest != version["digest"]:
                raise ValueError("its text does not match its digest (changed?)")
            if manifest.origin != bundle["origin"]:
                raise ValueError(f"it is the manifest of {manifest.origin}, not of {bundle['origin']}")
            same_key = version.get("site_key") == msgspec.to_builtins(manifest.site_key)
            if not same_key or version.get("site_key_id") != key_id(site_verifying_key(manifest.site_key)):
                raise ValueError("the key given beside it is not its site key")
        except (KeyError, TypeError, AttributeError):
            checks.append(Check(name, False, "malformed entry"))
            continue
        except (ManifestInvalid, TokenInvalid) as error:
            checks.append(Check(name, False, f"not a valid manifest: {error}"))
            continue
        except ValueError as error:
            checks.append(Check(name, False, str(error)))
            continue
        keys[version["digest"]] = manifest
        checks.append(Check(f"{name} ({version['digest'][:12]})", True))
    return keys


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise ValueError(reason)


def _site_token(kind: str, item: dict[str, Any], bundle: dict[str, Any], manifest: Manifest) -> None:
    """Raises ValueError / TokenInvalid / MessageInvalid with what is wrong."""
    token, record, origin, subject = item["token"], item["record"], bundle["origin"], bundle["subject"]
    key = site_verifying_key(manifest.site_key)
    if kind in ("acknowledgement", "broken_promise"):
        ack = decode_unique(open_compact(token, ACK_TYP, key)[1], _ack)
        _require(ack.iss == origin and ack.aud == subject, "not from this site to this subject")
        _require(ack.presentation == item["ref"], "it answers another presentation")
        if kind == "acknowledgement":
            same = (
                list(ack.claims) == list(record["claims"])
                and ack.keep_until == record["keep_until"]
                and list(ack.recipients) == list(record.get("recipients", []))
            )
            _require(same, "the record does not say what the signed acknowledgement says")
        else:
            _require(set(record["recipients"]) <= set(ack.recipients), "it does not name those recipients")
    elif kind == "delivery_ack":
        answer = decode_unique(open_compact(token, REVOCATION_ACK_TYP, key)[1], _revocation_ack)
        _require(answer.iss == origin and answer.aud == subject, "not from this site to this subject")
        _require(answer.notice == item["ref"], "it answers another notice")
        _require(answer.erased == record["erased"], "the record does not say what the signed answer says")
    elif kind == "access_answer":
        opened = open_compact(token, ACCESS_STATEMENT_TYP, key, max_length=MAX_STATEMENT_LENGTH)
        statement = decode_unique(opened[1], _statement)
        _require(statement.iss == origin and statement.aud == subject, "not from this site to this subject")
        _require(statement.request == record["request"], "it answers another request")
    elif kind == "message":
        message = verify_message(token, manifest.site_key, origin=origin, subject=subject, now=item["at"])
        _require(message.jti == item["ref"], "it is filed under another message id")
        _require(message.kind == record["message_kind"], "the record names another kind of message")
    else:
        raise ValueError(f"{kind} entries carry no site-signed token")
    _require(record.get("token") == token, "the token is not the one its record holds")


def _notice(item: dict[str, Any], bundle: dict[str, Any]) -> None:
    header, notice = open_notice(item["token"])
    _require(header.subject == bundle["subject"], "signed with another key than the subject's")
    _require(
        notice.iss == bundle["subject"] and notice.aud == bundle["origin"],
        "not from the subject to this site",
    )
    _require(notice.jti == item["ref"], "it is filed under another notice id")


def _evidence(bundle: dict[str, Any], manifests: dict[str, Manifest], by_seq: dict[int, Any]) -> list[Check]:
    checks = []
    for n, item in enumerate(bundle["evidence"], 1):
        try:
            name = f"{item['kind']} {item.get('ref') or ''}".strip()
            if item.get("seq") is not None:
                name += f" (ledger entry {item['seq']})"
            kind = item["kind"]
            # Everything but the outbox's notices is a ledger entry, and every signed kind has its token:
            # leaving either out must not skip a check.
            _require(kind == "notice" or isinstance(item.get("seq"), int), "it names no ledger entry")
            _require(
                "token" in item or kind not in (*SITE_SIGNED_TYP, "notice"), "its signed token is missing"
            )
            # The signature first: a changed token is named as such, whatever else it no longer matches.
            if "token" not in item:
                outcome = "recorded (no signature)"
            elif kind == "notice":
                _notice(item, bundle)
                outcome = "signed by the subject (its delivery state is the vault's record)"
            else:
                manifest = manifests.get(item.get("manifest") or "")
                _require(manifest is not None, "no manifest version in the bundle has a key that signed it")
                _site_token(item["kind"], item, bundle, manifest)
                outcome = f"signed by the site (manifest {item['manifest'][:12]})"
            if item.get("seq") is not None:
                entry = by_seq.get(item["seq"])
                _require(entry is not None, "its ledger entry is not in the bundle")
                stored = msgspec.json.decode(entry["body"])
                same = (entry["kind"], entry["at"], entry["ref"], entry["purpose_id"], stored) == (
                    item["kind"],
                    item["at"],
                    item["ref"],
                    item.get("purpose"),
                    item["record"],
                )
                _require(same, "it is not what its ledger entry records")
            checks.append(Check(name, True, outcome))
        except (TokenInvalid, MessageInvalid) as error:
            checks.append(Check(name, False, f"signature or token refused: {error.reason}"))
        except (ValueError, msgspec.DecodeError) as error:
            checks.append(Check(name, False, str(error)))
        except (KeyError, TypeError, AttributeError):
            checks.append(Check(f"evidence item {n}", False, "malformed item"))
    return checks


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _ledger(bundle: dict[str, Any]) -> tuple[list[Check], dict[int, Any]]:
    checks, by_seq, previous = [], {}, None
    for entry in bundle["ledger"]["entries"]:
        try:
            seq = entry["seq"]
            name = f"ledger entry {seq}"
            columns = (entry["at"], entry["kind"], entry["origin"], entry["purpose_id"], entry["ref"])
            computed = _row_hash(_b64(entry["previous_hash"]), seq, *columns, entry["body"])
            if entry["origin"] != bundle["origin"]:
                checks.append(Check(name, False, "it is about another site"))
            elif computed != _b64(entry["hash"]):
                checks.append(Check(name, False, "its hash does not match its content (changed?)"))
            elif (
                previous is not None
                and previous["seq"] + 1 == seq
                and previous["hash"] != entry["previous_hash"]
            ):
                checks.append(Check(name, False, f"it does not follow entry {seq - 1} (the chain is broken)"))
            else:
                linked = previous is not None and previous["seq"] + 1 == seq
                checks.append(
                    Check(name, True, "hash ok" + (f", linked to entry {seq - 1}" if linked else ""))
                )
            by_seq[seq] = entry
            previous = entry
        except (KeyError, TypeError, ValueError, AttributeError):
            checks.append(Check(f"ledger entry {len(checks) + 1}", False, "malformed entry"))
    return checks, by_seq


def _controller(bundle: dict[str, Any], manifests: dict[str, Manifest]) -> list[Check]:
    named = [msgspec.to_builtins(m.controller) for m in manifests.values()]
    ok = bundle.get("controller") in named
    return [Check("controller", ok, "" if ok else "it is not the controller any manifest version names")]


def _discrepancies(bundle: dict[str, Any], by_seq: dict[int, Any]) -> list[Check]:
    """Those the access comparison found are in a hashed ledger record; the others are the vault's
    reading of a piece of evidence in the bundle, which must be there."""
    checks, recorded = [], {}
    for entry in by_seq.values():
        if entry.get("kind") in ("access_answer", "access_unanswered"):
            with contextlib.suppress(msgspec.DecodeError, TypeError, AttributeError):
                found = msgspec.json.decode(entry["body"]).get("discrepancies", [])
                recorded.setdefault(entry.get("ref"), []).extend(found)
    sources = {
        (item.get("kind"), item.get("ref"))
        for item in bundle["evidence"]
        if isinstance(item, dict) and isinstance(item.get("kind"), str) and isinstance(item.get("ref"), str)
    }
    for n, found in enumerate(bundle["discrepancies"], 1):
        name = f"discrepancy {n}"
        try:
            if found["source"] in ("access_answer", "access_unanswered"):
                said = {key: found[key] for key in ("kind", "purpose", "claims", "recipients", "text")}
                ok = said in recorded.get(found["ref"], [])
                reason = "in the site's answer recorded in the ledger" if ok else "not in the ledger record"
            else:
                ok = (found["source"], found["ref"]) in sources
                reason = (
                    f"read from the {found['source']} evidence" if ok else "its evidence is not in the bundle"
                )
            checks.append(Check(name, ok, reason))
        except (KeyError, TypeError):
            checks.append(Check(name, False, "malformed discrepancy"))
    return checks


def _attachments(bundle: dict[str, Any]) -> list[Check]:
    checks = []
    for n, attached in enumerate(bundle["attachments"], 1):
        try:
            data = base64.b64decode(attached["content_base64"], validate=True)
            ok = hashlib.sha256(data).hexdigest() == attached["sha256"] and len(data) == attached["bytes"]
            name = f"your attachment {attached['name']}"
            checks.append(Check(name, ok, "the user's own file" if ok else "its content is not its SHA-256"))
        except (KeyError, TypeError, ValueError):
            checks.append(Check(f"attachment {n}", False, "malformed attachment"))
    return checks


def check_bundle(bundle: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    manifests = _manifests(bundle, checks)
    checks.extend(_controller(bundle, manifests))
    ledger_checks, by_seq = _ledger(bundle)
    checks.extend(_evidence(bundle, manifests, by_seq))
    checks.extend(_discrepancies(bundle, by_seq))
    checks.extend(_attachments(bundle))
    checks.extend(ledger_checks)
    return checks
