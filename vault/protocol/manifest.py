"""The site manifest (served at ORIGIN/.well-known/vault-manifest.json) and the purpose digest.

A manifest says who the controller is, which key signs the site's acknowledgements, where revocations
go, and, per purpose, which claims are asked for, why, for how long and who else sees them. Consent is
bound to `purpose_digest(purpose)`, a hash of that purpose entry alone, so editing one purpose (or the
controller's address) never silently carries consent over to a changed request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Annotated, Literal

import msgspec
import rfc8785

from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.countries import ISO_3166_ALPHA2
from vault.protocol.errors import ManifestInvalid
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.keys import VerifyingKey
from vault.protocol.origin import origin_problem, same_origin_url
from vault.protocol.strictjson import decode_unique

MAX_MANIFEST_BYTES = 64 * 1024
MAX_PURPOSES = 32
MAX_CLAIMS_PER_PURPOSE = 32
MAX_THIRD_PARTIES = 16
# Who may receive claims from the site, as DPV concepts: a processor acts on the site's behalf, a third
# party (recipient) uses them for its own ends, joint controllers decide with the site why and how.
RECIPIENT_ROLES = ("dpv:Processor", "dpv:ThirdParty", "dpv:JointDataControllers")

# RFC 3339 appendix A durations, with bounded digits; weeks only stand alone; `P` and `PT` are empty.
_DATE = r"(?:\d{1,4}Y)?(?:\d{1,4}M)?(?:\d{1,5}D)?"
_TIME = r"(?:T(?=\d)(?:\d{1,6}H)?(?:\d{1,6}M)?(?:\d{1,8}S)?)?"
DURATION_PATTERN = rf"^P(?:\d{{1,4}}W|(?!$){_DATE}{_TIME})$"
_DURATION_PARTS = re.compile(r"(\d+)([YMWDHS])")
# Fixed lengths for the retention arithmetic in SPEC.md ("Retention"): both sides must agree exactly.
_DATE_UNIT_SECONDS = {"Y": 365 * 86400, "M": 30 * 86400, "W": 7 * 86400, "D": 86400}
_TIME_UNIT_SECONDS = {"H": 3600, "M": 60, "S": 1}

# The one definition of a purpose id and a claim name: import these rather than writing them again (the
# extension gets them through vault.daemon.page_contract).
# (Each holds at most 64 characters; the patterns are written as export-schema.json shows them.)
PURPOSE_ID_PATTERN = r"^[a-z][a-z0-9-]*$"
CLAIM_NAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
MAX_PURPOSE_ID = 64
MAX_CLAIM_NAME = 64

PurposeId = Annotated[str, msgspec.Meta(max_length=MAX_PURPOSE_ID, pattern=PURPOSE_ID_PATTERN)]
ClaimName = Annotated[str, msgspec.Meta(max_length=MAX_CLAIM_NAME, pattern=CLAIM_NAME_PATTERN)]
# A third party's id is spelled like a purpose id, and is unique within its purpose.
RecipientId = PurposeId
DpvConcept = Annotated[str, msgspec.Meta(max_length=128, pattern=r"^dpv:[A-Za-z][A-Za-z0-9]*$")]
Duration = Annotated[str, msgspec.Meta(max_length=40, pattern=DURATION_PATTERN)]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Contact = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
Why = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Benefit = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Description = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class _Inbound(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, cache_hash=True):
    pass


class ClaimRequest(_Inbound):
    name: ClaimName
    required: bool
    why: Why


class ThirdParty(_Inbound):
    """Someone the site passes claims of this purpose on to; the user can refuse each optional one."""

    id: RecipientId
    name: Name
    role: Literal["dpv:Processor", "dpv:ThirdParty", "dpv:JointDataControllers"]
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2)]  # ISO 3166-1 alpha-2
    privacy_policy: Url
    claims: Annotated[tuple[ClaimName, ...], msgspec.Meta(min_length=1, max_length=MAX_CLAIMS_PER_PURPOSE)]
    required: bool  # needed for the service: refusing it is refusing the purpose
    why: Why


class Purpose(_Inbound):
    id: PurposeId
    title: Title
    description: Description
    benefit: Benefit
    concept: DpvConcept
    claims: Annotated[tuple[ClaimRequest, ...], msgspec.Meta(min_length=1, max_length=MAX_CLAIMS_PER_PURPOSE)]
    retention: Duration
    third_parties: Annotated[tuple[ThirdParty, ...], msgspec.Meta(max_length=MAX_THIRD_PARTIES)]


class Controller(_Inbound):
    name: Name
    contact: Contact
    privacy_policy: Url


class Manifest(_Inbound, omit_defaults=True):
    version: Literal[1]
    origin: Annotated[str, msgspec.Meta(max_length=300)]
    controller: Controller
    site_key: OkpPublicJwk
    revocation_endpoint: Url
    purposes: Annotated[tuple[Purpose, ...], msgspec.Meta(min_length=1, max_length=MAX_PURPOSES)]
    # Where the vault asks "what do you hold about me?" (vault.protocol.access). Optional: a site without
    # one cannot be asked, and the vault says so.
    access_endpoint: Url | None = None

    def purpose(self, purpose_id: str) -> Purpose | None:
        entry = manifest_index(self).get(purpose_id)
        return None if entry is None else entry.purpose


_manifest_decoder = msgspec.json.Decoder(Manifest)


def decode_manifest(data: bytes) -> Manifest:
    """Decode and validate a manifest. Raises ManifestInvalid (its message names the problem)."""
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) > MAX_MANIFEST_BYTES:
        raise ManifestInvalid(f"a manifest is at most {MAX_MANIFEST_BYTES} bytes of JSON")
    try:
        manifest = decode_unique(bytes(data), _manifest_decoder)
    except (ValueError, msgspec.DecodeError) as error:
        raise ManifestInvalid(f"manifest does not match the schema: {error}") from None
    problem = manifest_problem(manifest)
    if problem is not None:
        raise ManifestInvalid(problem)
    return manifest


def encode_manifest(manifest: Manifest) -> bytes:
    return msgspec.json.encode(manifest)


def manifest_problem(manifest: Manifest) -> str | None:
    """The first rule (beyond the schema) that the manifest breaks, or None."""
    problem = origin_problem(manifest.origin)
    if problem is not None:
        return f"origin: {problem}"
    if not same_origin_url(manifest.revocation_endpoint, manifest.origin):
        return "revocation_endpoint must be a URL on the manifest's own origin"
    access = manifest.access_endpoint
    if access is not None and not same_origin_url(access, manifest.origin):
        return "access_endpoint must be a URL on the manifest's own origin"
    if url_problem(manifest.controller.privacy_policy) is not None:
        return "controller.privacy_policy must be an https URL"
    if manifest.site_key.kty != "OKP" or manifest.site_key.crv != "Ed25519":
        return "site_key must be an Ed25519 OKP public key"
    try:
        VerifyingKey.from_bytes(b64url_decode(manifest.site_key.x))
    except ValueError:
        return "site_key.x is not an Ed25519 public key"
    purpose_ids = [purpose.id for purpose in manifest.purposes]
    if len(set(purpose_ids)) != len(purpose_ids):
        return "purpose ids must be unique"
    for purpose in manifest.purposes:
        names = [claim.name for claim in purpose.claims]
        # The schema's patterns end in `$`, which Python also matches before a final newline.
        if any(name.endswith("\n") for name in (purpose.id, *names)):
            return f"purpose {purpose.id.strip()}: an id or claim name ends in a newline"
        if len(set(names)) != len(names):
            return f"purpose {purpose.id}: claim names must be unique"
        problem = _third_party_problem(purpose, set(names))
        if problem is not None:
            return f"purpose {purpose.id}: {problem}"
    return None


def _third_party_problem(purpose: Purpose, declared: set[str]) -> str | None:
    ids = [party.id for party in purpose.third_parties]
    if len(set(ids)) != len(ids):
        return "third party ids must be unique"
    for party in purpose.third_parties:
        if party.id.endswith("\n") or any(name.endswith("\n") for name in party.claims):
            return "a third party id or claim name ends in a newline"
        if party.country not in ISO_3166_ALPHA2:
            return f"third party {party.id}: country must be an ISO 3166-1 alpha-2 code, like NL"
        if url_problem(party.privacy_policy) is not None:
            return f"third party {party.id}: privacy_policy must be an https URL"
        if len(set(party.claims)) != len(party.claims):
            return f"third party {party.id}: claim names must be unique"
        undeclared = [name for name in party.claims if name not in declared]
        if undeclared:
            return (
                f"third party {party.id} receives {', '.join(undeclared)}, which the purpose does not ask for"
            )
    return None


def url_problem(url: str) -> str | None:
    """Why `url` is not an absolute https (or loopback http) URL, or None."""
    scheme_end = url.find("://")
    path_start = url.find("/", scheme_end + 3) if scheme_end >= 0 else -1
    origin = url if path_start < 0 else url[:path_start]
    if origin_problem(origin) is not None:
        return "not https://host[:port]/..."
    if not re.fullmatch(r"[\x21-\x7e]*", url[len(origin) :]):
        return "URL has spaces or non-ASCII characters"
    return None


def purpose_digest(purpose: Purpose) -> str:
    """base64url(SHA-256(RFC 8785 canonical JSON of the purpose entry)), with no padding."""
    return _purpose_digest(purpose)


@lru_cache(maxsize=256)
def _purpose_digest(purpose: Purpose) -> str:
    canonical = rfc8785.dumps(msgspec.to_builtins(purpose))
    return b64url_encode(hashlib.sha256(canonical).digest())


class IndexedPurpose(msgspec.Struct, frozen=True):
    """What issuing and verifying need to know about one purpose, computed once per manifest."""

    purpose: Purpose
    digest: str
    declared: frozenset[str]
    required: frozenset[str]
    recipients: Mapping[str, frozenset[str]]  # third party id -> the claims it receives
    required_recipients: frozenset[str]


@lru_cache(maxsize=64)
def _index(manifest: Manifest) -> Mapping[str, IndexedPurpose]:
    """Purposes by id with their digests and claim sets (read-only: the cached copy is shared)."""
    return MappingProxyType(
        {
            purpose.id: IndexedPurpose(
                purpose=purpose,
                digest=purpose_digest(purpose),
                declared=frozenset(claim.name for claim in purpose.claims),
                required=frozenset(claim.name for claim in purpose.claims if claim.required),
                recipients=MappingProxyType({p.id: frozenset(p.claims) for p in purpose.third_parties}),
                required_recipients=frozenset(p.id for p in purpose.third_parties if p.required),
            )
            for purpose in manifest.purposes
        }
    )


# Purposes by id with their digests and claim sets (cached: manifests are immutable, and hash once).
manifest_index = _index


def recipients_problem(
    entry: IndexedPurpose, recipients: tuple[str, ...], claims: Collection[str]
) -> str | None:
    """Why `recipients` cannot go with a presentation of `claims` (their names) for this purpose, or None.

    Each must be a third party the purpose declares, named once; and every required third party that
    receives at least one of `claims` must be named (the site may not serve without passing them on).
    Returns "undeclared_recipient" or "missing_recipient" (as the Reason spells them)."""
    # (Plain loops and isdisjoint: a mapping's keys view compared with a set runs in Python, and the
    # verifier calls this for every presentation.)
    declared = entry.recipients
    for recipient in recipients:
        if recipient not in declared:
            return "undeclared_recipient"
    if len(set(recipients)) != len(recipients):
        return "undeclared_recipient"
    for recipient in entry.required_recipients:
        if recipient not in recipients and not declared[recipient].isdisjoint(claims):
            return "missing_recipient"
    return None


@lru_cache(maxsize=256)  # pure; asked for every disclosure, and sites use a handful of durations
def retention_seconds(duration: str) -> int:
    """The retention duration in seconds, counting Y=365 d, M=30 d, W=7 d (SPEC.md, "Retention")."""
    if re.fullmatch(DURATION_PATTERN, duration) is None:
        raise ValueError("not an ISO 8601 duration")
    date_part, _, time_part = duration[1:].partition("T")
    seconds = sum(int(n) * _DATE_UNIT_SECONDS[unit] for n, unit in _DURATION_PARTS.findall(date_part))
    return seconds + sum(int(n) * _TIME_UNIT_SECONDS[unit] for n, unit in _DURATION_PARTS.findall(time_part))
