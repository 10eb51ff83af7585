"""Starting Debian's Chromium with our unpacked extension. `vault demo` opens it for a person; the tests
and scripts/bench_browser.py drive it headless through Playwright, all with the same flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXTENSION_DIR = Path(__file__).resolve().parents[2] / "extension"
# The real binary first: /usr/bin/chromium is a shell wrapper that prints a stray line on every start.
BINARIES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
HEADLESS_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_chromium() -> str | None:
    return next((binary for binary in BINARIES if Path(binary).exists()), None)


def extension_flags(extension: Path = EXTENSION_DIR) -> list[str]:
    return [f"--disable-extensions-except={extension}", f"--load-extension={extension}"]


def launch_headless(playwright: Any, profile: Path, executable: str, extension: Path = EXTENSION_DIR) -> Any:
    """A Playwright persistent context with the extension loaded. Playwright passes --disable-extensions
    by default, which would keep the extension's service worker from ever starting."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=executable,
        headless=True,
        ignore_default_args=["--disable-extensions"],
        args=[*extension_flags(extension), *HEADLESS_FLAGS],
    )
