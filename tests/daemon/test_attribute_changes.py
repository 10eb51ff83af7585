"""POST /v1/attributes/changes through a real `vault serve`: several attributes set and removed in one
transaction, each entry checked first as PUT checks one; one refused entry stores nothing and is named in
words; the bounds (how many, unknown fields, a name both set and removed) are refused in words too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.support import PROFILE, DaemonProcess, make_vault
from vault.daemon.client import DaemonClient

CHANGES = "/v1/attributes/changes"


@pytest.fixture
def client(vault_home: Path) -> Iterator[DaemonClient]:
    with DaemonProcess(make_vault(vault_home)) as daemon, daemon.paired_client() as paired:
        yield paired
        assert "Traceback" not in daemon.log() and "request failed" not in daemon.log(), daemon.log()


def profile(client: DaemonClient) -> dict[str, Any]:
    status, body = client.request_json("GET", "/v1/attributes")
    assert status == 200, body
    return body["values"]


def test_a_batch_sets_and_removes_together(client: DaemonClient) -> None:
    status, body = client.request_json(
        "POST",
        CHANGES,
        {
            "set": {"city": "Utrecht", "interests": "jazz, hiking", "custom.pet": "cat"},
            "remove": ["birthdate"],
        },
    )
    assert status == 200, body
    # The stored values, as PUT would store them (text parsed into a list).
    assert body == {
        "set": {"city": "Utrecht", "interests": ["jazz", "hiking"], "custom.pet": "cat"},
        "removed": ["birthdate"],
    }
    assert profile(client) == {
        **{k: v for k, v in PROFILE.items() if k != "birthdate"},
        "city": "Utrecht",
        "interests": ["jazz", "hiking"],
        "custom.pet": "cat",
    }
    # Removing what is not stored is no change, and no refusal.
    status, body = client.request_json("POST", CHANGES, {"remove": ["birthdate"]})
    assert (status, body) == (200, {"set": {}, "removed": []})


def test_one_bad_entry_stores_nothing_and_each_refused_entry_is_named(client: DaemonClient) -> None:
    before = profile(client)
    batch = {
        "set": {"city": "Utrecht", "sizes.shoe": 60, "interests": "jazz, <b>", "custom.pet": "cat"},
        "remove": ["birthdate", "nonsense"],
    }
    status, body = client.request_json("POST", CHANGES, batch)
    assert status == 400, body
    assert body["error"] == "invalid_input"
    assert body["message"] == "nothing was saved: 3 changes were refused"
    problems = {p["name"]: p["message"] for p in body["problems"]}
    assert set(problems) == {"sizes.shoe", "interests", "nonsense"}
    assert problems["sizes.shoe"].startswith("sizes.shoe: ") and "outside 15 to 52" in problems["sizes.shoe"]
    assert "brackets" in problems["interests"]
    assert problems["nonsense"] == "unknown attribute 'nonsense'"
    # The same words PUT gives for the same value.
    status, one = client.request_json("PUT", "/v1/attributes/sizes.shoe", {"value": 60})
    assert status == 400 and one["message"] == problems["sizes.shoe"]
    assert profile(client) == before  # no city, no pet, the birth date still there

    status, body = client.request_json("POST", CHANGES, {"set": {"custom.Bad Name": "x"}})
    assert status == 400 and body["problems"][0]["name"] == "custom.Bad Name", body
    assert "custom attribute name" in body["problems"][0]["message"] and body["problems"][0]["hint"]
    assert body["message"] == "nothing was saved: 1 change was refused"
    assert profile(client) == before


def test_the_bounds_are_refused_in_words(client: DaemonClient) -> None:
    before = profile(client)
    too_many = {
        "set": {f"custom.f{i}": "x" for i in range(40)},
        "remove": [f"custom.g{i}" for i in range(25)],
    }
    status, body = client.request_json("POST", CHANGES, too_many)
    assert (status, body["error"]) == (400, "invalid_input"), body
    assert body["message"] == "nothing was saved: 65 changes at once is too many"
    assert "at most 64" in body["hint"]
    # 64 in total is fine.
    status, body = client.request_json("POST", CHANGES, {"set": {f"custom.f{i}": "x" for i in range(64)}})
    assert status == 200 and len(body["set"]) == 64, body
    status, body = client.request_json("POST", CHANGES, {"remove": [f"custom.f{i}" for i in range(64)]})
    assert status == 200 and len(body["removed"]) == 64, body
    # Over the bound in one list alone: refused before the entries are looked at.
    status, body = client.request_json("POST", CHANGES, {"set": {f"custom.f{i}": "x" for i in range(65)}})
    assert (status, body["error"]) == (400, "bad_request"), body
    assert "length <= 64" in body["message"]

    status, body = client.request_json("POST", CHANGES, {"set": {"city": "Utrecht"}, "sets": {}})
    assert (status, body["error"]) == (400, "bad_request"), body
    assert "unknown field `sets`" in body["message"]
    status, body = client.request_json("POST", CHANGES, {"remove": ["x" * 129]})
    assert (status, body["error"]) == (400, "bad_request") and "length <= 128" in body["message"], body

    status, body = client.request_json(
        "POST", CHANGES, {"set": {"city": "Utrecht", "country": "BE"}, "remove": ["city"]}
    )
    assert (status, body["error"]) == (400, "invalid_input"), body
    assert body["problems"] == [{"name": "city", "message": "city is both set and removed: say which one"}]
    assert profile(client) == before


def test_only_a_paired_client_may_change_the_profile(vault_home: Path) -> None:
    with DaemonProcess(make_vault(vault_home)) as daemon, daemon.client() as stranger:
        status, body = stranger.request_json("POST", CHANGES, {"remove": ["birthdate"]})
        assert (status, body["error"]) == (403, "not_paired"), body
        with daemon.admin() as admin:
            assert admin.request_json("GET", "/v1/attributes")[1]["values"] == PROFILE
