"""Pairwise keys: one per (master seed, origin, epoch, identity), and nothing shared between them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.protocol.jwk import key_subject
from vault.protocol.keys import SigningKey, derive_pairwise_key, pairwise_info

SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))


def test_same_inputs_same_key() -> None:
    first = derive_pairwise_key(SEED, "https://shop.example", 3)
    second = derive_pairwise_key(SEED, "https://shop.example", 3)
    assert first.public_jwk == second.public_jwk
    assert first.seed() == second.seed()


@pytest.mark.parametrize(
    ("seed", "origin", "epoch"),
    [
        (SEED, "https://other.example", 0),
        (SEED, "https://shop.example", 1),
        (SEED, "https://shop.example:8443", 0),
        (SEED, "http://localhost:8080", 0),
        (OTHER_SEED, "https://shop.example", 0),
    ],
)
def test_other_origin_epoch_or_seed_gives_another_key(seed: bytes, origin: str, epoch: int) -> None:
    base = derive_pairwise_key(SEED, "https://shop.example", 0)
    other = derive_pairwise_key(seed, origin, epoch)
    assert other.public_bytes != base.public_bytes
    assert key_subject(other.public_jwk) != key_subject(base.public_jwk)


def test_info_encoding_is_unambiguous() -> None:
    # Naive concatenation of origin and epoch would make these two equal ("...:12" + "3").
    one = ("https://a.example:1", 23)
    two = ("https://a.example:12", 3)
    assert pairwise_info(*one) != pairwise_info(*two)
    assert derive_pairwise_key(SEED, *one).public_bytes != derive_pairwise_key(SEED, *two).public_bytes


origins = st.from_regex(r"https://[a-z]{1,12}(\.[a-z]{1,8}){0,2}(:[1-9][0-9]{0,3})?", fullmatch=True)


@given(origins, st.integers(0, 2**32 - 1), origins, st.integers(0, 2**32 - 1))
def test_info_is_injective(origin_a: str, epoch_a: int, origin_b: str, epoch_b: int) -> None:
    if (origin_a, epoch_a) != (origin_b, epoch_b):
        assert pairwise_info(origin_a, epoch_a) != pairwise_info(origin_b, epoch_b)


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33), "x" * 32])
def test_master_seed_must_be_32_bytes(seed: object) -> None:
    with pytest.raises(ValueError):
        derive_pairwise_key(seed, "https://shop.example", 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("epoch", [-1, 2**32, True, 1.0, "0"])
def test_epoch_must_be_a_u32(epoch: object) -> None:
    with pytest.raises(ValueError):
        derive_pairwise_key(SEED, "https://shop.example", epoch)  # type: ignore[arg-type]


@pytest.mark.parametrize("origin", ["https://shop.example/", "HTTPS://shop.example", "shop.example", ""])
def test_origin_must_be_serialised(origin: str) -> None:
    with pytest.raises(ValueError):
        derive_pairwise_key(SEED, origin, 0)


identities = st.from_regex(r"[a-z0-9][a-z0-9-]{0,63}", fullmatch=True)


def test_no_identity_is_the_shared_key() -> None:
    # Keys derived before contexts existed must stay exactly what they were.
    assert pairwise_info("https://shop.example", 2, None) == pairwise_info("https://shop.example", 2)
    shared = derive_pairwise_key(SEED, "https://shop.example", 2)
    assert derive_pairwise_key(SEED, "https://shop.example", 2, None).seed() == shared.seed()


def test_an_identity_gives_an_unrelated_key_at_the_same_site() -> None:
    shared = derive_pairwise_key(SEED, "https://shop.example", 0)
    work = derive_pairwise_key(SEED, "https://shop.example", 0, "c-0123456789abcdef")
    family = derive_pairwise_key(SEED, "https://shop.example", 0, "c-fedcba9876543210")
    subjects = {key_subject(key.public_jwk) for key in (shared, work, family)}
    assert len(subjects) == 3
    assert len({key.public_bytes for key in (shared, work, family)}) == 3


@given(
    origins,
    st.integers(0, 2**32 - 1),
    identities | st.none(),
    origins,
    st.integers(0, 2**32 - 1),
    identities | st.none(),
)
def test_info_with_identities_is_injective(
    origin_a: str, epoch_a: int, identity_a: str | None, origin_b: str, epoch_b: int, identity_b: str | None
) -> None:
    if (origin_a, epoch_a, identity_a) != (origin_b, epoch_b, identity_b):
        assert pairwise_info(origin_a, epoch_a, identity_a) != pairwise_info(origin_b, epoch_b, identity_b)


@pytest.mark.parametrize(
    "identity", ["", "C-work", "c-work/home", "c" * 65, "-c", "c work", "c\n", "caf\u00e9", 7, b"c-1"]
)
def test_identity_must_be_a_label(identity: object) -> None:
    with pytest.raises(ValueError):
        derive_pairwise_key(SEED, "https://shop.example", 0, identity)  # type: ignore[arg-type]


def test_repr_shows_no_private_material() -> None:
    key = SigningKey.from_seed(SEED)
    assert SEED.hex() not in repr(key)
    assert key.public_jwk["x"] in repr(key)


def test_sign_and_verify() -> None:
    key = derive_pairwise_key(SEED, "https://shop.example", 0)
    signature = key.sign(b"message")
    assert key.verifying_key.verify(signature, b"message")
    assert not key.verifying_key.verify(signature, b"messagE")
    assert not key.verifying_key.verify(signature[:-1] + bytes([signature[-1] ^ 1]), b"message")
