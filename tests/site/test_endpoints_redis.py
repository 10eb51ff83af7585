"""Two uvicorn processes of one site behind one real Redis (`RedisReplayStore`): a nonce from either is
good at the other, since nonces are stateless; a token or a nonce spent at one is spent at both."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.site.test_endpoints import SiteProcess, present


@pytest.fixture(scope="module")
def workers(
    redis_socket: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SiteProcess, SiteProcess]]:
    logs = tmp_path_factory.mktemp("workers")
    a = SiteProcess(logs / "a.log", TEST_SITE_REDIS=str(redis_socket))
    try:
        b = SiteProcess(logs / "b.log", TEST_SITE_REDIS=str(redis_socket))
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


def test_a_nonce_from_worker_a_is_accepted_at_worker_b(workers: tuple[SiteProcess, SiteProcess]) -> None:
    a, b = workers
    at_a = a.browser()
    token = present(at_a.manifest(), at_a.nonce())
    status, answer = at_a.at(b).post("/vault/presentation", {"purpose": "recommendations", "token": token})
    assert status == 200, answer


def test_a_token_accepted_at_a_is_a_replay_at_b(workers: tuple[SiteProcess, SiteProcess]) -> None:
    a, b = workers
    at_a = a.browser()
    body = {"purpose": "recommendations", "token": present(at_a.manifest(), at_a.nonce())}
    assert at_a.post("/vault/presentation", body)[0] == 200
    status, answer = at_a.at(b).post("/vault/presentation", body)
    assert (status, answer["error"], answer["reason"]) == (400, "presentation_invalid", "replayed")


def test_a_nonce_spent_at_a_is_spent_at_b(workers: tuple[SiteProcess, SiteProcess]) -> None:
    a, b = workers
    at_a = a.browser()
    manifest, nonce = at_a.manifest(), at_a.nonce()
    assert (
        at_a.post("/vault/presentation", {"purpose": "recommendations", "token": present(manifest, nonce)})[0]
        == 200
    )
    again = {"purpose": "recommendations", "token": present(manifest, nonce)}
    status, answer = at_a.at(b).post("/vault/presentation", again)
    assert (status, answer["reason"]) == (400, "nonce_used")


def test_without_its_redis_a_site_refuses_with_503(tmp_path: Path) -> None:
    site = SiteProcess(tmp_path / "site.log", TEST_SITE_REDIS=str(tmp_path / "no-redis-here.sock"))
    try:
        browser = site.browser()
        token = present(browser.manifest(), browser.nonce())
        status, answer = browser.post("/vault/presentation", {"purpose": "recommendations", "token": token})
    finally:
        site.stop()
    assert (status, answer["error"], answer["reason"]) == (503, "presentation_invalid", "replay_check_failed")


def test_of_racing_tokens_under_one_nonce_exactly_one_is_accepted(
    workers: tuple[SiteProcess, SiteProcess],
) -> None:
    a, b = workers
    at_a = a.browser()
    manifest, nonce = at_a.manifest(), at_a.nonce()
    tokens = [present(manifest, nonce) for _ in range(8)]  # eight tokens (eight jtis), one nonce, one purpose
    browsers = [at_a.at(a if i % 2 else b) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda pair: pair[0].post(
                    "/vault/presentation", {"purpose": "recommendations", "token": pair[1]}
                ),
                zip(browsers, tokens, strict=True),
            )
        )
    assert sorted(status for status, _ in answers) == [200] + [400] * 7
    assert {answer["reason"] for status, answer in answers if status == 400} == {"nonce_used"}
