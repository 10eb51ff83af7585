"""Demo Shoes' dealings with vaults and with its third party: the reference integration of `vault.site`.

`Shop` verifies a presentation and keeps what it proves (`verify`), passes each third party the user
allowed exactly its claims and nothing to any other (`pass_on`, with `vault.site.recipient_claims`),
acknowledges naming those it passed claims to (`answer`), and honours a revocation notice
(`receive_notice`): it forwards it to the third parties it names (`vault.site.recipients_to_tell`),
deletes its own copy only when the notice withdraws from the shop too, and answers with each third
party's own outcome. The web app around it is vault.demo.shop.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import msgspec

from vault.demo.correspondence import MAX_ANSWERED, AnsweredAccess, Letters
from vault.demo.manifest import PARTNER_POLICY, shop_manifest
from vault.demo.partner import PARTNER_ID
from vault.demo.partner_api import (
    Delivery,
    PartnerLink,
    PartnerUnreachable,
    Withdrawal,
    forward_withdrawal,
    pass_claims,
)
from vault.demo.products import personalise
from vault.demo.store import Clock, HeldPresentation, Holdings, NonceBook, NonceProblem, ReceivedNotice, Rng
from vault.protocol.acknowledgement import RecipientOutcomeKind
from vault.protocol.manifest import retention_seconds
from vault.site import (
    PresentationInvalid,
    Purpose,
    Reason,
    ReplayStore,
    SigningKey,
    VerifiedPresentation,
    acknowledge_presentation,
    acknowledge_revocation,
    manifest_json,
    recipient_claims,
    recipients_to_tell,
    verify_presentation,
    verify_revocation,
)


def wall_clock() -> int:
    return int(time.time())


# -- the shop: the three things a site does with a token, and what it owes its third parties -------------


class Refused(Exception):
    def __init__(self, status: int, error: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": error, "reason": reason, "message": message}


_EXPLAINED = {
    Reason.EXPIRED: "the presentation has expired: ask the vault again",
    Reason.REPLAYED: "this presentation was already used once",
    Reason.WRONG_NONCE: "the presentation was made for another page (its nonce is not this page's)",
    Reason.WRONG_AUDIENCE: "the presentation was made for another site",
    Reason.BAD_SIGNATURE: "the presentation's signature does not verify",
    Reason.REPLAY_CHECK_FAILED: "we cannot check for replays right now: try again later",
    Reason.UNDECLARED_RECIPIENT: "the presentation allows a third party we do not declare",
}


class Shop:
    def __init__(
        self, *, origin: str, site_key: SigningKey, clock: Clock, replay: ReplayStore, rng: Rng,
        revocation_path: str, partners: Sequence[PartnerLink] = (),
    ) -> None:  # fmt: skip
        self.origin, self.site_key, self.clock, self.replay = origin, site_key, clock, replay
        self.revocation_path = revocation_path
        self.partners = {link.id: link for link in partners}
        partner = self.partners.get(PARTNER_ID)
        self.partner_policy = f"{partner.url}/privacy" if partner else PARTNER_POLICY
        self.change_purposes(None)
        self.nonces = NonceBook(clock, rng)
        self.held = Holdings()
        self.letters = Letters(self, clock)  # what we write to each visitor (vault.demo.correspondence)
        self.answered: deque[AnsweredAccess] = deque(maxlen=MAX_ANSWERED)  # access requests answered
        # Withdrawals a partner has not answered yet, retried until it does: (recipient, subject, notice).
        self.pending: dict[tuple[str, str, str], Withdrawal] = {}
        # Passing claims on and forwarding withdrawals take turns, so that a notice that arrives while a
        # presentation's claims are on their way to a partner is forwarded after they arrived, not before.
        self._partners_turn = asyncio.Lock()

    def change_purposes(self, purposes: Sequence[Purpose] | None) -> None:
        """Publish a manifest with these purposes from now on (None: the shop's own)."""
        self.manifest = shop_manifest(
            self.origin, self.site_key, self.revocation_path, purposes, self.partner_policy
        )
        self.manifest_bytes = manifest_json(self.manifest)

    def verify(self, session: str | None, purpose: str, token: str) -> VerifiedPresentation:
        """Verify `token` with this session's nonce, and keep what it proves. Raises Refused."""
        try:
            nonce = self.nonces.spend(session, purpose)
        except NonceProblem as problem:
            raise Refused(400, "nonce_invalid", problem.reason, problem.message) from None
        now = self.clock()
        try:
            seen = verify_presentation(
                token, manifest=self.manifest, nonce=nonce, now=now, replay=self.replay
            )
        except PresentationInvalid as refused:
            reason = refused.reason
            status = 503 if reason is Reason.REPLAY_CHECK_FAILED else 400
            message = _EXPLAINED.get(reason, f"the presentation was refused ({reason.value})")
            raise Refused(status, "presentation_invalid", reason.value, message) from None
        if seen.purpose != purpose:
            message = f"the presentation is for {seen.purpose!r}, not {purpose!r}"
            raise Refused(400, "presentation_invalid", "wrong_purpose", message)
        self.held.keep(
            HeldPresentation(
                subject=seen.subject,
                jti=seen.jti,
                purpose=seen.purpose,
                claims=dict(seen.claims),
                received_at=now,
                keep_until=self.keep_until(seen),
            )
        )
        self.letters.saw(session, seen.subject)
        return seen

    @staticmethod
    def keep_until(seen: VerifiedPresentation) -> int:
        return seen.issued_at + retention_seconds(seen.retention)

    async def pass_on(self, seen: VerifiedPresentation) -> list[str]:
        """Pass each third party the user allowed exactly its claims (`recipient_claims`), and nothing
        to any other; return those that stored them (a partner we cannot reach got nothing)."""
        async with self._partners_turn:
            return await self._pass_on(seen)

    async def _pass_on(self, seen: VerifiedPresentation) -> list[str]:
        passed = []
        for recipient, claims in recipient_claims(seen, self.manifest).items():
            link = self.partners.get(recipient)
            if link is None:
                continue  # declared, but not reachable from this shop: nothing is passed
            delivery = Delivery(
                subject=seen.subject,
                presentation=seen.jti,
                purpose=seen.purpose,
                claims=claims,
                keep_until=self.keep_until(seen),
            )
            if await asyncio.to_thread(pass_claims, link, delivery):
                passed.append(recipient)
        held = self.held.get(seen.jti)
        if held is not None:
            held.passed_to = passed
        return passed

    def answer(self, seen: VerifiedPresentation, passed: list[str]) -> dict[str, Any]:
        """The page's answer: what we verified and used, and our signed acknowledgement for the vault
        (naming the third parties we actually passed claims to)."""
        keep_until = self.keep_until(seen)
        acknowledgement = acknowledge_presentation(
            self.site_key, seen, manifest=self.manifest, now=self.clock(), keep_until=keep_until,
            recipients=passed, messages=self.letters.change_notice(seen.subject),
        )  # fmt: skip
        declared = next(p for p in self.manifest.purposes if p.id == seen.purpose).claims
        result = personalise(seen.claims)  # from the verified claims, and nothing else
        return {
            "purpose": seen.purpose,
            "subject": seen.subject,
            "jti": seen.jti,
            "claims": seen.claims,
            "not_shared": [c.name for c in declared if c.name not in seen.claims],
            "retention": seen.retention,
            "keep_until": keep_until,
            "recipients": list(seen.recipients),
            "passed_to": passed,
            "acknowledgement": acknowledgement,
            "used": msgspec.to_builtins(result.used),
            "products": msgspec.to_builtins(result.products),
            "hidden": msgspec.to_builtins(result.hidden),
        }

    async def receive_notice(self, token: str) -> str:
        """Verify a revocation notice; forward it to each third party it names (`recipients_to_tell`);
        delete our own copy of what it withdraws only when it withdraws from us too (`site`), and only
        its claims if it names some (everything of that visitor for an erasure); return our signed
        acknowledgement with each third party's own answer. Raises NoticeInvalid."""
        async with self._partners_turn:
            return await self._receive_notice(token)

    async def _receive_notice(self, token: str) -> str:
        now = self.clock()
        notice = verify_revocation(
            token, manifest=self.manifest, now=now, stored_subject=self.held.subject_of
        )
        withdrawal = Withdrawal(
            notice=notice.jti,
            subject=notice.subject,
            presentations=notice.presentations,
            claims=notice.claims,
            erasure=notice.erasure,
        )
        # The ones our manifest declares first; then any it no longer declares (we may have passed them
        # claims when it did). We tell each one we can reach; one we cannot reach never got anything.
        told = [party.id for party in recipients_to_tell(notice, self.manifest)]
        outcomes: dict[str, tuple[RecipientOutcomeKind, int]] = {}
        for recipient in (*told, *(r for r in notice.recipients if r not in told)):
            link = self.partners.get(recipient)
            outcomes[recipient] = (
                ("not_held", now) if link is None else await self._tell(link, withdrawal, now)
            )
        deleted = 0
        if notice.site:
            deleted = self.held.withdraw(notice.presentations, notice.claims)
            if notice.erasure:
                deleted += self.held.erase(notice.subject, notice.claims)
        self.held.notices.append(
            ReceivedNotice(
                jti=notice.jti,
                subject=notice.subject,
                purpose=notice.purpose,
                presentations=len(notice.presentations),
                erasure=notice.erasure,
                deleted=deleted,
                received_at=now,
                claims=list(notice.claims),
                site=notice.site,
                recipients={recipient: outcome for recipient, (outcome, _) in outcomes.items()},
            )
        )
        # We keep nothing a notice withdraws from us, so "erased" is true whenever it withdraws from us.
        return acknowledge_revocation(
            self.site_key, notice, manifest=self.manifest, now=now, erased=notice.site, recipients=outcomes
        )

    async def _tell(
        self, link: PartnerLink, withdrawal: Withdrawal, now: int
    ) -> tuple[RecipientOutcomeKind, int]:
        try:
            answer = await asyncio.to_thread(forward_withdrawal, link, withdrawal)
        except PartnerUnreachable:
            self.pending[(link.id, withdrawal.subject, withdrawal.notice)] = withdrawal
            return ("forwarded", now)  # told as soon as it answers: retry_forwards()
        return (answer.outcome, answer.at)

    async def retry_forwards(self) -> None:
        """Forward again each withdrawal a partner has not answered yet (every RETRY_INTERVAL seconds
        while the shop runs; not while answering a notice, which must be answered within 10 s)."""
        async with self._partners_turn:
            await self._retry_forwards()

    async def _retry_forwards(self) -> None:
        for key, withdrawal in list(self.pending.items()):
            link = self.partners.get(key[0])
            if link is None:
                continue
            try:
                answer = await asyncio.to_thread(forward_withdrawal, link, withdrawal)
            except PartnerUnreachable:
                continue
            self.pending.pop(key, None)
            for received in self.held.notices:
                if (received.jti, received.subject) == (withdrawal.notice, withdrawal.subject):
                    received.recipients[link.id] = answer.outcome
