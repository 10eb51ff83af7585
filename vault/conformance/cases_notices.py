"""The cases after the first exchange: revocation / erasure notices for the accepted presentation, and
access requests ("what do you hold about me?"), each answer checked as the vault checks it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from vault.conformance.catalogue import BY_ID, vault_refuses
from vault.conformance.http import Answer, Unreachable
from vault.conformance.player import OTHER_ORIGIN, Player
from vault.conformance.run import CRASH_FIX, Run
from vault.protocol.access import sign_access_request, verify_access_statement
from vault.protocol.acknowledgement import verify_revocation_ack
from vault.protocol.b64 import b64url_decode, b64url_encode
from vault.protocol.errors import AcknowledgementInvalid, StatementInvalid
from vault.protocol.keys import SigningKey
from vault.protocol.manifest import Manifest
from vault.protocol.revocation import sign_revocation
from vault.protocol.strictjson import distinct_member_count, written_member_count

SIGN_NOTICE_ANSWER = (
    "sign the answer with vault.site.acknowledge_revocation and the site key the manifest publishes, "
    "answering exactly the notice received"
)
SIGN_STATEMENT = (
    "sign the statement with vault.site.answer_access_request and the site key the manifest publishes"
)
NOT_JSON = b'{"notice": '


def _notice(player: Player, jti: str, *, key: SigningKey | None = None, origin: str | None = None,
            now: int | None = None) -> str:  # fmt: skip
    return sign_revocation(
        key or player.key, origin=origin or player.manifest.origin, purpose_id=player.purpose.id,
        presentations=[jti], erasure=True, now=player.clock() if now is None else now, jti=player.jti(),
        recipients=player.recipients,
    )  # fmt: skip


def _changed(token: str, **changes: Any) -> str:
    head, payload, signature = token.split(".")
    changed = {**msgspec.json.decode(b64url_decode(payload)), **changes}
    return f"{head}.{b64url_encode(msgspec.json.encode(changed))}.{signature}"


def _exchange(run: Run, case_id: str, send: Callable[[], Answer]) -> Answer | None:
    try:
        return send()
    except Unreachable as error:
        run.unreachable(case_id, error)
        return None


def only_member(run: Run, case_id: str, answer: Answer, member: str) -> str | None:
    """The answer's one member `member` (a string) when it is exactly that; else records the failure."""
    if answer.status >= 500:
        run.record(case_id, False, f"the site crashed on {run_title(case_id)} ({answer.status})",
                   answer.status, CRASH_FIX)  # fmt: skip
        return None
    if not 200 <= answer.status < 300:
        run.record(case_id, False, f"refused it ({answer.said()})", answer.status)
        return None
    body = answer.json()
    if body is not None and written_member_count(answer.body) != distinct_member_count(body):
        body = None  # a repeated member: two parsers could read two different answers
    if body is None or set(body) != {member} or not isinstance(body[member], str):
        if body is None:
            shape = "no JSON object (or one that repeats a member)"
        elif member in body and isinstance(body[member], str):
            shape = f"other members beside {member}"
        else:
            shape = f"no {member} string"
        detail = f'answered {answer.status} with {shape}: a vault takes exactly {{"{member}": "<jws>"}}'
        run.record(case_id, False, detail, answer.status)
        return None
    return body[member]


def run_title(case_id: str) -> str:
    return BY_ID[case_id].title


def play_notices(run: Run, manifest: Manifest) -> None:
    player = run.player
    if player is None:  # pragma: no cover (the presentation cases always make one)
        raise RuntimeError("the presentation cases come first")
    url, client = manifest.revocation_endpoint, run.client
    held = run.accepted
    jti = player.jti() if held is None else _jti_of(held)

    def send(token: str) -> Answer:
        return client.post_json(url, {"notice": token})

    if held is None:
        run.skip("revocation.other_signer", "not played: the site holds no presentation of this visitor")
    elif answer := _exchange(
        run, "revocation.other_signer", lambda: send(_notice(player, jti, key=player.other_key))
    ):
        run.expect_refusal("revocation.other_signer", answer)
    refused = {
        "revocation.changed_payload": lambda: _changed(_notice(player, jti), erasure=False),
        "revocation.wrong_audience": lambda: _notice(player, jti, origin=OTHER_ORIGIN),
        # As a notice captured then and sent now: signed two days ago, for a day.
        "revocation.expired": lambda: _notice(player, jti, now=player.clock() - 2 * 86400),
    }
    for case_id, build in refused.items():
        if answer := _exchange(run, case_id, lambda build=build: send(build())):
            run.expect_refusal(case_id, answer)
    if answer := _exchange(run, "revocation.body_not_json", lambda: client.post(url, NOT_JSON)):
        run.expect_refusal("revocation.body_not_json", answer)
    notice = _notice(player, jti)
    for case_id in ("revocation.valid", "revocation.repeated"):
        answer = _exchange(run, case_id, lambda: send(notice))
        if answer is None:
            continue
        acknowledgement = only_member(run, case_id, answer, "acknowledgement")
        if acknowledgement is None:
            continue
        try:
            verify_revocation_ack(acknowledgement, manifest.site_key, notice=notice, now=player.clock())
        except AcknowledgementInvalid as refused_ack:
            detail = vault_refuses("its acknowledgement", refused_ack.reason)
            run.record(case_id, False, detail, answer.status, SIGN_NOTICE_ANSWER)
            continue
        run.record(
            case_id, True, f"acknowledged ({answer.status}), verifies with the site key", answer.status
        )


def play_access(run: Run, manifest: Manifest) -> None:
    ids = ("access.valid", "access.repeated", "access.wrong_audience", "access.body_not_json")
    player, url = run.player, manifest.access_endpoint
    if url is None or player is None:
        for case_id in ids:
            run.skip(case_id, "the manifest has no access_endpoint")
        return

    def request(origin: str | None = None) -> str:
        return sign_access_request(player.key, origin=origin or manifest.origin, now=player.clock(),
                                   jti=player.jti())  # fmt: skip

    def send(token: str) -> Answer:
        return run.client.post_json(url, {"request": token})

    sent = request()
    answer = _exchange(run, "access.valid", lambda: send(sent))
    statement = None if answer is None else only_member(run, "access.valid", answer, "statement")
    if answer is not None and statement is not None:
        try:
            verify_access_statement(statement, manifest.site_key, request=sent, now=player.clock())
        except StatementInvalid as refused:
            detail = vault_refuses("its statement", refused.reason)
            run.record("access.valid", False, detail, answer.status, SIGN_STATEMENT)
        else:
            run.record("access.valid", True, f"answered ({answer.status}), verifies with the site key",
                       answer.status)  # fmt: skip
    if answer := _exchange(run, "access.repeated", lambda: send(sent)):
        run.expect_refusal("access.repeated", answer)
    if answer := _exchange(run, "access.wrong_audience", lambda: send(request(OTHER_ORIGIN))):
        run.expect_refusal("access.wrong_audience", answer)
    if answer := _exchange(run, "access.body_not_json", lambda: run.client.post(url, b'{"request": ')):
        run.expect_refusal("access.body_not_json", answer)


def _jti_of(token: str) -> str:
    return msgspec.json.decode(b64url_decode(token.split(".")[1]))["jti"]
