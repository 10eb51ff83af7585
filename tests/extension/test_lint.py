"""The extension's static checks: its manifest against the daemon's identity constants, Mozilla's
web-ext lint (0 errors), and the extension's Node unit tests (tests/extension/unit/: the page contract,
the words, the manifest cache, and requests.js with injected storage and daemon API)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support import skip_or_fail
from vault.daemon.browser import EXTENSION_ID, EXTENSION_KEY, GECKO_ID, HOST_NAME, extension_id

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
EXTENSION = ROOT / "extension"
MANIFEST = json.loads((EXTENSION / "manifest.json").read_text())
SITES = ["https://*/*", "http://127.0.0.1/*", "http://localhost/*"]


def node() -> str:
    found = shutil.which("node")
    if found is None:
        skip_or_fail("node is not installed (apt-get install nodejs)")
    return found


def test_manifest_key_gives_the_id_the_native_host_allows() -> None:
    assert MANIFEST["key"] == EXTENSION_KEY
    assert extension_id(MANIFEST["key"]) == EXTENSION_ID == "pjbhmhlladnfniibcoimgbjjlickaihm"
    assert MANIFEST["browser_specific_settings"]["gecko"]["id"] == GECKO_ID
    assert "data_collection_permissions" in MANIFEST["browser_specific_settings"]["gecko"]


def test_manifest_asks_for_what_the_worker_needs_and_no_more() -> None:
    assert MANIFEST["manifest_version"] == 3
    background = MANIFEST["background"]
    assert background["service_worker"] == "background/worker.js" and background["type"] == "module"
    assert background["scripts"] == ["background/worker.js"]  # Firefox
    # declarativeNetRequestWithHostAccess and scripting: Global Privacy Control's header and page script,
    # on the sites of host_permissions only (background/gpc.js).
    assert sorted(MANIFEST["permissions"]) == [
        "alarms",
        "declarativeNetRequestWithHostAccess",
        "nativeMessaging",
        "scripting",
        "storage",
    ]
    assert MANIFEST["host_permissions"] == SITES
    scripts = {tuple(s["js"]): s for s in MANIFEST["content_scripts"]}
    page_api = scripts[("content/page-api.js",)]
    relay = scripts[("content/relay.js",)]
    assert page_api["world"] == "MAIN" and "world" not in relay  # the relay stays ISOLATED
    for script in (page_api, relay):
        assert script["matches"] == SITES and script["run_at"] == "document_start"
        assert not script.get("all_frames")  # top frames only: the worker refuses other frames too
    # Nothing is exposed to web pages (web_accessible_resources would let any page detect the extension).
    assert "web_accessible_resources" not in MANIFEST
    assert "externally_connectable" not in MANIFEST


def test_the_worker_names_the_host_the_daemon_installs() -> None:
    native = (EXTENSION / "background" / "native.js").read_text()
    assert f'HOST_NAME = "{HOST_NAME}"' in native


def test_every_file_the_manifest_and_pages_name_exists() -> None:
    named = [MANIFEST["background"]["service_worker"], MANIFEST["action"]["default_popup"]]
    named += [MANIFEST["options_ui"]["page"], *MANIFEST["icons"].values()]
    named += [path for script in MANIFEST["content_scripts"] for path in script["js"]]
    for html in (EXTENSION / "pages").glob("*.html"):
        for ref in re.findall(r'(?:src|href)="([^"#:]+)"', html.read_text()):
            named.append(str((html.parent / ref).resolve().relative_to(EXTENSION.resolve())))
    for js in EXTENSION.rglob("*.js"):
        for ref in re.findall(r'^\s*(?:import|export)\b[^;]*?from "(\.[^"]+)"', js.read_text(), re.M):
            named.append(str((js.parent / ref).resolve().relative_to(EXTENSION.resolve())))
    missing = sorted({path for path in named if not (EXTENSION / path).is_file()})
    assert missing == []


def test_extension_pages_load_nothing_from_the_network() -> None:
    for page in (EXTENSION / "pages").glob("*.*"):
        text = page.read_text()
        assert not re.search(r"(src|href)=\"https?://|@import|url\(https?:", text), page.name


def test_page_contract_unit_tests_pass_in_node() -> None:
    proc = subprocess.run(
        [node(), "--test", str(HERE / "unit")], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"^# fail 0$", proc.stdout, re.M), proc.stdout[-2000:]


def test_web_ext_lint_finds_no_errors() -> None:
    node()
    web_ext = HERE / "node_modules" / ".bin" / "web-ext"
    if not web_ext.exists():
        skip_or_fail("web-ext is not installed: run npm ci in tests/extension")
    env = {**os.environ, "WEB_EXT_NO_UPDATE_CHECK": "1"}  # no network lookups from a test
    proc = subprocess.run(
        [str(web_ext), "lint", "--source-dir", str(EXTENSION), "--output", "json", "--no-config-discovery"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env,
    )
    report = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert report["summary"]["errors"] == 0, json.dumps(report["errors"], indent=2)
    # The one expected warning: Firefox ignores background.service_worker (it uses background.scripts).
    codes = {warning["code"] for warning in report["warnings"]}
    assert codes <= {"BACKGROUND_SERVICE_WORKER_IGNORED"}, json.dumps(report["warnings"], indent=2)
