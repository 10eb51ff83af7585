"""What the demo shop keeps: each session's nonce, and what it holds from vaults (in memory only)."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from vault.site import make_nonce

COOKIE = "shop_session"  # a random session id; the nonces stay on the server
NONCE_TTL = 900  # a nonce must outlive the vault's consent prompt (10 minutes)
MAX_SESSIONS = 10_000
Clock = Callable[[], int]
_SESSION = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 random bytes, base64url
Rng = Callable[[int], bytes]


# -- nonces, one per page, bound to the session ----------------------------------------------------------


class NonceProblem(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass
class _Nonce:
    value: str
    expires_at: int
    used_for: set[str] = field(default_factory=set)


class NonceBook:
    """The current nonce of each session (a random cookie). One request to the vault may ask for several
    purposes with one nonce, so a nonce is spent per purpose: each purpose verifies with it at most once.
    Bounded: when full, the oldest session's nonce goes (its page just asks for a new one)."""

    def __init__(self, clock: Clock, rng: Rng, *, ttl: int = NONCE_TTL, capacity: int = MAX_SESSIONS):
        self._clock, self._rng, self._ttl, self._capacity = clock, rng, ttl, capacity
        self._by_session: OrderedDict[str, _Nonce] = OrderedDict()

    def session(self, cookie: str | None) -> str:
        """The session id in `cookie` if it has the shape of ours, else a new one (never store junk)."""
        if cookie is not None and _SESSION.fullmatch(cookie):
            return cookie
        return make_nonce(self._rng, 32)

    def issue(self, session: str) -> tuple[str, int]:
        nonce = _Nonce(make_nonce(self._rng), self._clock() + self._ttl)
        self._by_session.pop(session, None)
        self._by_session[session] = nonce
        while len(self._by_session) > self._capacity:
            self._by_session.popitem(last=False)
        return nonce.value, nonce.expires_at

    def spend(self, session: str | None, purpose: str) -> str:
        """The session's nonce, now spent for `purpose`; NonceProblem when there is none to spend."""
        nonce = self._by_session.get(session) if session else None
        if nonce is None:
            raise NonceProblem("no_nonce", "this page has no nonce: get one from /api/nonce first")
        if self._clock() >= nonce.expires_at:
            del self._by_session[session]
            raise NonceProblem("nonce_expired", "this page's nonce expired: get a new one")
        if purpose in nonce.used_for:
            raise NonceProblem("nonce_used", "this nonce was already used for this purpose: get a new one")
        nonce.used_for.add(purpose)
        return nonce.value


# -- what the shop holds ---------------------------------------------------------------------------------


class HeldPresentation(msgspec.Struct, kw_only=True):
    subject: str  # the visitor's pairwise identifier: revocations name it
    jti: str
    purpose: str
    claims: dict[str, Any]
    received_at: int
    keep_until: int  # what our acknowledgement promised
    passed_to: list[str] = []  # the third parties we passed (some of) these claims to


class ReceivedNotice(msgspec.Struct, kw_only=True):
    jti: str
    subject: str
    purpose: str
    presentations: int
    erasure: bool
    deleted: int  # presentations of ours deleted because of it (or narrowed, for named claims)
    received_at: int
    claims: list[str] = []  # only these claims were withdrawn (empty: all)
    site: bool = True  # from us too (False: from the third parties below only, we keep ours)
    recipients: dict[str, str] = {}  # each third party it named: "erased", "not_held" or "forwarded"


class Holdings:
    """Everything the shop keeps from vaults, in memory: presentations by jti, and the notices received."""

    def __init__(self) -> None:
        self._by_jti: dict[str, HeldPresentation] = {}
        self.notices: list[ReceivedNotice] = []

    def keep(self, held: HeldPresentation) -> None:
        self._by_jti[held.jti] = held

    def get(self, jti: str) -> HeldPresentation | None:
        return self._by_jti.get(jti)

    def subject_of(self, jti: str) -> str | None:
        held = self._by_jti.get(jti)
        return held.subject if held else None

    def withdraw(self, jtis: Iterable[str], claims: Collection[str] = ()) -> int:
        """Delete these presentations, or only `claims` of them (a presentation left with no claim goes
        too). Returns how many presentations were deleted or narrowed."""
        changed = 0
        for jti in jtis:
            held = self._by_jti.get(jti)
            if held is None:
                continue
            gone = [name for name in held.claims if not claims or name in claims]
            for name in gone:
                del held.claims[name]
            if not held.claims:
                del self._by_jti[jti]
            changed += bool(gone)
        return changed

    def erase(self, subject: str, claims: Collection[str] = ()) -> int:
        mine = [jti for jti, held in self._by_jti.items() if held.subject == subject]
        return self.withdraw(mine, claims)

    def of_subject(self, subject: str, now: int) -> list[HeldPresentation]:
        """What we hold now from one visitor (an access request asks about its own subject only)."""
        return [held for held in self.current(now) if held.subject == subject]

    def current(self, now: int) -> list[HeldPresentation]:
        """What we hold now; anything past the date we promised is deleted first."""
        self.withdraw([jti for jti, held in self._by_jti.items() if held.keep_until <= now])
        return sorted(self._by_jti.values(), key=lambda held: (held.received_at, held.jti))
