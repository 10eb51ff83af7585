"""Manifest vectors (SPEC.md, "Site manifest"), above all its third parties: one file per case in
vault/protocol/vectors_manifest/. `inputs.manifest` is the manifest's JSON text (so that a case can
repeat a member name); `expect` is `valid` or `invalid` (a manifest has no reasons: a vault refuses an
invalid one whole). A valid case gives each purpose's `purpose_digests`, which depend on its third
parties too. Every invalid case breaks one rule of the example shop's manifest."""

from __future__ import annotations

import copy
import json
from typing import Any

from vector_tools import MANIFEST, jsonb

from vault.protocol.manifest import MAX_THIRD_PARTIES, decode_manifest, encode_manifest, purpose_digest

EXAMPLE = json.loads(encode_manifest(MANIFEST))
STOCK = EXAMPLE["purposes"][0]["third_parties"][0]


def edited(*changes: tuple[str, Any]) -> dict:
    """The example manifest with each dotted path set to its value (`...` removes the member)."""
    manifest = copy.deepcopy(EXAMPLE)
    for path, value in changes:
        *parents, last = path.split(".")
        target: Any = manifest
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        key: Any = int(last) if last.isdigit() else last
        if value is ...:
            del target[key]
        else:
            target[key] = value
    return manifest


def manifest_vector(name: str, comment: str, expect: str, manifest: dict | str) -> dict:
    text = manifest if isinstance(manifest, str) else jsonb(manifest).decode()
    case: dict[str, Any] = {"name": name, "comment": comment, "expect": expect, "inputs": {"manifest": text}}
    if expect == "valid":
        decoded = decode_manifest(text.encode())
        case["purpose_digests"] = {purpose.id: purpose_digest(purpose) for purpose in decoded.purposes}
    return case


def party(index: int, **changes: Any) -> dict:
    return dict(STOCK, id=f"partner-{index}", **changes)


PARTY = "purposes.0.third_parties.0"


def manifest_vectors() -> list[dict]:
    sixteen = [party(index) for index in range(MAX_THIRD_PARTIES)]
    text = jsonb(EXAMPLE).decode()
    assert text.count('"role":"dpv:Processor"') == 1
    return [
        manifest_vector(
            "valid_example",
            "The example shop: recommendations with a required processor (stock) and an optional third "
            "party (analytics).",
            "valid",
            EXAMPLE,
        ),
        manifest_vector(
            "valid_joint_controller_loopback_policy",
            "A joint controller whose privacy policy is on a loopback http origin (as in a local test).",
            "valid",
            edited(
                (f"{PARTY}.role", "dpv:JointDataControllers"),
                (f"{PARTY}.privacy_policy", "http://localhost:8081/privacy"),
            ),
        ),
        manifest_vector(
            "valid_most_third_parties",
            f"{MAX_THIRD_PARTIES} third parties, the most a purpose may have.",
            "valid",
            edited(("purposes.0.third_parties", sixteen)),
        ),
        manifest_vector(
            "valid_same_id_in_two_purposes",
            "A third party id is unique within its purpose; another purpose may use it too.",
            "valid",
            edited(("purposes.1.third_parties", [dict(STOCK, claims=["age_over_18"])])),
        ),
        manifest_vector(
            "third_party_undeclared_claim",
            "stock would receive email, which the purpose does not ask for.",
            "invalid",
            edited((f"{PARTY}.claims", ["location.country", "email"])),
        ),
        manifest_vector(
            "third_party_claim_of_another_purpose",
            "age-check's third party would receive location.country, asked for by recommendations only.",
            "invalid",
            edited(("purposes.1.third_parties", [STOCK])),
        ),
        manifest_vector(
            "third_party_duplicate_id",
            "Two third parties with the id stock in one purpose.",
            "invalid",
            edited(("purposes.0.third_parties.1.id", "stock")),
        ),
        manifest_vector(
            "third_party_unassigned_country",
            "XX is not an ISO 3166-1 alpha-2 code.",
            "invalid",
            edited((f"{PARTY}.country", "XX")),
        ),
        manifest_vector(
            "third_party_lower_case_country",
            "ie instead of IE.",
            "invalid",
            edited((f"{PARTY}.country", "ie")),
        ),
        manifest_vector(
            "third_party_country_name",
            "A country name, not a code.",
            "invalid",
            edited((f"{PARTY}.country", "Ireland")),
        ),
        manifest_vector(
            "third_party_bad_role",
            "dpv:DataController is not one of the three recipient roles.",
            "invalid",
            edited((f"{PARTY}.role", "dpv:DataController")),
        ),
        manifest_vector(
            "third_party_http_policy",
            "A privacy policy over plain http on a public host.",
            "invalid",
            edited((f"{PARTY}.privacy_policy", "http://stock.example/privacy")),
        ),
        manifest_vector(
            "third_party_policy_not_a_url",
            "A privacy policy that is not an absolute URL.",
            "invalid",
            edited((f"{PARTY}.privacy_policy", "see our website")),
        ),
        manifest_vector(
            "third_party_id_trailing_newline",
            "The id stock followed by a line break.",
            "invalid",
            edited((f"{PARTY}.id", "stock\n")),
        ),
        manifest_vector(
            "third_party_id_upper_case",
            "An id not spelled like a purpose id.",
            "invalid",
            edited((f"{PARTY}.id", "Stock")),
        ),
        manifest_vector(
            "third_party_claim_trailing_newline",
            "A received claim name followed by a line break.",
            "invalid",
            edited((f"{PARTY}.claims", ["location.country\n"])),
        ),
        manifest_vector(
            "third_party_repeated_claim",
            "location.country listed twice.",
            "invalid",
            edited((f"{PARTY}.claims", ["location.country", "location.country"])),
        ),
        manifest_vector(
            "third_party_no_claims",
            "A third party that receives nothing is not listed at all.",
            "invalid",
            edited((f"{PARTY}.claims", [])),
        ),
        manifest_vector(
            "too_many_third_parties",
            f"{MAX_THIRD_PARTIES + 1} third parties.",
            "invalid",
            edited(("purposes.0.third_parties", [*sixteen, party(MAX_THIRD_PARTIES)])),
        ),
        manifest_vector(
            "third_party_unknown_member",
            "A member the protocol does not define (a contact address).",
            "invalid",
            edited((f"{PARTY}.contact", "privacy@stock.example")),
        ),
        manifest_vector(
            "third_party_missing_required",
            "No required member: whether refusing it is refusing the purpose must be said.",
            "invalid",
            edited((f"{PARTY}.required", ...)),
        ),
        manifest_vector(
            "third_party_name_and_why_only",
            "A third party as an older draft wrote it: a name and a reason only.",
            "invalid",
            edited((PARTY, {"name": STOCK["name"], "why": STOCK["why"]})),
        ),
        manifest_vector(
            "third_party_required_not_boolean",
            'required is the string "true".',
            "invalid",
            edited((f"{PARTY}.required", "true")),
        ),
        manifest_vector(
            "valid_access_endpoint",
            "The shop declares where the vault may ask what it holds (access_endpoint, optional).",
            "valid",
            edited(("access_endpoint", "https://shop.example/.well-known/vault-access")),
        ),
        manifest_vector(
            "access_endpoint_other_origin",
            "An access endpoint on another origin: the vault asks nowhere but the site itself.",
            "invalid",
            edited(("access_endpoint", "https://answers.example/.well-known/vault-access")),
        ),
        manifest_vector(
            "access_endpoint_with_query",
            "An access endpoint with a query: the origin must be followed by an absolute path alone.",
            "invalid",
            edited(("access_endpoint", "https://shop.example/vault?kind=access")),
        ),
        manifest_vector(
            "revocation_endpoint_with_fragment",
            "A revocation endpoint with a fragment: the origin must be followed by an absolute path alone.",
            "invalid",
            edited(("revocation_endpoint", "https://shop.example/.well-known/vault-revocation#x")),
        ),
        manifest_vector(
            "access_endpoint_null",
            "access_endpoint is null (omit it instead).",
            "invalid",
            edited(("access_endpoint", None)),
        ),
        manifest_vector(
            "third_party_duplicate_member",
            "role twice in one third party, the first a role that is not allowed.",
            "invalid",
            text.replace('"role":"dpv:Processor"', '"role":"dpv:Controller","role":"dpv:Processor"', 1),
        ),
    ]
