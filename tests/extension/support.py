"""Helpers for the extension's browser tests: the test site, the browser with its extension, pairing."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests import example
from tests.browsers.common import ExtensionBrowser
from tests.daemon.support import DaemonProcess
from tests.support import skip_or_fail
from vault.daemon.browser import EXTENSION_ID
from vault.demo.chromium import find_chromium
from vault.site import (
    ClaimRequest,
    Controller,
    HeldRecord,
    InMemoryReplayStore,
    Manifest,
    Purpose,
    acknowledge_revocation,
    answer_access_request,
    build_manifest,
    generate_site_key,
    make_nonce,
    manifest_json,
    verify_access_request,
    verify_presentation,
    verify_revocation,
)

ROOT = Path(__file__).parents[2]
EXTENSION = ROOT / "extension"
BROWSERS = ("chromium", "firefox")
SCREENSHOTS = Path(__file__).parent / "screenshots"
EXTENSION_URL = f"chrome-extension://{EXTENSION_ID}/"
WAIT_MS = 20_000

RECOMMENDATIONS = example.RECOMMENDATIONS
NEWSLETTER = Purpose(
    id="newsletter",
    title="A newsletter about shoes we deliver",
    description="We write to you about new shoes we can deliver to your country.",
    benefit="News only about shoes you can actually buy.",
    concept="dpv:CommunicationForCustomerCare",
    claims=(
        ClaimRequest(name="location.country", required=True, why="We only write about shoes we deliver."),
    ),
    retention="P1Y",
    third_parties=(),
)

# The site's own script: calls the page API like any site would, and returns the outcome (or the
# error's code and message) as plain data the test can read.
APP_JS = b"""
window.askVault = async (options) => {
  try {
    return { ok: true, value: await personalVault.request(options) };
  } catch (error) {
    return { ok: false, code: error.code, message: error.message, name: error.name };
  }
};
window.ackVault = async (token) => {
  try {
    return { ok: true, value: await personalVault.acknowledge(token) };
  } catch (error) {
    return { ok: false, code: error.code, message: error.message };
  }
};
window.notifyVault = async (token) => {
  const started = performance.now();
  try {
    const value = await personalVault.notify(token);
    return { ok: true, value, ms: performance.now() - started };
  } catch (error) {
    const ms = performance.now() - started;
    return { ok: false, code: error.code, message: error.message, name: error.name, ms };
  }
};
window.readyEvents = 0;
window.addEventListener("personalvault:ready", () => { window.readyEvents += 1; });
"""
# A proposal's page (its `url`): asks for the offered purpose the normal way, as soon as it loads.
OFFER_JS = b"""
window.offer = askVault({ purposes: [document.body.dataset.purpose], nonce: document.body.dataset.nonce });
"""
PAGE_HTML = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shoe shop</title>
<link rel="icon" href="data:,"><script src="/app.js"></script></head>
<body><h1>Test shoe shop</h1><p>A page that asks the vault for claims.</p></body></html>
"""


def chromium_path() -> str:
    found = find_chromium()
    if found is not None:
        return found
    skip_or_fail("Chromium is not installed (apt-get install chromium)")
    raise AssertionError("unreachable")


@dataclass
class ShopSite:
    """One HTTP server on 127.0.0.1, two origins: http://127.0.0.1:PORT serves its own manifest, and
    http://localhost:PORT serves the same bytes (so there the manifest is for another origin)."""

    port: int
    manifest: Manifest
    site_key: Any
    manifest_status: int = 200  # set to 404 to have no manifest
    manifest_override: bytes | None = None  # served instead of the real manifest
    # POST /vault/revoke: False answers 503 (the endpoint is down); True verifies the notice and answers
    # with the site's signed acknowledgement, as a site that honours revocations does.
    accepts_revocations: bool = False
    revocations: list[str] = field(default_factory=list)  # jtis of the notices acknowledged
    notices: list[Any] = field(default_factory=list)  # the VerifiedNotices acknowledged
    requests: list[str] = field(default_factory=list)
    # POST /vault/access: None answers 503; a list answers with a signed statement of these records.
    held: list[HeldRecord] | None = None
    show_values: bool = False
    access_replay: InMemoryReplayStore = field(default_factory=InMemoryReplayStore)
    offer_purpose: str = "newsletter"  # what GET /offer asks for

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_origin(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def url(self) -> str:
        return self.origin + "/"

    def manifest_text(self) -> str:
        return manifest_json(self.manifest).decode()

    def answer_revocation(self, body: bytes) -> tuple[int, bytes]:
        """The revocation endpoint: (status, JSON body). This site stores no presentations, so every
        presentation a notice names is unknown to it, which the protocol allows (already erased)."""
        if not self.accepts_revocations:
            return 503, b'{"error": "unavailable"}'
        now = int(time.time())
        notice = verify_revocation(
            json.loads(body)["notice"], manifest=self.manifest, now=now, stored_subject=lambda jti: None
        )
        # The site forwards the notice to the third parties it names; here each has erased its copy.
        told = {recipient: ("erased", now) for recipient in notice.recipients}
        ack = acknowledge_revocation(
            self.site_key, notice, manifest=self.manifest, now=now, erased=notice.site, recipients=told
        )
        self.revocations.append(notice.jti)
        self.notices.append(notice)
        return 200, json.dumps({"acknowledgement": ack}).encode()

    def answer_access(self, body: bytes) -> tuple[int, bytes]:
        """The access endpoint: a signed statement of `held`, the records this site says it keeps."""
        if self.held is None:
            return 503, b'{"error": "unavailable"}'
        now = int(time.time())
        request = verify_access_request(
            json.loads(body)["request"], manifest=self.manifest, now=now, replay=self.access_replay
        )
        statement = answer_access_request(
            self.site_key,
            request,
            manifest=self.manifest,
            now=now,
            held=self.held,
            show_values=self.show_values,
        )
        return 200, json.dumps({"statement": statement}).encode()

    def offer_page(self) -> bytes:
        nonce = make_nonce()
        return (
            b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Our offer</title>'
            b'<link rel="icon" href="data:,"><script src="/app.js"></script></head>'
            b'<body data-purpose="' + self.offer_purpose.encode() + b'" data-nonce="' + nonce.encode() + b'">'
            b'<h1>Our offer</h1><script src="/offer.js"></script></body></html>'
        )


def site_handler(site: ShopSite) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            site.requests.append(f"{self.headers.get('Host')}{self.path}")
            if self.path == "/.well-known/vault-manifest.json" and site.manifest_status == 200:
                body, kind = site.manifest_override or manifest_json(site.manifest), "application/json"
            elif self.path == "/app.js":
                body, kind = APP_JS, "text/javascript"
            elif self.path == "/offer.js":
                body, kind = OFFER_JS, "text/javascript"
            elif self.path == "/offer":
                body, kind = site.offer_page(), "text/html; charset=utf-8"
            elif self.path in ("/", "/index.html"):
                body, kind = PAGE_HTML, "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            site.requests.append(f"POST {self.headers.get('Host')}{self.path}")
            answers = {"/vault/revoke": site.answer_revocation, "/vault/access": site.answer_access}
            if self.path not in answers:
                self.send_error(404)
                return
            status, body = answers[self.path](self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextlib.contextmanager
def serving() -> Iterator[http.server.ThreadingHTTPServer]:
    """A test HTTP server on a free loopback port, in a thread, for the with-block. The caller sets its
    RequestHandlerClass (it is looked up per request) once it knows the port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def shop_on(server: http.server.ThreadingHTTPServer, controller: Controller) -> ShopSite:
    """A test shop run by `controller`, served by `server` (from serving())."""
    port = server.server_address[1]
    key = generate_site_key()
    origin = f"http://127.0.0.1:{port}"
    manifest = build_manifest(
        origin=origin,
        controller=controller,
        site_key=key,
        revocation_endpoint=f"{origin}/vault/revoke",
        purposes=[RECOMMENDATIONS, NEWSLETTER],
    )
    shop = ShopSite(port=port, manifest=manifest, site_key=key)
    server.RequestHandlerClass = site_handler(shop)
    return shop


class Browser(ExtensionBrowser):
    """Chromium with the extension loaded, and ways to reach its worker and pages (tests/browsers/firefox.py
    is the same for Firefox)."""

    name = "chromium"
    extension_url = EXTENSION_URL

    def __init__(self, context: Any) -> None:
        self.context = context
        self.stopped: list[Any] = []  # Playwright keeps listing a worker after its target is closed

    def worker(self, timeout: float = 20.0) -> Any:
        """The extension's running service worker (waits for one to start)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for worker in self.context.service_workers:
                if worker.url.startswith(EXTENSION_URL) and worker not in self.stopped:
                    return worker
            with contextlib.suppress(Exception):  # polling: the worker may have appeared meanwhile
                self.context.wait_for_event("serviceworker", timeout=1000)
        raise AssertionError("the extension's service worker did not start")

    def stop_worker(self) -> None:
        """Stops the service worker as Chrome does when it is idle. Playwright's DevTools session keeps
        an idle worker alive, so close its target explicitly (BROWSER-TESTING.md)."""
        running = self.worker()
        page = self.context.pages[0] if self.context.pages else self.context.new_page()
        cdp = self.context.new_cdp_session(page)

        def targets() -> list[dict[str, Any]]:
            infos = cdp.send("Target.getTargets")["targetInfos"]
            return [t for t in infos if t["type"] == "service_worker" and t["url"].startswith(EXTENSION_URL)]

        # Stopped once its target is gone, or a fresh worker runs in it (no marker): a content script whose
        # port closed asks the worker which calls it holds at once (page.held), which starts a new worker
        # under the same target before the target list is seen empty.
        running.evaluate("globalThis.vaultTestOldWorker = true")

        def stopped() -> bool:
            if not targets():
                return True
            try:
                return running.evaluate("globalThis.vaultTestOldWorker === undefined")
            except Exception:  # the worker's context is going away: not yet known
                return False

        try:
            workers = targets()
            assert workers, "no service worker target to stop"
            for target in workers:
                cdp.send("Target.closeTarget", {"targetId": target["targetId"]})
            deadline = time.monotonic() + 10
            while not stopped():
                assert time.monotonic() < deadline, "the service worker did not stop"
                time.sleep(0.05)
        finally:
            cdp.detach()
        self.stopped.append(running)


def start_request(
    page: Any, nonce: str, purposes: list[str] | None = None, *, name: str = "pending", **extra: Any
) -> None:
    """The page calls personalVault.request(...) without waiting; result() waits for its outcome."""
    options = {"purposes": purposes or ["recommendations"], "nonce": nonce, **extra}
    page.evaluate("([name, options]) => { window[name] = askVault(options); }", [name, options])


def result(page: Any, timeout_ms: int = WAIT_MS, *, name: str = "pending") -> dict[str, Any]:
    outcome = page.evaluate(
        "([name, ms]) => Promise.race("
        "[window[name], new Promise(r => setTimeout(() => r({timedOut: true}), ms))])",
        [name, timeout_ms],
    )
    assert not outcome.get("timedOut"), "the page's request did not settle"
    return outcome


# -- the consent prompt and what the page gets --

PROMPT_VIEW = {"width": 480, "height": 760}  # background/prompts.js opens a 480 x 800 window
PAGE_RESULT_KEYS = {"granted": {"outcome", "token"}, "denied": {"outcome", "reason", "message"}}


def wait_for_prompt(browser: Browser) -> Any:
    """The next consent prompt, once it takes input (it ignores input for a second after it appears)."""
    prompt = browser.context.wait_for_event("page", timeout=WAIT_MS)
    prompt.set_viewport_size(PROMPT_VIEW)
    prompt.wait_for_selector("#share:enabled", timeout=WAIT_MS)
    return prompt


def granted_token(outcome: dict[str, Any], site: ShopSite, purpose: str = "recommendations") -> str:
    assert outcome["ok"], outcome
    answer = outcome["value"]
    assert set(answer) == {"origin", "results"}, answer
    assert answer["origin"] == site.origin
    entry = answer["results"][purpose]
    # Nothing but the outcome and the token reaches the page: no claims, jti, detail or prompt.
    assert set(entry) == PAGE_RESULT_KEYS["granted"], entry
    return entry["token"]


def verified_claims(site: ShopSite, token: str, nonce: str) -> dict[str, Any]:
    seen = verify_presentation(
        token, manifest=site.manifest, nonce=nonce, now=int(time.time()), replay=InMemoryReplayStore()
    )
    return seen.claims


def pending_pairings(daemon: DaemonProcess) -> list[dict[str, Any]]:
    with daemon.admin() as admin:
        status, body = admin.request_json("GET", "/v1/admin/pairings")
    assert status == 200, body
    return body["pending"]


def wait_for_pairing_request(daemon: DaemonProcess, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not (pending := pending_pairings(daemon)):
        assert time.monotonic() < deadline, "the extension never asked to pair"
        time.sleep(0.1)
    assert len(pending) == 1, pending
    return pending[0]


def approve_pairing(daemon: DaemonProcess) -> dict[str, Any]:
    """The user's side of pairing: read the extension's code, approve it (vault pair approve CODE)."""
    pending = wait_for_pairing_request(daemon)
    with daemon.admin() as admin:
        status, body = admin.request_json("POST", "/v1/admin/pairings/approve", {"code": pending["code"]})
    assert status == 200, body
    return pending


def admin_call(daemon: DaemonProcess, method: str, path: str, body: Any = None) -> Any:
    with daemon.admin() as admin:
        status, answer = admin.request_json(method, path, body)
    assert 200 <= status < 300, (status, answer)
    return answer


def remember_everything(
    daemon: DaemonProcess, site: ShopSite, nonce: str, purpose: str = "recommendations"
) -> None:
    """A standing "share everything" for the site's purpose, as if an earlier prompt was answered so."""
    request = {"origin": site.origin, "manifest": site.manifest_text(), "purpose": purpose, "nonce": nonce}
    answer = admin_call(daemon, "POST", "/v1/presentations", request)
    assert answer["outcome"] == "consent_required", answer
    prompt = answer["prompt"]
    decision = {
        "share": True,
        "claims": [q["claim"] for q in prompt["questions"]],
        "recipients": [t["id"] for t in prompt["third_parties"] if t["asked"]],
        "remember": True,
    }
    assert (
        admin_call(daemon, "POST", f"/v1/prompts/{prompt['id']}/decision", decision)["outcome"] == "granted"
    )


def share_once(browser: Browser, site: ShopSite, daemon: DaemonProcess) -> tuple[Any, Any]:
    """The user shares with the site (a remembered answer, then the page asks): the vault knows the site,
    and the site knows the user's pairwise subject, to which it may write. Returns the page and the
    VerifiedPresentation (its `subject`, `jti`, claims)."""
    remember_everything(daemon, site, make_nonce())
    page = browser.site_page(site.url)
    nonce = make_nonce()
    start_request(page, nonce)
    token = granted_token(result(page), site)
    seen = verify_presentation(
        token, manifest=site.manifest, nonce=nonce, now=int(time.time()), replay=InMemoryReplayStore()
    )
    return page, seen


def popup_for(browser: Browser, site: ShopSite) -> Any:
    url = f"pages/popup.html?origin={quote(site.origin, safe='')}"
    return browser.extension_page(url, width=360, height=600)


def save_screenshot(page: Any, name: str, *, element: str | None = None, **options: Any) -> Path:
    """tests/extension/screenshots/BROWSER/NAME.png; `element`: only that element (a popup is as tall as its
    body)."""
    directory = SCREENSHOTS / getattr(page, "browser_name", "chromium")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    (page.locator(element) if element else page).screenshot(path=str(path), **options)
    return path


def screenshot_both_schemes(page: Any, name: str, **options: Any) -> None:
    """Light and dark (prefers-color-scheme), as the user's system may ask for either."""
    save_screenshot(page, name, **options)
    page.emulate_media(color_scheme="dark")
    save_screenshot(page, f"{name}-dark", **options)
    page.emulate_media(color_scheme="light")


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
