"""The site's side of "what do you hold about me?": verify_access_request (once per request, with a real
replay store, in memory and in Redis) and answer_access_request (its statement, built from the site's
records, verified by the vault's own verifier)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from tests import example
from vault.protocol import Manifest, SigningKey, key_subject
from vault.protocol.access import (
    MAX_HOLDING_PRESENTATIONS,
    MAX_STATEMENT_LENGTH,
    AccessStatement,
    sign_access_request,
    verify_access_statement,
)
from vault.protocol.b64 import b64url_decode
from vault.protocol.jwk import OkpPublicJwk
from vault.protocol.jws import sign_raw
from vault.site import (
    AccessRequestInvalid,
    HeldRecord,
    InMemoryReplayStore,
    Reason,
    VerifiedAccessRequest,
    answer_access_request,
    make_message,
    verify_access_request,
    verify_presentation,
)

NOW = example.NOW
DAY = 86400
ORIGIN = example.ORIGIN
SITE_KEY = example.site_key()
SITE_JWK = OkpPublicJwk(**SITE_KEY.public_jwk)
VAULT_KEY = example.pairwise_key()
SUBJECT = key_subject(VAULT_KEY.public_jwk)
ATTACKER_KEY = SigningKey.from_seed(bytes(range(32)))
JTI = "a" * 16


def request(jti: str = JTI, **kwargs: Any) -> str:
    arguments: dict[str, Any] = {"origin": ORIGIN, "now": NOW, "jti": jti}
    arguments.update(kwargs)
    return sign_access_request(VAULT_KEY, **arguments)


def forged(token: str, key: SigningKey = VAULT_KEY, **changes: Any) -> str:
    """`token` with payload members changed, re-signed by `key` (whose jwk goes in the header)."""
    header = dict(msgspec.json.decode(b64url_decode(token.split(".")[0].encode())), jwk=key.public_jwk)
    payload = dict(msgspec.json.decode(b64url_decode(token.split(".")[1].encode())), **changes)
    return sign_raw(key, msgspec.json.encode(header), msgspec.json.encode(payload))


def site_verifies(
    token: str, manifest: Manifest, *, now: int = NOW, replay: Any = None
) -> VerifiedAccessRequest:
    return verify_access_request(token, manifest=manifest, now=now, replay=replay or InMemoryReplayStore())


def reason(token: str, manifest: Manifest, **kwargs: Any) -> Reason:
    with pytest.raises(AccessRequestInvalid) as raised:
        site_verifies(token, manifest, **kwargs)
    return raised.value.reason


# --- verify_access_request -------------------------------------------------------------------------------


def test_verified_request(manifest: Manifest) -> None:
    verified = site_verifies(request(purposes=["age-check"]), manifest)
    assert verified == VerifiedAccessRequest(subject=SUBJECT, jti=JTI, purposes=("age-check",), issued_at=NOW)


def test_a_replayed_request_is_refused_in_memory(manifest: Manifest) -> None:
    store = InMemoryReplayStore()
    token = request()
    site_verifies(token, manifest, replay=store)
    assert reason(token, manifest, replay=store, now=NOW + 10) == Reason.REPLAYED
    # Another request of the same user (a retry is signed afresh with a new jti) is answered.
    assert site_verifies(request("b" * 16), manifest, replay=store, now=NOW + 10).jti == "b" * 16


def test_a_replayed_request_is_refused_by_every_process_sharing_redis(
    manifest: Manifest, redis_client: Any
) -> None:
    from vault.site.redis_replay import RedisReplayStore

    first, second = RedisReplayStore(redis_client, ORIGIN), RedisReplayStore(redis_client, ORIGIN)
    token = request()
    site_verifies(token, manifest, replay=first)
    assert reason(token, manifest, replay=second, now=NOW + 1) == Reason.REPLAYED
    ttl = redis_client.ttl(f"vault:replay:{ORIGIN}:access.{SUBJECT.rsplit(':', 1)[1]}.{JTI}")
    assert 0 < ttl <= 300 + 60


def test_a_request_and_a_presentation_with_one_jti_do_not_collide(
    manifest: Manifest, issue: Callable[..., str]
) -> None:
    store = InMemoryReplayStore()
    verify_presentation(issue(jti=JTI), manifest=manifest, nonce="n" * 22, now=NOW, replay=store)
    assert site_verifies(request(), manifest, replay=store).jti == JTI


class BrokenStore:
    def remember(self, key: str, expires_at: int, now: int) -> bool:
        raise ConnectionError("store down")


def test_a_store_that_fails_refuses_the_request(manifest: Manifest) -> None:
    assert reason(request(), manifest, replay=BrokenStore()) == Reason.REPLAY_CHECK_FAILED
    full = InMemoryReplayStore(capacity=1)
    site_verifies(request(), manifest, replay=full)
    assert reason(request("c" * 16), manifest, replay=full) == Reason.REPLAY_CHECK_FAILED


def test_refusals(manifest: Manifest) -> None:
    token = request()
    assert reason(forged(token, ATTACKER_KEY), manifest) == Reason.WRONG_ISSUER  # victim's iss and sub
    assert reason(forged(token, iss=key_subject(ATTACKER_KEY.public_jwk)), manifest) == Reason.WRONG_ISSUER
    assert reason(forged(token, aud="https://evil.example"), manifest) == Reason.WRONG_AUDIENCE
    assert reason(token, manifest, now=NOW - 61) == Reason.NOT_YET_VALID
    assert reason(forged(token, exp=NOW), manifest) == Reason.BAD_LIFETIME
    assert reason(forged(token, exp=NOW + 601), manifest) == Reason.BAD_LIFETIME
    assert reason(token, manifest, now=NOW + 300 + 60) == Reason.EXPIRED
    assert reason(forged(token, purposes=["age-check", "age-check"]), manifest) == Reason.MALFORMED
    message = make_message(
        SITE_KEY, manifest=manifest, subject=SUBJECT, kind="breach", title="t", body="b", now=NOW
    )
    assert reason(message, manifest) == Reason.WRONG_TYP


def test_time_boundaries(manifest: Manifest) -> None:
    assert site_verifies(request(), manifest, now=NOW - 60)
    assert site_verifies(request(), manifest, now=NOW + 300 + 59)
    assert site_verifies(request(ttl=600), manifest, now=NOW + 600 + 59)
    assert site_verifies(forged(request(), exp=NOW + 600), manifest)


# --- answer_access_request -------------------------------------------------------------------------------


def record(n: int, purpose: str = "recommendations", **kwargs: Any) -> HeldRecord:
    arguments: dict[str, Any] = {
        "presentation": f"{n:016d}",
        "purpose": purpose,
        "claims": {"age_over_18": True},
        "received_at": NOW - 30 * DAY + n,
        "keep_until": NOW + n,
    }
    arguments.update(kwargs)
    return HeldRecord(**arguments)


def answer(
    manifest: Manifest, held: list[HeldRecord], *, sent: str | None = None, **kwargs: Any
) -> AccessStatement:
    sent = sent or request()
    verified = site_verifies(sent, manifest)
    token = answer_access_request(SITE_KEY, verified, manifest=manifest, now=NOW + 1, held=held, **kwargs)
    assert len(token) <= MAX_STATEMENT_LENGTH
    return verify_access_statement(token, SITE_JWK, request=sent, now=NOW + 1)


def test_one_holding_per_purpose_from_the_records(manifest: Manifest) -> None:
    older = record(
        1,
        claims={"age_over_18": True, "location.country": "NL"},
        received_at=NOW - 10 * DAY,
        keep_until=NOW + 20 * DAY,
        recipients=("stock",),
    )
    newer = record(
        2,
        claims={"location.country": "DE", "sizes.shoe": 42},
        received_at=NOW - 5 * DAY,
        keep_until=NOW + 25 * DAY,
        recipients=("analytics", "stock"),
    )
    age = record(3, "age-check", received_at=NOW - DAY, keep_until=NOW)
    statement = answer(manifest, [newer, age, older], show_values=True)  # any order
    assert [holding.purpose for holding in statement.holdings] == ["age-check", "recommendations"]
    holding = statement.holdings[1]
    assert holding.since == NOW - 10 * DAY  # the oldest record's
    assert holding.until == NOW + 25 * DAY  # the latest keep_until
    assert holding.claims == ("age_over_18", "location.country", "sizes.shoe")
    assert holding.values == {"age_over_18": True, "location.country": "DE", "sizes.shoe": 42}  # latest wins
    assert holding.recipients == ("analytics", "stock")
    assert holding.presentations == (older.presentation, newer.presentation)
    assert (statement.iss, statement.aud, statement.request) == (ORIGIN, SUBJECT, JTI)


def test_the_latest_value_wins_whatever_the_order(manifest: Manifest) -> None:
    early = record(1, claims={"location.country": "NL"}, received_at=NOW - 9 * DAY)
    late = record(2, claims={"location.country": "BE"}, received_at=NOW - 2 * DAY)
    for held in ([early, late], [late, early]):
        values = answer(manifest, held, show_values=True).holdings[0].values
        assert values == {"location.country": "BE"}


def test_until_is_the_latest_keep_until_not_the_latest_record(manifest: Manifest) -> None:
    held = [record(1, keep_until=NOW + 90 * DAY), record(2, keep_until=NOW + DAY)]
    assert answer(manifest, held).holdings[0].until == NOW + 90 * DAY


def test_values_only_when_shown(manifest: Manifest) -> None:
    assert answer(manifest, [record(1)]).holdings[0].values is None
    assert answer(manifest, [record(1)], show_values=True).holdings[0].values == {"age_over_18": True}


def test_at_most_64_presentations_the_most_recent(manifest: Manifest) -> None:
    held = [record(n) for n in range(70)]
    holding = answer(manifest, held[::-1]).holdings[0]
    assert len(holding.presentations) == MAX_HOLDING_PRESENTATIONS
    assert holding.presentations == tuple(f"{n:016d}" for n in range(6, 70))
    assert holding.since == held[0].received_at  # still from every record


def test_only_the_purposes_asked_about(manifest: Manifest) -> None:
    held = [record(1), record(2, "age-check")]
    asked = request(purposes=["age-check"])
    assert [h.purpose for h in answer(manifest, held, sent=asked).holdings] == ["age-check"]
    assert [h.purpose for h in answer(manifest, held).holdings] == ["age-check", "recommendations"]
    assert answer(manifest, []).holdings == ()


def test_messages_ride_along(manifest: Manifest) -> None:
    message = make_message(
        SITE_KEY,
        manifest=manifest,
        subject=SUBJECT,
        kind="breach",
        title="An incident",
        body="Sorry.",
        now=NOW,
    )
    assert answer(manifest, [record(1)], messages=[message, message]).messages == (message, message)
    with pytest.raises(ValueError):
        answer(manifest, [record(1)], messages=[message] * 3)


def test_another_site_key_is_refused(manifest: Manifest) -> None:
    verified = site_verifies(request(), manifest)
    with pytest.raises(ValueError, match="site_key"):
        answer_access_request(ATTACKER_KEY, verified, manifest=manifest, now=NOW, held=[])


@pytest.mark.parametrize(
    "bad",
    [
        {"claims": {}},
        {"claims": {"Shoe Size": 42}},
        {"purpose": "Recommendations"},
        {"presentation": "short"},
        {"claims": {"sizes.shoe": {"eu": 42}}},
        {"recipients": ("Stock Ltd",)},
    ],
)
def test_records_the_vault_would_refuse_are_refused_before_signing(manifest: Manifest, bad: dict) -> None:
    """answer_access_request used to sign these, and the vault then refused the statement as malformed."""
    verified = site_verifies(request(), manifest)
    with pytest.raises(ValueError):
        answer_access_request(
            SITE_KEY, verified, manifest=manifest, now=NOW, held=[record(1, **bad)], show_values=True
        )


def test_a_statement_too_long_is_refused(manifest: Manifest) -> None:
    held = [
        record(n, f"purpose-{n % 32:02d}", presentation=f"{n:064d}", claims={"interests": ["x" * 128] * 32})
        for n in range(32 * 64)
    ]
    verified = site_verifies(request(), manifest)
    with pytest.raises(ValueError, match=str(MAX_STATEMENT_LENGTH)):
        answer_access_request(SITE_KEY, verified, manifest=manifest, now=NOW, held=held, show_values=True)
