"""Schemathesis against the daemon's own OpenAPI document: generated requests, valid and invalid, never
get a 5xx, and answers match the documented schema where one is documented.

The app runs in-process (ASGI) around a real SQLCipher vault that is unlocked and holds a profile. One pass
sends the admin header, which passes every guard, so every route's handler is reached; another sends no
credentials and shows that every route a paired client needs refuses with a 4xx (never a 5xx).
"""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
)

from tests.daemon.support import EXAMPLE_MANIFEST, make_vault
from tests.support import NOW, PASSPHRASE
from vault.claims.attributes import ATTRIBUTES
from vault.daemon.app import create_app, openapi_document
from vault.daemon.client import HEADER_ADMIN
from vault.daemon.state import Daemon, Settings
from vault.daemon.worker import VaultWorker
from vault.store import Vault

ADMIN_TOKEN = "schema-test-admin-token"
# Routes that answer without a pairing (everything else must refuse an unpaired caller).
PUBLIC = {("GET", "/v1/status"), ("POST", "/v1/pairing")}
ERROR_KEYS = {"error", "message", "hint", "reason", "problems"}


def conforms(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """Answers against the documented schema; every error, documented or not (404, 405), is an ErrorBody."""
    response_schema_conformance(ctx, response, case)
    if response.status_code < 400:
        return
    body = json.loads(response.content)
    assert isinstance(body, dict) and set(body) <= ERROR_KEYS, body
    assert isinstance(body["error"], str) and isinstance(body["message"], str), body


def rejects_negative_data(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """Schemathesis' check, counting 413 (a body over the daemon's size bound, refused before it is read)
    as the rejection it is: its list of rejection statuses leaves it out."""
    if response.status_code != 413:
        negative_data_rejection(ctx, response, case)


# Cheap response checks. status_code_conformance is left out: Litestar's own 404 and 405 are not in the
# document (their bodies are still checked to be ErrorBody by `conforms`).
CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_headers_conformance,
    rejects_negative_data,
    conforms,
]
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def served_document() -> dict[str, Any]:
    """The OpenAPI document the daemon serves, built without starting it, so pytest can collect one test
    per operation. (schemathesis.pytest.from_fixture would load it from the running app, but 4.32's lazy
    loader does not work with pytest 9.) A test checks that the running app serves this same document."""
    offline = Settings(home=Path("/nonexistent"), admin_token="-")
    return openapi_document(create_app(offline, background=False))


schema = schemathesis.openapi.from_dict(served_document())


@dataclass
class Served:
    app: Litestar
    daemon: Daemon

    def relock_guard(self) -> None:
        """A generated POST /v1/lock locks the vault; open it again so later cases reach the handlers."""
        if self.daemon.worker.locked:
            asyncio.run(self.daemon.worker.unlock(PASSPHRASE))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vault(tmp_path_factory.mktemp("schema") / "vault")


@pytest.fixture
def served(home: Path) -> Iterator[Served]:
    """A fresh app and worker around the module's vault for each operation's test: Schemathesis ends the
    ASGI lifespan after every test, and the app's shutdown stops its worker and closes the vault."""

    def clock() -> int:
        return NOW

    settings_ = Settings(home=home, admin_token=ADMIN_TOKEN, idle_lock_seconds=0)
    worker = VaultWorker(home, clock=clock, vault=Vault.open(home, PASSPHRASE, now=NOW))
    daemon = Daemon(settings_, worker=worker, clock=clock)
    app = create_app(settings_, daemon=daemon, background=False)
    yield Served(app, daemon)
    worker.stop()  # normally already done by the app's shutdown; a second stop is harmless


def test_the_app_serves_the_tested_document(served: Served) -> None:
    live = schemathesis.openapi.from_asgi("/schema/openapi.json", served.app)
    assert live.raw_schema == schema.raw_schema
    # + inbox, access, contexts, the command line, the profile's changes
    assert len(list(schema.get_all_operations())) == 32 + 6 + 2 + 9 + 2 + 1


@schema.parametrize()
@SETTINGS
def test_admin_never_5xx_and_conforms(case: schemathesis.Case, served: Served) -> None:
    try:
        case.call_and_validate(app=served.app, headers={HEADER_ADMIN: ADMIN_TOKEN}, checks=CHECKS)
    finally:
        served.relock_guard()


@schema.parametrize()
@SETTINGS
def test_unpaired_refused_with_4xx(case: schemathesis.Case, served: Served) -> None:
    response = case.call(app=served.app)
    assert response.status_code < 500, (case.as_curl_command(), response.status_code, response.text)
    if case.method.upper() == "OPTIONS" and response.status_code == 204:
        assert not response.content  # Litestar answers some preflights itself, with nothing but Allow
    elif (case.method.upper(), case.operation.path) not in PUBLIC:
        assert 400 <= response.status_code < 500, (case.as_curl_command(), response.status_code)
        body = response.json()
        assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str), body
        if case.method.upper() == case.operation.method.upper():
            # The guard answers before the body or the parameters are even looked at (404: a path
            # parameter holding a slash, which names no route at all).
            assert response.status_code in (403, 404), (case.as_curl_command(), response.status_code, body)
            if response.status_code == 403:
                assert body["error"] in ("not_paired", "admin_only"), body
    served.relock_guard()


# -- past the validators ---------------------------------------------------------------------------
# Schema-driven bodies rarely get past the first semantic check (a site origin, a valid manifest, a known
# attribute), so this test draws requests that do: the example shop's real manifest and origin, catalogue
# attribute names with arbitrary JSON values, and decisions on the prompts the vault really raised.

MANIFEST = EXAMPLE_MANIFEST.read_text()
# Mostly valid, so that most requests reach the consent engine and the ledger.
ORIGINS = st.sampled_from(["https://shop.example"] * 4 + ["https://other.example", "http://shop.example"])
PURPOSES = st.sampled_from(["recommendations"] * 3 + ["age-check"] * 2 + ["nope", "", "\x00"])
CLAIMS = st.sampled_from(["age_over_18", "location.country", "sizes.shoe", "interests", "birthdate"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
NONCES = st.one_of(
    *[st.text(string.ascii_letters + string.digits + "-_", min_size=22, max_size=128)] * 3,
    st.text(max_size=256),
)


def presentation() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    body = st.fixed_dictionaries(
        {
            "origin": ORIGINS,
            "manifest": st.just(MANIFEST),
            "purpose": PURPOSES,
            "nonce": NONCES,
        },
        optional={
            "claims": st.none() | st.lists(CLAIMS | st.text(min_size=1, max_size=10), max_size=6),
            "prompt_detail": st.sampled_from(["full", "id"]),
        },
    )
    return st.tuples(st.just("presentation"), body)


def attribute() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """A catalogue attribute, and its catalogue example (valid) or any JSON value."""
    specs = st.sampled_from(sorted(ATTRIBUTES.values(), key=lambda spec: spec.name))
    return st.tuples(
        st.sampled_from(["set", "unset"]),
        specs.flatmap(
            lambda spec: st.fixed_dictionaries(
                {"name": st.just(spec.name), "value": st.just(spec.type.example) | JSON}
            )
        ),
    )


def by_site() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    return st.tuples(
        st.sampled_from(["revoke", "ledger", "report"]),
        st.fixed_dictionaries(
            {
                "origin": ORIGINS,
                "purpose": st.none() | PURPOSES,
                "erase": st.booleans(),
                "forget": st.booleans(),
                "limit": st.integers(1, 10_000),
            }
        ),
    )


DECISIONS = st.just(
    {
        "share": True,
        "claims": ["age_over_18", "location.country", "sizes.shoe", "interests"],
        "remember": True,
    }
) | st.fixed_dictionaries(
    {"share": st.booleans()},
    optional={
        "claims": st.lists(CLAIMS | st.text(min_size=1, max_size=10), max_size=6),
        "remember": st.booleans(),
        "remember_days": st.none() | st.integers(1, 3650),
    },
)


def call(served: Served, label: str, **parts: Any) -> schemathesis.Response:
    case = schema.find_operation_by_label(label).Case(**parts)
    try:
        return case.call_and_validate(app=served.app, headers={HEADER_ADMIN: ADMIN_TOKEN}, checks=CHECKS)
    finally:
        served.relock_guard()


@given(actions=st.lists(presentation() | attribute() | by_site(), min_size=1, max_size=6), data=st.data())
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_deep_requests_never_5xx(
    served: Served, actions: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    for kind, args in actions:
        if kind == "presentation":
            response = call(served, "POST /v1/presentations", body=args)
            answer = response.json() if response.status_code == 200 else {}
            if answer.get("outcome") == "consent_required":
                path = {"prompt_id": answer["prompt"]["id"]}
                call(served, "GET /v1/prompts/{prompt_id}", path_parameters=path)
                pending = call(served, "GET /v1/prompts/{prompt_id}/outcome", path_parameters=path)
                assert pending.status_code == 409, pending.text
                decided = call(
                    served,
                    "POST /v1/prompts/{prompt_id}/decision",
                    path_parameters=path,
                    body=data.draw(DECISIONS),
                )
                if decided.status_code == 200:
                    read = call(served, "GET /v1/prompts/{prompt_id}/outcome", path_parameters=path)
                    assert read.json() == decided.json()
        elif kind == "set":
            path = {"name": args["name"]}
            call(served, "PUT /v1/attributes/{name}", path_parameters=path, body={"value": args["value"]})
        elif kind == "unset":
            call(served, "DELETE /v1/attributes/{name}", path_parameters={"name": args["name"]})
        elif kind == "revoke":
            body = {k: args[k] for k in ("origin", "purpose", "erase", "forget")}
            call(served, "POST /v1/revocations", body=body)
        elif kind == "ledger":
            call(served, "GET /v1/ledger", query={"origin": args["origin"], "limit": args["limit"]})
        else:
            call(served, "GET /v1/sites/report", query={"origin": args["origin"]})
    for label in ("GET /v1/consents", "GET /v1/sites", "GET /v1/outbox", "GET /v1/export"):
        assert call(served, label).status_code == 200
    verification = call(served, "GET /v1/ledger/verify").json()
    assert verification["ok"] is True, verification


def test_errors_are_documented() -> None:
    """Every documented error response should be an ErrorBody: {error, message, hint?, reason?}."""
    document = schema.raw_schema
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                body = response["content"]["application/json"]["schema"]
                if "$ref" in body:
                    body = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
                assert set(body.get("properties", {})) <= ERROR_KEYS, (method, path, status)


def _unions(node: Any) -> Iterator[list[Any]]:
    if isinstance(node, dict):
        if "oneOf" in node:
            yield node["oneOf"]
        for value in node.values():
            yield from _unions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _unions(value)


def test_unions_accept_integers() -> None:
    """An integer matches both {"type": "integer"} and {"type": "number"}, so such a oneOf rejects every
    integer: a disclosed shoe size of 42 in GET /v1/export violates the document."""
    for union in _unions(served_document()):
        types = {branch.get("type") for branch in union if isinstance(branch, dict)}
        assert not {"integer", "number"} <= types, union
