"""Third parties in the manifest (SPEC.md, "Site manifest"): what validation refuses, what the index says
about them, and the rule a presentation's `recipients` must follow (`recipients_problem`)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import example
from vault.protocol import ManifestInvalid, decode_manifest, encode_manifest
from vault.protocol.manifest import (
    MAX_THIRD_PARTIES,
    RECIPIENT_ROLES,
    ThirdParty,
    manifest_index,
    recipients_problem,
)

EXAMPLE = json.loads(encode_manifest(example.manifest()))
PARTY = "purposes.0.third_parties.0"
STOCK = EXAMPLE["purposes"][0]["third_parties"][0]


def edited(*changes: tuple[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(EXAMPLE)
    for path, value in changes:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is ...:
            del node[key]
        else:
            node[key] = value
    return document


def decode(document: dict[str, Any]) -> Any:
    return decode_manifest(json.dumps(document).encode())


def refusal(document: dict[str, Any]) -> str:
    with pytest.raises(ManifestInvalid) as raised:
        decode(document)
    return str(raised.value)


def test_the_example_declares_two_third_parties() -> None:
    recommendations = decode(EXAMPLE).purpose("recommendations")
    assert [(p.id, p.role, p.country, p.required) for p in recommendations.third_parties] == [
        ("stock", "dpv:Processor", "IE", True),
        ("analytics", "dpv:ThirdParty", "NL", False),
    ]


def test_the_roles_are_the_three_dpv_recipient_concepts() -> None:
    assert RECIPIENT_ROLES == ("dpv:Processor", "dpv:ThirdParty", "dpv:JointDataControllers")
    for role in RECIPIENT_ROLES:
        assert decode(edited((f"{PARTY}.role", role))).purposes[0].third_parties[0].role == role


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (((f"{PARTY}.claims", ["location.country", "email"]),), "receives email, which the purpose"),
        ((("purposes.1.third_parties", [STOCK]),), "receives location.country, which the purpose"),
        ((("purposes.0.third_parties.1.id", "stock"),), "third party ids must be unique"),
        (((f"{PARTY}.country", "XX"),), "ISO 3166-1 alpha-2"),
        (((f"{PARTY}.country", "ie"),), "ISO 3166-1 alpha-2"),
        (((f"{PARTY}.country", "IRL"),), "schema"),
        (((f"{PARTY}.role", "dpv:DataController"),), "schema"),
        (((f"{PARTY}.role", "Processor"),), "schema"),
        (((f"{PARTY}.privacy_policy", "http://stock.example/privacy"),), "privacy_policy must be an https"),
        (((f"{PARTY}.privacy_policy", "https://stock.example/pri vacy"),), "privacy_policy must be an https"),
        (((f"{PARTY}.privacy_policy", "ftp://stock.example/x"),), "privacy_policy must be an https"),
        (((f"{PARTY}.id", "stock\n"),), "ends in a newline"),
        (((f"{PARTY}.claims", ["location.country\n"]),), "ends in a newline"),
        (((f"{PARTY}.id", "Stock"),), "schema"),
        (((f"{PARTY}.id", "x" * 65),), "schema"),
        (((f"{PARTY}.claims", ["location.country"] * 2),), "claim names must be unique"),
        (((f"{PARTY}.claims", []),), "schema"),
        (((f"{PARTY}.contact", "privacy@stock.example"),), "schema"),
        (((f"{PARTY}.required", ...),), "schema"),
        (((f"{PARTY}.required", "true"),), "schema"),
        (((f"{PARTY}.name", ""),), "schema"),
        (((PARTY, {"name": STOCK["name"], "why": STOCK["why"]}),), "schema"),
    ],
)
def test_bad_third_parties_are_refused(changes: tuple[tuple[str, Any], ...], message: str) -> None:
    assert message in refusal(edited(*changes))


def test_at_most_sixteen_third_parties_per_purpose() -> None:
    parties = [dict(STOCK, id=f"partner-{index}") for index in range(MAX_THIRD_PARTIES + 1)]
    assert len(decode(edited(("purposes.0.third_parties", parties[:-1]))).purposes[0].third_parties) == 16
    assert "schema" in refusal(edited(("purposes.0.third_parties", parties)))


def test_an_id_is_unique_within_its_purpose_only() -> None:
    manifest = decode(edited(("purposes.1.third_parties", [dict(STOCK, claims=["age_over_18"])])))
    assert manifest_index(manifest)["age-check"].recipients == {"stock": frozenset({"age_over_18"})}


def test_a_repeated_member_in_a_third_party_is_refused() -> None:
    text = json.dumps(EXAMPLE).replace('"role": "dpv:Processor"', '"role": "x", "role": "dpv:Processor"', 1)
    assert '"role": "x"' in text
    with pytest.raises(ManifestInvalid):
        decode_manifest(text.encode())


def test_the_index_lists_recipients_and_the_required_ones() -> None:
    index = manifest_index(example.manifest())
    assert dict(index["recommendations"].recipients) == {
        "stock": frozenset({"location.country"}),
        "analytics": frozenset({"sizes.shoe", "interests"}),
    }
    assert index["recommendations"].required_recipients == {"stock"}
    assert dict(index["age-check"].recipients) == {}
    assert index["age-check"].required_recipients == frozenset()


ENTRY = manifest_index(example.manifest())["recommendations"]
ALL = frozenset({"age_over_18", "location.country", "sizes.shoe", "interests"})


@pytest.mark.parametrize(
    ("recipients", "claims", "problem"),
    [
        (("stock",), ALL, None),
        (("stock", "analytics"), ALL, None),
        (("analytics", "stock"), ALL, None),
        ((), frozenset({"age_over_18"}), None),  # stock receives none of these: it need not be listed
        (("analytics",), frozenset({"age_over_18"}), None),
        ((), ALL, "missing_recipient"),
        (("analytics",), ALL, "missing_recipient"),
        (("stock", "ads"), ALL, "undeclared_recipient"),
        (("Stock",), ALL, "undeclared_recipient"),
        (("stock", "stock"), ALL, "undeclared_recipient"),
    ],
)
def test_recipients_problem(recipients: tuple[str, ...], claims: frozenset[str], problem: str | None) -> None:
    assert recipients_problem(ENTRY, recipients, claims) == problem


@given(
    recipients=st.lists(st.sampled_from(["stock", "analytics", "ads"]), max_size=4),
    claims=st.sets(st.sampled_from(sorted(ALL))),
)
def test_recipients_problem_is_the_rule_in_words(recipients: list[str], claims: set[str]) -> None:
    """Each recipient declared and named once; every required recipient receiving a claim named."""
    problem = recipients_problem(ENTRY, tuple(recipients), frozenset(claims))
    if len(set(recipients)) != len(recipients) or "ads" in recipients:
        assert problem == "undeclared_recipient"
    elif "location.country" in claims and "stock" not in recipients:
        assert problem == "missing_recipient"
    else:
        assert problem is None


def test_third_party_struct_has_the_fields_of_the_spec() -> None:
    assert ThirdParty.__struct_fields__ == (
        "id",
        "name",
        "role",
        "country",
        "privacy_policy",
        "claims",
        "required",
        "why",
    )
