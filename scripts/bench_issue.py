#!/usr/bin/env python3
"""How fast the vault issues presentations, against raw Ed25519 signing measured in the same run.

    scripts/bench_issue.py [--rounds 25] [--batch 500]

Raw signing signs messages of the same length as the presentations' signing inputs. Rounds interleave
the two (rotating their order); the ratio is the median of the ratios measured within each round.
Target: issuing >= 0.7x raw signing.
"""

from __future__ import annotations

import argparse
import sys

import repo_root  # noqa: F401 (puts the repository root on sys.path, for tests.example)
from bench_verify import interleaved, report

from tests import example
from vault.protocol import issue_presentation

NONCE = "n" * 22
CLAIMS = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42, "interests": ["running", "hiking"]}


TO = ("stock", "analytics")  # both third parties: the largest presentation this purpose gives


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)

    manifest = example.manifest()
    key = example.pairwise_key()
    jtis = [f"bench-token-{i:08d}" for i in range(args.batch)]
    sample = issue_presentation(
        key, manifest, "recommendations", example.ORIGIN, NONCE, CLAIMS, example.NOW, jtis[0], recipients=TO
    )
    messages = [sample.rsplit(".", 1)[0].encode()[:-8] + f"{i:08d}".encode() for i in range(args.batch)]

    def issue() -> None:
        for jti in jtis:
            issue_presentation(
                key,
                manifest,
                "recommendations",
                example.ORIGIN,
                NONCE,
                CLAIMS,
                example.NOW,
                jti,
                recipients=TO,
            )

    def raw() -> None:
        for message in messages:
            key.sign(message)

    results = interleaved(
        {"issue_presentation": issue, "raw Ed25519 sign (cryptography)": raw}, args.batch, args.rounds
    )
    report(
        f"Presentations issued per second (medians of {args.rounds} interleaved rounds of {args.batch}):",
        results,
        [("issue_presentation", "raw Ed25519 sign (cryptography)", 0.7)],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
