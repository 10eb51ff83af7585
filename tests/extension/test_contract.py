"""The page contract (vault/daemon/page_contract.py): the extension's generated copy is current, its
patterns mean in JavaScript what they mean in Python, and every code it names is one the daemon, the
native host or the extension really uses."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import msgspec.inspect
import pytest

from tests.support import skip_or_fail
from vault.consent.reasons import DenialReason
from vault.consent.service import NotShared
from vault.daemon import errors, page_contract
from vault.daemon.messages import AcknowledgementRequest
from vault.daemon.page_contract import CONTRACT_JS, contract_js
from vault.daemon.routes import for_page
from vault.errors import InvalidInput, VaultLocked
from vault.protocol.errors import AcknowledgementInvalid, ManifestInvalid, Reason
from vault.protocol.manifest import CLAIM_NAME_PATTERN, MAX_PURPOSE_ID, PURPOSE_ID_PATTERN
from vault.protocol.presentation import NONCE_PATTERN

ROOT = Path(__file__).parents[2]
EXTENSION = ROOT / "extension"


def test_the_extension_has_the_contract_as_generated() -> None:
    assert CONTRACT_JS.read_bytes() == contract_js(), "regenerate it: python -m vault.daemon.page_contract"


def test_the_extension_writes_no_pattern_of_the_contract_again() -> None:
    for js in EXTENSION.rglob("*.js"):
        if js == CONTRACT_JS:
            continue
        text = js.read_text()
        for spelled in ("[a-z][a-z0-9-]", "[a-z][a-z0-9_]*", "{22,128}"):
            assert spelled not in text, f"{js.relative_to(ROOT)} spells {spelled}: import shared/contract.js"


SAMPLES = ["a", "ab-1", "A", "1a", "a_b", "a.b", "sizes.shoe", "x" * 65, "n" * 21, "n" * 128 + "-"]
SAMPLES += ["x" * 64, "n" * 22, "a\n", "\na", "a b", "é", "abc.", "a..b", ""]


def test_the_patterns_mean_the_same_in_javascript() -> None:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed (apt-get install nodejs)")
    script = (
        f"import * as c from {json.dumps(CONTRACT_JS.as_uri())};\n"
        f"const samples = {json.dumps(SAMPLES)};\n"
        "const out = {};\n"
        "for (const name of ['PURPOSE_ID', 'CLAIM_NAME', 'NONCE']) {\n"
        "  out[name] = samples.map((s) => c[name].test(s));\n"
        "}\n"
        "console.log(JSON.stringify(out));\n"
    )
    proc = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    in_js = json.loads(proc.stdout)
    for name, pattern in [
        ("PURPOSE_ID", PURPOSE_ID_PATTERN),
        ("CLAIM_NAME", CLAIM_NAME_PATTERN),
        ("NONCE", NONCE_PATTERN),
    ]:
        assert in_js[name] == [re.fullmatch(pattern, s) is not None for s in SAMPLES], name


def test_limits_are_the_daemons() -> None:
    assert page_contract.LIMITS["purposeLength"] == MAX_PURPOSE_ID == 64
    fields = {field.name: field.type for field in msgspec.inspect.type_info(AcknowledgementRequest).fields}
    assert fields["token"].max_length == page_contract.LIMITS["ackToken"]


def test_a_page_sees_only_the_contracts_reasons() -> None:
    seen = set()
    for reason in DenialReason:  # every reason the consent layer has
        seen.add(for_page(NotShared(reason=reason, message="m")).reason)
    assert seen == set(page_contract.PAGE_REASONS)


def test_the_readme_documents_exactly_the_page_errors() -> None:
    readme = (EXTENSION / "README.md").read_text()
    table = re.findall(r"^\| `([a-z_]+)` +\|", readme, re.M)
    assert sorted(set(table) - {"code"}) == sorted(page_contract.PAGE_ERRORS)


def _daemon_code(error: Exception) -> str:
    handler = next(h for cls, h in errors.EXCEPTION_HANDLERS.items() if isinstance(error, cls))
    return handler(None, error).content.error  # type: ignore[arg-type]


def test_the_site_mistakes_and_vault_locked_are_daemon_codes() -> None:
    made = {
        _daemon_code(ManifestInvalid("origin")),
        _daemon_code(AcknowledgementInvalid(next(iter(Reason)))),
        _daemon_code(InvalidInput("x")),
        errors._HTTP_CODES[400],
    }
    assert made == set(page_contract.SITE_MISTAKES)
    assert _daemon_code(VaultLocked("locked")) == page_contract.VAULT_LOCKED
    session = (ROOT / "vault" / "daemon" / "session.py").read_text()
    assert f'"{page_contract.NOT_PAIRED}"' in session


def test_the_unavailable_group_is_every_code_made_when_the_daemon_did_not_answer() -> None:
    host = (ROOT / "vault" / "daemon" / "native_host.py").read_text()
    assert set(re.findall(r'_error\(\s*"([a-z_]+)"', host)) == set(page_contract.HOST_ERRORS)
    native = (EXTENSION / "background" / "native.js").read_text()
    made_by_the_worker = {"not_available", "timeout", "bad_response"}
    assert set(re.findall(r'new NativeCallError\("([a-z_]+)"', native)) == made_by_the_worker
    assert 'code: "no_worker"' in (EXTENSION / "pages" / "api.js").read_text()
    made_by_a_page = {"no_worker"}
    assert set(page_contract.UNAVAILABLE) == {
        *page_contract.HOST_ERRORS,
        *made_by_the_worker,
        *made_by_a_page,
    }


@pytest.mark.parametrize("pattern", ["(?P<x>a)", r"a\Z", "a/b"])
def test_the_generator_refuses_a_pattern_javascript_reads_otherwise(pattern: str) -> None:
    with pytest.raises(ValueError):
        page_contract._regex(pattern)
