"""Fetching and checking the manifest as the browser extension does (extension/background/manifests.js):
no cookies, no redirects, at most 64 KiB, UTF-8 JSON, for this very origin; then as the daemon does
(`decode_manifest`, which applies `manifest_problem`). One more than the extension asks: it must be
served as application/json. Every problem found is reported, in words."""

from __future__ import annotations

from vault.conformance.player import default_purpose, purpose_problem
from vault.conformance.run import BadTarget, Run
from vault.protocol.errors import ManifestInvalid
from vault.protocol.manifest import MAX_MANIFEST_BYTES, Manifest, decode_manifest
from vault.site.manifest import MANIFEST_PATH

CASE = "manifest"


def manifest_problems(status: int, content_type: str, body: bytes, too_large: bool, origin: str) -> list[str]:
    """What a vault would refuse in this answer to a manifest fetch (empty: nothing)."""
    url = origin + MANIFEST_PATH
    if status == 404:
        return [f"{url} answered 404: this site has no vault manifest"]
    if 300 <= status < 400:
        return [f"{url} answered {status}, a redirect: a vault never follows one (the origin must serve it)"]
    if status != 200:
        return [f"{url} answered {status}, not 200"]
    problems = []
    if content_type != "application/json":
        problems.append(f"its Content-Type is {content_type or 'missing'}, not application/json")
    if too_large or len(body) > MAX_MANIFEST_BYTES:
        return [*problems, f"it is larger than {MAX_MANIFEST_BYTES} bytes"]
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return [*problems, "it is not UTF-8"]
    try:
        manifest = decode_manifest(body)
    except ManifestInvalid as error:
        return [*problems, f"a vault refuses it: {error}"]
    if manifest.origin != origin:
        problems.append(f"it is for {manifest.origin[:300]!r}, not for {origin}")
    return problems


def check_manifest(run: Run) -> Manifest | None:
    """The site's manifest when a vault would accept it, else None (the case says why)."""
    origin = run.target.origin
    # Unreachable propagates: nothing else can be played, and the caller says so.
    answer = run.client.get(origin + MANIFEST_PATH, credentials=False, max_bytes=MAX_MANIFEST_BYTES)
    problems = manifest_problems(answer.status, answer.content_type, answer.body, answer.too_large, origin)
    if problems:
        run.record(CASE, False, "; ".join(problems), answer.status)
        return None
    manifest = decode_manifest(answer.body)
    purpose = run.target.purpose
    if purpose is not None and manifest.purpose(purpose) is None:
        declared = ", ".join(p.id for p in manifest.purposes)
        raise BadTarget(f"the manifest declares no purpose {purpose!r}; it declares {declared}")
    run.report.purpose = purpose or default_purpose(manifest)
    problem = purpose_problem(manifest, run.report.purpose)
    if problem is not None:
        run.record(CASE, False, problem, answer.status, "ask only for claims of the vocabulary (SPEC.md)")
        return None
    where = (
        "" if manifest.access_endpoint else "; it has no access_endpoint, so a vault cannot ask what it holds"
    )
    run.record(CASE, True, f"valid, for {origin}; presenting purpose {run.report.purpose}{where}", 200)
    return manifest
