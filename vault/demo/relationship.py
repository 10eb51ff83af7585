"""The demo's steps after the first exchange, driven like the extension does, through the real native host
and daemon: the shop page hands its proposal to the vault (`personalVault.notify`, which the extension
forwards to POST /v1/messages); the user reads the inbox (the change notice the shop's first
acknowledgement carried, and the proposal), accepts the proposal (which only opens the shop's page), and
that page's own request brings the normal prompt; then the user asks the shop what it holds (POST
/v1/access, as `vault ask ORIGIN` does) and the vault compares the shop's signed statement with its ledger.

To make the point of that comparison, the demo then makes the shop careless for one question (its own
records keep everything a year longer than it promised: `overstay`), the vault names each broken promise,
and the shop's records are put back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from vault.demo.handshake import NativeHost, ShopClient, _expect
from vault.demo.integration import Shop
from vault.words import count

Progress = Callable[[str], None]
CARELESS = 365 * 86400  # how much longer the careless shop's records keep things than it promised


def hand_proposal(host: NativeHost, shop: ShopClient, origin: str) -> dict[str, Any]:
    """What the shop page does once the visitor shared something: fetch our proposal for this session and
    hand it to the vault, as the extension's worker forwards `personalVault.notify(token)`."""
    status, body = shop.json("GET", "/api/proposal")
    _expect(status == 200 and body["message"], "fetching the shop's proposal", body)
    status, received = host.call("POST", "/v1/messages", {"origin": origin, "token": body["message"]})
    _expect(
        status == 200 and received.get("outcome") == "kept", "handing the proposal to the vault", received
    )
    return received


def read_inbox(host: NativeHost, origin: str) -> dict[str, Any]:
    status, listed = host.call("GET", f"/v1/messages?origin={quote(origin, safe='')}")
    _expect(status == 200, "reading the inbox", listed)
    return listed


def accept_proposal(
    host: NativeHost, shop: ShopClient, origin: str, manifest_text: str, progress: Progress
) -> dict[str, Any]:
    """Accept the shop's proposal (the popup's Accept): the vault says which page to open and shares
    nothing; that page asks for the purpose offered, the vault prompts, the user shares, the shop
    verifies and acknowledges."""
    proposal = next(m for m in read_inbox(host, origin)["messages"] if m["kind"] == "proposal")
    status, accepted = host.call("POST", "/v1/messages/accept", {"jti": proposal["jti"]})
    _expect(status == 200 and accepted.get("url") == proposal["url"], "accepting the proposal", accepted)
    page_path = urlsplit(accepted["url"]).path
    status, page = shop.request("GET", page_path)  # the browser opens it, in the same session
    purpose = accepted["purpose"]
    _expect(status == 200 and f'data-purpose="{purpose}"'.encode() in page, "opening the offer page", status)
    progress(f"accepted the proposal: the vault shared nothing and opened {accepted['url']}")

    status, issued = shop.json("GET", "/api/nonce")  # what that page's script does
    _expect(status == 200, "getting a nonce", issued)
    request = {"origin": origin, "manifest": manifest_text, "purpose": purpose, "nonce": issued["nonce"]}
    status, asked = host.call("POST", "/v1/presentations", request)
    _expect(status == 200 and asked["outcome"] == "consent_required", "the offer page's request", asked)
    prompt = asked["prompt"]
    decision = {
        "share": True,
        "claims": [q["claim"] for q in prompt["questions"]],
        "remember": True,
        "recipients": [],
    }
    status, granted = host.call("POST", f"/v1/prompts/{prompt['id']}/decision", decision)
    _expect(status == 200 and granted["outcome"] == "granted", "answering the prompt", granted)
    status, verified = shop.json("POST", "/api/verify", {"purpose": purpose, "token": granted["token"]})
    _expect(status == 200, "the shop's verification", verified)
    status, stored = host.call("POST", "/v1/acknowledgements", {"token": verified["acknowledgement"]})
    _expect(status == 200, "storing the acknowledgement", stored)
    progress(f"the offer page's request brought the prompt; shared {', '.join(granted['claims'])}")
    liked = [p for p in verified["products"] if any(w.startswith("you like") for w in p["why"])]
    return {
        "proposal": proposal,
        "accepted": accepted,
        "prompt": {
            "id": prompt["id"],
            "purpose": prompt["purpose"].get("title"),
            "retention": prompt["retention"],
            "questions": [{"claim": q["claim"], "value": q["value"]} for q in prompt["questions"]],
        },
        "decision": decision,
        "shared": granted["claims"],
        "jti": granted["jti"],
        "keep_until": verified["keep_until"],
        "suggested": [{"name": p["name"], "why": p["why"]} for p in liked[:3]],
        "acknowledged": stored,
    }


def ask_what_is_held(host: NativeHost, origin: str, progress: Progress) -> dict[str, Any]:
    """`vault ask ORIGIN`: a signed access request, the shop's signed statement, and the comparison."""
    status, view = host.call("POST", "/v1/access", {"origin": origin}, timeout=60)
    _expect(status == 200 and view.get("state") == "answered", "asking the shop what it holds", view)
    found = len(view["discrepancies"])
    progress(
        f"asked the shop what it holds: {count(len(view['holdings']), 'purpose')} in its signed statement, "
        f"{count(found, 'discrepancy', 'discrepancies', spelled=found == 0)}"
    )
    return view


def overstay(shop: Shop, seconds: int) -> None:
    """The demo's hand in the shop's own records (it runs in the demo's process): keep every presentation
    `seconds` longer than promised (negative: put it back). Never part of a site: it breaks its word."""
    for held in shop.held.current(shop.clock()):
        held.keep_until += seconds


def ask_a_careless_shop(
    host: NativeHost, origin: str, careless: Callable[[int], None], progress: Progress
) -> dict[str, Any]:
    """Ask again while the shop's records keep everything CARELESS seconds longer than it promised: its
    signed statement says so, and the vault names each broken promise."""
    careless(CARELESS)
    try:
        status, view = host.call("POST", "/v1/access", {"origin": origin}, timeout=60)
    finally:
        careless(-CARELESS)
    _expect(status == 200 and view.get("state") == "answered", "asking the careless shop", view)
    _expect(bool(view["discrepancies"]), "the vault's comparison (a careless shop)", view)
    progress(f"asked a careless shop: the vault names {count(len(view['discrepancies']), 'broken promise')}")
    return view
