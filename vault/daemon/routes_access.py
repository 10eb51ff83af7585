"""Placeholder: filled in by the issue 13 work (see /work/briefs/issue13-design.md)."""

from __future__ import annotations

from litestar import Router

from vault.daemon.session import paired_only

access_router = Router(path="/", guards=[paired_only], route_handlers=[])
