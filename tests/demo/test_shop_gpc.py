"""The demo shop honours Global Privacy Control: it declares so at /.well-known/gpc.json, and its page
tells a visitor whose browser sent `Sec-GPC: 1` with that request that it received the signal and will not
sell or share their data. The signal is read from the request alone: nothing is kept."""

from __future__ import annotations

import datetime

import msgspec
import pytest
from litestar.testing import TestClient

from tests.demo.shop_support import shop_of
from vault.demo.shop import GPC_PATH
from vault.protocol.strictjson import decode_unique

RECEIVED = "We received your browser's Global Privacy Control signal with this page, so we will not sell"


def test_the_shop_declares_that_it_honours_gpc(client: TestClient) -> None:
    response = client.get(GPC_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    declared = decode_unique(response.content, msgspec.json.Decoder(dict))  # strict JSON, no repeated member
    assert declared == {"gpc": True, "lastUpdate": "2026-01-01"}
    datetime.date.fromisoformat(declared["lastUpdate"])  # the GPC specification's date, as ISO 8601
    assert response.headers["access-control-allow-origin"] == "*"  # public, as the manifest
    assert "set-cookie" not in response.headers
    # A fixed date: the same bytes whenever it is asked.
    assert client.get(GPC_PATH).content == response.content


def test_the_page_says_it_received_the_signal(client: TestClient) -> None:
    page = client.get("/", headers={"Sec-GPC": "1"})
    assert page.status_code == 200
    assert RECEIVED in page.text and "nor use it for targeted advertising" in page.text
    assert page.headers["vary"] == "Sec-GPC"  # a cache must not give this page to a visitor without it


@pytest.mark.parametrize("headers", [{}, {"Sec-GPC": "0"}, {"Sec-GPC": "yes"}, {"Sec-GPC": "11"}])
def test_without_the_signal_the_page_does_not_claim_it(client: TestClient, headers: dict[str, str]) -> None:
    page = client.get("/", headers=headers)
    assert page.status_code == 200
    assert "Global Privacy Control" in page.text and RECEIVED not in page.text
    assert "sent no Global Privacy Control signal" in page.text


def test_the_signal_is_honoured_per_request_and_kept_nowhere(client: TestClient) -> None:
    shop = shop_of(client)
    before = msgspec.json.encode([shop.held.current(shop.clock()), shop.held.notices])
    with_signal = client.get("/", headers={"Sec-GPC": "1"})
    assert "set-cookie" not in with_signal.headers  # no session, no mark
    # The next request without it is answered as if the first had never come.
    assert RECEIVED not in client.get("/").text
    assert RECEIVED in client.get("/", headers={"Sec-GPC": "1"}).text
    assert msgspec.json.encode([shop.held.current(shop.clock()), shop.held.notices]) == before
