"""scripts/package's checks that need Python: each prints one line of JSON, or fails with a message.

    python -I check_package.py site            in a fresh venv holding the site library alone (the wheel,
                                               `pip install personal-vault`): it verifies a presentation,
                                               RedisReplayStore needs redis, and none of the vault
                                               application's dependencies is importable (scripts/package
                                               and tests/packaging/test_site_install.py both run it)
    python check_package.py chromium DIR       in the project's venv (Playwright): Debian's Chromium loads
                                               the unpacked extension in DIR and its service worker starts

Only the standard library is imported at the top: the site check runs where only the wheel's base
dependencies are installed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

# The import names of `personal-vault[app]` and `[redis]`: none may come with the site library.
APP_MODULES = (
    "sqlcipher3",
    "argon2",
    "platformdirs",
    "click",
    "rich",
    "litestar",
    "uvicorn",
    "httptools",
    "uvloop",
    "redis",
)


def check_site() -> dict[str, object]:
    import vault
    import vault.site
    from vault.protocol import issue_presentation
    from vault.site import ClaimRequest, Controller, Purpose, SigningKey

    origin = "https://shop.example"
    manifest = vault.site.build_manifest(
        origin=origin,
        controller=Controller(
            name="Example Shoes B.V.", contact="privacy@shop.example", privacy_policy=origin + "/privacy"
        ),
        site_key=vault.site.generate_site_key(),
        revocation_endpoint=origin + "/.well-known/vault-revocation",
        purposes=[
            Purpose(
                id="age-check",
                title="Age confirmation at checkout",
                description="Your vault states that you are 18 or older.",
                benefit="You confirm your age in one step.",
                concept="dpv:AgeVerification",
                claims=(ClaimRequest(name="age_over_18", required=True, why="We may only sell to adults."),),
                retention="P1D",
                third_parties=(),
            )
        ],
    )
    now = int(time.time())
    nonce = vault.site.make_nonce()
    token = issue_presentation(
        SigningKey.from_seed(bytes(range(32))),
        manifest,
        "age-check",
        origin,
        nonce,
        {"age_over_18": True},
        now,
        "package-check-0001",
    )
    verified = vault.site.verify_presentation(
        token, manifest=manifest, nonce=nonce, now=now, replay=vault.site.InMemoryReplayStore()
    )
    if verified.claims != {"age_over_18": True}:
        raise SystemExit(f"the site library verified the wrong claims: {verified.claims}")
    try:
        vault.site.RedisReplayStore  # noqa: B018  the attribute is what is checked: it needs redis
    except ImportError:
        pass
    else:
        raise SystemExit("the site library's RedisReplayStore imported without redis installed")
    importable = [name for name in APP_MODULES if importlib.util.find_spec(name) is not None]
    if importable:
        raise SystemExit(f"the site library's install brought the application's modules: {importable}")
    return {"vault": vault.__file__, "claims": verified.claims, "importable": importable}


def check_chromium(extension: Path) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    from vault.daemon.browser import EXTENSION_ID
    from vault.demo.chromium import find_chromium, launch_headless

    executable = find_chromium()
    if executable is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium)")
    expected = f"chrome-extension://{EXTENSION_ID}/background/worker.js"
    with tempfile.TemporaryDirectory(prefix="package-chromium-") as profile, sync_playwright() as playwright:
        context = launch_headless(playwright, Path(profile), executable, extension)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                urls = [worker.url for worker in context.service_workers]
                if expected in urls:
                    return {"service_worker": expected}
                try:
                    context.wait_for_event("serviceworker", timeout=1000)
                except Exception:  # noqa: S112  polling: the worker may have started meanwhile
                    continue
            raise SystemExit(f"the extension's service worker did not start (workers: {urls})")
        finally:
            context.close()


def main(argv: list[str]) -> None:
    if argv[:1] == ["site"]:
        result = check_site()
    elif argv[:1] == ["chromium"] and len(argv) == 2:
        result = check_chromium(Path(argv[1]).resolve())
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
