"""The site developer's guide (vault/site/README.md) is true: every code block in it runs, and its claim
catalogue is what scripts/claim_catalogue.py writes from the data.

How each block runs is said by its language and by a `<!-- guide: ... -->` marker on the line above it:

- python: executed in order, in one namespace (the guide's sections build on each other), in a working
  directory holding the guide's manifest example as manifest.json; `file NAME`: written to NAME there,
  and served by the `background` block;
- sh: run by bash against the site the guide starts (its `background` block, run as written: a real
  uvicorn process), each must exit 0; `127.0.0.1:8000` becomes the port the test chose;
- json: parsed; `manifest`: decoded with decode_manifest; `refusal`: has the integration's error shape;
- js `page`: the page's script, run in Node against the real site with a stand-in `window.personalVault`
  whose presentations this test signs, as a vault would;
- yaml `ci workflow`: parsed as a GitHub Actions workflow, and its `run` steps (but the install) run
  against this checkout: they start the site and run `vault conformance`, whose JUnit file must pass;
- `not run: WHY`: not run, and there are at most two of them.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import skip_or_fail
from vault.protocol import derive_pairwise_key, issue_presentation, verify_acknowledgement
from vault.protocol.claim_types import CLAIM_EXAMPLES
from vault.site import MANIFEST_PATH, Reason, decode_manifest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "vault" / "site" / "README.md"
CATALOGUE_SCRIPT = ROOT / "scripts" / "claim_catalogue.py"
GUIDE_PORT = "8000"
MAX_NOT_RUN = 2
MARKER = re.compile(
    r"<!-- guide: (?P<kind>file|background|manifest|refusal|page|ci workflow|not run)(?::? (?P<arg>.+?))? -->"
)
KNOWN = {
    ("python", None),
    ("python", "file"),
    ("sh", None),
    ("sh", "background"),
    ("json", None),
    ("json", "manifest"),
    ("json", "refusal"),
    ("js", "page"),
    ("yaml", "ci workflow"),
}


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, counted from 1
    section: str
    lang: str
    kind: str | None  # the marker's kind, if the block has one
    arg: str | None
    code: str

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.lang} in {self.section!r})"


def guide_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    section, index = "", 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line[3:]
        fence = re.fullmatch(r"```(\w*)", line)
        if fence:
            end = lines.index("```", index + 1)
            marker = MARKER.fullmatch(lines[index - 1]) if index else None
            blocks.append(
                Block(
                    line=index + 1,
                    section=section,
                    lang=fence.group(1),
                    kind=marker.group("kind") if marker else None,
                    arg=marker.group("arg") if marker else None,
                    code="\n".join(lines[index + 1 : end]) + "\n",
                )
            )
            index = end
        index += 1
    return blocks


BLOCKS = guide_blocks(GUIDE.read_text(encoding="utf-8"))


def blocks_of(lang: str, kind: str | None = None) -> list[Block]:
    return [block for block in BLOCKS if block.lang == lang and block.kind == kind]


def at_port(code: str, port: int) -> str:
    """The guide's commands and code as they run here: on the port the test chose, not 8000."""
    return code.replace(f"127.0.0.1:{GUIDE_PORT}", f"127.0.0.1:{port}").replace(
        f"--port {GUIDE_PORT}", f"--port {port}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shell_env(workdir: Path) -> dict[str, str]:
    """The environment a developer's shell would have: this checkout's `python`, `vault` and `uvicorn`
    first on PATH, and a home of its own so nothing reads or writes the real one."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VAULT_", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(workdir / "home")
    (workdir / "home").mkdir(exist_ok=True)
    return env


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for_site(port: int, process: subprocess.Popen[bytes], deadline: float = 30) -> None:
    until = time.monotonic() + deadline
    while True:
        try:
            if get(port, MANIFEST_PATH)[0] == 200:
                return
        except OSError:
            pass
        assert process.poll() is None, "the guide's site stopped before it answered"
        assert time.monotonic() < until, "the guide's site did not answer in time"
        time.sleep(0.1)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the process this test started, and its children (uvicorn under bash): its own group only."""
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the group outlives its leader (a server started with `&`)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@dataclass(frozen=True)
class Site:
    port: int
    workdir: Path
    env: dict[str, str]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def project(directory: Path, port: int) -> Path:
    """The developer's project directory: the guide's files (for a site on `port`), and its manifest
    example as manifest.json."""
    directory.mkdir(exist_ok=True)
    for block in blocks_of("python", "file"):
        assert block.arg, f"{block}: a file block names its file"
        (directory / block.arg).write_text(at_port(block.code, port), encoding="utf-8")
    (manifest,) = blocks_of("json", "manifest")
    (directory / "manifest.json").write_text(manifest.code, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, port: int) -> Path:
    return project(tmp_path_factory.mktemp("guide"), port)


@pytest.fixture(scope="module")
def site(workdir: Path, port: int) -> Iterator[Site]:
    """The site the guide starts, started the way the guide says (its `background` block, in bash)."""
    if shutil.which("curl") is None:
        skip_or_fail("curl is not installed (the guide's shell blocks use it)")
    (block,) = blocks_of("sh", "background")
    env = shell_env(workdir)
    served = Site(port, workdir, env)
    log = workdir / "site.log"  # a file, not a pipe nobody reads while it serves: that could fill up
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", at_port(block.code, port)],
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stopping it stops uvicorn too
        )
        try:
            wait_for_site(port, process)
            yield served
        finally:
            stop_group(process)
    logged = log.read_text(errors="replace")
    # vault.site logs a failure of the site's own code as "the site's ... callback raised ...".
    assert not re.search(r"Traceback|ERROR|the site's|vault endpoint", logged), logged[-3000:]


# -- what the guide holds -----------------------------------------------------------------------------


def test_every_block_is_one_the_test_knows_how_to_run() -> None:
    assert len(BLOCKS) >= 20
    not_run = [block for block in BLOCKS if block.kind == "not run"]
    for block in not_run:
        assert block.arg and len(block.arg) > 20, f"{block}: say why it is not run"
    assert len(not_run) <= MAX_NOT_RUN, [str(block) for block in not_run]
    unknown = [str(b) for b in BLOCKS if b.kind != "not run" and (b.lang, b.kind) not in KNOWN]
    assert not unknown, f"blocks the test cannot run (give them a language and marker it knows): {unknown}"
    assert len(blocks_of("sh", "background")) == 1
    text = GUIDE.read_text(encoding="utf-8")
    markers = [line for line in text.splitlines() if line.startswith("<!-- guide:")]
    misspelt = [line for line in markers if not MARKER.fullmatch(line)]
    assert not misspelt, f"markers the test does not know (a block would run the wrong way): {misspelt}"
    assert len(markers) == sum(block.kind is not None for block in BLOCKS), "a marker not above a block"


def test_the_guides_links_lead_somewhere() -> None:
    prose = re.sub(r"`[^`\n]*`", "", GUIDE.read_text(encoding="utf-8"))  # a regex in code is no link
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", prose)
    assert targets
    for target in targets:
        assert not target.startswith("http"), f"{target}: the guide links only to files beside it"
        assert (GUIDE.parent / target).resolve().exists(), target
    # Anchors within the guide, as GitHub makes them from headings: lower case, no punctuation but
    # hyphens, spaces as hyphens.
    headings = re.findall(r"^#{2,3} (.+)$", GUIDE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    anchors = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
    linked = re.findall(r"\]\(#([^)]+)\)", prose)
    assert len(linked) >= len(headings) - 1  # the contents name every section
    assert set(linked) <= anchors, sorted(set(linked) - anchors)


def test_the_claim_catalogue_is_current() -> None:
    checked = subprocess.run(
        [sys.executable, str(CATALOGUE_SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_a_stale_catalogue_fails_the_check_and_is_rewritten(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    current = GUIDE.read_text(encoding="utf-8")
    stale.write_text(current.replace("| `sizes.shoe` |", "| `sizes.shoe_eu` |", 1), encoding="utf-8")
    command = [sys.executable, str(CATALOGUE_SCRIPT), "--guide", str(stale)]
    checked = subprocess.run([*command, "--check"], capture_output=True, text=True, check=False)
    assert checked.returncode == 1
    assert "stale" in checked.stderr and "run scripts/claim_catalogue.py" in checked.stderr
    subprocess.run(command, capture_output=True, check=True)
    assert stale.read_text(encoding="utf-8") == current
    stale.write_text("# A guide without the markers\n", encoding="utf-8")
    unmarked = subprocess.run([*command, "--check"], capture_output=True, text=True, check=False)
    assert unmarked.returncode == 2 and "no catalogue section" in unmarked.stderr


def test_every_claim_is_in_the_catalogue_with_its_example() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for name, value in CLAIM_EXAMPLES.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"{name} has no row in the catalogue"
        assert f"`{json.dumps(value, ensure_ascii=False)}`" in row


def test_every_public_name_of_the_site_library_is_in_the_guide() -> None:
    import vault.site

    text = GUIDE.read_text(encoding="utf-8")
    missing = [name for name in vault.site.__all__ if f"`{name}`" not in text]
    assert not missing, f"the guide's 'library at a glance' does not name {missing}"


def test_every_reason_is_explained_to_the_site_developer() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    explained = set(re.findall(r"^\| `([a-z_]+)` \| ", text, flags=re.MULTILINE))
    assert {reason.value for reason in Reason} <= explained


# -- the blocks, run ----------------------------------------------------------------------------------


def test_json_blocks_parse_and_the_manifest_decodes() -> None:
    for block in blocks_of("json") + blocks_of("json", "refusal"):
        json.loads(block.code)
    (refusal,) = blocks_of("json", "refusal")
    body = json.loads(refusal.code)
    assert body.keys() == {"error", "reason", "message"} and body["reason"] in set(Reason)
    (manifest,) = blocks_of("json", "manifest")
    decoded = decode_manifest(manifest.code.encode())
    assert decoded.access_endpoint and decoded.purposes[0].third_parties


def test_the_refusal_shown_is_what_the_guides_site_answers(site: Site) -> None:
    """The guide's example refusal, word for word, is the site's answer to an expired presentation."""
    (refusal,) = blocks_of("json", "refusal")
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        conn.request("GET", "/vault/nonce")
        response = conn.getresponse()
        nonce = json.loads(response.read())["nonce"]
        cookie = response.getheader("set-cookie", "").split(";")[0]
        manifest = decode_manifest(get(site.port, MANIFEST_PATH)[1])
        purpose = manifest.purposes[0]
        claims = {claim.name: CLAIM_EXAMPLES[claim.name] for claim in purpose.claims}
        visitor = derive_pairwise_key(secrets.token_bytes(32), site.origin, 0)
        an_hour_ago = int(time.time()) - 3600
        token = issue_presentation(
            visitor, manifest, purpose.id, site.origin, nonce, claims, an_hour_ago, secrets.token_urlsafe(16)
        )
        body = json.dumps({"purpose": purpose.id, "token": token})
        headers = {"Content-Type": "application/json", "Cookie": cookie}
        conn.request("POST", "/vault/presentation", body=body, headers=headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 400
    assert answer == json.loads(refusal.code)


def test_every_refusal_of_the_integration_is_in_the_guide() -> None:
    """Each (error, reason) that vault.site's endpoints answer with, read from their source, is in the
    guide's table of answers."""
    text = GUIDE.read_text(encoding="utf-8")
    pattern = re.compile(r'(?:Refusal\(\s*\d+,|error_body\()\s*"(\w+)",\s*"(\w+)"')
    sources = sorted((ROOT / "vault" / "site").glob("endpoints*.py"))
    found = {pair for path in sources for pair in pattern.findall(path.read_text(encoding="utf-8"))}
    assert len(found) >= 8, found
    table = [line for line in text.splitlines() if line.startswith("| 4") or line.startswith("| 5")]
    for error, reason in sorted(found):
        assert any(f"`{error}`" in row and f"`{reason}`" in row for row in table), (error, reason)


def test_python_blocks_run_in_order(
    workdir: Path, redis_socket: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("REDIS_URL", f"unix://{redis_socket}")
    namespace: dict[str, object] = {"__name__": "guide"}
    ran = 0
    for block in blocks_of("python"):
        try:
            exec(compile(block.code, str(block), "exec"), namespace)  # noqa: S102 (the guide's own code)
        except Exception as error:
            pytest.fail(f"{block} raised {type(error).__name__}: {error}")
        ran += 1
    printed = capsys.readouterr().out
    assert "refused:" not in printed, printed  # the guide's valid presentation is accepted
    assert "True\nFalse\n" in printed  # the Redis store: the first time, then a replay
    assert ran == len(blocks_of("python"))


def test_file_blocks_are_python_that_compiles() -> None:
    for block in blocks_of("python", "file"):
        compile(block.code, str(block), "exec")


@pytest.mark.parametrize("block", blocks_of("sh"), ids=lambda block: f"line{block.line}")
def test_shell_blocks_run_against_the_guides_site(block: Block, site: Site) -> None:
    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", at_port(block.code, site.port)],
        cwd=site.workdir,
        env=site.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, f"{block}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"


NODE_PAGE = """
import readline from "node:readline";
const base = process.argv[2];
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function vault(message) {
  process.stdout.write(JSON.stringify(message) + "\\n");
  return JSON.parse((await lines.next()).value);
}
let cookie = "";  // the browser's cookie jar, for this one origin
const browserFetch = globalThis.fetch;
globalThis.fetch = async (url, init = {}) => {
  const headers = new Headers(init.headers || {});
  if (cookie && init.credentials !== "omit") headers.set("cookie", cookie);
  const response = await browserFetch(new URL(url, base), { ...init, headers, redirect: "manual" });
  for (const set of response.headers.getSetCookie()) cookie = set.split(";")[0];
  return response;
};
const acknowledged = [];
globalThis.window = globalThis;
window.personalVault = Object.freeze({
  version: "1.0",
  request: (options) => vault({ request: options }),
  acknowledge: async (token) => { acknowledged.push(token); return { stored: true }; },
});
"""


def test_the_page_script_shares_with_the_guides_site(site: Site, workdir: Path) -> None:
    """The page's script, in Node, against the real site: the stand-in vault signs what the page asks
    for with the nonce it fetched, and the acknowledgements it hands back verify."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed")
    (block,) = blocks_of("js", "page")
    manifest = decode_manifest(get(site.port, MANIFEST_PATH)[1])
    purposes = [purpose.id for purpose in manifest.purposes]
    script = workdir / "page.mjs"
    call = f"const shared = await shareWithTheSite({json.dumps(purposes)});\n"
    done = 'process.stdout.write(JSON.stringify({ shared, acknowledged }) + "\\n"); process.exit(0);\n'
    script.write_text(NODE_PAGE + block.code + call + done, encoding="utf-8")
    visitor = derive_pairwise_key(secrets.token_bytes(32), site.origin, 0)
    page = subprocess.Popen(
        [node, str(script), site.origin], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert page.stdin and page.stdout
        asked = json.loads(page.stdout.readline())["request"]
        issued, results = {}, {}
        for purpose_id in asked["purposes"]:
            purpose = manifest.purpose(purpose_id)
            assert purpose is not None
            claims = {claim.name: CLAIM_EXAMPLES[claim.name] for claim in purpose.claims}
            token = issue_presentation(
                visitor, manifest, purpose_id, site.origin, asked["nonce"], claims, int(time.time()),
                secrets.token_urlsafe(16),
            )  # fmt: skip
            issued[purpose_id] = token
            results[purpose_id] = {"outcome": "granted", "token": token}
        page.stdin.write(json.dumps({"origin": site.origin, "results": results}) + "\n")
        page.stdin.flush()
        answer = json.loads(page.stdout.readline())
        assert page.wait(timeout=30) == 0
    finally:
        if page.poll() is None:
            page.kill()
            page.wait(timeout=10)
        for pipe in (page.stdin, page.stdout):
            if pipe is not None:
                pipe.close()
    assert answer["shared"].keys() == set(purposes)
    assert len(answer["acknowledged"]) == len(purposes)
    for purpose_id, acknowledgement in zip(purposes, answer["acknowledged"], strict=True):
        verify_acknowledgement(
            acknowledgement, manifest.site_key, presentation=issued[purpose_id], now=int(time.time())
        )


def test_the_ci_workflow_runs_vault_conformance_against_the_site(tmp_path: Path) -> None:
    """The workflow's steps, but the install (this checkout's environment has what it installs), run in
    one shell as a runner would: they start the guide's site and run `vault conformance` on it."""
    try:
        import yaml
    except ImportError:
        skip_or_fail("PyYAML is not installed")
    (block,) = blocks_of("yaml", "ci workflow")
    workflow = yaml.safe_load(block.code)
    (job,) = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert any(run.startswith("vault conformance ") for run in runs)
    port = free_port()
    workdir = project(tmp_path / "checkout", port)
    script = "\n".join(at_port(run, port) for run in runs if not run.startswith("pip install"))
    env = shell_env(workdir)
    log = tmp_path / "runner.log"  # a file, not a pipe: the site in the background keeps its end open
    with log.open("wb") as output:
        runner = subprocess.Popen(
            ["bash", "-eo", "pipefail", "-c", script],
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the site it starts in the background is in this group, stopped below
        )
        try:
            runner.wait(timeout=300)
        finally:
            stop_group(runner)
    assert runner.returncode == 0, log.read_text(errors="replace")[-5000:]
    report = ET.parse(workdir / "conformance.xml").getroot()  # noqa: S314 (written by vault conformance)
    suites = [report] if report.tag == "testsuite" else list(report)
    assert sum(int(suite.get("tests", "0")) for suite in suites) >= 30
    assert sum(int(suite.get("failures", "0")) + int(suite.get("errors", "0")) for suite in suites) == 0
