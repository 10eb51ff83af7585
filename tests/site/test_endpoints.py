"""`vault.site.VaultEndpoints` served by a real uvicorn process, spoken to over real sockets: the manifest,
session-bound nonces, presentations and their acknowledgements, and what a client may get wrong.

The site under test is `create_test_site` (below), configured by environment variables, so that
test_endpoints_notices.py and test_endpoints_redis.py start the same site their own way.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import example
from vault.protocol import Manifest, SigningKey, decode_manifest, issue_presentation, verify_acknowledgement
from vault.protocol.manifest import manifest_index

ROOT = Path(__file__).resolve().parents[2]
SITE_SEED = hashlib.sha256(b"vault.site endpoints test site").digest()
ORIGIN = "https://site.example"  # served behind a proxy, as a deployed site is: not the test's socket
CLAIMS = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42}


# -- the site under test ----------------------------------------------------------------------------------


def create_test_site() -> Any:
    """A small site: the endpoints around its own app (GET / and GET /held), records in a dict.

    TEST_SITE_ORIGIN, TEST_SITE_REDIS (a Redis socket: RedisReplayStore, else in memory) and
    TEST_SITE_CRASH (every callback raises) and TEST_SITE_SESSIONS (sessions are the site's own, named
    by an X-Session header, instead of the endpoints' cookie) configure it. A body must arrive in 1 s."""
    from vault.site import (
        Accepted,
        Controller,
        HeldRecord,
        InMemoryReplayStore,
        VaultEndpoints,
        Withdrawn,
        build_manifest,
        recipients_to_tell,
    )

    origin = os.environ.get("TEST_SITE_ORIGIN", ORIGIN)
    site_key = SigningKey.from_seed(SITE_SEED)
    manifest = build_manifest(
        origin=origin,
        controller=Controller(name="Test Site", contact="privacy@site.example", privacy_policy=origin + "/p"),
        site_key=site_key,
        revocation_endpoint=origin + "/.well-known/vault-revocation",
        access_endpoint=origin + "/vault/access",
        purposes=[example.RECOMMENDATIONS, example.AGE_CHECK],
    )
    if os.environ.get("TEST_SITE_REDIS"):
        import redis

        from vault.site import RedisReplayStore

        replay: Any = RedisReplayStore(redis.Redis(unix_socket_path=os.environ["TEST_SITE_REDIS"]), origin)
    else:
        replay = InMemoryReplayStore()
    held: dict[str, HeldRecord] = {}
    subjects: dict[str, str] = {}
    crash = os.environ.get("TEST_SITE_CRASH") == "1"

    async def on_presentation(seen: Any, session: str) -> Any:
        if crash:
            raise RuntimeError(f"cannot store {seen.claims}")  # a message that must never reach a log
        now = int(time.time())
        held[seen.jti] = HeldRecord(
            presentation=seen.jti, purpose=seen.purpose, claims=seen.claims, received_at=now,
            keep_until=seen.expires_at + 86400, recipients=seen.recipients,
        )  # fmt: skip
        subjects[seen.jti] = seen.subject
        if seen.purpose == "age-check":
            return None  # an empty result, and the default acknowledgement
        return Accepted(result={"shown": sorted(seen.claims)}, recipients=seen.recipients)

    def on_notice(notice: Any) -> Any:
        if notice.site:
            for jti in notice.presentations:
                held.pop(jti, None)
        told = {party.id: ("erased", int(time.time())) for party in recipients_to_tell(notice, manifest)}
        return Withdrawn(erased=notice.site, recipients=told)

    def held_for(request: Any) -> list[Any]:
        return [record for jti, record in held.items() if subjects.get(jti) == request.subject]

    def own_session(scope: dict) -> str | None:
        return dict(scope["headers"]).get(b"x-session", b"").decode() or None

    async def site_app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = json.dumps(sorted(held) if scope["path"] == "/held" else {"page": scope["path"]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return VaultEndpoints(
        manifest=manifest, site_key=site_key, replay=replay, on_presentation=on_presentation,
        stored_subject=subjects.get, on_notice=on_notice, held=held_for, app=site_app, body_timeout=1.0,
        session=own_session if os.environ.get("TEST_SITE_SESSIONS") == "1" else None,
    )  # fmt: skip


class SiteProcess:
    """`create_test_site` under `python -m uvicorn` on a free port of 127.0.0.1, its log in a file."""

    def __init__(self, log: Path, **env: str) -> None:
        self.log = log
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "TEST_SITE_"))}
        environment.update(env)
        command = [sys.executable, "-m", "uvicorn", "--factory", "tests.site.test_endpoints:create_test_site"]
        command += ["--host", "127.0.0.1", "--port", "0", "--no-access-log", "--log-level", "info"]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while not (found := re.search(r"running on http://127\.0\.0\.1:(\d+)", log.read_text())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the test site did not start:\n" + log.read_text()[-2000:])
            time.sleep(0.05)
        self.port = int(found.group(1))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def browser(self) -> Browser:
        return Browser(self.port)


class Browser:
    """A page's view of the site: HTTP requests on one port, carrying the cookies the site set."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies = dict(cookies or {})

    def at(self, other: SiteProcess) -> Browser:
        """The same visitor (the same cookies) reaching another process of the site."""
        return Browser(other.port, self.cookies)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for cookie in response.headers.get_all("set-cookie") or ():
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers, data

    def post(self, path: str, body: object, content_type: str = "application/json") -> tuple[int, Any]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        status, _, data = self.request("POST", path, raw, {"Content-Type": content_type})
        return status, json.loads(data)

    def nonce(self) -> str:
        status, _, data = self.request("GET", "/vault/nonce")
        assert status == 200
        return json.loads(data)["nonce"]

    def manifest(self) -> Manifest:
        status, _, data = self.request("GET", "/.well-known/vault-manifest.json")
        assert status == 200
        return decode_manifest(data)


def present(
    manifest: Manifest,
    nonce: str,
    *,
    key: SigningKey | None = None,
    purpose: str = "recommendations",
    claims: dict[str, Any] | None = None,
) -> str:
    """A fresh presentation (new jti) as a vault would sign it for this nonce."""
    claims = CLAIMS if claims is None else claims
    entry = manifest_index(manifest)[purpose]
    recipients = tuple(sorted(r for r in entry.required_recipients if entry.recipients[r] & claims.keys()))
    return issue_presentation(
        key or new_key(), manifest, purpose, manifest.origin, nonce, claims, int(time.time()),
        secrets.token_urlsafe(16), 300, recipients,
    )  # fmt: skip


def new_key() -> SigningKey:
    return SigningKey.from_seed(secrets.token_bytes(32))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteProcess]:
    process = SiteProcess(tmp_path_factory.mktemp("site") / "site.log")
    try:
        yield process
    finally:
        process.stop()


# -- the manifest and nonces --------------------------------------------------------------------------------


def test_the_manifest_is_served_as_json(site: SiteProcess) -> None:
    status, headers, data = site.browser().request("GET", "/.well-known/vault-manifest.json")
    assert (status, headers["content-type"]) == (200, "application/json")
    assert decode_manifest(data).origin == ORIGIN
    status, headers, data = site.browser().request("HEAD", "/.well-known/vault-manifest.json")
    assert (status, data, int(headers["content-length"]) > 1000) == (200, b"", True)


def test_the_first_nonce_sets_a_session_cookie_and_later_ones_keep_it(site: SiteProcess) -> None:
    browser = site.browser()
    status, headers, data = browser.request("GET", "/vault/nonce")
    assert status == 200
    assert headers["cache-control"] == "no-store"
    first = json.loads(data)["nonce"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{50}", first)
    (cookie,) = headers.get_all("set-cookie")
    assert re.fullmatch(r"vault_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Lax; Path=/; Secure", cookie)
    status, headers, data = browser.request("GET", "/vault/nonce")
    assert status == 200 and headers.get_all("set-cookie") is None
    assert json.loads(data)["nonce"] != first


# -- presentations ------------------------------------------------------------------------------------------


def test_an_accepted_presentation_is_acknowledged(site: SiteProcess) -> None:
    browser = site.browser()
    manifest = browser.manifest()
    token = present(manifest, browser.nonce())
    status, answer = browser.post("/vault/presentation", {"purpose": "recommendations", "token": token})
    assert status == 200, answer
    assert set(answer) == {"acknowledgement", "result"}
    assert answer["result"] == {"shown": ["age_over_18", "location.country", "sizes.shoe"]}
    ack = verify_acknowledgement(
        answer["acknowledgement"], manifest.site_key, presentation=token, now=int(time.time())
    )
    assert ack.recipients == ("stock",)
    _, _, held = browser.request("GET", "/held")  # the site's own app, behind the endpoints
    assert ack.presentation in json.loads(held)


def test_a_callback_returning_nothing_gets_an_empty_result(site: SiteProcess) -> None:
    browser = site.browser()
    token = present(browser.manifest(), browser.nonce(), purpose="age-check", claims={"age_over_18": True})
    status, answer = browser.post("/vault/presentation", {"purpose": "age-check", "token": token})
    assert (status, answer["result"]) == (200, {})


def test_one_nonce_serves_each_purpose_once(site: SiteProcess) -> None:
    browser = site.browser()
    manifest, nonce = browser.manifest(), browser.nonce()
    age = {"age_over_18": True}
    status, _ = browser.post(
        "/vault/presentation", {"purpose": "recommendations", "token": present(manifest, nonce)}
    )
    assert status == 200
    again = present(manifest, nonce)  # another token (a new jti), the same nonce and purpose
    status, answer = browser.post("/vault/presentation", {"purpose": "recommendations", "token": again})
    assert (status, answer["error"], answer["reason"]) == (400, "nonce_invalid", "nonce_used")
    other = present(manifest, nonce, purpose="age-check", claims=age)
    status, _ = browser.post("/vault/presentation", {"purpose": "age-check", "token": other})
    assert status == 200


def test_a_token_is_accepted_once(site: SiteProcess) -> None:
    browser = site.browser()
    token = present(browser.manifest(), browser.nonce())
    body = {"purpose": "recommendations", "token": token}
    assert browser.post("/vault/presentation", body)[0] == 200
    status, answer = browser.post("/vault/presentation", body)
    assert (status, answer["error"], answer["reason"]) == (400, "presentation_invalid", "replayed")


def test_a_nonce_from_another_session_is_refused(site: SiteProcess) -> None:
    mine, theirs = site.browser(), site.browser()
    manifest = mine.manifest()
    mine.nonce()  # so that this visitor has a session of its own
    made_up = present(manifest, secrets.token_urlsafe(37)[:50])
    for browser, token in (
        (mine, present(manifest, theirs.nonce())),
        (mine, made_up),
        (site.browser(), made_up),
    ):
        status, answer = browser.post("/vault/presentation", {"purpose": "recommendations", "token": token})
        assert (status, answer["error"], answer["reason"]) == (400, "presentation_invalid", "wrong_nonce")


def test_a_token_for_another_purpose_than_named_is_refused(site: SiteProcess) -> None:
    browser = site.browser()
    token = present(browser.manifest(), browser.nonce())
    status, answer = browser.post("/vault/presentation", {"purpose": "age-check", "token": token})
    assert (status, answer["reason"]) == (400, "wrong_purpose")


# -- what a client may get wrong: never a 5xx ---------------------------------------------------------------


def test_bodies_that_are_too_large_not_json_or_not_ours_are_refused(site: SiteProcess) -> None:
    browser = site.browser()
    browser.nonce()
    cases = [
        (b"x" * (16 * 1024 + 1), "application/json", 413, "too_large"),
        (b'{"purpose": "recommendations", "token": "a.b.c"}', "text/plain", 415, "not_json"),
        (b"{not json", "application/json", 400, "bad_body"),
        (b'{"purpose": "recommendations", "token": "a.b.c", "more": 1}', "application/json", 400, "bad_body"),
        (b'{"purpose": "recommendations"}', "application/json", 400, "bad_body"),
        (b'["a", "b"]', "application/json", 400, "bad_body"),
        (json.dumps({"purpose": "r", "token": "e" * 9000}).encode(), "application/json", 400, "too_large"),
        (b'{"purpose": "recommendations", "token": "a.b.c"}', "application/json", 400, "malformed"),
    ]
    for body, content_type, status, reason in cases:
        got, answer = browser.post("/vault/presentation", body, content_type)
        assert (got, answer["reason"]) == (status, reason), body[:60]
        assert set(answer) == {"error", "reason", "message"}


def test_a_chunked_body_is_cut_off_at_the_limit(site: SiteProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        chunks = (b"x" * 4096 for _ in range(64))  # 256 KiB, announced by no Content-Length
        connection.request(
            "POST", "/vault/presentation", body=chunks, encode_chunked=True,
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        )  # fmt: skip
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["reason"]) == (413, "too_large")
    finally:
        connection.close()


def test_wrong_methods_and_unknown_paths(site: SiteProcess) -> None:
    browser = site.browser()
    status, headers, data = browser.request("GET", "/vault/presentation")
    assert (status, headers["allow"], json.loads(data)["reason"]) == (405, "POST", "wrong_method")
    status, headers, _ = browser.request("POST", "/vault/nonce", b"{}", {"Content-Type": "application/json"})
    assert (status, headers["allow"]) == (405, "GET, HEAD")
    status, _, data = browser.request("GET", "/somewhere/else")  # the site's own app answers
    assert (status, json.loads(data)) == (200, {"page": "/somewhere/else"})


def test_a_failing_callback_is_a_500_that_logs_no_token(tmp_path: Path) -> None:
    crashing = SiteProcess(tmp_path / "site.log", TEST_SITE_CRASH="1")
    try:
        browser = crashing.browser()
        token = present(browser.manifest(), browser.nonce(), claims={**CLAIMS, "location.country": "SE"})
        status, answer = browser.post("/vault/presentation", {"purpose": "recommendations", "token": token})
    finally:
        crashing.stop()
    assert (status, answer["error"]) == (500, "site_error")
    log = crashing.log.read_text()
    assert "on_presentation callback raised RuntimeError" in log
    assert token[:40] not in log and "location.country" not in log and "Traceback" not in log


def test_a_slow_body_is_cut_off(site: SiteProcess) -> None:
    with socket.create_connection(("127.0.0.1", site.port), timeout=10) as client:
        client.sendall(
            b"POST /vault/presentation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"  # and the rest never comes
        )
        started = time.monotonic()
        answer = b""
        while b'"}' not in answer and (chunk := client.recv(4096)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 ") and b'"too_slow"' in answer
    assert time.monotonic() - started < 5


def test_with_the_sites_own_sessions_a_nonce_is_bound_to_them(tmp_path: Path) -> None:
    own = SiteProcess(tmp_path / "site.log", TEST_SITE_SESSIONS="1")
    try:
        anonymous = own.browser()
        status, _, data = anonymous.request("GET", "/vault/nonce")
        assert (status, json.loads(data)["reason"]) == (403, "no_session")
        alice = Browser(own.port)
        _, headers, data = alice.request("GET", "/vault/nonce", headers={"X-Session": "alice"})
        assert headers.get_all("set-cookie") is None  # the site's sessions, not ours
        token = present(alice.manifest(), json.loads(data)["nonce"])
        body = json.dumps({"purpose": "recommendations", "token": token}).encode()
        for session, expected in (("bob", 400), ("alice", 200)):
            headers = {"Content-Type": "application/json", "X-Session": session}
            assert alice.request("POST", "/vault/presentation", body, headers)[0] == expected
    finally:
        own.stop()
