"""How an answer is judged, in words: a refusal passes, acceptance and a crash fail (each saying what to
fix), an answer that is neither says so, and a signed answer must be exactly the one member a vault takes."""

from __future__ import annotations

import msgspec
import pytest

from vault.conformance.cases_notices import only_member
from vault.conformance.http import Answer
from vault.conformance.run import CRASH_FIX, Run, Target

JSON = {"content-type": "application/json"}
NO_OBJECT = "no JSON object (or one that repeats a member)"
TAKES = ': a vault takes exactly {"acknowledgement": "<jws>"}'


def run() -> Run:
    return Run(Target.at("http://127.0.0.1:8000"), clock=lambda: 0, rng=lambda n: bytes(n))


def json_answer(status: int, body: object) -> Answer:
    return Answer(status, JSON, msgspec.json.encode(body))


@pytest.mark.parametrize(
    ("answer", "passed", "detail", "fix"),
    [
        (json_answer(400, {"reason": "expired"}), True, "refused (400, reason expired)", ""),
        (
            json_answer(400, {"reason": "wrong_nonce"}),
            True,
            "refused (400, reason wrong_nonce); a vault's verifier would say expired",
            "",
        ),
        (json_answer(400, {"reason": "\x1b[31mred"}), True, "refused (400)", ""),  # never echoed
        (Answer(413, {}, b""), True, "refused (413)", ""),
        (json_answer(200, {}), False, "accepted it (answered 200)", "refuse it (4xx); verify every token"),
        (
            Answer(502, {}, b"Bad Gateway"),
            False,
            "the site crashed on a presentation that expired 10 minutes ago (502)",
            CRASH_FIX,
        ),
        (Answer(302, {}, b""), False, "answered 302: neither accepted nor refused", "refuse it (4xx)"),
    ],
)
def test_a_broken_presentation_must_be_refused(answer: Answer, passed: bool, detail: str, fix: str) -> None:
    result = run().expect_refusal("presentation.expired", answer)
    assert (result.passed, result.detail, result.status) == (passed, detail, answer.status)
    assert result.fix.startswith(fix) and bool(result.fix) == (not passed)


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        (json_answer(200, {"acknowledgement": "a.b.c", "ok": True}),
         "answered 200 with other members beside acknowledgement" + TAKES),
        (json_answer(200, {"acknowledgement": 1}), "answered 200 with no acknowledgement string" + TAKES),
        (Answer(200, {"content-type": "text/plain"}, b"a.b.c"), "answered 200 with " + NO_OBJECT + TAKES),
        (Answer(200, JSON, b'{"acknowledgement": "a.b.c", "acknowledgement": "d.e.f"}'),
         "answered 200 with " + NO_OBJECT + TAKES),
        (Answer(200, JSON, b"[" * 100_000 + b"]" * 100_000), "answered 200 with " + NO_OBJECT + TAKES),
        (json_answer(400, {"reason": "wrong_subject"}), "refused it (400, reason wrong_subject)"),
        (Answer(500, {}, b""),
         "the site crashed on a valid notice withdrawing the accepted presentation (500)"),
    ],
)  # fmt: skip
def test_a_signed_answer_is_exactly_one_member(answer: Answer, detail: str) -> None:
    playing = run()
    assert only_member(playing, "revocation.valid", answer, "acknowledgement") is None
    assert [(r.passed, r.detail) for r in playing.report.results] == [(False, detail)]


def test_the_one_member_is_returned() -> None:
    playing = run()
    assert (
        only_member(playing, "access.valid", json_answer(200, {"statement": "a.b.c"}), "statement") == "a.b.c"
    )
    assert playing.report.results == []
