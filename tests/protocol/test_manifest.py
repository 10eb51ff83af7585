"""The site manifest: strict decoding, validation rules, and the purpose digest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from tests import example
from vault.protocol import ManifestInvalid, decode_manifest, encode_manifest, purpose_digest
from vault.protocol.b64 import b64url_encode
from vault.protocol.manifest import MAX_MANIFEST_BYTES, retention_seconds
from vault.protocol.origin import is_origin

EXAMPLE = Path(__file__).resolve().parents[2] / "vault" / "protocol" / "examples" / "manifest.json"


def example_json() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def decode(value: dict[str, Any]) -> Any:
    return decode_manifest(json.dumps(value).encode())


def test_example_manifest_decodes() -> None:
    manifest = decode_manifest(EXAMPLE.read_bytes())
    assert manifest == example.manifest()
    assert manifest.origin == "https://shop.example"
    recommendations = manifest.purpose("recommendations")
    assert recommendations is not None
    assert recommendations.retention == "P30D"
    assert {claim.name: claim.required for claim in recommendations.claims} == {
        "age_over_18": True,
        "location.country": True,
        "sizes.shoe": False,
        "interests": False,
    }
    assert manifest.purpose("age-check") is not None
    assert manifest.purpose("marketing") is None


def test_round_trip() -> None:
    manifest = example.manifest()
    assert decode_manifest(encode_manifest(manifest)) == manifest


def edit(path: str, value: Any) -> dict[str, Any]:
    """The example manifest with one member (dotted path, list indexes as numbers) set or deleted."""
    document = example_json()
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


BAD_EDITS = [
    ("origin", "http://shop.example"),
    ("origin", "https://shop.example/"),
    ("origin", "https://shop.example/path"),
    ("origin", "https://Shop.example"),
    ("origin", "https://shop.example:443"),
    ("origin", "https://shop.example:99999"),
    ("origin", "https://shop..example"),
    ("origin", "https://user@shop.example"),
    ("origin", "https://[::0:1]"),
    ("origin", "https://256.1.1.1"),
    ("revocation_endpoint", "https://elsewhere.example/revoke"),
    ("revocation_endpoint", "https://shop.example"),
    ("revocation_endpoint", "https://shop.example.evil.example/revoke"),
    ("controller.privacy_policy", "http://shop.example/privacy"),
    ("controller.privacy_policy", "https://shop.example/priv acy"),
    ("controller.name", ""),
    ("controller.extra", "x"),
    ("site_key.crv", "X25519"),
    ("site_key.x", "A" * 42),
    ("site_key.d", "A" * 43),
    ("version", 2),
    ("purposes", []),
    ("purposes.1.id", "recommendations"),
    ("purposes.0.id", "Recommendations"),
    ("purposes.0.id", "recommendations\n"),
    ("purposes.0.claims.1.name", "location.country\n"),
    ("purposes.0.claims.1.name", "age_over_18"),
    ("purposes.0.claims.1.name", "Location.country"),
    ("purposes.0.claims.1.name", "location..country"),
    ("purposes.0.claims.1.name", "a" * 65),
    ("purposes.0.claims", []),
    ("purposes.0.retention", "30 days"),
    ("purposes.0.retention", "P"),
    ("purposes.0.retention", "PT"),
    ("purposes.0.retention", "P1W2D"),
    ("purposes.0.concept", "ProvidePersonalisedRecommendations"),
    ("purposes.0.title", "x" * 121),
    ("purposes.0.third_parties", ...),
    ("purposes.0.claims.0.required", "yes"),
    ("purposes.0.unknown", 1),
]


@pytest.mark.parametrize(("path", "value"), BAD_EDITS, ids=[f"{p}={v!r}"[:60] for p, v in BAD_EDITS])
def test_invalid_manifests_are_refused(path: str, value: Any) -> None:
    with pytest.raises(ManifestInvalid):
        decode(edit(path, value))


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:8080", "http://127.0.0.1:8000", "http://[::1]:9000", "https://xn--bcher-kva.example"],
)
def test_loopback_http_and_punycode_origins_are_accepted(origin: str) -> None:
    document = edit("origin", origin)
    document["revocation_endpoint"] = origin + "/revoke"
    assert decode(document).origin == origin


def test_bounds() -> None:
    many = edit("purposes", [dict(example_json()["purposes"][1], id=f"p{i}") for i in range(33)])
    with pytest.raises(ManifestInvalid):
        decode(many)
    with pytest.raises(ManifestInvalid):
        decode_manifest(b" " * (MAX_MANIFEST_BYTES + 1))


def test_duplicate_keys_are_refused() -> None:
    text = EXAMPLE.read_bytes().replace(b'"retention": "P30D"', b'"retention": "P1D", "retention": "P30D"', 1)
    assert text != EXAMPLE.read_bytes()
    with pytest.raises(ManifestInvalid):
        decode_manifest(text)


def test_not_json_is_refused() -> None:
    for text in (b"", b"[]", b"{", b"null", b'{"version": 1}'):
        with pytest.raises(ManifestInvalid):
            decode_manifest(text)


def test_purpose_digest_is_jcs_sha256_of_the_entry_as_written() -> None:
    document = example_json()
    entry = document["purposes"][0]
    expected = b64url_encode(hashlib.sha256(rfc8785.dumps(entry)).digest())
    assert purpose_digest(decode(document).purposes[0]) == expected
    assert len(expected) == 43


def test_unrelated_edits_keep_the_digest() -> None:
    before = purpose_digest(decode(example_json()).purposes[0])
    document = example_json()
    document["controller"]["name"] = "Another Name B.V."
    document["purposes"][1]["retention"] = "P2D"
    document["purposes"].reverse()
    reordered = {key: document[key] for key in reversed(list(document))}
    after = decode_manifest(json.dumps(reordered, indent=4).encode()).purpose("recommendations")
    assert after is not None
    assert purpose_digest(after) == before


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("purposes.0.retention", "P31D"),
        ("purposes.0.claims.2.required", True),
        ("purposes.0.description", "Something else."),
        ("purposes.0.third_parties", []),
        ("purposes.0.claims.3.why", "Another reason."),
        ("purposes.0.third_parties.1.required", True),
        ("purposes.0.third_parties.0.country", "FR"),
        ("purposes.0.third_parties.1.claims", ["sizes.shoe"]),
    ],
)
def test_edits_to_the_purpose_change_the_digest(path: str, value: Any) -> None:
    before = purpose_digest(decode(example_json()).purposes[0])
    assert purpose_digest(decode(edit(path, value)).purposes[0]) != before


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [("P30D", 30 * 86400), ("P1Y", 365 * 86400), ("P1M", 30 * 86400), ("P2W", 14 * 86400), ("PT90M", 5400)],
)
def test_retention_seconds(duration: str, seconds: int) -> None:
    assert retention_seconds(duration) == seconds


def test_retention_seconds_refuses_non_durations() -> None:
    with pytest.raises(ValueError):
        retention_seconds("P1.5D")


@pytest.mark.parametrize(
    ("origin", "ok"),
    [
        ("https://a.example", True),
        ("https://a.example:8443", True),
        ("https://192.0.2.1", True),
        ("http://192.0.2.1", False),
        ("http://localhost", True),
        ("http://localhost.evil.example", False),
        ("https://a.example.", False),
        ("https://-a.example", False),
        ("https://a.example:0", False),
        ("https://a.example:080", False),
        ("ftp://a.example", False),
        (42, False),
    ],
)
def test_origin_rules(origin: object, ok: bool) -> None:
    assert is_origin(origin) is ok
