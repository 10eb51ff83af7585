"""The two example sites (vault/site/examples/): each integrates in at most 30 lines of its own code, and
each, run by uvicorn as a real process, does the whole exchange with a vault: manifest, nonce,
presentation and acknowledgement, access request and statement, revocation and erasure.

`ExampleSite` starts one on a free loopback port with its origin and a fresh site key; the conformance
tests start the examples with it too.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import tokenize
from pathlib import Path

import pytest

from tests.site.test_endpoints import ROOT, Browser, new_key, present
from vault.protocol import (
    SigningKey,
    key_subject,
    sign_revocation,
    verify_acknowledgement,
    verify_revocation_ack,
)
from vault.protocol.access import Holding, sign_access_request, verify_access_statement
from vault.protocol.b64 import b64url_decode
from vault.protocol.jwk import OkpPublicJwk

EXAMPLES = ROOT / "vault" / "site" / "examples"
NAMES = ("asgi_site", "litestar_site")
MAX_LINES = 30


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring (none has one today)."""
    lines: set[int] = set()
    previous = tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            if token.type != tokenize.COMMENT:
                previous = token.type
            continue
        if token.type == tokenize.ENDMARKER:
            break
        docstring = token.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT)
        previous = token.type
        if not docstring:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ExampleSite:
    """`uvicorn vault.site.examples.<name>:app` on a free port of 127.0.0.1, its origin that address."""

    def __init__(self, name: str, log: Path) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "SITE_"))}
        env.update(SITE_ORIGIN=self.origin, SITE_KEY_SEED=secrets.token_hex(32))
        command = [sys.executable, "-m", "uvicorn", f"vault.site.examples.{name}:app", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--no-access-log"]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while "Uvicorn running on" not in log.read_text():  # written once it listens
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the example {name} did not start:\n" + log.read_text()[-2000:])
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> ExampleSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def test_code_lines_counts_code_only() -> None:
    source = (
        '"""doc\nstring"""\n# a comment\n\nx = (\n    1,  # why\n)\ndef f():\n    """doc"""\n    return "s"\n'
    )
    assert code_lines(source) == 5


@pytest.mark.parametrize("name", NAMES)
def test_an_example_integrates_in_at_most_30_lines(name: str) -> None:
    source = (EXAMPLES / f"{name}.py").read_text()
    assert code_lines(source) <= MAX_LINES, f"{name}: {code_lines(source)} lines of code"


@pytest.mark.parametrize("name", NAMES)
def test_an_example_site_does_the_whole_exchange(name: str, tmp_path: Path) -> None:
    with ExampleSite(name, tmp_path / "site.log") as site:
        browser = Browser(site.port)
        manifest = browser.manifest()
        assert manifest.origin == site.origin and manifest.access_endpoint == site.origin + "/vault/access"
        status, headers, data = browser.request("GET", "/vault/nonce")
        assert status == 200 and "Secure" not in headers["set-cookie"]  # plain http, on loopback
        key = new_key()
        claims = {"languages": ["nl", "en-GB"]}
        token = present(manifest, json.loads(data)["nonce"], key=key, purpose="suggestions", claims=claims)
        status, answer = browser.post("/vault/presentation", {"purpose": "suggestions", "token": token})
        assert status == 200, answer
        assert answer["result"] == {"suggested": ["a book in nl", "a book in en-GB"]}
        ack = verify_acknowledgement(
            answer["acknowledgement"], manifest.site_key, presentation=token, now=now()
        )
        assert ack.keep_until == json_iat(token) + 30 * 86400  # P30D, counted from the presentation

        [holding] = ask_what_it_holds(site, key, manifest.site_key)
        assert (holding.presentations, holding.claims) == ((ack.presentation,), ("languages",))
        notice = sign_revocation(
            key, origin=site.origin, purpose_id="suggestions", presentations=[ack.presentation], erasure=True,
            now=now(), jti=secrets.token_urlsafe(16),
        )  # fmt: skip
        status, answer = Browser(site.port).post("/vault/revocation", {"notice": notice})
        assert status == 200, answer
        assert verify_revocation_ack(
            answer["acknowledgement"], manifest.site_key, notice=notice, now=now()
        ).erased
        assert ask_what_it_holds(site, key, manifest.site_key) == ()

        status, _, page = browser.request("GET", "/")
        if name == "litestar_site":  # the site's own route, beside the mounted endpoints
            assert (status, page) == (200, b"<h1>Example Books</h1>")
        else:
            assert status == 404
    assert "Traceback" not in site.log.read_text()


def ask_what_it_holds(site: ExampleSite, key: SigningKey, site_key: OkpPublicJwk) -> tuple[Holding, ...]:
    request = sign_access_request(key, origin=site.origin, now=now(), jti=secrets.token_urlsafe(16))
    status, answer = Browser(site.port).post("/vault/access", {"request": request})
    assert status == 200, answer
    statement = verify_access_statement(answer["statement"], site_key, request=request, now=now())
    assert statement.aud == key_subject(key.public_jwk)
    return statement.holdings


def json_iat(token: str) -> int:
    return json.loads(b64url_decode(token.split(".")[1]))["iat"]


def now() -> int:
    return int(time.time())


def test_every_example_is_tested() -> None:
    assert {path.stem for path in EXAMPLES.glob("*.py")} - {"__init__"} == set(NAMES)
    assert re.search(r"\bexamples\b", (ROOT / "vault" / "site" / "__init__.py").read_text())
