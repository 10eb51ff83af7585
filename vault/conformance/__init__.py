"""`vault conformance`: a vault played against a running site, to show the site refuses what it must.

In outline: `run_conformance(Target.at(origin), clock=..., rng=...)` fetches and checks the manifest as
the browser extension does (manifest_check), then plays a vault with two fresh pairwise keys (player):
a nonce and a valid presentation, whose acknowledgement must verify, then every kind of broken
presentation (cases), then revocation notices and access requests (cases_notices). Each case is one
bounded exchange (http); catalogue lists them with the reasons they exercise (SPEC.md, "Conformance"),
and report turns the result into a table, JSON or JUnit XML. It needs only vault.protocol and the
standard library, so it runs where the site library is installed.
"""

from __future__ import annotations

from vault.conformance.catalogue import CASES, NOT_TESTABLE, Case
from vault.conformance.http import Unreachable
from vault.conformance.run import BadTarget, Report, Result, Target, run_conformance

__all__ = [
    "CASES",
    "NOT_TESTABLE",
    "BadTarget",
    "Case",
    "Report",
    "Result",
    "Target",
    "Unreachable",
    "run_conformance",
]
