// The toolbar popup: is the vault reachable, paired, unlocked; and for the current tab's site, what it
// was told and until when, with a Revoke button.
//
// popup.html?origin=https://shop.example shows that site instead of the active tab's (used by the tests,
// and handy as a bookmark; only the extension and the user can open extension pages).

import { Action, ask, isUnavailable } from "./api.js";
import { $, h, replace } from "./dom.js";
import { Command, installBrowserName } from "../shared/commands.js";
import { claimLabel, dateText, sentence, siteName, valueText } from "./format.js";
import { unlockForm } from "./unlock.js";

const app = $("#app");
const stateTag = $("#state");
const lockButton = $("#lock");
const POLL_MS = 2000;
let pollTimer = null;

function setState(text, kind = "") {
  stateTag.textContent = text;
  stateTag.className = `tag ${kind}`;
}

function errorNotice(error) {
  return h("p", { class: "notice error", role: "alert" }, sentence(error.message), error.hint ? h("span", { class: "small" }, ` — ${error.hint}`) : null);
}

async function currentOrigin() {
  const asked = new URLSearchParams(location.search).get("origin");
  if (asked) return asked;
  try {
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    const origin = new URL(tab?.url ?? "").origin;
    return /^https?:\/\//.test(origin) ? origin : null;
  } catch {
    return null;
  }
}

function copyButton(text) {
  const button = h("button", { type: "button", class: "button small" }, "Copy");
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  });
  return button;
}

function showUnavailable(error) {
  setState("Not connected", "danger");
  lockButton.hidden = true;
  replace(
    app,
    h(
      "section",
      { class: "stack" },
      h("h1", {}, "Can’t reach your vault"),
      h("p", { class: "muted" }, `${sentence(error.message)}.`),
      h("p", {}, "On this computer, start the vault and connect this browser to it (once):"),
      h("div", { class: "command" }, h("code", {}, Command.serve())),
      h("div", { class: "command" }, h("code", {}, Command.installBrowser(installBrowserName()))),
      h("button", { type: "button", class: "button", onclick: refresh }, "Try again"),
    ),
  );
}

function showPairing(status) {
  setState("Not paired", "danger");
  lockButton.hidden = true;
  const command = Command.pairApprove(status.pairing_code);
  replace(
    app,
    h(
      "section",
      { class: "stack" },
      h("h1", {}, "Pair this browser"),
      h("p", {}, "Your vault answers only browsers you approved. In a terminal on this computer, run:"),
      h("div", { class: "command" }, h("code", { id: "pair-command" }, command), copyButton(command)),
      h("p", { class: "small muted" }, "Code ", h("strong", { id: "pairing-code", class: "mono" }, status.pairing_code), " is valid for 10 minutes. This window updates by itself once you approved it."),
    ),
  );
  pollTimer = setTimeout(refresh, POLL_MS);
}

function showLocked(status) {
  setState("Locked", "high");
  lockButton.hidden = true;
  replace(
    app,
    h(
      "section",
      { class: "stack" },
      h("h1", {}, "Your vault is locked"),
      h("p", { class: "muted" }, "Unlock it to answer sites and see what they know."),
      unlockForm({ onUnlocked: refresh, waiting: status.waiting }),
    ),
  );
}

// What the site may still hold, one entry per purpose: the latest values, and until when.
function byPurpose(disclosures) {
  const groups = new Map();
  for (const d of disclosures) {
    const group = groups.get(d.purpose) ?? { purpose: d.purpose, claims: {}, count: 0, last: 0, until: 0, confirmed: false };
    Object.assign(group.claims, d.claims);
    group.count += 1;
    group.last = Math.max(group.last, d.disclosed_at);
    group.until = Math.max(group.until, d.acknowledged_keep_until ?? d.keep_until);
    group.confirmed ||= d.acknowledged;
    groups.set(d.purpose, group);
  }
  return [...groups.values()];
}

function purposeItem(group) {
  const times = group.count === 1 ? "1 time" : `${group.count} times`; // not "once": that reads as "just this time"
  return h(
    "li",
    { class: "disclosure" },
    h("div", { class: "row" }, h("h3", {}, group.purpose), h("span", { class: "spacer" }), h("span", { class: "small muted" }, `shared ${times}`)),
    h(
      "ul",
      { class: "plain pairs" },
      Object.entries(group.claims).map(([claim, value]) => h("li", {}, h("span", {}, claimLabel(claim)), h("span", { class: "value" }, valueText(value)))),
    ),
    h("p", { class: "small muted" }, `Last on ${dateText(group.last)}. May keep it until ${dateText(group.until)}`, group.confirmed ? " (the site confirmed)." : "."),
  );
}

// Remembered answers, one line per purpose and effect: "Shared without asking: 18 or older, Country".
function rememberedItems(consents) {
  const lines = new Map();
  for (const c of consents) {
    const key = `${c.purpose}\u0000${c.effect}`;
    const line = lines.get(key) ?? { purpose: c.purpose, effect: c.effect, claims: [], until: c.expires_at };
    line.claims.push(claimLabel(c.claim));
    line.until = Math.min(line.until, c.expires_at);
    lines.set(key, line);
  }
  return [...lines.values()].map((line) =>
    h(
      "li",
      { class: "remembered" },
      h("span", { class: `tag ${line.effect === "allow" ? "ok" : "danger"}` }, line.effect === "allow" ? "shared without asking" : "refused without asking"),
      h("span", {}, line.claims.join(", ")),
      h("span", { class: "small muted" }, `for ${line.purpose}, until ${dateText(line.until)}`),
    ),
  );
}

function revokeSection(origin, onDone) {
  const area = h("div", { class: "revoke" });
  const ask_ = h("button", { type: "button", class: "button danger", id: "revoke" }, "Revoke");
  const start = () =>
    replace(
      area,
      h("p", { class: "small muted" }, "Take back your consent. The site is told to stop using what it got, and is asked before anything is shared again."),
      ask_,
    );
  ask_.addEventListener("click", () => {
    const erase = h("input", { type: "checkbox", id: "erase" });
    const confirm = h("button", { type: "button", class: "button danger", id: "confirm-revoke" }, "Yes, revoke");
    const cancel = h("button", { type: "button", class: "button" }, "Cancel");
    cancel.addEventListener("click", () => {
      start();
      ask_.focus();
    });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      try {
        const result = await ask(Action.siteRevoke, { origin, erase: erase.checked });
        replace(area, h("p", { class: "notice ok", role: "status" }, `Revoked. ${result.withdrawn} disclosure${result.withdrawn === 1 ? "" : "s"} withdrawn; the site is being told.`));
        onDone();
      } catch (error) {
        area.append(errorNotice(error));
        confirm.disabled = false;
      }
    });
    replace(
      area,
      h("p", {}, `Revoke everything you allowed ${siteName(origin)}?`),
      h("label", { class: "row check" }, erase, h("span", {}, "Also ask it to erase what it has")),
      h("div", { class: "row" }, cancel, confirm),
    );
    confirm.focus();
  });
  start();
  return area;
}

async function showSite() {
  setState("Unlocked", "ok");
  lockButton.hidden = false;
  const origin = await currentOrigin();
  if (!origin) {
    replace(app, h("section", { class: "stack" }, h("h1", {}, "No site here"), h("p", { class: "muted" }, "This tab is not a website the vault can answer.")));
    return;
  }
  const [report, consents] = await Promise.all([ask(Action.siteReport, { origin }), ask(Action.consentsList)]);
  const now = Date.now() / 1000;
  const current = report.disclosures.filter((d) => d.withdrawn_at == null && d.keep_until > now);
  const remembered = consents.filter((c) => c.origin === origin);
  const body = h(
    "section",
    { class: "stack" },
    h("div", {}, h("p", { class: "small muted" }, "This site"), h("h1", { class: "site-title" }, siteName(origin))),
    current.length
      ? h("div", { class: "stack" }, h("h2", {}, "What it knows"), h("ul", { class: "plain disclosures" }, byPurpose(current).map(purposeItem)))
      : h("p", { class: "notice" }, `${siteName(origin)} has nothing from your vault.`),
    remembered.length
      ? h(
          "div",
          { class: "stack" },
          h("h2", {}, "Remembered choices"),
          h("ul", { class: "plain remembered-list" }, rememberedItems(remembered)),
        )
      : null,
    current.length || remembered.length ? revokeSection(origin, () => setTimeout(refresh, 1200)) : null,
  );
  replace(app, body);
}

async function refresh() {
  clearTimeout(pollTimer);
  let status;
  try {
    status = await ask(Action.status);
  } catch (error) {
    if (isUnavailable(error)) return showUnavailable(error);
    setState("Error", "danger");
    return replace(app, errorNotice(error));
  }
  if (status.client === "pending" || status.client === "unpaired") return showPairing(status);
  if (status.locked) return showLocked(status);
  try {
    await showSite();
  } catch (error) {
    if (error.code === "vault_locked") return refresh();
    replace(app, errorNotice(error));
  }
}

lockButton.addEventListener("click", async () => {
  try {
    await ask(Action.lock);
  } finally {
    refresh();
  }
});
$("#open-options").addEventListener("click", () => chrome.runtime.openOptionsPage());

refresh();
