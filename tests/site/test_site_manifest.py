"""Publishing a manifest and handing out nonces."""

from __future__ import annotations

import pytest

from tests import example
from vault.protocol import ManifestInvalid
from vault.protocol.b64 import b64url_decode
from vault.site import (
    MANIFEST_PATH,
    Controller,
    build_manifest,
    decode_manifest,
    generate_site_key,
    make_nonce,
    manifest_json,
)

CONTROLLER = Controller(
    name="Shop", contact="privacy@shop.example", privacy_policy="https://shop.example/privacy"
)


def test_build_serve_and_read_back() -> None:
    site_key = generate_site_key(lambda n: bytes(range(n)))
    manifest = build_manifest(
        origin="https://shop.example",
        controller=CONTROLLER,
        site_key=site_key,
        revocation_endpoint="https://shop.example/vault/revoke",
        purposes=[example.RECOMMENDATIONS, example.AGE_CHECK],
    )
    assert manifest.site_key.x == site_key.public_jwk["x"]
    served = manifest_json(manifest)
    assert decode_manifest(served) == manifest
    assert MANIFEST_PATH == "/.well-known/vault-manifest.json"


def test_build_validates_like_the_vault() -> None:
    with pytest.raises(ManifestInvalid):
        build_manifest(
            origin="https://shop.example",
            controller=CONTROLLER,
            site_key=example.site_key(),
            revocation_endpoint="https://elsewhere.example/revoke",
            purposes=[example.RECOMMENDATIONS],
        )
    with pytest.raises(ManifestInvalid):
        build_manifest(
            origin="https://shop.example",
            controller=CONTROLLER,
            site_key=example.site_key(),
            revocation_endpoint="https://shop.example/revoke",
            purposes=[example.RECOMMENDATIONS, example.RECOMMENDATIONS],
        )


def test_nonces() -> None:
    nonce = make_nonce()
    assert len(b64url_decode(nonce)) == 16
    assert make_nonce() != nonce
    assert make_nonce(lambda n: b"\x00" * n) == "A" * 22
    assert len(b64url_decode(make_nonce(nbytes=32))) == 32
    with pytest.raises(ValueError):
        make_nonce(nbytes=8)
    with pytest.raises(ValueError):
        make_nonce(lambda n: b"short")
