"""What the demo shop and its analytics partner say to each other, and the shop's side of saying it.

Two calls, both from the shop to the partner, both authenticated with the secret they share
(`Authorization: Bearer <secret>`), both bounded:

    POST /api/receive   Delivery      the shop passes on the claims of one presentation the user allowed
                                      this partner to receive            -> {"stored": [claim names]}
    POST /api/withdraw  Withdrawal    the shop forwards a withdrawal (or erasure) the vault sent it
                                      -> WithdrawalAnswer: "erased" / "not_held", and when

The shop learns nothing else from the partner, and the partner nothing but what `vault.site` lets the
shop pass on (`recipient_claims`). The calls are plain blocking HTTP (stdlib); the shop makes them from a
worker thread. The partner's address is configuration of the shop (`PartnerLink`), never something a
vault or a page can choose.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec

from vault.protocol.jwk import THUMBPRINT_URI_PREFIX
from vault.protocol.manifest import MAX_CLAIMS_PER_PURPOSE, ClaimName, PurposeId, RecipientId
from vault.protocol.presentation import ClaimValue, Jti, NumericDate
from vault.protocol.revocation import MAX_WITHDRAWN

RECEIVE_PATH = "/api/receive"
WITHDRAW_PATH = "/api/withdraw"
HELD_PATH = "/api/held"
MAX_REQUEST = 16 * 1024  # what the partner reads of a request body (a Delivery is far smaller)
MAX_ANSWER = 64 * 1024  # what the shop reads of an answer
TIMEOUT = 5.0

Subject = Annotated[str, msgspec.Meta(pattern=f"^{re.escape(THUMBPRINT_URI_PREFIX)}[A-Za-z0-9_-]{{43}}$")]


class Delivery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The claims of one presentation that the user allowed this partner to receive."""

    subject: Subject  # the visitor's pairwise identifier at the shop (the partner learns no other)
    presentation: Jti
    purpose: PurposeId
    claims: Annotated[
        dict[ClaimName, ClaimValue], msgspec.Meta(min_length=1, max_length=MAX_CLAIMS_PER_PURPOSE)
    ]
    keep_until: NumericDate  # the shop's own promise to the vault: the partner keeps them no longer


class Withdrawal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A withdrawal the vault sent the shop, forwarded: these presentations (every one of the visitor's,
    with `erasure`), these claims (empty: all of them)."""

    notice: Jti  # the vault's notice: a repeat is answered as the first time
    subject: Subject
    presentations: Annotated[tuple[Jti, ...], msgspec.Meta(min_length=1, max_length=MAX_WITHDRAWN)]
    claims: Annotated[tuple[ClaimName, ...], msgspec.Meta(max_length=MAX_CLAIMS_PER_PURPOSE)] = ()
    erasure: bool = False


class WithdrawalAnswer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    outcome: Literal["erased", "not_held"]
    at: NumericDate  # when the partner erased them (or found it held nothing)
    deleted: Annotated[int, msgspec.Meta(ge=0)]  # claims erased


_answer_decoder = msgspec.json.Decoder(WithdrawalAnswer)


class PartnerUnreachable(Exception):
    """The partner did not answer as it should (down, refused, or an answer we cannot read)."""


@dataclass(frozen=True)
class PartnerLink:
    """Where one third party of the shop's manifest is reached, and the secret that proves it is us."""

    id: RecipientId
    url: str  # its base URL: https://..., or http://127.0.0.1:PORT in the demo
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
        if not (parts.scheme == "https" or loopback) or parts.path not in ("", "/"):
            raise ValueError("a partner is reached at https://host[:port], or http on loopback")
        if len(self.secret) < 32:
            raise ValueError("the shared secret must have at least 32 characters")

    def post(self, path: str, body: msgspec.Struct, timeout: float = TIMEOUT) -> tuple[int, bytes]:
        """POST `body` as JSON to `path`; (status, at most MAX_ANSWER bytes of the answer). No redirects
        are followed. Raises PartnerUnreachable when there is no answer at all."""
        parts = urlsplit(self.url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = connection_class(parts.hostname or "", parts.port, timeout=timeout)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.secret}"}
        try:
            conn.request("POST", path, body=msgspec.json.encode(body), headers=headers)
            response = conn.getresponse()
            return response.status, response.read(MAX_ANSWER + 1)
        except (OSError, http.client.HTTPException) as error:
            raise PartnerUnreachable(f"{self.id}: {error.__class__.__name__}: {error}") from None
        finally:
            conn.close()


def pass_claims(link: PartnerLink, delivery: Delivery) -> bool:
    """Pass `delivery` on; True when the partner says it stored it (else the shop has passed nothing)."""
    try:
        status, _ = link.post(RECEIVE_PATH, delivery)
    except PartnerUnreachable:
        return False
    return status == 200


def forward_withdrawal(link: PartnerLink, withdrawal: Withdrawal) -> WithdrawalAnswer:
    """Forward `withdrawal` and return the partner's answer. Raises PartnerUnreachable."""
    status, data = link.post(WITHDRAW_PATH, withdrawal)
    if status != 200 or len(data) > MAX_ANSWER:
        raise PartnerUnreachable(f"{link.id}: answered HTTP {status}")
    try:
        return _answer_decoder.decode(data)
    except msgspec.DecodeError as error:
        raise PartnerUnreachable(f"{link.id}: unreadable answer ({error})") from None
