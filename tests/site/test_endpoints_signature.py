"""`VaultEndpoints` checks a presentation's signature once: it opens the token to read the nonce, then runs
the rest of `verify_presentation`'s checks on what it opened (no second Ed25519 verification)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.site.test_endpoints import create_test_site, present
from vault.protocol import decode_manifest, presentation


def call(app: Any, method: str, path: str, body: bytes = b"", headers: list | None = None) -> tuple:
    """One ASGI request in this process: (status, response headers, body)."""
    sent: list[dict] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"site.example"), *(headers or [])], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], start["headers"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_presentation_is_signature_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_test_site()
    status, headers, data = call(app, "GET", "/vault/nonce")
    assert status == 200
    cookie = next(value for name, value in headers if name == b"set-cookie").split(b";", 1)[0]
    manifest = decode_manifest(call(app, "GET", "/.well-known/vault-manifest.json")[2])
    token = present(manifest, json.loads(data)["nonce"])
    opened = []
    real_open = presentation.open_compact

    def counting_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr(presentation, "open_compact", counting_open)
    body = json.dumps({"purpose": "recommendations", "token": token}).encode()
    headers = [(b"content-type", b"application/json"), (b"cookie", cookie)]
    status, _, answer = call(app, "POST", "/vault/presentation", body, headers)
    assert status == 200, answer
    assert json.loads(answer)["acknowledgement"]
    assert opened == [token]
