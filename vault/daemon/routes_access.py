"""Access requests ("what do you hold about me?"): ask a site now, and what every request to it came to.
Same conventions as routes.py: paired clients only, a Struct in, one consent-layer call, a Struct out.
Asking runs on a second connection (Daemon.ask_access): waiting on the site never holds up the worker."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, post
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta

from vault.consent.access_views import AccessView, SiteAccess, site_access
from vault.daemon.errors import ERROR_RESPONSES
from vault.daemon.routes import checked_origin
from vault.daemon.session import paired_only
from vault.daemon.state import DaemonDep

Origin = Annotated[str, Meta(min_length=1, max_length=300)]


class AccessAsk(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    origin: Origin


@post(
    "/access",
    responses=ERROR_RESPONSES,
    status_code=200,
    summary="Ask a site what it holds about you now, and wait (at most 12 s) for its signed statement",
)
async def ask_access(data: JSONBody[AccessAsk], daemon: DaemonDep) -> AccessView:
    return await daemon.ask_access(checked_origin(data.origin))


@get(
    "/access",
    responses=ERROR_RESPONSES,
    summary="A site's access requests (newest first) and its holdings whose retention has ended",
)
async def access_requests(
    daemon: DaemonDep, origin: Annotated[str, QueryParameter(min_length=1, max_length=300)]
) -> SiteAccess:
    origin = checked_origin(origin)
    return await daemon.worker.call(lambda v: site_access(v, origin))


access_router = Router(path="/", guards=[paired_only], route_handlers=[ask_access, access_requests])
