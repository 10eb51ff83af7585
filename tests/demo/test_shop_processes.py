"""The demo shop as separate processes: `python -m vault.demo.shop`, and the page in real Chromium with
the real extension, set up by the same environment `vault demo` uses."""

from __future__ import annotations

import datetime as dt
import http.client
import re
import subprocess
import sys
import time
from urllib.parse import quote

import pytest

from tests.extension.support import chromium_path
from vault.claims.types import Context
from vault.demo.chromium import launch_headless
from vault.demo.environment import DemoEnvironment
from vault.site import MANIFEST_PATH, decode_manifest


@pytest.mark.slow
def test_python_m_vault_demo_shop_serves_on_loopback() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vault.demo.shop", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        port = int(url.group(0).rsplit(":", 1)[1])
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", MANIFEST_PATH)
                manifest = decode_manifest(conn.getresponse().read())
                conn.close()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert manifest.origin == url.group(0)
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


# -- the page, in Chromium, with the real extension ---------------------------------------------------------


@pytest.mark.slow
def test_the_shop_page_with_the_real_extension_in_chromium() -> None:
    """The whole flow as a visitor sees it: the page asks, the extension prompts, the user shares, the
    shop verifies and shows what it used, the vault stores the shop's promise; then a revocation empties
    /held. Real daemon, native host, extension and Chromium (headless)."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    executable = chromium_path()
    env = DemoEnvironment(lambda message: None)
    try:
        env.make_vault(int(time.time()), Context(today=dt.date.today()))
        env.start_daemon()
        shop = env.start_shop()
        env.install_native_host()
        env.approve_pairings_automatically(interval=0.2)  # as the demo does: the vault is throw-away
        with sync_playwright() as playwright:
            context = launch_headless(playwright, env.profile_dir, executable)
            try:
                page = context.new_page()
                page.goto(shop.url)
                prompt = context.wait_for_event(
                    "page", predicate=lambda p: "prompt.html" in p.url, timeout=30_000
                )
                # Optional claims start off: the shoe size is switched on (after the input delay).
                prompt.locator('input[name="claim"][value="sizes.shoe"]').check(timeout=15_000)
                prompt.locator("#share").click(timeout=15_000)
                page.wait_for_selector("#used:not([hidden])", timeout=30_000)
                page.wait_for_function(
                    "() => document.getElementById('promise').textContent.includes('stored in your vault')",
                    timeout=15_000,
                )
                used = page.locator("#used-claims").inner_text()
                assert "location.country" in used and "NL" in used and "39.5" in used
                assert page.locator("#products li h3").first.inner_text() == "Trailblazer GTX"
                assert "Prairie boots" in page.locator("#hidden-list").inner_text()
                [held] = shop.shop.held.current(int(time.time()))
                assert held.claims["location.country"] == "NL"
                origin = quote(shop.url, safe="")
                with env.admin() as admin:
                    _, report = admin.request_json("GET", f"/v1/sites/report?origin={origin}")
                    assert [d["acknowledged"] for d in report["disclosures"]] == [True]
                    status, _ = admin.request_json(
                        "POST", "/v1/revocations", {"origin": shop.url, "erase": True}
                    )
                    assert status == 200
                deadline = time.monotonic() + 20
                while shop.shop.held.current(int(time.time())):
                    assert time.monotonic() < deadline, "the revocation never reached the shop"
                    time.sleep(0.1)
                page.goto(shop.url + "/held")
                assert page.locator("#held-empty").is_visible()
            finally:
                context.close()
    finally:
        env.close()
