"""The whole handshake without a browser: what the extension does, through a real `vault native-host`
process (the launcher `install-browser` wrote), against the real daemon and the real demo shop.

The steps are the extension's: pair; fetch the shop's manifest and a nonce; ask for a presentation; answer
the consent prompt as the popup would (allowing the shop's analytics partner too); hand the token to the
shop, which passes the partner its claims; pass the shop's acknowledgement back (it carries the shop's
change notice) and the page's proposal (vault.demo.relationship); ask again (granted from the remembered
decisions); read the inbox, accept the proposal and share through the prompt its page brings; ask the
shop what it holds and compare its statement with the ledger; withdraw from the analytics partner alone,
with erasure, and watch the daemon deliver the notice, the shop forward it, the partner erase and the
shop keep its own copy; then revoke everything with erasure, watch the shop delete what it held, and ask
again; last, the standing preferences (Global Privacy Control, a context with its own identity:
vault.demo.standing).
"""

from __future__ import annotations

import http.client
import json
import os
import select
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from vault.daemon.browser import EXTENSION_ID
from vault.demo.partner import PARTNER_ID
from vault.errors import VaultError
from vault.site import MANIFEST_PATH
from vault.words import count

PURPOSE = "recommendations"
FRAME = struct.Struct("<I")


class DemoFailed(VaultError):
    """A step of the demo handshake did not go as it should (a bug, or a broken installation)."""


class NativeHost:
    """A running native host, fed framed JSON on stdin the way the browser feeds it."""

    def __init__(self, spawn: Callable[..., subprocess.Popen], launcher: Path, stderr: Path, client: str):
        self.client = client
        self._next_id = 0
        with stderr.open("ab") as err:
            # Chromium passes the extension's origin as the first argument.
            self.proc = spawn(
                [str(launcher), f"chrome-extension://{EXTENSION_ID}/"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                bufsize=0,
            )

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> tuple[int, Any]:
        self._next_id += 1
        frame: dict[str, Any] = {"id": self._next_id, "method": method, "path": path, "client": self.client}
        if body is not None:
            frame["body"] = body
        data = json.dumps(frame).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(FRAME.pack(len(data)) + data)
        (length,) = FRAME.unpack(self._read(FRAME.size, timeout))
        reply = json.loads(self._read(length, timeout))
        if reply.get("id") != self._next_id:
            raise DemoFailed(f"the native host answered frame {reply.get('id')}, not {self._next_id}")
        return reply["status"], reply["body"]

    def _read(self, size: int, timeout: float) -> bytes:
        assert self.proc.stdout is not None
        deadline, data = time.monotonic() + timeout, b""
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.proc.stdout], [], [], remaining)[0]:
                raise DemoFailed(f"the native host did not answer within {timeout:g} s")
            chunk = os.read(self.proc.stdout.fileno(), size - len(data))
            if not chunk:
                raise DemoFailed(f"the native host exited (code {self.proc.poll()})")
            data += chunk
        return data

    def close(self) -> int | None:
        """Close the port as the browser does (stdin), and wait for the host to exit."""
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            return None  # the environment stops it


class ShopClient:
    """The page's side of the shop: plain HTTP on loopback, with the session cookie the shop sets."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookie: str | None = None

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = dict(headers or {}) | ({"Cookie": self.cookie} if self.cookie else {})
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            cookie = response.getheader("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0]
            return response.status, response.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, data = self.request(method, path, body)
        return status, json.loads(data)


def _expect(ok: bool, step: str, answer: Any) -> None:
    if not ok:
        raise DemoFailed(f"{step} failed: {json.dumps(answer)[:600]}")


def run_handshake(
    host: NativeHost,
    shop: ShopClient,
    origin: str,
    *,
    approve: Callable[[str], Any],
    progress: Callable[[str], None],
    partner_held: Callable[[], list[dict[str, Any]]],
    delivery_timeout: float = 30.0,
    careless: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Drive every step; return what happened, for the summary (raises DemoFailed if a step fails).
    `partner_held()` is what the shop's analytics partner says it holds (its own HTTP API); `careless(s)`,
    if given, makes the shop's records keep everything `s` seconds longer than promised (as
    relationship.overstay does)."""
    # The later steps, built on this module's host and shop clients.
    from vault.demo import relationship, standing

    status, pairing = host.call("POST", "/v1/pairing", {"name": "vault demo (no browser)"})
    _expect(status == 200 and pairing.get("state") == "pending", "pairing", pairing)
    approve(pairing["code"])
    progress(f"paired the demo client (code {pairing['code']}) through the admin channel: throw-away vault")

    status, manifest = shop.request("GET", MANIFEST_PATH)
    _expect(status == 200, "fetching the manifest", status)
    manifest_text = manifest.decode()
    purpose = next(p for p in json.loads(manifest_text)["purposes"] if p["id"] == PURPOSE)

    def ask() -> dict[str, Any]:
        status, issued = shop.json("GET", "/api/nonce")
        _expect(status == 200, "getting a nonce", issued)
        request = {"origin": origin, "manifest": manifest_text, "purpose": PURPOSE, "nonce": issued["nonce"]}
        status, answer = host.call("POST", "/v1/presentations", request)
        _expect(status == 200, "the presentation request", answer)
        return answer

    def verify_and_acknowledge(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        status, verified = shop.json("POST", "/api/verify", {"purpose": PURPOSE, "token": token})
        _expect(status == 200, "the shop's verification", verified)
        status, stored = host.call("POST", "/v1/acknowledgements", {"token": verified["acknowledgement"]})
        _expect(status == 200, "storing the acknowledgement", stored)
        return verified, stored

    first = ask()
    _expect(first["outcome"] == "consent_required", "the first request", first)
    prompt = first["prompt"]
    progress(f"the daemon asks the user (prompt {prompt['id']}): {count(len(prompt['questions']), 'claim')}")
    optional = [q["claim"] for q in prompt["questions"] if not q["required"]]
    withheld = optional[-1:]  # the popup's user unticks one optional claim
    partners = [t for t in prompt.get("third_parties", []) if t["asked"]]
    decision = {
        "share": True,
        "claims": [q["claim"] for q in prompt["questions"] if q["claim"] not in withheld],
        "remember": True,
        "recipients": [t["id"] for t in partners],  # and switches the analytics partner on
    }
    status, granted = host.call("POST", f"/v1/prompts/{prompt['id']}/decision", decision)
    _expect(status == 200 and granted["outcome"] == "granted", "answering the prompt", granted)
    allowed = ", ".join(t["name"] for t in partners) or "no third party"
    progress(
        f"answered as the popup would: share all but {', '.join(withheld) or 'nothing'}, allow {allowed}"
    )
    verified, stored = verify_and_acknowledge(granted["token"])
    progress(
        f"the shop verified {', '.join(verified['claims'])}, passed claims on to "
        f"{', '.join(verified['passed_to']) or 'nobody'}; its acknowledgement is in the vault"
    )
    handed = relationship.hand_proposal(host, shop, origin)  # the page, now that the visitor shared
    progress(f"the shop page handed its proposal to the vault (personalVault.notify): {handed['outcome']}")

    again = ask()
    _expect(again["outcome"] == "granted", "the second request (remembered)", again)
    verified_again, _ = verify_and_acknowledge(again["token"])
    progress("second request: granted without a prompt, verified and acknowledged")

    inbox = relationship.read_inbox(host, origin)
    accepted = relationship.accept_proposal(host, shop, origin, manifest_text, progress)
    asked = relationship.ask_what_is_held(host, origin, progress)
    careless_view = relationship.ask_a_careless_shop(host, origin, careless, progress) if careless else None

    partner = _withdraw_from_partner(host, shop, origin, partner_held, progress, delivery_timeout)

    _, held_before = shop.json("GET", "/api/held")
    status, revoked = host.call("POST", "/v1/revocations", {"origin": origin, "erase": True})
    _expect(status == 200, "revoking", revoked)
    progress(
        f"revoked with erasure: {count(revoked['withdrawn'], 'presentation')} withdrawn; waiting for delivery"
    )
    outbox = [n for n in _wait_for_delivery(host, origin, delivery_timeout) if n["jti"] in revoked["notices"]]
    _, held_after = shop.json("GET", "/api/held")
    _, report = host.call("GET", f"/v1/sites/report?origin={quote(origin, safe='')}")
    asked_after = relationship.ask_what_is_held(host, origin, progress)
    status, ledger_check = host.call("GET", "/v1/ledger/verify")
    _expect(status == 200, "verifying the ledger", ledger_check)
    progress(f"the shop acknowledged the notice; it now holds {len(held_after['presentations'])}")
    gpc = standing.gpc_on_the_shop(host, shop, origin)
    context = standing.a_context_of_its_own(host, origin, ask, verify_and_acknowledge, progress)
    return {
        "asked": {
            "purpose": PURPOSE,
            "title": purpose["title"],
            "claims": purpose["claims"],
            "retention": purpose["retention"],
            "third_parties": purpose["third_parties"],
        },
        "prompt": {
            "id": prompt["id"],
            "questions": [
                {"claim": q["claim"], "value": q["value"], "required": q["required"]}
                for q in prompt["questions"]
            ],
        },
        "third_parties": [
            {k: t[k] for k in ("id", "name", "role", "country", "claims", "required", "asked")}
            for t in partners
        ],
        "decision": decision,
        "withheld": withheld,
        "token": granted["token"],
        "shared": granted["claims"],
        "verified": {
            k: verified[k] for k in ("subject", "jti", "claims", "not_shared", "keep_until", "passed_to")
        },
        "personalised": {
            "used": verified["used"],
            "products": [p["name"] for p in verified["products"]],
            "first": verified["products"][0],
            "hidden": verified["hidden"],
        },
        "acknowledgement": {"token": verified["acknowledgement"], "stored": stored},
        "second": {
            "outcome": again["outcome"],
            "prompted": "prompt" in again,
            "jti": again["jti"],
            "claims": verified_again["claims"],
            "passed_to": verified_again["passed_to"],
        },
        "inbox": inbox,
        "proposal": accepted,
        "access": asked,
        "careless": careless_view,
        "partner": partner,
        "revocation": {
            "recipients": revoked.get("recipients", []),
            "erasure": revoked["erasure"],
            "withdrawn": revoked["withdrawn"],
            "notices": outbox,
            "delivered": all(item["delivered_at"] is not None for item in outbox),
            "erased": all(item["erased"] for item in outbox),
            "held_before": len(held_before["presentations"]),
            "held_after": len(held_after["presentations"]),
            "shop_notices": held_after["notices"],
            "vault_report": report["disclosures"],
            "partner_held_after": len(partner_held()),
            "access": asked_after,
        },
        "ledger": ledger_check,
        "gpc": gpc,
        "context": context,
    }


def _withdraw_from_partner(
    host: NativeHost,
    shop: ShopClient,
    origin: str,
    partner_held: Callable[[], list[dict[str, Any]]],
    progress: Callable[[str], None],
    timeout: float,
) -> dict[str, Any]:
    """Withdraw from the analytics partner alone, with erasure, as the popup's "withdraw from this third
    party" does; wait for the shop's signed answer; see what the partner and the shop hold after it."""
    records_before = partner_held()
    _, shop_before = shop.json("GET", "/api/held")
    request = {"origin": origin, "third_party": PARTNER_ID, "erase": True}
    status, revoked = host.call("POST", "/v1/revocations", request)
    _expect(status == 200, "withdrawing from the analytics partner", revoked)
    progress(f"withdrew from {PARTNER_ID} alone, with erasure; waiting for delivery")
    outbox = [n for n in _wait_for_delivery(host, origin, timeout) if n["jti"] in revoked["notices"]]
    records_after = partner_held()
    _, shop_after = shop.json("GET", "/api/held")
    _, report = host.call("GET", f"/v1/sites/report?origin={quote(origin, safe='')}")
    answers = [
        holding
        for disclosure in report["disclosures"]
        for holding in disclosure.get("recipients", [])
        if holding["id"] == PARTNER_ID
    ]
    _, entries = host.call("GET", f"/v1/ledger?origin={quote(origin, safe='')}&limit=1000")
    progress(f"the partner now holds {count(len(records_after), 'record')}; the shop keeps its own")
    return {
        "request": request,
        "withdrawn": revoked["withdrawn"],
        "notices": outbox,
        "held_before": [r["claims"] for r in records_before],
        "held_after": [r["claims"] for r in records_after],
        "shop_before": [p["claims"] for p in shop_before["presentations"]],
        "shop_after": [p["claims"] for p in shop_after["presentations"]],
        "shop_notice": shop_after["notices"][-1] if shop_after["notices"] else None,
        "vault_report": answers,
        "signed_answers": [
            e["body"] for e in entries if e["kind"] == "delivery_ack" and e["ref"] in revoked["notices"]
        ],
    }


def _wait_for_delivery(host: NativeHost, origin: str, timeout: float) -> list[dict[str, Any]]:
    """The daemon delivers as soon as a revocation is queued; poll its outbox until it has."""
    deadline = time.monotonic() + timeout
    while True:
        status, items = host.call("GET", "/v1/outbox")
        _expect(status == 200, "reading the outbox", items)
        mine = [item for item in items if item["origin"] == origin]
        if mine and all(item["delivered_at"] is not None for item in mine):
            return mine
        if time.monotonic() > deadline:
            errors = "; ".join(str(item["last_error"]) for item in mine)
            raise DemoFailed(f"the daemon did not deliver the revocation notice in {timeout:g} s: {errors}")
        time.sleep(0.1)
