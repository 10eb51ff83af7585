"""POST /v1/presentations without Litestar's request machinery (vault.daemon.fast_path): the same answers
as the Litestar route, every one of them, and a request it does not plainly accept left to Litestar with
its body intact. Each request here is sent with the fast path on and off, to one app on one vault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from tests.daemon.support import make_vault
from tests.daemon.test_api import ADMIN, MANIFEST, ORIGIN, Clock, build, pair, presentation
from vault.daemon import fast_path, routes
from vault.daemon.app import create_app
from vault.daemon.state import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def answered_fast(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many requests the fast path ran the route's work for (the Litestar route calls it too, not
    through this name)."""
    runs: list[int] = []
    present = fast_path.present

    async def counted(*args: Any) -> Any:
        runs.append(1)
        return await present(*args)

    monkeypatch.setattr(fast_path, "present", counted)
    return runs


@pytest.fixture
async def api(vault_home: Path, clock: Clock) -> AsyncIterator[AsyncTestClient]:
    make_vault(vault_home)
    _, client = build(vault_home, clock)
    async with client:
        client.headers["x-vault-client"] = await pair(client)
        yield client


async def both(api: AsyncTestClient, **request: Any) -> tuple[Any, Any]:
    """The answer with the fast path, then the Litestar route's to the same request."""
    answers = []
    for fast in (True, False):
        api.app.fast_presentations = fast
        answers.append(await api.post("/v1/presentations", **request))
    api.app.fast_presentations = True
    return answers[0], answers[1]


def same(fast: Any, litestar: Any) -> None:
    assert (fast.status_code, fast.content) == (litestar.status_code, litestar.content)
    assert fast.headers["content-type"] == litestar.headers["content-type"]
    assert fast.headers["content-length"] == litestar.headers["content-length"]


async def remember(api: AsyncTestClient) -> None:
    asked = (await api.post("/v1/presentations", json=presentation())).json()
    assert asked["outcome"] == "consent_required"
    decided = await api.post(
        f"/v1/prompts/{asked['prompt']['id']}/decision",
        json={"share": True, "claims": ["age_over_18", "location.country"], "remember": True},
    )
    assert decided.status_code == 200, decided.text


async def test_a_granted_presentation_is_answered_as_the_route_answers_it(
    api: AsyncTestClient, answered_fast: list[int]
) -> None:
    await remember(api)
    answered_fast.clear()
    fast, litestar = await both(api, json=presentation())
    assert answered_fast == [1]
    assert fast.status_code == litestar.status_code == 200
    assert fast.headers["content-type"] == litestar.headers["content-type"] == "application/json"
    granted, routed = fast.json(), litestar.json()
    assert granted["outcome"] == routed["outcome"] == "granted"
    assert list(granted) == list(routed)  # the same fields, in the same order
    assert {k: v for k, v in granted.items() if k not in ("token", "jti")} == {
        k: v for k, v in routed.items() if k not in ("token", "jti")
    }
    assert int(fast.headers["content-length"]) == len(fast.content)


async def test_a_prompt_and_a_refusal_are_answered_as_the_route_answers_them(
    api: AsyncTestClient, answered_fast: list[int]
) -> None:
    fast, litestar = await both(api, json=presentation(prompt_detail="id"))
    assert fast.status_code == litestar.status_code == 200
    assert fast.json()["outcome"] == litestar.json()["outcome"] == "consent_required"
    assert list(fast.json()["prompt"]) == list(litestar.json()["prompt"]) == ["id"]
    same(*await both(api, json=presentation(purpose="no-such-purpose")))
    assert answered_fast == [1, 1]


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"json": presentation(origin="not an origin")}, id="origin the worker refuses"),
        pytest.param({"json": presentation(manifest='{"version": 1}')}, id="manifest invalid"),
    ],
)
async def test_errors_from_the_work_are_the_exception_handlers_answers(
    api: AsyncTestClient, answered_fast: list[int], request_: dict
) -> None:
    fast, litestar = await both(api, **request_)
    same(fast, litestar)
    assert fast.status_code == 400 and answered_fast == [1]


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"content": b"{"}, id="not JSON"),
        pytest.param({"content": b"[]"}, id="not an object"),
        pytest.param({"json": {"origin": ORIGIN, "manifest": MANIFEST}}, id="fields missing"),
        pytest.param({"json": presentation(nonce=42)}, id="a field of the wrong type"),
        pytest.param({"json": presentation(extra=1)}, id="an unknown field"),
        pytest.param({"json": presentation(claims=[[[[[[[[[[["x"]]]]]]]]]]])}, id="nested"),
        pytest.param({"content": b'{"x": "' + b"a" * 300_000 + b'"}'}, id="over the size limit"),
        pytest.param({"json": presentation(), "headers": {"x-vault-client": "not-paired"}}, id="not paired"),
        pytest.param({"json": presentation(), "headers": {"x-vault-client": ""}}, id="no client"),
    ],
)
async def test_what_is_not_plainly_acceptable_is_left_to_litestar(
    api: AsyncTestClient, answered_fast: list[int], request_: dict
) -> None:
    fast, litestar = await both(api, **request_)
    same(fast, litestar)
    assert fast.status_code >= 400 and answered_fast == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_sent_as_another_media_type_is_answered_as_the_route_answers_it(
    api: AsyncTestClient, answered_fast: list[int], content_type: str | None
) -> None:
    await remember(api)
    headers = {"content-type": content_type} if content_type else {}
    body = msgspec.json.encode(presentation())
    fast, litestar = await both(api, content=body, headers=headers)
    assert fast.status_code == litestar.status_code
    assert fast.json()["outcome"] == litestar.json()["outcome"] == "granted"


async def test_the_admin_is_answered_as_a_paired_client_is(
    api: AsyncTestClient, answered_fast: list[int]
) -> None:
    api.headers.pop("x-vault-client")
    fast, litestar = await both(api, json=presentation(), headers={"x-vault-admin": ADMIN})
    assert fast.status_code == litestar.status_code == 200 and answered_fast == [1]


async def test_a_body_in_several_chunks_is_read_whole(api: AsyncTestClient, answered_fast: list[int]) -> None:
    """As the ASGI server hands a body over when it arrives in pieces (the test client sends it whole)."""
    await remember(api)
    answered_fast.clear()
    body = msgspec.json.encode(presentation())
    pieces = [body[start : start + 700] for start in range(0, len(body), 700)]
    messages = [{"type": "http.request", "body": piece, "more_body": True} for piece in pieces]
    messages[-1]["more_body"] = False
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [
        (b"content-type", b"application/json"),
        (b"x-vault-client", api.headers["x-vault-client"].encode()),
    ]
    scope = {"type": "http", "method": "POST", "path": "/v1/presentations", "headers": headers}
    await api.app(scope, receive, send)
    assert len(pieces) > 2 and messages == []
    assert sent[0]["status"] == 200 and msgspec.json.decode(sent[1]["body"])["outcome"] == "granted"
    assert answered_fast == [1]


async def test_a_locked_vault_and_a_failure_are_answered_as_the_route_answers_them(
    vault_home: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, answered_fast: list[int]
) -> None:
    make_vault(vault_home)
    _, client = build(vault_home, clock, unlocked=False)
    async with client:
        client.headers["x-vault-client"] = await pair(client)
        fast, litestar = await both(client, json=presentation())
        same(fast, litestar)
        assert fast.status_code == 423 and fast.json()["error"] == "vault_locked"

        def fails(*_: Any) -> None:
            raise RuntimeError("a value from the vault")

        monkeypatch.setattr(routes, "checked_origin", fails)
        fast, litestar = await both(client, json=presentation())
        same(fast, litestar)
        assert fast.status_code == 500 and "a value" not in fast.text
    assert answered_fast == [1, 1]


def test_in_tcp_mode_every_request_goes_through_litestar(vault_home: Path) -> None:
    """There TcpGuard, a Litestar middleware, must see every request (tests/daemon/test_serve.py runs it)."""
    tcp = Settings(home=vault_home, admin_token=ADMIN, tcp_token="t" * 43, allowed_hosts=frozenset({"x"}))
    assert create_app(tcp, background=False).fast_presentations is False
    assert create_app(Settings(home=vault_home, admin_token=ADMIN), background=False).fast_presentations
