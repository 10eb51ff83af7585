"""Interoperability with PyJWT, a JOSE library we did not write: it verifies our presentations, and
our verifier accepts presentations that PyJWT signs in our format."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from tests import example
from vault.protocol import issue_presentation, key_subject, purpose_digest
from vault.site import InMemoryReplayStore, verify_presentation

VECTORS = Path(__file__).resolve().parents[2] / "vault" / "protocol" / "vectors"
NONCE = "n" * 22
CLAIMS = {"age_over_18": True, "location.country": "NL", "interests": ["café", "über"]}


def pyjwt_decode(token: str, audience: str = example.ORIGIN) -> dict:
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "vault-presentation+jwt"
    key = jwt.PyJWK(header["jwk"], algorithm="EdDSA")
    # PyJWT reads the wall clock; time is checked by our own tests, so only its other checks run here.
    return jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],
        audience=audience,
        options={
            "verify_exp": False,
            "verify_iat": False,
            "require": ["iss", "sub", "aud", "exp", "iat", "jti"],
        },
    )


def test_pyjwt_verifies_our_presentation() -> None:
    key = example.pairwise_key()
    token = issue_presentation(
        key,
        example.manifest(),
        "recommendations",
        example.ORIGIN,
        NONCE,
        CLAIMS,
        example.NOW,
        "j" * 16,
        recipients=("stock",),
    )
    payload = pyjwt_decode(token)
    assert payload["claims"] == CLAIMS
    assert payload["iss"] == payload["sub"] == key_subject(key.public_jwk)
    with pytest.raises(jwt.InvalidAudienceError):
        pyjwt_decode(token, audience="https://evil.example")


@pytest.mark.parametrize("name", sorted(path.stem for path in VECTORS.glob("valid_*.json")))
def test_pyjwt_accepts_every_valid_vector(name: str) -> None:
    case = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    assert pyjwt_decode(case["inputs"]["token"])["claims"] == case["claims"]


@pytest.mark.parametrize("name", ["tampered_payload", "tampered_signature", "swapped_jwk_not_resigned"])
def test_pyjwt_refuses_bad_signatures(name: str) -> None:
    case = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_decode(case["inputs"]["token"])


def test_we_accept_what_pyjwt_signs_in_our_format() -> None:
    key = example.pairwise_key(epoch=2)
    manifest = example.manifest()
    recommendations = manifest.purpose("recommendations")
    assert recommendations is not None
    subject = key_subject(key.public_jwk)
    payload = {
        "iss": subject,
        "sub": subject,
        "aud": example.ORIGIN,
        "nonce": NONCE,
        "iat": example.NOW,
        "exp": example.NOW + 120,
        "jti": "pyjwt-made-token-1",
        "purpose": {"id": "recommendations", "concept": recommendations.concept},
        "retention": recommendations.retention,
        "purpose_digest": purpose_digest(recommendations),
        "claims": CLAIMS,  # PyJWT escapes the non-ASCII characters: \u00e9
        "recipients": ["stock"],
    }
    private = jwt.PyJWK({**key.public_jwk, "d": jwt.utils.base64url_encode(key.seed()).decode()}).key
    token = jwt.encode(
        payload, private, algorithm="EdDSA", headers={"typ": "vault-presentation+jwt", "jwk": key.public_jwk}
    )
    verified = verify_presentation(
        token, manifest=manifest, nonce=NONCE, now=example.NOW, replay=InMemoryReplayStore()
    )
    assert verified.claims == CLAIMS
    assert verified.subject == subject
