"""What the daemon does at start, and what it leaves for later: the OpenAPI document is built on its first
request, never by create_app; the version it names is the package's; Litestar's plugins for models the
daemon does not have are not imported, nor the modules its libraries import and it never uses."""

import importlib.util
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.testing import TestClient

from tests.daemon.support import EXAMPLE_MANIFEST, DaemonProcess, ask, make_vault, remember_consent
from vault.daemon.app import API_PREFIX, create_app, openapi_document
from vault.daemon.deferred import UNUSED_BY_THE_DAEMON
from vault.daemon.state import Settings
from vault.site import make_nonce


def test_the_openapi_document_waits_for_its_first_request(monkeypatch: pytest.MonkeyPatch) -> None:
    builds = []
    build = OpenAPIPlugin._build_openapi
    monkeypatch.setattr(OpenAPIPlugin, "_build_openapi", lambda self: builds.append(1) or build(self))
    app = create_app(Settings(home=Path("/nonexistent"), admin_token="-"), background=False)
    assert builds == []
    with TestClient(app) as client:
        served = client.get("/schema/openapi.json").json()
        assert client.get("/schema/openapi.json").json() == served
    assert builds == [1]
    assert served["info"]["version"] == version("personal-vault")
    assert "oneOf" not in str(served) and "anyOf" in str(served)
    assert served == openapi_document(app)
    # Every route is under /v1, as many as the app routes (the /v1 router is not copied, its routes are).
    api_paths = {
        re.sub(r":\w+}", "}", route.path) for route in app.routes if route.path.startswith(API_PREFIX + "/")
    }
    assert set(served["paths"]) == api_paths


def test_the_app_imports_no_plugin_for_attrs_or_pydantic() -> None:
    """Litestar imports attrs (and pydantic) for its plugins whenever they are installed; every model the
    daemon has is a msgspec Struct. attrs is installed here (the tests' dependencies bring it), so Litestar
    would import it."""
    assert importlib.util.find_spec("attrs") is not None
    code = (
        "import sys; from pathlib import Path; from vault.daemon.app import create_app; "
        "from vault.daemon.state import Settings; "
        "app = create_app(Settings(home=Path('/nonexistent'), admin_token='-'), background=False); "
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'attr', 'attrs', 'pydantic'}))"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "[]"


def test_the_app_leaves_the_deferred_modules_unimported() -> None:
    """As `vault serve` builds it, after the vault command's own imports: if a library starts using one of
    them as it loads, this names it (the stand-in then does no harm, and saves nothing)."""
    code = (
        "import sys; from pathlib import Path; "
        "from vault.daemon.deferred import StandIn, defer_unused_imports; defer_unused_imports(); "
        "import vault.cli.app, vault.cli.daemon; from vault.daemon.app import create_app; "
        "from vault.daemon.state import Settings; "
        "app = create_app(Settings(home=Path('/nonexistent'), admin_token='-'), background=False); "
        f"print(sorted(n for n in {UNUSED_BY_THE_DAEMON!r} if not isinstance(sys.modules.get(n), StandIn)))"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "[]"


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the daemon's mappings from /proc")
def test_a_real_daemon_answering_has_not_loaded_the_deferred_modules(vault_home: Path) -> None:
    """Through the `vault` command's own start (vault.cli.main): the C parts of yaml, bz2 and lzma would be
    mapped into the process had they been imported, before the command line was parsed or after."""
    make_vault(vault_home)
    manifest = EXAMPLE_MANIFEST.read_text()
    with DaemonProcess(vault_home) as daemon, daemon.paired_client() as client:
        assert daemon.proc is not None
        remember_consent(client, manifest, make_nonce())
        status, body = ask(client, manifest, make_nonce())
        assert status == 200 and body["outcome"] == "granted", body
        mapped = {
            line.rsplit("/", 1)[-1] for line in Path(f"/proc/{daemon.proc.pid}/maps").read_text().splitlines()
        }
    assert any(name.startswith("_sqlite3.") for name in mapped)  # (the check sees extension modules)
    assert not {name for name in mapped if name.startswith(("_yaml.", "_bz2.", "_lzma."))}
