"""The demo shop's catalogue, and personalisation built from verified claims and nothing else.

`personalise(claims)` is a pure function of the claims a presentation carried after `verify_presentation`
accepted it: no cookies, no history, no guessing. Each product says why it is where it is, and the result
says what each claim changed, so the page can show the visitor exactly what was used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from vault.words import count


class Product(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    price_eur: int
    colour: str  # one of the swatches in shop.css
    tags: tuple[str, ...]  # matched against the `interests` claim
    sizes: tuple[float, float]  # EU sizes, inclusive
    ships_to: tuple[str, ...]  # ISO 3166-1 alpha-2; matched against `location.country`
    adults_only: bool = False


class Shown(msgspec.Struct, kw_only=True):
    id: str
    name: str
    description: str
    price_eur: int
    colour: str
    sizes: str
    why: list[str]  # why it is shown where it is (empty when nothing was personalised)


class Hidden(msgspec.Struct, kw_only=True):
    id: str
    name: str
    why: str


class Use(msgspec.Struct, kw_only=True):
    """What one verified claim changed on the page."""

    claim: str
    value: Any
    effect: str


class Personalisation(msgspec.Struct, kw_only=True):
    products: list[Shown]
    hidden: list[Hidden]
    used: list[Use]  # one entry per claim received, in the order of the claims


PRODUCTS: tuple[Product, ...] = (
    Product(
        id="trailblazer",
        name="Trailblazer GTX",
        description="A grippy, waterproof trail running shoe.",
        price_eur=139,
        colour="moss",
        tags=("trail running", "running", "hiking"),
        sizes=(36, 47),
        ships_to=("NL", "BE", "DE", "FR", "GB"),
    ),
    Product(
        id="city-glide",
        name="City Glide",
        description="A light road running shoe for the daily 5 km.",
        price_eur=99,
        colour="sky",
        tags=("running",),
        sizes=(38, 46),
        ships_to=("NL", "BE", "DE", "FR", "GB", "US"),
    ),
    Product(
        id="blue-note",
        name="Blue Note loafers",
        description="Soft suede loafers for a long night at the jazz club.",
        price_eur=119,
        colour="ink",
        tags=("jazz", "music"),
        sizes=(36, 45),
        ships_to=("NL", "BE", "DE"),
    ),
    Product(
        id="meeple",
        name="Meeple slippers",
        description="Felt slippers for long evenings of board games.",
        price_eur=39,
        colour="sand",
        tags=("board games", "games"),
        sizes=(35, 46),
        ships_to=("NL", "BE", "DE", "FR", "GB", "US"),
    ),
    Product(
        id="summit",
        name="Summit Pro boots",
        description="Leather hiking boots that last for years.",
        price_eur=189,
        colour="clay",
        tags=("hiking", "outdoor"),
        sizes=(39, 48),
        ships_to=("NL", "BE", "DE", "FR"),
    ),
    Product(
        id="after-dark",
        name="After Dark boots, with a bottle of cava",
        description="Party boots, sold with a bottle of sparkling wine (adults only).",
        price_eur=159,
        colour="wine",
        tags=("party", "dancing"),
        sizes=(36, 44),
        ships_to=("NL", "BE", "DE"),
        adults_only=True,
    ),
    Product(
        id="prairie",
        name="Prairie boots",
        description="Western boots, made and sold in North America.",
        price_eur=229,
        colour="clay",
        tags=("country music", "music"),
        sizes=(38, 47),
        ships_to=("US", "CA"),
    ),
    Product(
        id="harbour",
        name="Harbour deck shoes",
        description="Non-slip canvas shoes for sailing and summer.",
        price_eur=79,
        colour="sky",
        tags=("sailing", "outdoor"),
        sizes=(37, 46),
        ships_to=("NL", "BE", "DE", "FR", "GB"),
    ),
)


def size_range(product: Product) -> str:
    low, high = product.sizes
    return f"EU {low:g}-{high:g}"


def _matches(interest: str, tag: str) -> bool:
    """'trail running' matches the tags 'trail running' and 'running'; 'jazz' matches 'jazz'."""
    interest, tag = interest.strip().lower(), tag.lower()
    return interest == tag or tag in interest.split() or interest in tag.split()


def _shown(product: Product, why: list[str]) -> Shown:
    return Shown(
        id=product.id,
        name=product.name,
        description=product.description,
        price_eur=product.price_eur,
        colour=product.colour,
        sizes=size_range(product),
        why=why,
    )


def unpersonalised() -> list[Shown]:
    """The whole range in the shop's own order: what a visitor without a vault sees."""
    return [_shown(product, []) for product in PRODUCTS]


def personalise(claims: Mapping[str, Any]) -> Personalisation:
    """Order and filter the catalogue with the verified `claims` only (any subset of the purpose's)."""
    country = claims.get("location.country")
    adult = claims.get("age_over_18")
    size = claims.get("sizes.shoe")
    interests = [i for i in claims.get("interests") or () if isinstance(i, str)]
    scored: list[tuple[int, int, Shown]] = []
    hidden: list[Hidden] = []
    for position, product in enumerate(PRODUCTS):
        if isinstance(country, str) and country not in product.ships_to:
            hidden.append(Hidden(id=product.id, name=product.name, why=f"not delivered to {country}"))
            continue
        if product.adults_only and adult is False:
            hidden.append(Hidden(id=product.id, name=product.name, why="sold to adults only"))
            continue
        why, score = [], 0
        if isinstance(country, str):
            why.append(f"delivered to {country}")
        liked = [i for i in interests if any(_matches(i, tag) for tag in product.tags)]
        if liked:
            score += 2 * len(liked)
            why.append("you like " + ", ".join(liked))
        if isinstance(size, int | float) and product.sizes[0] <= size <= product.sizes[1]:
            score += 1
            why.append(f"made in your size ({size:g})")
        elif isinstance(size, int | float):
            why.append(f"not made in size {size:g}")
        scored.append((-score, position, _shown(product, why)))
    scored.sort(key=lambda item: item[:2])
    return Personalisation(
        products=[shown for _, _, shown in scored], hidden=hidden, used=_uses(claims, hidden)
    )


def _uses(claims: Mapping[str, Any], hidden: list[Hidden]) -> list[Use]:
    uses = []
    for claim, value in claims.items():
        if claim == "location.country":
            gone = sum(1 for h in hidden if h.why.startswith("not delivered"))
            effect = f"hides the {count(gone, 'product')} we cannot deliver to {value}"
        elif claim == "age_over_18":
            effect = "shows adults-only products" if value is True else "hides adults-only products"
        elif claim == "sizes.shoe":
            effect = f"puts shoes made in size {value:g} first" if isinstance(value, int | float) else ""
        elif claim == "interests":
            effect = "orders the shoes by what you like"
        else:
            effect = "received, not used for this page"
        uses.append(Use(claim=claim, value=value, effect=effect or "received, not used for this page"))
    return uses
