"""What Demo Shoes publishes at /.well-known/vault-manifest.json: what it asks, why, for how long, and
who else receives what (its analytics partner, a separate service the user may allow or not)."""

from __future__ import annotations

from collections.abc import Sequence

from vault.demo.partner import PARTNER_CLAIMS, PARTNER_ID, PARTNER_NAME
from vault.site import ClaimRequest, Controller, Manifest, Purpose, SigningKey, ThirdParty, build_manifest

REVOCATION_PATH = "/.well-known/vault-revocation"
ACCESS_PATH = "/vault/access"  # where a vault asks what we hold (vault.demo.correspondence)
SUGGESTIONS = "suggestions"  # the purpose our proposal offers: share interests, get suggestions
# Where the partner's privacy notice is when no running partner says otherwise (the shop alone).
PARTNER_POLICY = "https://analytics.demo-shoes.example/privacy"


def analytics_partner(privacy_policy: str = PARTNER_POLICY) -> ThirdParty:
    """Demo Analytics: optional (off unless the user switches it on), in the Netherlands, and receiving
    only the shoe size and interests the user shares."""
    return ThirdParty(
        id=PARTNER_ID,
        name=PARTNER_NAME,
        role="dpv:ThirdParty",
        country="NL",
        privacy_policy=privacy_policy,
        claims=PARTNER_CLAIMS,
        required=False,
        why="Counts which recommendations are used, by shoe size and interest, so we can improve them.",
    )


def shop_manifest(
    origin: str,
    site_key: SigningKey,
    revocation_path: str = REVOCATION_PATH,
    purposes: Sequence[Purpose] | None = None,
    partner_policy: str = PARTNER_POLICY,
    access_path: str = ACCESS_PATH,
) -> Manifest:
    """Demo Shoes' manifest on this origin (or with other `purposes`), naming its analytics partner's
    privacy notice at `partner_policy`; vaults ask what it holds at `access_path`."""
    age = ClaimRequest(
        name="age_over_18", required=True, why="Some of our products may only be sold to adults."
    )
    return build_manifest(
        origin=origin,
        controller=Controller(
            name="Demo Shoes", contact="privacy@demo-shoes.example", privacy_policy=f"{origin}/privacy"
        ),
        site_key=site_key,
        revocation_endpoint=origin + revocation_path,
        access_endpoint=origin + access_path,
        purposes=purposes
        or [
            Purpose(
                id="recommendations",
                title="Shoe recommendations",
                description="We suggest shoes in your size that suit your interests, and hide products "
                "we cannot deliver to you or may not sell to you.",
                benefit="You see shoes that fit and that you like first, without creating an account.",
                concept="dpv:ProvidePersonalisedRecommendations",
                claims=(
                    age,
                    ClaimRequest(
                        name="location.country",
                        required=True,
                        why="We only show shoes we can deliver to you.",
                    ),
                    ClaimRequest(name="sizes.shoe", required=False, why="To show shoes in your size first."),
                    ClaimRequest(
                        name="interests", required=False, why="To order the shoes by what you like."
                    ),
                ),
                retention="P30D",
                third_parties=(analytics_partner(partner_policy),),
            ),
            Purpose(
                id="age-check",
                title="Age confirmation at checkout",
                description="Before you buy an age-restricted product, your vault states on your behalf "
                "that you are 18 or older. It is your own statement: nobody else has checked it.",
                benefit="You confirm your age in one step, and we never see your birth date.",
                concept="dpv:AgeVerification",
                claims=(
                    ClaimRequest(
                        name="age_over_18", required=True, why="We may only sell these products to adults."
                    ),
                ),
                retention="P1D",
                third_parties=(),
            ),
            Purpose(  # what our proposal offers a visitor who shared without their interests
                id=SUGGESTIONS,
                title="Suggestions for your interests",
                description="We suggest shoes, and running meetups and events, that suit the interests "
                "you share with us.",
                benefit="You hear about shoes and events you care about, and nothing else.",
                concept="dpv:ProvidePersonalisedRecommendations",
                claims=(
                    ClaimRequest(name="interests", required=True, why="To choose what we suggest to you."),
                ),
                retention="P90D",
                third_parties=(),
            ),
        ],
    )
