"""The example shop used by SPEC.md, the test vectors (scripts/gen_vectors.py), the tests and benchmarks.

Its keys come from fixed, published seeds so that everything built from them is reproducible.
Never use these keys for anything real: their private halves are in this file, which is why it is test
support and not part of the installed package. (Its public manifest is vault/protocol/examples/manifest.json,
written by scripts/gen_vectors.py.)
"""

from __future__ import annotations

import hashlib

import msgspec

from vault.protocol.claim_types import CLAIM_TYPES
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.keys import SigningKey, derive_pairwise_key
from vault.protocol.manifest import ClaimRequest, Controller, Manifest, Purpose, ThirdParty, decode_manifest

ORIGIN = "https://shop.example"
NOW = 1767225600  # 2026-01-01T00:00:00Z
SITE_SEED = hashlib.sha256(b"vault example site key").digest()
MASTER_SEED = hashlib.sha256(b"vault example master seed").digest()


def site_key() -> SigningKey:
    return SigningKey.from_seed(SITE_SEED)


def pairwise_key(origin: str = ORIGIN, epoch: int = 0) -> SigningKey:
    return derive_pairwise_key(MASTER_SEED, origin, epoch)


RECOMMENDATIONS = Purpose(
    id="recommendations",
    title="Shoe recommendations",
    description="We suggest shoes in your size that suit your interests, and hide products you may not buy.",
    benefit="You see shoes that fit and that you like first, without creating an account.",
    concept="dpv:ProvidePersonalisedRecommendations",
    claims=(
        ClaimRequest(
            name="age_over_18", required=True, why="Some of our products may only be sold to adults."
        ),
        ClaimRequest(name="location.country", required=True, why="We only show shoes we can deliver to you."),
        ClaimRequest(name="sizes.shoe", required=False, why="To show shoes in your size first."),
        ClaimRequest(name="interests", required=False, why="To order the catalogue by what you like."),
    ),
    retention="P30D",
    third_parties=(
        ThirdParty(
            id="stock",
            name="Example Stock Check Ltd.",
            role="dpv:Processor",
            country="IE",
            privacy_policy="https://stock.example/privacy",
            claims=("location.country",),
            required=True,
            why="Checks which shoes can be delivered to your country.",
        ),
        ThirdParty(
            id="analytics",
            name="Example Analytics B.V.",
            role="dpv:ThirdParty",
            country="NL",
            privacy_policy="https://analytics.example/privacy",
            claims=("sizes.shoe", "interests"),
            required=False,
            why="Counts which recommendations are used, to improve its own ranking service.",
        ),
    ),
)

AGE_CHECK = Purpose(
    id="age-check",
    title="Age confirmation at checkout",
    description="Before you buy an age-restricted product, your vault states on your behalf that you "
    "are 18 or older. It is your own statement: nobody else has checked it.",
    benefit="You confirm your age in one step, and we never see your birth date.",
    concept="dpv:AgeVerification",
    claims=(
        ClaimRequest(name="age_over_18", required=True, why="We may only sell these products to adults."),
    ),
    retention="P1D",
    third_parties=(),
)


def manifest() -> Manifest:
    built = Manifest(
        version=1,
        origin=ORIGIN,
        controller=Controller(
            name="Example Shoes B.V.",
            contact="privacy@shop.example",
            privacy_policy="https://shop.example/privacy",
        ),
        site_key=OkpPublicJwk(**site_key().public_jwk),
        revocation_endpoint="https://shop.example/.well-known/vault-revocation",
        purposes=(RECOMMENDATIONS, AGE_CHECK),
    )
    return decode_manifest(msgspec.json.encode(built))


# Not part of the example shop: a purpose asking for every claim of the vocabulary (all optional), and one
# asking for a claim outside it, for the claim type vectors and tests (SPEC.md, "Claim value types").
EVERY_CLAIM = Purpose(
    id="account",
    title="Fill in your account",
    description="We fill in our account form with what your vault shares; you check it before saving.",
    benefit="You do not have to type your details again.",
    concept="dpv:ServiceProvision",
    claims=tuple(
        ClaimRequest(name=name, required=False, why="To fill in this field of the form.")
        for name in CLAIM_TYPES
    ),
    retention="P1Y",
    third_parties=(),
)
OUTSIDE_VOCABULARY = Purpose(
    id="loyalty",
    title="Loyalty programme",
    description="We give you the discounts of your loyalty tier.",
    benefit="You get your discounts without logging in.",
    concept="dpv:ServiceProvision",
    claims=(ClaimRequest(name="loyalty.tier", required=True, why="To give you your tier's discounts."),),
    retention="P1Y",
    third_parties=(),
)


def manifest_with_every_claim() -> Manifest:
    """The example manifest with the EVERY_CLAIM and OUTSIDE_VOCABULARY purposes added."""
    shop = manifest()
    return decode_manifest(
        msgspec.json.encode(
            msgspec.structs.replace(shop, purposes=(*shop.purposes, EVERY_CLAIM, OUTSIDE_VOCABULARY))
        )
    )
