"""Vectors for claim value types (SPEC.md, "Claim value types"): each carries one value its claim's type
refuses, in a token that is otherwise valid and signed by the vault's key (so only the type check can
catch it), and one valid token carries a value of every type.

Values the payload schema already refuses (an object, an integer beyond 2^53 - 1) are `malformed`
vectors in gen_vectors.py; these are well-formed JSON of the wrong claim type.
"""

from __future__ import annotations

from typing import Any

import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from vector_tools import ALL_CLAIMS, issued, replay_records, vector, with_payload

from tests import example
from vault.protocol.manifest import manifest_index

EVERY_CLAIM_MANIFEST = example.manifest_with_every_claim()

# One valid value of each claim type, as the vault would derive it from a profile.
EVERY_CLAIM_VALUES: dict[str, Any] = {
    "age_over_13": True,
    "age_over_16": True,
    "age_over_18": True,
    "age_over_21": False,
    "age_over_65": False,
    "age_range": "18-24",
    "location.country": "NL",
    "location.region": "Noord-Holland",
    "location.postal_prefix": "101",
    "location.postal_code": "1017 CT",
    "interests": ["trail running", "jazz"],
    "sizes.shoe": 42.5,
    "sizes.clothing": "M",
    "languages": ["en-GB", "nl", "zh-Hant-TW"],
    "diet": ["vegetarian", "nut-free"],
    "accessibility": ["captions"],
    "email": "ada@example.org",
    "given_name": "Ada",
    "family_name": "Lovelace",
}

# (name, comment, claims changed from the recommendations purpose's valid claims)
RECOMMENDATIONS_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "claim_age_over_string",
        'age_over_18 is the string "false": a boolean claim is true or false.',
        {"age_over_18": "false"},
    ),
    (
        "claim_age_over_number",
        "age_over_18 is 0: a boolean claim is true or false, not a number.",
        {"age_over_18": 0},
    ),
    (
        "claim_country_list",
        "location.country is a list of two codes: a country claim is one code.",
        {"location.country": ["NL", "DE"]},
    ),
    (
        "claim_country_markup",
        "location.country is HTML: only assigned ISO 3166-1 alpha-2 codes are allowed.",
        {"location.country": "<script>alert(1)</script>"},
    ),
    (
        "claim_country_lower_case",
        "location.country in lower case: codes are upper case.",
        {"location.country": "nl"},
    ),
    (
        "claim_country_unassigned",
        "location.country is XX, which ISO 3166-1 does not assign.",
        {"location.country": "XX"},
    ),
    ("claim_shoe_size_string", 'sizes.shoe is the string "42": sizes are numbers.', {"sizes.shoe": "42"}),
    (
        "claim_shoe_size_out_of_range",
        "sizes.shoe is 99: EU shoe sizes run from 15 to 52.",
        {"sizes.shoe": 99},
    ),
    ("claim_shoe_size_off_step", "sizes.shoe is 42.3: sizes come in steps of 0.5.", {"sizes.shoe": 42.3}),
    (
        "claim_interests_too_many",
        "Six interests: the claim carries at most five.",
        {"interests": ["a", "b", "c", "d", "e", "f"]},
    ),
    (
        "claim_interest_too_long",
        "An interest of 41 characters: topics have at most 40.",
        {"interests": ["x" * 41]},
    ),
    ("claim_interest_empty", "An empty interest: topics have at least one character.", {"interests": [""]}),
    (
        "claim_interests_repeated",
        "The same interest twice: list items are distinct.",
        {"interests": ["running", "running"]},
    ),
    (
        "claim_interests_not_a_list",
        "interests is a string: the claim is a list of topics.",
        {"interests": "running"},
    ),
]

# (name, comment, claims of the account purpose, which declares every claim of the vocabulary)
ACCOUNT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "claim_language_not_bcp47",
        'languages holds "en_GB": BCP 47 separates subtags with hyphens.',
        {"languages": ["en_GB"]},
    ),
    (
        "claim_age_range_unknown_label",
        'age_range is "18 to 24", not one of the age ranges ("18-24").',
        {"age_range": "18 to 24"},
    ),
    ("claim_diet_unknown", 'diet holds "carnivore", which is not one of the diets.', {"diet": ["carnivore"]}),
    (
        "claim_clothing_size_lower_case",
        'sizes.clothing is "m": the clothing sizes are upper case.',
        {"sizes.clothing": "m"},
    ),
    (
        "claim_given_name_control_character",
        "given_name contains U+0000 (written \\u0000 in the JSON).",
        {"given_name": "Ada\u0000"},
    ),
    (
        "claim_given_name_empty",
        "given_name is empty: text claims have at least one character.",
        {"given_name": ""},
    ),
    ("claim_email_not_an_address", "email has no domain.", {"email": "ada@"}),
    (
        "claim_postal_prefix_too_long",
        "location.postal_prefix has four characters: it has at most three.",
        {"location.postal_prefix": "1017"},
    ),
]


def claim_value_vectors() -> list[dict]:
    base = issued("claim types")
    account = issued(
        "account", purpose="account", claims={"email": "ada@example.org"}, manifest=EVERY_CLAIM_MANIFEST
    )
    replayed = issued("claim types replayed")
    seen = replay_records(replayed)
    return [
        vector(
            "valid_every_claim_type",
            "A purpose declaring every claim of the vocabulary; a valid value of each type.",
            "valid",
            issued(
                "every claim", purpose="account", claims=EVERY_CLAIM_VALUES, manifest=EVERY_CLAIM_MANIFEST
            ),
            manifest=EVERY_CLAIM_MANIFEST,
        ),
        *(
            vector(name, comment, "bad_claim_value", with_payload(base, claims={**ALL_CLAIMS, **claims}))
            for name, comment, claims in RECOMMENDATIONS_CASES
        ),
        *(
            vector(
                name,
                comment,
                "bad_claim_value",
                with_payload(account, claims=claims),
                manifest=EVERY_CLAIM_MANIFEST,
            )
            for name, comment, claims in ACCOUNT_CASES
        ),
        vector(
            "claim_outside_vocabulary",
            "The site's manifest declares loyalty.tier, a claim the vocabulary does not define: its value "
            "has no type, so the presentation is refused.",
            "bad_claim_value",
            with_payload(
                issued(
                    "loyalty",
                    purpose="account",
                    claims={"email": "ada@example.org"},
                    manifest=EVERY_CLAIM_MANIFEST,
                ),
                purpose={"id": "loyalty", "concept": "dpv:ServiceProvision"},
                purpose_digest=manifest_index(EVERY_CLAIM_MANIFEST)["loyalty"].digest,
                retention="P1Y",
                claims={"loyalty.tier": "gold"},
            ),
            manifest=EVERY_CLAIM_MANIFEST,
        ),
        vector(
            "claim_undeclared_before_bad_value",
            "A claim the purpose does not declare and a mistyped one: undeclared_claim is checked first.",
            "undeclared_claim",
            with_payload(base, claims={**ALL_CLAIMS, "age_over_18": "yes", "email": "ada@example.org"}),
        ),
        vector(
            "claim_missing_before_bad_value",
            "A required claim missing and another mistyped: missing_claim is checked first.",
            "missing_claim",
            with_payload(base, claims={"age_over_18": "yes"}),
        ),
        vector(
            "claim_bad_value_before_replay",
            "A mistyped claim in a token whose replay record exists: bad_claim_value is checked first.",
            "bad_claim_value",
            with_payload(replayed, claims={**ALL_CLAIMS, "sizes.shoe": "42"}),
            seen=seen,
        ),
    ]
