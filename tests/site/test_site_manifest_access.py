"""A manifest's optional access_endpoint (SPEC.md, "Site manifest"): on the site's own origin, left out
when there is none (so manifests without one are the bytes they were, and their digests unchanged)."""

from __future__ import annotations

import json

import msgspec
import pytest

from tests import example
from vault.protocol import Manifest, ManifestInvalid, purpose_digest
from vault.site import build_manifest, decode_manifest, manifest_json

SITE_KEY = example.site_key()


def built(access_endpoint: str | None) -> Manifest:
    return build_manifest(
        origin=example.ORIGIN,
        controller=example.manifest().controller,
        site_key=SITE_KEY,
        revocation_endpoint=example.ORIGIN + "/.well-known/vault-revocation",
        purposes=[example.RECOMMENDATIONS, example.AGE_CHECK],
        access_endpoint=access_endpoint,
    )


def test_an_access_endpoint_is_published_and_read_back() -> None:
    manifest = built(example.ORIGIN + "/.well-known/vault-access")
    served = manifest_json(manifest)
    assert json.loads(served)["access_endpoint"] == "https://shop.example/.well-known/vault-access"
    assert decode_manifest(served).access_endpoint == "https://shop.example/.well-known/vault-access"


def test_without_one_the_member_is_left_out() -> None:
    manifest = built(None)
    assert manifest == example.manifest()
    assert "access_endpoint" not in json.loads(manifest_json(manifest))
    assert [purpose_digest(p) for p in manifest.purposes] == [
        purpose_digest(p) for p in example.manifest().purposes
    ]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://answers.example/.well-known/vault-access",
        "https://shop.example.evil.example/vault-access",
        "https://shop.example",
        "https://shop.example/vault?kind=access",
        "https://shop.example/vault#access",
        "http://shop.example/vault",
    ],
)
def test_an_access_endpoint_elsewhere_is_refused(endpoint: str) -> None:
    with pytest.raises(ManifestInvalid, match="access_endpoint"):
        built(endpoint)


def test_null_is_refused() -> None:
    document = json.loads(manifest_json(example.manifest()))
    document["access_endpoint"] = None
    with pytest.raises(ManifestInvalid):
        decode_manifest(msgspec.json.encode(document))
