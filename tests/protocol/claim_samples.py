"""Claim values for the claim type tests: good and bad ones for every claim, and the longest good ones."""

from __future__ import annotations

from typing import Any

from vault.protocol.claim_types import ACCESSIBILITY_NEEDS, CLAIM_TYPES, DIETS, MAX_LANGUAGES

GOOD: dict[str, list[Any]] = {
    **{name: [True, False] for name in CLAIM_TYPES if name.startswith("age_over_")},
    "age_range": ["under 13", "18-24", "65+"],
    "location.country": ["NL", "GB", "US"],
    "location.region": ["Noord-Holland", "Île-de-France", "Zürich", "x" * 100, "a b"],
    "location.postal_prefix": ["101", "SW1", "7"],
    "location.postal_code": ["1017 CT", "SW1A 1AA", "75001", "K1A-0B1"],
    "interests": [["running"], ["trail running", "jazz", "chess", "tea", "café"], ["x" * 40], ['say "hi"']],
    "sizes.shoe": [15, 52, 42, 42.5, 42.0, 15.5],
    "sizes.clothing": ["XXS", "M", "4XL"],
    "languages": [["en-GB", "nl"], ["zh-Hant-TW"], ["de-CH-1996", "es-419"], ["EN-gb"]],
    "diet": [["vegan"], list(DIETS)],
    "accessibility": [["captions"], list(ACCESSIBILITY_NEEDS)],
    "email": ["ada@example.org", "a.b+tag@mail.example.co.uk"],
    "given_name": ["Ada", "Zoë", "José María", "李"],
    "family_name": ["Lovelace", "O'Brien", "van der Berg"],
}

BAD: dict[str, list[Any]] = {
    **{
        name: ["false", "true", 0, 1, None, [], [True], {}, "yes"]
        for name in CLAIM_TYPES
        if name.startswith("age_over_")
    },
    "age_range": ["18 to 24", "teen", "", "18-24 ", 18, ["18-24"], None],
    "location.country": [
        ["NL", "DE"],
        "<script>alert(1)</script>",
        "nl",
        "Nl",
        "XX",
        "NLD",
        "",
        " NL",
        "NL\n",
        528,
        None,
        True,
    ],
    "location.region": ["", " padded", "padded ", "line\nbreak", "nul\x00", "\x85", "x" * 101, 7, ["a"]],
    "location.postal_prefix": ["1017", "10 ", "1 1", "", "abc", "1-", 101, ["101"]],
    "location.postal_code": ["1017ct", " 1017 CT", "1017 ", "-1017", "x" * 13, "1017\nCT", 1017],
    "interests": [
        [],
        ["x" * 41],
        [""],
        [" running"],
        ["a", "b", "c", "d", "e", "f"],
        ["running", "running"],
        ["<b>bold</b>"],
        ["a,b"],
        ["[x]"],
        ["tab\there"],
        "running",
        [1],
        [["nested"]],
        [None],
        {"running": True},
    ],
    "sizes.shoe": ["42", 14.5, 52.5, 42.3, 0, -42, 99, float("nan"), float("inf"), True, None, [42]],
    "sizes.clothing": ["m", "XXXL", "", " M", 5, ["M"]],
    "languages": [
        ["en_GB"],
        ["e"],
        ["123"],
        ["en-"],
        ["not a language"],
        ["english-language-tag-that-is-far-too-long"],
        ["x" * 70],
        [],
        ["nl", "nl"],
        ["ſv"],  # a long s: matches [a-z] case-insensitively only outside ASCII
        ["nl"] * (MAX_LANGUAGES + 1),
        "en-GB",
        [42],
    ],
    "diet": [["carnivore"], ["Vegan"], [], "vegan", ["vegan", "vegan"], [None]],
    "accessibility": [["telepathy"], [], "captions", ["captions", "captions"]],
    "email": [
        "not an email",
        "ada@",
        "a@b",
        "@example.org",
        "ada@example.org ",
        "a\x00a@example.org",
        "a" * 65 + "@example.org",
        "a@" + "b" * 250 + ".org",
        ["ada@example.org"],
        1,
    ],
    "given_name": ["", " ", "\t", " Ada", "Ada ", "x" * 101, "Ada\x00", "Ada\x1b[31m", 1, ["Ada"], None],
    "family_name": ["", "\n", "x" * 101, False],
}

# The longest values each type allows, in the characters that take the most bytes (4 in UTF-8).
_WIDE = "\U0001f600"
LONGEST: dict[str, Any] = {
    **{name: False for name in CLAIM_TYPES if name.startswith("age_over_")},
    "age_range": "under 13",
    "location.country": "NL",
    "location.region": _WIDE * 100,
    "location.postal_prefix": "101",
    "location.postal_code": "1" + "-" * 10 + "1",
    "interests": [_WIDE * 39 + str(i) for i in range(5)],
    "sizes.shoe": 42.5,
    "sizes.clothing": "XXS",
    "languages": [f"en-x-{i:08d}" + "-abcdefgh" * 5 + "-abcde" for i in range(MAX_LANGUAGES)],
    "diet": list(DIETS),
    "accessibility": list(ACCESSIBILITY_NEEDS),
    "email": _WIDE * 64 + "@" + ("a" * 63 + ".") * 2 + "b" * 57 + ".org",
    "given_name": _WIDE * 100,
    "family_name": _WIDE * 100,
}
