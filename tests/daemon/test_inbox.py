"""The inbox routes on a real `vault serve` over its Unix socket: a site's message forwarded by the extension
is kept (inbox and ledger), every bad one is refused with its code in `error` and words in `message` and
changes nothing; mute, read, delete and accept; messages carried by an acknowledgement. Then, in-process
with a clock the test moves, the limits that need time or many messages (rate limit, full inbox)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import example
from tests.consent.test_inbox import message
from tests.daemon.support import EXAMPLE_MANIFEST, DaemonProcess, make_vault, remember_consent
from tests.daemon.test_api import Clock, build, pair, presentation
from tests.support import NOW
from vault.consent.inbox import MAX_ROWS, current_subject
from vault.daemon.client import DaemonClient
from vault.site import (
    InMemoryReplayStore,
    SigningKey,
    acknowledge_presentation,
    make_nonce,
    verify_presentation,
)

ORIGIN = example.ORIGIN
DAY = 86400
FORGER = SigningKey.from_seed(hashlib.sha256(b"not the shop").digest())


@pytest.fixture
def served(vault_home: Path) -> Iterator[DaemonProcess]:
    """A fresh vault each time: a site may have only 3 messages kept a day."""
    with DaemonProcess(make_vault(vault_home)) as daemon:
        yield daemon


def now() -> int:
    return int(time.time())


def shared(client: DaemonClient) -> tuple[Any, dict[str, Any]]:
    """The example shop asks and the user shares (remembered); the site verifies and learns the subject."""
    nonce = make_nonce()
    granted = remember_consent(client, EXAMPLE_MANIFEST.read_text(), nonce)
    verified = verify_presentation(
        granted["token"], manifest=example.manifest(), nonce=nonce, now=now(), replay=InMemoryReplayStore()
    )
    return verified, granted


def vault_seen(client: DaemonClient) -> tuple[Any, ...]:
    """What the API shows of the vault: the ledger and the inbox (the consent tests compare every row)."""
    status, entries = client.request_json("GET", "/v1/ledger?limit=10000")
    assert status == 200
    status, listed = client.request_json("GET", "/v1/messages")
    assert status == 200
    return [(e["seq"], e["kind"]) for e in entries], listed


def post_message(client: DaemonClient, token: str, origin: str = ORIGIN) -> tuple[int, Any]:
    return client.request_json("POST", "/v1/messages", {"origin": origin, "token": token})


@pytest.fixture
def client(served: DaemonProcess) -> Iterator[DaemonClient]:
    with served.paired_client() as client:
        yield client


@pytest.fixture
def subject(client: DaemonClient) -> str:
    return shared(client)[0].subject


def test_a_message_from_the_page_is_kept_listed_and_in_the_ledger(client: DaemonClient, subject: str) -> None:
    token = message(subject, "change", now=now())
    status, kept = post_message(client, token)
    assert status == 200 and kept["outcome"] == "kept" and kept["kind"] == "change", kept
    status, listed = client.request_json("GET", f"/v1/messages?origin={ORIGIN}")
    assert status == 200
    shown = next(m for m in listed["messages"] if m["jti"] == kept["jti"])
    assert shown["title"] == "A change from the shop" and shown["body"] == "Line one.\nLine two."
    assert shown["purpose_title"] == "Shoe recommendations" and shown["via"] == "page" and not shown["read"]
    assert listed["unread_by_site"][ORIGIN] == listed["unread"] >= 1 and listed["muted"] == []
    status, entries = client.request_json("GET", f"/v1/ledger?origin={ORIGIN}")
    entry = entries[-1]
    assert (entry["kind"], entry["ref"]) == ("message", kept["jti"])
    assert entry["body"] == {"message_kind": "change", "via": "page", "token": token}
    assert client.request_json("GET", "/v1/ledger/verify")[1]["ok"] is True


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join((header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature))


REFUSALS = [
    ("bad_key", 400, lambda s: message(s, key=FORGER, now=now()), ORIGIN),
    ("bad_signature", 400, lambda s: tampered(message(s, now=now())), ORIGIN),
    ("too_large", 400, lambda s: "a." + "b" * 9000 + ".c", ORIGIN),
    ("malformed", 400, lambda s: "not a token", ORIGIN),
    ("wrong_audience", 400, lambda s: message("urn:someone-else", now=now()), ORIGIN),
    ("expired", 400, lambda s: message(s, now=now() - 8 * DAY), ORIGIN),
    ("not_yet_valid", 400, lambda s: message(s, now=now() + 3600), ORIGIN),
    ("unknown_site", 403, lambda s: message(s, now=now()), "https://stranger.example"),
]


def test_a_bad_message_is_refused_with_its_reason_and_changes_nothing(
    client: DaemonClient, subject: str
) -> None:
    for code, status, build_token, origin in REFUSALS:
        before = vault_seen(client)
        token = build_token(subject)
        answer = post_message(client, token, origin)
        assert answer[0] == status and answer[1]["error"] == code, (code, answer)
        words = answer[1]["message"]
        assert words.startswith("the site's message was refused: ") and token not in words, words
        assert vault_seen(client) == before, code


def test_a_replayed_message_is_refused(client: DaemonClient, subject: str) -> None:
    token = message(subject, "deletion", now=now())
    assert post_message(client, token)[1]["outcome"] == "kept"
    before = vault_seen(client)
    status, body = post_message(client, token)
    assert (status, body["error"]) == (409, "replayed") and "already received" in body["message"]
    assert vault_seen(client) == before


def test_bad_requests_are_refused_in_words(client: DaemonClient) -> None:
    cases = [
        ("/v1/messages", {"origin": ORIGIN, "token": "x", "extra": 1}, "bad_request"),
        ("/v1/messages", {"origin": "shop.example", "token": "x"}, "invalid_input"),
        ("/v1/messages/read", {}, "invalid_input"),
        ("/v1/messages/read", {"jtis": ["message-0000000000000000"], "origin": ORIGIN}, "invalid_input"),
        ("/v1/messages/read", {"jtis": ["short"]}, "bad_request"),
        ("/v1/messages/delete", {"jtis": ["message-0000000000000000"] * 101}, "bad_request"),
        ("/v1/messages/mute", {"origin": ORIGIN}, "bad_request"),
        ("/v1/messages/accept", {"jti": "message-0000000000000000"}, "invalid_input"),
    ]
    for path, body, error in cases:
        status, answer = client.request_json("POST", path, body)
        assert (status, answer["error"]) == (400, error), (path, body, answer)
        assert answer["message"], answer
    status, answer = client.request_json("GET", "/v1/messages?origin=nope")
    assert (status, answer["error"]) == (400, "invalid_input")


def test_unpaired_clients_are_refused(served: DaemonProcess) -> None:
    with served.client("unpaired-" + "x" * 40) as stranger:
        for method, path, body in (
            ("GET", "/v1/messages", None),
            ("POST", "/v1/messages", {"origin": ORIGIN, "token": "x"}),
            ("POST", "/v1/messages/mute", {"origin": ORIGIN, "muted": True}),
        ):
            status, answer = stranger.request_json(method, path, body)
            assert (status, answer["error"]) == (403, "not_paired")


def test_mute_read_delete_and_accept(client: DaemonClient, subject: str) -> None:
    status, muted = client.request_json("POST", "/v1/messages/mute", {"origin": ORIGIN, "muted": True})
    assert status == 200 and muted == {"origin": ORIGIN, "muted": True}
    before = vault_seen(client)
    assert post_message(client, message(subject, "proposal", now=now())) == (200, {"outcome": "muted"})
    assert vault_seen(client) == before
    assert before[1]["muted"] == [ORIGIN]
    client.request_json("POST", "/v1/messages/mute", {"origin": ORIGIN, "muted": False})
    status, kept = post_message(client, message(subject, "proposal", now=now()))
    assert status == 200 and kept["outcome"] == "kept"
    disclosures = [e for e in vault_seen(client)[0] if e[1] == "disclosure"]
    status, accepted = client.request_json("POST", "/v1/messages/accept", {"jti": kept["jti"]})
    assert status == 200 and accepted == {
        "url": "https://shop.example/offers/newsletter",
        "origin": ORIGIN,
        "purpose": "newsletter",
    }
    assert [e for e in vault_seen(client)[0] if e[1] == "disclosure"] == disclosures  # nothing shared
    listed = client.request_json("GET", "/v1/messages")[1]
    proposal = next(m for m in listed["messages"] if m["jti"] == kept["jti"])
    assert proposal["accepted_at"] is not None and proposal["read"]
    assert proposal["url_origin"] == ORIGIN and proposal["purpose_title"] is None
    status, read = client.request_json("POST", "/v1/messages/read", {"origin": ORIGIN})
    assert status == 200 and read["read"] == listed["unread"]
    assert client.request_json("GET", "/v1/messages")[1]["unread"] == 0
    status, deleted = client.request_json("POST", "/v1/messages/delete", {"jtis": [kept["jti"]]})
    assert (status, deleted) == (200, {"deleted": 1})
    listed = client.request_json("GET", "/v1/messages")[1]
    assert kept["jti"] not in [m["jti"] for m in listed["messages"]]
    status, answer = client.request_json("POST", "/v1/messages/accept", {"jti": kept["jti"]})
    assert (status, answer["error"]) == (400, "invalid_input")


def test_messages_carried_by_an_acknowledgement(served: DaemonProcess) -> None:
    with served.paired_client() as client:
        verified, _ = shared(client)
        good = message(verified.subject, "breach", now=now())
        forged = message(verified.subject, key=FORGER, now=now())
        ack = acknowledge_presentation(
            example.site_key(), verified, manifest=example.manifest(), now=now(), messages=[good, forged]
        )
        before = vault_seen(client)
        status, answer = client.request_json("POST", "/v1/acknowledgements", {"token": ack})
        assert status == 200 and set(answer) == {
            "presentation",
            "claims",
            "keep_until",
            "recipients",
            "not_allowed",
        }
        ledger, listed = vault_seen(client)
        assert [kind for _, kind in ledger[len(before[0]) :]] == ["acknowledgement", "message"]
        breach = next(
            m for m in listed["messages"] if m["kind"] == "breach" and m["via"] == "acknowledgement"
        )
        assert breach["origin"] == ORIGIN
    assert "Traceback" not in served.log() and good not in served.log() and forged not in served.log()


# -- in-process, with a clock the test moves -----------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_limits_answer_with_their_codes(vault_home: Path) -> None:
    make_vault(vault_home)
    clock = Clock()
    daemon, api = build(vault_home, clock)
    async with api:
        api.headers["x-vault-client"] = await pair(api)
        asked = (await api.post("/v1/presentations", json=presentation())).json()
        body = {
            "share": True,
            "claims": [q["claim"] for q in asked["prompt"]["questions"]],
            "remember": False,
        }
        body["recipients"] = ["stock"]
        decided = await api.post(f"/v1/prompts/{asked['prompt']['id']}/decision", json=body)
        assert decided.json()["outcome"] == "granted"
        subject = await daemon.worker.call(lambda v: current_subject(v, ORIGIN))
        for n in range(3):
            answer = await api.post(
                "/v1/messages", json={"origin": ORIGIN, "token": message(subject, now=NOW + n)}
            )
            assert answer.json()["outcome"] == "kept"
        answer = await api.post(
            "/v1/messages", json={"origin": ORIGIN, "token": message(subject, now=NOW + 3)}
        )
        assert answer.status_code == 429 and answer.json()["error"] == "rate_limited", answer.text
        assert "too many messages" in answer.json()["message"]

        def fill(vault) -> None:
            with vault.transaction() as conn:
                conn.executemany(
                    "INSERT INTO inbox (jti, origin, kind, title, body, via, received_at, expires_at, "
                    "deleted_at, token) VALUES (?, 'https://elsewhere.example', 'breach', 't', 'b', 'page', "
                    "?, ?, ?, 'x')",
                    [(f"hidden-{n:016d}", NOW, NOW + 7 * DAY, NOW) for n in range(MAX_ROWS)],
                )

        await daemon.worker.call(fill)
        clock.now = NOW + DAY + 5
        token = message(subject, now=clock.now)
        answer = await api.post("/v1/messages", json={"origin": ORIGIN, "token": token})
        assert answer.status_code == 409 and answer.json()["error"] == "inbox_full", answer.text
        assert len((await api.get("/v1/messages")).json()["messages"]) == 3
