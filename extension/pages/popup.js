// The toolbar popup: is the vault reachable, paired, unlocked; and for the current tab's site, what it
// was told and until when, with a Revoke button, and what was taken back: still waiting for the site's
// signed confirmation, or confirmed (never "deleted" before the site said so); its messages
// (popup-inbox.js), and what it says it holds (popup-access.js), with holdings kept past their promise.
//
// popup.html?origin=https://shop.example shows that site instead of the active tab's (used by the tests,
// and handy as a bookmark; only the extension and the user can open extension pages).

import { Action, ask, isUnavailable } from "./api.js";
import { $, h, replace } from "./dom.js";
import { Command, installBrowserName } from "../shared/commands.js";
import { claimLabel, dateText, sentence, siteName, valueText } from "./format.js";
import { revokeAskedWords, withdrawalState, withdrawalWords } from "./site-words.js";
import { purposeTitle } from "./dpv-words.js";
import { overdueList } from "./access-view.js";
import { accessSection, accessState } from "./popup-access.js";
import { inboxSection } from "./popup-inbox.js";
import { contextSection } from "./popup-context.js";
import { gpcSection } from "./popup-gpc.js";
import { recipientsSection } from "./popup-recipients.js";
import { brokenPromiseWords, partyNames } from "./recipient-words.js";
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

function purposeItem(group, title) {
  const times = group.count === 1 ? "1 time" : `${group.count} times`; // not "once": that reads as "just this time"
  return h(
    "li",
    { class: "disclosure" },
    h("div", { class: "row" }, h("h3", {}, title(group.purpose)), h("span", { class: "spacer" }), h("span", { class: "small muted" }, `shared ${times}`)),
    h(
      "ul",
      { class: "plain pairs" },
      Object.entries(group.claims).map(([claim, value]) => h("li", {}, h("span", {}, claimLabel(claim)), h("span", { class: "value" }, valueText(value)))),
    ),
    h("p", { class: "small muted" }, `Last on ${dateText(group.last)}. May keep it until ${dateText(group.until)}`, group.confirmed ? " (the site confirmed)." : "."),
  );
}

// What was taken back, one entry per purpose and state: pending ones with the vault's next try (the
// soonest), confirmed ones with the site's date (the latest).
function byWithdrawal(disclosures) {
  const groups = new Map();
  for (const d of disclosures) {
    const state = withdrawalState(d);
    const key = `${d.purpose}\u0000${state}\u0000${Boolean(d.erasure_requested)}`;
    const group = groups.get(key) ?? {
      purpose: d.purpose,
      claims: {},
      withdrawal_state: state,
      erasure_requested: Boolean(d.erasure_requested),
      withdrawal_next_try_at: null,
      withdrawal_confirmed_at: null,
    };
    Object.assign(group.claims, d.claims);
    if (typeof d.withdrawal_next_try_at === "number") {
      group.withdrawal_next_try_at = Math.min(group.withdrawal_next_try_at ?? Infinity, d.withdrawal_next_try_at);
    }
    if (typeof d.withdrawal_confirmed_at === "number") {
      group.withdrawal_confirmed_at = Math.max(group.withdrawal_confirmed_at ?? 0, d.withdrawal_confirmed_at);
    }
    groups.set(key, group);
  }
  // Waiting ones first: they are the ones the user may want to follow.
  return [...groups.values()].sort((a, b) => (a.withdrawal_state === "pending" ? 0 : 1) - (b.withdrawal_state === "pending" ? 0 : 1));
}

function withdrawalItem(group, now, title) {
  const pending = group.withdrawal_state === "pending";
  return h(
    "li",
    { class: `withdrawal ${group.withdrawal_state}` },
    h("div", { class: "row" }, h("h3", {}, title(group.purpose)), h("span", { class: "spacer" }), h("span", { class: `tag ${pending ? "high" : "ok"}` }, pending ? "waiting" : "confirmed")),
    h("p", { class: "small muted" }, Object.keys(group.claims).map(claimLabel).join(", ")),
    h("p", { class: "small withdrawal-state" }, withdrawalWords(group, now)),
  );
}

// Remembered answers, one line per purpose, effect and kind: "Shared without asking: 18 or older,
// Country"; "Third parties allowed without asking: Example Stock Check Ltd.".
function rememberedItems(consents, title) {
  const lines = new Map();
  for (const c of consents) {
    const party = c.claim == null;
    const key = `${c.purpose}\u0000${c.effect}\u0000${party}`;
    const line = lines.get(key) ?? { purpose: c.purpose, effect: c.effect, party, claims: [], until: c.expires_at };
    line.claims.push(party ? c.recipient_name ?? c.recipient : claimLabel(c.claim));
    line.until = Math.min(line.until, c.expires_at);
    lines.set(key, line);
  }
  return [...lines.values()].map((line) =>
    h(
      "li",
      { class: "remembered" },
      h("span", { class: `tag ${line.effect === "allow" ? "ok" : "danger"}` }, rememberedTag(line)),
      h("span", {}, line.claims.join(", ")),
      h("span", { class: "small muted" }, `for ${title(line.purpose)}, until ${dateText(line.until)}`),
    ),
  );
}

function rememberedTag(line) {
  if (line.party) return line.effect === "allow" ? "may receive it, without asking" : "refused, without asking";
  return line.effect === "allow" ? "shared without asking" : "refused without asking";
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
        onDone(revokeAskedWords(siteName(origin), { withdrawn: result.withdrawn, erase: result.erasure }));
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

// `notice`: a line to show above the site (what Revoke just did).
async function showSite(notice) {
  setState("Unlocked", "ok");
  lockButton.hidden = false;
  const origin = await currentOrigin();
  if (!origin) {
    replace(app, h("section", { class: "stack" }, h("h1", {}, "No site here"), h("p", { class: "muted" }, "This tab is not a website the vault can answer.")));
    return;
  }
  const [report, purposes, access, inbox, chooser, gpc] = await Promise.all([
    ask(Action.siteReport, { origin }),
    ask(Action.purposesList),
    accessState(origin),
    inboxSection(origin),
    contextSection(origin, () => refresh()), // which context answers this site; a switch redraws
    gpcSection(origin), // Global Privacy Control: sent or not, why, the site's declaration, the switch
  ]);
  const title = (id) => purposeTitle(purposes, origin, id);
  const now = Date.now() / 1000;
  const unreadFirst = Number(inbox.dataset.unread) > 0; // what the badge counted, without scrolling
  const overdue = access?.overdue ?? report.overdue ?? []; // retention ended: does the site still hold it?
  const current = report.disclosures.filter((d) => withdrawalState(d) === "none" && d.keep_until > now);
  const withdrawn = report.disclosures.filter((d) => withdrawalState(d) !== "none");
  // The remembered choices of the context that answers this site, which may not be the browser-wide one.
  const consents = await ask(Action.consentsList, chooser.dataset.context ? { context: chooser.dataset.context } : {});
  const remembered = consents.filter((c) => c.origin === origin);
  const body = h(
    "section",
    { class: "stack" },
    notice ? h("p", { class: "notice", role: "status", id: "revoke-status" }, notice) : null,
    chooser,
    h("div", {}, h("p", { class: "small muted" }, "This site"), h("h1", { class: "site-title" }, siteName(origin))),
    report.broken_promises?.length
      ? h("div", { class: "notice error", role: "note", id: "broken-promises" }, report.broken_promises.map((item) => h("p", {}, brokenPromiseWords(item, partyNames(purposes, origin)))))
      : null,
    overdueList(overdue),
    unreadFirst ? inbox : null,
    current.length
      ? h("div", { class: "stack" }, h("h2", {}, "What it knows"), h("ul", { class: "plain disclosures" }, byPurpose(current).map((group) => purposeItem(group, title))))
      : withdrawn.length || overdue.length
        ? null
        : h("p", { class: "notice" }, `${siteName(origin)} has nothing from your vault.`),
    recipientsSection(origin, report, now, (asked) => refresh(asked)),
    withdrawn.length
      ? h("div", { class: "stack" }, h("h2", {}, "Taken back"), h("ul", { class: "plain withdrawals" }, byWithdrawal(withdrawn).map((group) => withdrawalItem(group, now, title))))
      : null,
    gpc,
    unreadFirst ? null : inbox,
    accessSection(origin, access, partyNames(purposes, origin)),
    remembered.length
      ? h(
          "div",
          { class: "stack" },
          h("h2", {}, "Remembered choices"),
          h("ul", { class: "plain remembered-list" }, rememberedItems(remembered, title)),
        )
      : null,
    current.length || remembered.length ? revokeSection(origin, (asked) => refresh(asked)) : null,
  );
  replace(app, body);
}

// `notice`: passed on to showSite (the line Revoke leaves).
async function refresh(notice) {
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
    await showSite(typeof notice === "string" ? notice : undefined);
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
