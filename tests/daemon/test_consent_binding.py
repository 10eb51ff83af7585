"""Consent is given to a company: over a real daemon, a remembered decision does not sign for a new
controller, and the prompt says who ran the site before."""

from __future__ import annotations

import json
from pathlib import Path

from tests.daemon.support import EXAMPLE_MANIFEST, DaemonProcess, ask, make_vault, remember_consent
from vault.site import make_nonce


def test_a_new_controller_gets_a_prompt_not_a_silent_grant(vault_home: Path) -> None:
    shop = EXAMPLE_MANIFEST.read_text()
    broker = json.loads(shop)
    broker["controller"] = {
        "name": "Totally Different Data Broker Ltd",
        "contact": "sales@broker.example",
        "privacy_policy": "https://broker.example/privacy",
    }
    with DaemonProcess(make_vault(vault_home)) as daemon, daemon.paired_client() as client:
        remember_consent(client, shop, make_nonce())
        status, body = ask(client, shop, make_nonce())
        assert status == 200 and body["outcome"] == "granted"
        status, body = ask(client, json.dumps(broker), make_nonce())
        assert status == 200 and body["outcome"] == "consent_required", body
        prompt = body["prompt"]
        assert prompt["controller"]["name"] == "Totally Different Data Broker Ltd"
        assert prompt["controller_changed_from"]["name"] == json.loads(shop)["controller"]["name"]
        assert {q["asked_because"] for q in prompt["questions"]} == {"controller_changed"}
        assert "token" not in body
