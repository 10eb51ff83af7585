"""The presentation cases: a nonce, a valid presentation and its acknowledgement, then, each with a fresh
nonce of the same cookie session, every kind of broken presentation a vault's verifier refuses."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from typing import Any

import msgspec

from vault.conformance.catalogue import BY_ID, vault_refuses
from vault.conformance.http import SiteClient, Unreachable
from vault.conformance.player import OTHER_ORIGIN, Player
from vault.conformance.run import CRASH_FIX, Run
from vault.protocol.acknowledgement import unallowed_recipients, verify_acknowledgement
from vault.protocol.b64 import b64url_encode
from vault.protocol.claim_types import CLAIM_EXAMPLES, claim_value_ok
from vault.protocol.errors import AcknowledgementInvalid
from vault.protocol.jwk import key_subject
from vault.protocol.manifest import Manifest
from vault.protocol.presentation import NONCE_PATTERN

OTHER_URL = "; if the site {1} at another path, pass {0}"
_NONCE = re.compile(NONCE_PATTERN.removeprefix("^").removesuffix("$"))


class Skip(Exception):
    """The case does not apply to this purpose; the message says why."""


class NoNonce(Exception):
    def __init__(self, words: str, status: int | None = None) -> None:
        super().__init__(words)
        self.status = status


def _changed(**changes: Any) -> Callable[[Player, str], str]:
    return lambda player, nonce: player.signed({**player.payload(nonce), **changes})


def _header(**changes: Any) -> Callable[[Player, str], str]:
    return lambda player, nonce: player.signed(player.payload(nonce), header=player.header(**changes))


_ANOTHER_DIGEST = b64url_encode(hashlib.sha256(b"another purpose").digest())


def _timed(iat: int, exp: int) -> Callable[[Player, str], str]:
    def build(player: Player, nonce: str) -> str:
        now = player.clock()
        return player.signed({**player.payload(nonce), "iat": now + iat, "exp": now + exp})

    return build


def _wrong_issuer(player: Player, nonce: str) -> str:
    other = key_subject(player.other_key.public_jwk)
    return player.signed({**player.payload(nonce), "iss": other, "sub": other})


def _unknown_purpose(player: Player, nonce: str) -> str:
    unknown = "conformance-unknown-purpose"
    return player.signed(
        {**player.payload(nonce), "purpose": {"id": unknown, "concept": player.purpose.concept}}
    )


def _changed_retention(player: Player, nonce: str) -> str:
    retention = "P2D" if player.purpose.retention == "P1D" else "P1D"
    return player.signed({**player.payload(nonce), "retention": retention})


def _with_claims(player: Player, nonce: str, claims: dict[str, Any]) -> str:
    return player.signed({**player.payload(nonce), "claims": claims})


def _undeclared_claim(player: Player, nonce: str) -> str:
    declared = player.entry.declared
    extra = next((name for name in CLAIM_EXAMPLES if name not in declared), None)
    if extra is None:
        raise Skip("the purpose declares every claim of the vocabulary")
    return _with_claims(player, nonce, {**player.claims, extra: CLAIM_EXAMPLES[extra]})


def _missing_claim(player: Player, nonce: str) -> str:
    if not player.entry.required:
        raise Skip("the purpose requires no claim")
    dropped = sorted(player.entry.required)[0]
    return _with_claims(player, nonce, {k: v for k, v in player.claims.items() if k != dropped})


def _wrong_claim_type(player: Player, nonce: str) -> str:
    name = next(iter(player.claims))
    value = "yes" if claim_value_ok(name, True) else True
    return _with_claims(player, nonce, {**player.claims, name: value})


def _claim_outside_vocabulary(player: Player, nonce: str) -> str:
    # Declared by the purpose, when it declares one (bad_claim_value); else undeclared as well.
    outside = [c.name for c in player.purpose.claims if c.name not in CLAIM_EXAMPLES]
    name = outside[0] if outside else "conformance.unknown_claim"
    return _with_claims(player, nonce, {**player.claims, name: "x"})


def _undeclared_recipient(player: Player, nonce: str) -> str:
    recipients = [*player.recipients, "conformance-unknown-party"]
    return player.signed({**player.payload(nonce), "recipients": recipients})


def _missing_recipient(player: Player, nonce: str) -> str:
    presented = player.claims.keys()
    needed = [r for r in player.recipients if player.entry.recipients[r] & presented]
    if not needed:
        raise Skip("the purpose has no required recipient of the claims presented")
    rest = [r for r in player.recipients if r != needed[0]]
    return player.signed({**player.payload(nonce), "recipients": rest})


def _swapped_key(player: Player, nonce: str) -> str:
    other = key_subject(player.other_key.public_jwk)
    payload = {**player.payload(nonce), "iss": other, "sub": other}
    return player.signed(payload, header=player.header(player.other_key))  # signed by the visitor's key


def _changed_payload(player: Player, nonce: str) -> str:
    payload = player.payload(nonce)
    head, _, signature = player.signed(payload).split(".")
    changed = b64url_encode(msgspec.json.encode({**payload, "jti": player.jti()}))
    return f"{head}.{changed}.{signature}"


def _not_ed25519(player: Player, nonce: str) -> str:
    jwk = {**player.key.public_jwk, "crv": "X25519"}
    return player.signed(player.payload(nonce), header=player.header(jwk=jwk))


def _too_large(player: Player, nonce: str) -> str:
    return player.signed({**player.payload(nonce), "padding": "A" * 8200})


def _padded(player: Player, nonce: str) -> str:
    token = player.signed(player.payload(nonce))
    return token + "=" * (-len(token.rsplit(".", 1)[1]) % 4)  # 64 bytes: 86 characters, so "=="


def _duplicate_keys(player: Player, nonce: str) -> str:
    payload = player.payload(nonce)
    # The same member twice with the same value: a lenient parser accepts it whichever copy it keeps.
    text = b'{"aud":' + msgspec.json.encode(payload["aud"]) + b"," + msgspec.json.encode(payload)[1:]
    return player.signed(text)


TOKENS: dict[str, Callable[[Player, str], str]] = {
    "presentation.other_session_nonce": lambda player, nonce: player.valid(nonce),  # nonce from session B
    "presentation.made_up_nonce": lambda player, nonce: player.valid(player.made_up_nonce()),
    "presentation.wrong_audience": _changed(aud=OTHER_ORIGIN),
    "presentation.expired": _timed(-900, -600),
    "presentation.not_yet_valid": _timed(600, 900),
    "presentation.lifetime_too_long": _timed(0, 3600),
    "presentation.expires_before_issued": _timed(0, -1),
    "presentation.wrong_issuer": _wrong_issuer,
    "presentation.unknown_purpose": _unknown_purpose,
    "presentation.changed_digest": _changed(purpose_digest=_ANOTHER_DIGEST),
    "presentation.changed_retention": _changed_retention,
    "presentation.undeclared_claim": _undeclared_claim,
    "presentation.missing_claim": _missing_claim,
    "presentation.wrong_claim_type": _wrong_claim_type,
    "presentation.claim_outside_vocabulary": _claim_outside_vocabulary,
    "presentation.undeclared_recipient": _undeclared_recipient,
    "presentation.missing_recipient": _missing_recipient,
    "presentation.alg_none": lambda player, nonce: player.unsigned(player.payload(nonce)),
    "presentation.alg_hs256": lambda player, nonce: player.hs256(player.payload(nonce)),
    "presentation.swapped_key": _swapped_key,
    "presentation.changed_payload": _changed_payload,
    "presentation.wrong_typ": _header(typ="JWT"),
    "presentation.crit": _header(crit=["exp"]),
    "presentation.not_ed25519": _not_ed25519,
    "presentation.too_large": _too_large,
    "presentation.padded_base64url": _padded,
    "presentation.duplicate_keys": _duplicate_keys,
    "presentation.payload_not_json": lambda player, nonce: player.signed(b"this is not JSON"),
    "presentation.not_a_token": lambda player, nonce: "not-a-token",
}  # fmt: skip


def fetch_nonce(client: SiteClient, url: str) -> tuple[str, list[str]]:
    """A nonce for this client's session, and what is wrong with how it was given (empty: nothing).
    Raises NoNonce (with the words) when there is no usable nonce, Unreachable when no answer."""
    had_cookie = bool(client.cookies)
    answer = client.get(url)
    if answer.status != 200:
        raise NoNonce(f"{url} answered {answer.said()}, not 200", answer.status)
    body = answer.json()
    nonce = body.get("nonce") if body else None
    if not isinstance(nonce, str):
        raise NoNonce(f'{url} did not answer application/json {{"nonce": "..."}}', answer.status)
    if _NONCE.fullmatch(nonce) is None:
        raise NoNonce("the nonce is not 22 to 128 base64url characters (SPEC.md, Conventions)", answer.status)
    problems = []
    if "no-store" not in answer.headers.get("cache-control", "").lower():
        problems.append("it is not sent with Cache-Control: no-store, so a cache could give it to two pages")
    if not had_cookie and not client.cookies:
        problems.append("it came without a session cookie, so it is bound to no session")
    return nonce, problems


def _load_front_page(client: SiteClient) -> None:
    """What a browser does before a page asks for a nonce; a site may start its session here."""
    with contextlib.suppress(Unreachable):
        client.get(client.origin + "/")


def play_presentations(run: Run, manifest: Manifest) -> None:
    purpose = run.report.purpose or manifest.purposes[0].id
    player = run.player = Player(manifest, purpose, clock=run.clock, rng=run.rng)
    client, target = run.client, run.target
    other = client.session()
    for visitor in (client, other):
        _load_front_page(visitor)
    try:
        first, problems = fetch_nonce(client, target.nonce_url)
    except (NoNonce, Unreachable) as error:
        status = error.status if isinstance(error, NoNonce) else None
        fix = BY_ID["nonce"].fix + (OTHER_URL.format("--nonce-url", "gives nonces") if status == 404 else "")
        run.record("nonce", False, str(error), status, fix)
        for case_id in PRESENTATION_CASES:
            run.skip(case_id, "not played: the site gave no nonce")
        return
    run.record("nonce", not problems, "; ".join(problems) or "given, with a session cookie", 200)

    def submit(token: str) -> Any:
        return client.post_json(target.submit_url, {"purpose": purpose, "token": token})

    _play_valid(run, player, first, submit)
    _play(run, "presentation.nonce_reused", lambda: submit(player.valid(first)))
    if run.accepted is None:
        run.skip("presentation.replayed", "not played: the valid presentation was not accepted")
    else:
        accepted = run.accepted
        _play(run, "presentation.replayed", lambda: submit(accepted))
    for case_id, build in TOKENS.items():

        def exchange(case_id: str = case_id, build: Callable[[Player, str], str] = build) -> Any:
            nonce, _ = fetch_nonce(client, target.nonce_url)
            if case_id == "presentation.other_session_nonce":
                return submit(build(player, fetch_nonce(other, target.nonce_url)[0]))
            return submit(build(player, nonce))

        _play(run, case_id, exchange)
    _play(run, "presentation.body_not_json", lambda: client.post(target.submit_url, b'{"purpose": "'))
    _play(run, "presentation.body_wrong_shape", lambda: client.post_json(target.submit_url, {"hello": 1}))

    def as_text() -> Any:
        body = msgspec.json.encode(
            {"purpose": purpose, "token": player.valid(fetch_nonce(client, target.nonce_url)[0])}
        )
        return client.post(target.submit_url, body, content_type="text/plain")

    _play(run, "presentation.body_not_declared_json", as_text)


PRESENTATION_CASES = (
    "presentation.valid", "presentation.acknowledgement", "presentation.nonce_reused",
    "presentation.replayed", *TOKENS, "presentation.body_not_json", "presentation.body_wrong_shape",
    "presentation.body_not_declared_json",
)  # fmt: skip


def _play(run: Run, case_id: str, exchange: Callable[[], Any]) -> None:
    try:
        answer = exchange()
    except Skip as why:
        run.skip(case_id, str(why))
    except NoNonce as error:
        run.record(case_id, False, f"no fresh nonce for it: {error}", fix="give a nonce for every page")
    except Unreachable as error:
        run.unreachable(case_id, error)
    else:
        run.expect_refusal(case_id, answer)


def _play_valid(run: Run, player: Player, nonce: str, submit: Callable[[str], Any]) -> None:
    token = player.valid(nonce)
    try:
        answer = submit(token)
    except Unreachable as error:
        run.unreachable("presentation.valid", error)
        run.skip("presentation.acknowledgement", "not played: the valid presentation got no answer")
        return
    if not 200 <= answer.status < 300:
        if answer.status >= 500:
            detail, fix = f"the site crashed on a valid presentation ({answer.status})", CRASH_FIX
        else:
            detail = f"refused it ({answer.said()})"
            fix = "accept a valid presentation (2xx): check the site's refusal reason and its clock"
            if answer.status in (404, 405):
                fix = OTHER_URL.format("--submit-url", "takes presentations").removeprefix("; ")
        run.record("presentation.valid", False, detail, answer.status, fix)
        run.skip("presentation.acknowledgement", "not played: the valid presentation was not accepted")
        return
    run.accepted = token
    run.record("presentation.valid", True, f"accepted ({answer.status})", answer.status)
    body = answer.json()
    acknowledgement = body.get("acknowledgement") if body else None
    if acknowledgement is None:
        run.skip("presentation.acknowledgement", "the answer carries no acknowledgement (a site may omit it)")
        return
    case = "presentation.acknowledgement"
    if not isinstance(acknowledgement, str):
        run.record(case, False, "its acknowledgement is not a string (a compact JWS)", answer.status)
        return
    try:
        ack = verify_acknowledgement(
            acknowledgement, player.manifest.site_key, presentation=token, now=player.clock()
        )
    except AcknowledgementInvalid as refused:
        run.record(case, False, vault_refuses("it", refused.reason), answer.status)
        return
    unallowed = unallowed_recipients(ack, player.recipients)
    if unallowed:
        detail = f"it says the claims went to {', '.join(unallowed)}, whom the user did not allow"
        run.record(case, False, detail, answer.status, "pass claims only to the recipients the user allowed")
        return
    run.record(case, True, "verifies with the manifest's site key", answer.status)
