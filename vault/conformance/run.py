"""Playing every case against one site, in order, and collecting what happened.

`run_conformance(target, clock=..., rng=...)` returns a `Report`; `progress` (if given) is called with
each result as soon as its case is played, so a person sees the run advance. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vault.conformance.catalogue import BY_ID, CASES
from vault.conformance.http import Answer, SiteClient, Unreachable
from vault.conformance.player import Clock, Player, Rng
from vault.protocol.origin import origin_problem, same_origin_url


class BadTarget(Exception):
    """What was asked cannot be played (a purpose the manifest lacks, a URL on another origin)."""


CRASH_FIX = "never answer 5xx to what a client sends: refuse it with a 4xx JSON error"


@dataclass(frozen=True)
class Target:
    """The site under test: its origin, where it gives nonces, and where it takes presentations."""

    origin: str
    nonce_url: str
    submit_url: str
    purpose: str | None = None  # the purpose to present (default: the first one a vault can present)

    @classmethod
    def at(cls, origin: str, nonce_url: str | None = None, submit_url: str | None = None,
           purpose: str | None = None) -> Target:  # fmt: skip
        return cls(origin, nonce_url or origin + "/vault/nonce", submit_url or origin + "/vault/presentation",
                   purpose)  # fmt: skip


@dataclass(frozen=True)
class Result:
    id: str
    title: str
    passed: bool
    detail: str  # what the site did, in words
    status: int | None = None  # the HTTP status of the case's exchange, when there was one
    skipped: bool = False
    fix: str = ""  # what to change on the site (failures only)
    seconds: float = 0.0


@dataclass
class Report:
    target: Target
    purpose: str | None = None
    results: list[Result] = field(default_factory=list)
    stopped: str = ""  # why the run stopped early (a broken manifest), in words

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(result.passed for result in self.results) and not self.stopped

    def counts(self) -> dict[str, int]:
        skipped = sum(result.skipped for result in self.results)
        failed = sum(not result.passed for result in self.results)
        return {"passed": len(self.results) - skipped - failed, "failed": failed, "skipped": skipped}


class Run:
    """One run's state: the report, the session, the vault's player and what earlier cases learned."""

    def __init__(
        self, target: Target, clock: Clock, rng: Rng, progress: Callable[[Result], None] | None = None
    ) -> None:
        self.target, self.clock, self.rng = target, clock, rng
        self.report = Report(target)
        self.client = SiteClient(target.origin)
        self.progress = progress
        self.player: Player | None = None
        self.accepted: str | None = None  # the valid presentation, once the site accepted it
        self._started = time.monotonic()

    def record(self, case_id: str, passed: bool, detail: str, status: int | None = None,
               fix: str | None = None, skipped: bool = False) -> Result:  # fmt: skip
        case = BY_ID[case_id]
        now = time.monotonic()
        result = Result(
            id=case_id, title=case.title, passed=passed, detail=detail, status=status, skipped=skipped,
            fix="" if passed else (case.fix if fix is None else fix), seconds=round(now - self._started, 3),
        )  # fmt: skip
        self._started = now
        self.report.results.append(result)
        if self.progress is not None:
            self.progress(result)
        return result

    def skip(self, case_id: str, why: str) -> Result:
        return self.record(case_id, True, why, skipped=True)

    def unreachable(self, case_id: str, error: Unreachable) -> Result:
        return self.record(case_id, False, f"no answer: {error}", fix="keep the site answering within 10 s")

    def expect_refusal(self, case_id: str, answer: Answer) -> Result:
        """A case that must be refused: 4xx passes; 2xx (accepted) and 5xx (crashed) fail."""
        case = BY_ID[case_id]
        status = answer.status
        if 400 <= status < 500:
            detail = f"refused ({answer.said()})"
            reason, expected = answer.reason, {r.value for r in case.reasons}
            if case.reasons and reason is not None and reason not in expected | {"nonce_used"}:
                detail += f"; a vault's verifier would say {', '.join(sorted(expected))}"
            return self.record(case_id, True, detail, status)
        if 200 <= status < 300:
            return self.record(case_id, False, f"accepted it (answered {status})", status)
        if status >= 500:
            return self.record(
                case_id, False, f"the site crashed on {case.title} ({status})", status, CRASH_FIX
            )
        return self.record(case_id, False, f"answered {status}: neither accepted nor refused", status)


def _check(target: Target) -> None:
    problem = origin_problem(target.origin)
    if problem is not None:
        raise BadTarget(f"{target.origin[:300]!r} is not an origin a vault talks to: {problem}")
    for name, url in (("the nonce URL", target.nonce_url), ("the submit URL", target.submit_url)):
        # The nonce and the presentation travel in one cookie session, which is the origin's.
        if not same_origin_url(url.split("?", 1)[0], target.origin):
            raise BadTarget(f"{name} {url[:300]!r} is not a URL on {target.origin}")


def run_conformance(
    target: Target, *, clock: Clock, rng: Rng, progress: Callable[[Result], None] | None = None
) -> Report:
    """Play every case against the site at `target`. Raises Unreachable when the manifest cannot be
    fetched at all (nothing else could run), BadTarget when `target` asks for what the site does not
    have; every later failure to answer is a failed case."""
    from vault.conformance.cases import play_presentations
    from vault.conformance.cases_notices import play_access, play_notices
    from vault.conformance.manifest_check import check_manifest

    _check(target)
    run = Run(target, clock, rng, progress)
    manifest = check_manifest(run)
    if manifest is None:
        run.report.stopped = "the manifest is broken, so no other case was played: fix it first"
        return run.report
    play_presentations(run, manifest)
    play_notices(run, manifest)
    play_access(run, manifest)
    missing = [case.id for case in CASES if case.id not in {r.id for r in run.report.results}]
    if missing:  # every case is played or skipped with a reason: a case left out is this program's bug
        raise RuntimeError(f"cases not played: {', '.join(missing)}")
    return run.report
