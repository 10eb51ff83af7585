"""Known answers for the pairwise key derivation (SPEC.md, "Keys"): vault/protocol/vectors_pairwise_key/."""

from __future__ import annotations

import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)

from tests import example
from vault.protocol.jwk import jwk_thumbprint, key_subject
from vault.protocol.keys import derive_pairwise_key, pairwise_info

# The identity of a context that keeps its own (SPEC.md, "Contexts and identities"): a context id.
IDENTITY = "c-0123456789abcdef"


def _inputs(master_seed: bytes, origin: str, epoch: int, identity: str | None) -> dict:
    # `identity` only where there is one: the cases from before identities keep their exact bytes.
    inputs = {"master_seed": master_seed.hex(), "origin": origin, "epoch": epoch}
    return inputs if identity is None else {**inputs, "identity": identity}


def pairwise_vector(
    name: str, comment: str, master_seed: bytes, origin: str, epoch: int, identity: str | None = None
) -> dict:
    key = derive_pairwise_key(master_seed, origin, epoch, identity)
    return {
        "name": name,
        "comment": comment,
        "expect": "valid",
        "inputs": _inputs(master_seed, origin, epoch, identity),
        "info": pairwise_info(origin, epoch, identity).hex(),
        "private_seed": key.seed().hex(),
        "public_jwk": key.public_jwk,
        "thumbprint": jwk_thumbprint(key.public_jwk),
        "subject": key_subject(key.public_jwk),
    }


def pairwise_refused(name: str, comment: str, origin: str, epoch: int, identity: str | None = None) -> dict:
    return {
        "name": name,
        "comment": comment,
        "expect": "refused",
        "inputs": _inputs(example.MASTER_SEED, origin, epoch, identity),
    }


def identity_vectors(seed: bytes) -> list[dict]:
    """The same site and epochs as `example` and `next_epoch`, seen by a context with its own identity: the
    info gains "identity", one length byte and the label, and the key is unrelated to the shared one."""
    return [
        pairwise_vector(
            "identity",
            "The example shop's key for a context that keeps its own identity (compare with `example`).",
            seed,
            example.ORIGIN,
            0,
            IDENTITY,
        ),
        pairwise_vector(
            "identity_next_epoch",
            "The same identity after the user asked the site to forget them once (see `next_epoch`).",
            seed,
            example.ORIGIN,
            1,
            IDENTITY,
        ),
        pairwise_vector(
            "identity_longest",
            "An identity of 64 characters, the most there may be.",
            seed,
            example.ORIGIN,
            0,
            "z" + "0123456789-" * 5 + "abcdefgh",
        ),
        pairwise_refused(
            "identity_upper_case",
            "An identity with an upper-case letter.",
            example.ORIGIN,
            0,
            "c-0123456789ABCDEF",
        ),
        pairwise_refused(
            "identity_empty", "An empty identity (leave it out instead).", example.ORIGIN, 0, ""
        ),
        pairwise_refused("identity_too_long", "An identity of 65 characters.", example.ORIGIN, 0, "c" * 65),
        pairwise_refused("identity_slash", "An identity with a '/'.", example.ORIGIN, 0, "c-work/home"),
        pairwise_refused(
            "identity_leading_hyphen",
            "An identity must start with a letter or digit.",
            example.ORIGIN,
            0,
            "-c",
        ),
    ]


def pairwise_vectors() -> list[dict]:
    seed = example.MASTER_SEED
    return [
        pairwise_vector(
            "example",
            "The example vault's key for the example shop (SPEC.md's examples).",
            seed,
            example.ORIGIN,
            0,
        ),
        pairwise_vector(
            "next_epoch",
            "The same site after the user asked it to forget them once.",
            seed,
            example.ORIGIN,
            1,
        ),
        pairwise_vector("last_epoch", "The largest epoch, 2^32 - 1.", seed, example.ORIGIN, 2**32 - 1),
        pairwise_vector("other_origin", "Another site: an unrelated key.", seed, "https://news.example", 0),
        pairwise_vector(
            "loopback_port", "A loopback http origin with a port.", seed, "http://localhost:8080", 0
        ),
        pairwise_vector("ipv6_loopback", "An IPv6 loopback origin.", seed, "http://[::1]:8443", 3),
        pairwise_vector(
            "punycode_origin", "An IDN host in punycode.", seed, "https://xn--caf-dma.example", 0
        ),
        pairwise_vector("zero_seed", "A master seed of 32 zero bytes.", bytes(32), example.ORIGIN, 0),
        pairwise_vector("ones_seed", "A master seed of 32 0xff bytes.", b"\xff" * 32, example.ORIGIN, 0),
        pairwise_refused("epoch_too_large", "Epoch 2^32 does not fit in uint32.", example.ORIGIN, 2**32),
        pairwise_refused("epoch_negative", "A negative epoch.", example.ORIGIN, -1),
        pairwise_refused("origin_trailing_slash", "Not a serialised origin.", "https://shop.example/", 0),
        pairwise_refused(
            "origin_upper_case", "Not a serialised origin (upper case).", "https://Shop.example", 0
        ),
        *identity_vectors(seed),
    ]
