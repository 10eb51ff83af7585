"""What the daemon does at start, and what it leaves for later: the OpenAPI document is built on its first
request, never by create_app; the version it names is the package's; Litestar's plugins for models the
daemon does not have are not imported."""

import importlib.util
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.testing import TestClient

from vault.daemon.app import API_PREFIX, create_app, openapi_document
from vault.daemon.state import Settings


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
