"""The demo's last step: the user's standing preferences, driven through the real native host and daemon.

Global Privacy Control: what the extension would send the shop (GET /v1/gpc, and the words of GET
/v1/contexts?origin=), the shop page fetched with `Sec-GPC: 1` when it is sent (as the extension's header
rule adds it), what that page says, and the shop's own declaration (/.well-known/gpc.json).

A context: "Shopping for the family", a copy of Everyday that keeps its own identity, chosen for the shop
alone (as "always use this context on this site" in the popup). The shop's page asks again, the user
shares the required claims once, and the shop sees a visitor it cannot link to the one before: another
pseudonym. The site's own choice is ended afterwards, so the shop is back in Everyday.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from vault.demo.handshake import NativeHost, ShopClient, _expect
from vault.demo.shop import GPC_PATH

FAMILY = "Shopping for the family"
_GPC_NOTICE = re.compile(rb'<p id="gpc"[^>]*>(.*?)</p>', re.DOTALL)


def gpc_on_the_shop(host: NativeHost, shop: ShopClient, origin: str) -> dict[str, Any]:
    status, state = host.call("GET", "/v1/gpc")
    _expect(status == 200, "reading where Global Privacy Control is sent", state)
    status, view = host.call("GET", f"/v1/contexts?origin={quote(origin, safe='')}")
    _expect(status == 200 and view.get("gpc"), "reading the shop's context", view)
    sent = state["sites"].get(origin, state["sent"])  # the extension's own reading of the state
    status, page = shop.request("GET", "/", headers={"Sec-GPC": "1"} if sent else None)
    said = _GPC_NOTICE.search(page)
    _expect(status == 200 and said is not None, "opening the shop's page", status)
    status, declared = shop.request("GET", GPC_PATH)
    return {
        "sent": sent,
        "why": view["gpc"]["why"],
        "context": view["gpc"]["context_name"],
        "page_says": " ".join(html.unescape(said.group(1).decode()).split()),
        "declared": json.loads(declared) if status == 200 else None,
    }


def a_context_of_its_own(
    host: NativeHost,
    origin: str,
    ask: Callable[[], dict[str, Any]],
    verify: Callable[[str], tuple[dict[str, Any], dict[str, Any]]],
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """`ask()` is the page's request for the shop's purpose; `verify(token)` the shop's verification and the
    acknowledgement stored back in the vault (both from vault.demo.handshake)."""
    body = {"name": FAMILY, "copy_from": "Everyday", "separate_identity": "on"}
    status, context = host.call("POST", "/v1/contexts", body)
    _expect(status == 200, "adding a context", context)
    status, active = host.call("POST", "/v1/contexts/use", {"context": context["id"], "origin": origin})
    _expect(status == 200 and active["source"] == "site", "choosing the context for the shop", active)
    progress(f"added the context {FAMILY!r} (its own identity) and chose it for the shop alone")
    answer = ask()
    prompt_context = None
    if answer["outcome"] == "consent_required":
        prompt = answer["prompt"]
        prompt_context = (prompt.get("context") or {}).get("name")
        decision = {
            "share": True,
            "claims": [q["claim"] for q in prompt["questions"] if q["required"]],
            "remember": False,
            "recipients": [],
        }
        status, answer = host.call("POST", f"/v1/prompts/{prompt['id']}/decision", decision)
    _expect(answer.get("outcome") == "granted", "sharing in the new context", answer)
    verified, _ = verify(answer["token"])
    status, ended = host.call("POST", "/v1/contexts/end", {"origin": origin})
    _expect(status == 200 and ended["ended"], "ending the shop's own context", ended)
    progress(f"the shop verified a presentation from {FAMILY!r}: visitor …{verified['subject'][-12:]}")
    return {
        "context": {k: context[k] for k in ("id", "name", "separate_identity", "gpc")},
        "prompt_context": prompt_context,
        "shared": answer["claims"],
        "subject": verified["subject"],
    }
