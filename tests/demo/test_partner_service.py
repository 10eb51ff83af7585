"""Demo Analytics, the shop's analytics partner, as a real process: it answers the shop alone (the shared
secret, compared in constant time) and refuses anything out of bounds, storing nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from vault.demo.partner import PartnerStore, create_partner
from vault.demo.partner_api import HELD_PATH, MAX_REQUEST, RECEIVE_PATH, WITHDRAW_PATH
from vault.demo.server import PartnerProcess

pytestmark = pytest.mark.slow


def call(partner: PartnerProcess, method: str, path: str, **options: Any) -> httpx.Response:
    return httpx.request(method, partner.url + path, timeout=10, **options)


def delivery(**changes: Any) -> dict[str, Any]:
    return {
        "subject": "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + "A" * 43,
        "presentation": "AqKu6Qjj2A8Pfu_R0cpFZg",
        "purpose": "recommendations",
        "claims": {"sizes.shoe": 39.5},
        "keep_until": int(time.time()) + 3600,
    } | changes


def test_calls_without_the_shops_secret_are_refused(partner: PartnerProcess) -> None:
    wrong = "x" * len(partner.secret)
    for headers in (
        {},
        {"Authorization": f"Bearer {wrong}"},
        {"Authorization": f"Bearer {partner.secret[:-1]}"},
        {"Authorization": f"Bearer {partner.secret}x"},
        {"Authorization": partner.secret},
        {"Authorization": f"Basic {partner.secret}"},
    ):
        stored = call(partner, "POST", RECEIVE_PATH, json=delivery(), headers=headers)
        assert stored.status_code == 401 and stored.headers["www-authenticate"] == "Bearer"
        withdrawal = {"notice": "n" * 22, "subject": delivery()["subject"], "presentations": ["p" * 22]}
        assert call(partner, "POST", WITHDRAW_PATH, json=withdrawal, headers=headers).status_code == 401
        assert call(partner, "GET", HELD_PATH, headers=headers).status_code == 401
    # A non-ASCII header does not get as far as a comparison either.
    odd = call(partner, "POST", RECEIVE_PATH, json=delivery(), headers={"Authorization": "Bearer é".encode()})
    assert odd.status_code == 401
    assert partner.held() == []
    # The public page says how much it holds, never what.
    assert "39.5" not in call(partner, "GET", "/").text


def test_the_partner_refuses_oversize_and_malformed_input(partner: PartnerProcess) -> None:
    auth = {"Authorization": f"Bearer {partner.secret}"}

    def refused(body: Any, **options: Any) -> int:
        if isinstance(body, bytes):
            options["content"] = body
            options.setdefault("headers", {}).setdefault("Content-Type", "application/json")
        else:
            options["json"] = body
        options["headers"] = {**options.get("headers", {}), **auth}
        return call(partner, "POST", RECEIVE_PATH, **options).status_code

    assert refused(b"{" + b" " * MAX_REQUEST + b"}") == 413
    assert refused(delivery(claims={f"c{n}": 1 for n in range(33)})) == 400  # more claims than a purpose has
    assert refused(delivery(claims={})) == 400
    assert refused(delivery(claims={"location.country": "NL"})) == 422  # not one it receives
    assert refused(delivery(claims={"sizes.shoe": "forty"})) == 422  # not of its type
    assert refused(delivery(subject="someone@example.org")) == 400
    assert refused(delivery(presentation="short")) == 400
    assert refused(delivery(extra=1)) == 400
    assert refused(delivery(keep_until=-1)) == 400
    assert refused(json.dumps(delivery()).encode(), headers={"Content-Type": "text/plain"}) == 400
    too_many = {"notice": "n" * 22, "subject": delivery()["subject"], "presentations": ["p" * 22] * 257}
    withdrawal = call(partner, "POST", WITHDRAW_PATH, json=too_many, headers=auth)
    assert withdrawal.status_code == 400
    assert partner.held() == []


def test_a_full_partner_refuses_instead_of_dropping_what_it_holds() -> None:
    secret = "s" * 43
    clock = iter(range(1_000, 10_000))
    app = create_partner(secret=secret, store=PartnerStore(capacity=1), clock=lambda: next(clock))
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        first = delivery(keep_until=5_000)
        assert client.post(RECEIVE_PATH, json=first, headers=auth).status_code == 200
        other = delivery(presentation="BqKu6Qjj2A8Pfu_R0cpFZg")
        assert client.post(RECEIVE_PATH, json=other, headers=auth).json()["error"] == "full"
        [held] = client.get(HELD_PATH, headers=auth).json()["records"]
        assert held["presentation"] == first["presentation"]
    # Past the date the shop promised, the record is gone, and there is room again.
    later = iter(range(6_000, 10_000))
    app = create_partner(secret=secret, store=app.state.store, clock=lambda: next(later))
    with TestClient(app) as client:
        assert client.get(HELD_PATH, headers=auth).json()["records"] == []
        assert client.post(RECEIVE_PATH, json=delivery(keep_until=9_000), headers=auth).status_code == 200


def test_the_partner_will_not_start_with_a_secret_others_can_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s" * 43)
    os.chmod(secret, 0o644)
    proc = subprocess.run(
        [sys.executable, "-m", "vault.demo.partner", "--port", "0", "--secret-file", str(secret)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0 and "chmod 600" in proc.stderr
    os.chmod(secret, 0o600)
    secret.write_text("short")
    proc = subprocess.run(
        [sys.executable, "-m", "vault.demo.partner", "--port", "0", "--secret-file", str(secret)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0 and "at least 32" in proc.stderr
