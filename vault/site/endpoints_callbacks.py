"""What the site's callbacks to `VaultEndpoints` return, and how they are run: a callback's failure is
the site's bug, answered 500 and logged by its type alone (its message or traceback could hold a token
or a claim value)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from vault.protocol.acknowledgement import RecipientOutcomeKind
from vault.protocol.manifest import retention_seconds
from vault.site.access import HeldRecord
from vault.site.verify import VerifiedPresentation

logger = logging.getLogger("vault.site.endpoints")


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    """What `on_presentation` may return (returning a dict is `Accepted(result=that dict)`).

    `result` goes to the page beside the acknowledgement. `recipients`: the third parties the site passed
    the claims to (default: every one the user allowed). `keep_until` (default: the end of the purpose's
    retention) and `messages` as in `acknowledge_presentation`."""

    result: Mapping[str, Any] = {}
    recipients: Sequence[str] | None = None
    keep_until: int | None = None
    messages: Sequence[str] = ()


class Withdrawn(msgspec.Struct, frozen=True, kw_only=True):
    """What `on_notice` may return. Returning None says the site did what the notice asks of it (erased
    its own copy when the notice withdraws from the site) and passed nothing to a third party its
    manifest does not declare. `recipients`: each named third party's (outcome, unix time), one of
    "erased", "not_held", "forwarded"; required for every one `recipients_to_tell` returns."""

    erased: bool
    recipients: Mapping[str, tuple[RecipientOutcomeKind, int]] = {}


def held_record(seen: VerifiedPresentation, *, received_at: int | None = None) -> HeldRecord:
    """What to keep of a verified presentation for answering access requests: its claims, held until the
    end of its purpose's retention (the `keep_until` its default acknowledgement promised), passed to the
    recipients the user allowed (as the default acknowledgement says). `received_at` defaults to its `iat`.
    Keep `seen.subject` beside it: access requests and notices name the visitor by it."""
    return HeldRecord(
        presentation=seen.jti,
        purpose=seen.purpose,
        claims=seen.claims,
        received_at=seen.issued_at if received_at is None else received_at,
        keep_until=seen.issued_at + retention_seconds(seen.retention),
        recipients=seen.recipients,
    )


class SiteFailed(Exception):
    """The site's own code failed (a callback raised, or returned what cannot be signed): a 500."""


def site_bug(what: str) -> SiteFailed:
    logger.error("the site's %s", what)
    return SiteFailed()


async def run_callback(name: str, callback: Callable[..., Any], *args: Any) -> Any:
    """Call one of the site's callbacks, plain or async (a plain one runs on the event loop)."""
    try:
        result = callback(*args)
        if inspect.isawaitable(result):
            result = await result
    except Exception as error:
        logger.error("the site's %s callback raised %s", name, type(error).__name__)
        raise SiteFailed from None
    return result


def as_accepted(value: object) -> Accepted:
    if value is None:
        return Accepted()
    if isinstance(value, Accepted):
        return value
    if isinstance(value, Mapping):
        return Accepted(result=value)
    raise site_bug("on_presentation returned neither Accepted, a dict nor None")


def as_withdrawn(value: object, *, site: bool) -> Withdrawn:
    if value is None:
        return Withdrawn(erased=site)
    if isinstance(value, Withdrawn):
        return value
    raise site_bug("on_notice returned neither Withdrawn nor None")


def as_subject(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise site_bug("stored_subject returned something other than a string or None")
    return value


def as_session(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise site_bug("session callback returned something other than a string or None")
    return value


def held_records(records: object) -> list[HeldRecord]:
    """What `held` returned, as a list of HeldRecords (TypeError otherwise)."""
    listed = [] if records is None else list(records)  # type: ignore[call-overload]
    if not all(isinstance(record, HeldRecord) for record in listed):
        raise TypeError("held must return HeldRecords")
    return listed
