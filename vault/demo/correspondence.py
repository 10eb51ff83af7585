"""Demo Shoes after the first exchange: what it answers when a vault asks what it holds, and what it
writes to the visitors it knows (the reference integration of `vault.site`'s access and message parts).

- `answer_access(shop, token)`: verify the vault's access request (with the shop's replay store) and sign
  a statement built from the shop's own records of that visitor: each presentation it still holds, with
  the values, since when, until when, and the third parties it passed them to. What was withdrawn or
  erased is gone from those records, so it is gone from the statement too.
- `Letters`: a change notice (our analytics partner moves), carried once per visitor by the
  acknowledgement of their first presentation; and a proposal (share your interests, get suggestions),
  which the shop page hands to the vault with `personalVault.notify(token)` once the visitor shared
  something. Accepting it only opens /offers/interests, whose own request brings the normal prompt.

A message is addressed to the pseudonymous subject the vault gave us, so nothing here tells a page
anything it did not already have.
"""

from __future__ import annotations

import calendar
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from vault.demo.manifest import SUGGESTIONS
from vault.demo.partner import PARTNER_NAME
from vault.site import HeldRecord, answer_access_request, make_message, verify_access_request

if TYPE_CHECKING:
    from vault.demo.integration import Shop

OFFER_PATH = "/offers/interests"  # the page where the proposal is accepted
MAX_SUBJECTS = 10_000  # visitors we remember writing to (and sessions we remember the visitor of)
MAX_ANSWERED = 100  # access requests listed on /held
PROPOSAL_TTL = 14 * 86400


class AnsweredAccess(msgspec.Struct, kw_only=True):
    """One access request answered, as /held lists it."""

    jti: str
    subject: str
    received_at: int
    purposes: list[str]  # empty: every purpose
    holdings: list[str]  # the purposes the statement listed


def answer_access(shop: Shop, token: object) -> str:
    """The signed statement answering the access request `token`. Raises AccessRequestInvalid (also
    `replayed`: each request is answered once, since the answer carries values)."""
    now = shop.clock()
    request = verify_access_request(token, manifest=shop.manifest, now=now, replay=shop.replay)
    held = [
        HeldRecord(
            presentation=h.jti,
            purpose=h.purpose,
            claims=h.claims,
            received_at=h.received_at,
            keep_until=h.keep_until,
            recipients=h.passed_to,
        )
        for h in shop.held.of_subject(request.subject, now)
    ]
    statement = answer_access_request(
        shop.site_key, request, manifest=shop.manifest, now=now, held=held, show_values=True
    )
    listed = sorted({r.purpose for r in held if not request.purposes or r.purpose in request.purposes})
    shop.answered.append(
        AnsweredAccess(
            jti=request.jti,
            subject=request.subject,
            received_at=now,
            purposes=list(request.purposes),
            holdings=listed,
        )
    )
    return statement


def _bounded_put(book: OrderedDict[str, Any], key: str, value: Any) -> None:
    book.pop(key, None)
    book[key] = value
    while len(book) > MAX_SUBJECTS:
        book.popitem(last=False)


def first_of_month_after(now: int, days: int) -> int:
    """Midnight UTC of the first day of the month after `now + days` (a change takes effect then)."""
    year, month = time.gmtime(now + days * 86400)[:2]
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0))


def day_words(timestamp: int) -> str:
    t = time.gmtime(timestamp)
    return f"{t.tm_mday} {time.strftime('%B %Y', t)}"


class Letters:
    """What the shop writes to each visitor, once: the change notice and the proposal. Bounded: the
    oldest visitors are forgotten first (at worst one gets a message twice, which their vault refuses as
    a replay, or ignores)."""

    def __init__(self, shop: Shop, clock: Callable[[], int]) -> None:
        self._shop, self._clock = shop, clock
        self._noticed: OrderedDict[str, str] = OrderedDict()  # subject -> its change notice
        self._proposed: OrderedDict[str, tuple[str, int]] = OrderedDict()  # subject -> (proposal, made at)
        self._visitor: OrderedDict[str, str] = OrderedDict()  # session cookie -> subject it presented

    def change_notice(self, subject: str) -> list[str]:
        """The change notice for an acknowledgement to `subject`: on their first one only."""
        if subject in self._noticed:
            return []
        shop, now = self._shop, self._clock()
        effective = first_of_month_after(now, 30)
        token = make_message(
            shop.site_key,
            manifest=shop.manifest,
            subject=subject,
            kind="change",
            title=f"From {day_words(effective)} our analytics partner works from Germany",
            body=(
                f"From {day_words(effective)}, {PARTNER_NAME} moves its servers from the Netherlands to "
                "Germany. It receives the same claims as now, only if you allow it, and keeps them no "
                "longer than we promised you. You can withdraw them from it in your vault at any time."
            ),
            now=now,
            purpose="recommendations",
            effective_at=effective,
        )
        _bounded_put(self._noticed, subject, token)
        return [token]

    def saw(self, session: str | None, subject: str) -> None:
        """This session's page handed us a presentation from `subject`."""
        if session is not None:
            _bounded_put(self._visitor, session, subject)

    def proposal_for(self, session: str | None) -> str | None:
        """The proposal for the visitor of this session (who presented something here), if we have one
        for them: not before they shared anything, nor once they share for the purpose offered."""
        subject = self._visitor.get(session) if session else None
        if subject is None:
            return None
        shop, now = self._shop, self._clock()
        if any(h.purpose == SUGGESTIONS for h in shop.held.of_subject(subject, now)):
            return None
        if SUGGESTIONS not in {p.id for p in shop.manifest.purposes}:
            return None  # the shop publishes other purposes now (tests): nothing to offer
        token, made_at = self._proposed.get(subject, ("", 0))
        if now - made_at > PROPOSAL_TTL // 2:  # none yet, or a new one before this one expires
            token = make_message(
                shop.site_key,
                manifest=shop.manifest,
                subject=subject,
                kind="proposal",
                title="Share your interests and we will suggest shoes and events for them",
                body=(
                    "Tell us your interests and we will suggest shoes, running meetups and events that "
                    "suit them, for 90 days. Accepting opens our page, where your vault asks you first "
                    "as always: nothing is shared by this message."
                ),
                now=now,
                purpose=SUGGESTIONS,
                claims=("interests",),
                url=shop.origin + OFFER_PATH,
                ttl=PROPOSAL_TTL,
            )
            _bounded_put(self._proposed, subject, (token, now))
        return token
