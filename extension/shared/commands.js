// Every `vault …` command the extension shows the user, built here and nowhere else: the pages and the
// worker's hints call these builders, and tests/extension/test_commands.py runs each one (filled in with
// realistic values) through the CLI's own parser, so a command the UI prints always parses.

// The browser names `vault install-browser --browser` accepts (vault/daemon/install.py BROWSERS).
export const BROWSERS = Object.freeze(["chromium", "chrome", "firefox"]);

export const Command = Object.freeze({
  serve: () => "vault serve",
  installBrowser: (browser) => `vault install-browser --browser ${browser}`,
  pairApprove: (code) => `vault pair approve ${code}`,
});

// The name `vault install-browser --browser` takes for the browser this runs in (pages and worker alike).
export function installBrowserName() {
  if (/firefox\//i.test(navigator.userAgent)) return "firefox";
  const brands = navigator.userAgentData?.brands?.map((b) => b.brand) ?? [];
  return brands.includes("Google Chrome") ? "chrome" : "chromium";
}
