// The popup's "Global Privacy Control": whether the browser sends this site `Sec-GPC: 1` (and tells its
// pages navigator.globalPrivacyControl), why in the vault's words, whether the site declares that it
// honours GPC (its /.well-known/gpc.json, fetched by the worker without cookies), and the switch "Send
// GPC to this site". Everything a site wrote is shown as text; only its true/false and date are read.

import { Action, ask } from "./api.js";
import { h, replace, whenSwitched } from "./dom.js";
import { sentence } from "./format.js";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

// "2026-11-01" -> "1 November 2026" (the worker checked it is a real date).
export function dayWords(date) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date ?? "");
  if (!match) return null;
  return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
}

const NOT_CHECKED = {
  timeout: "it did not answer within 3 seconds",
  "too-large": "its answer was larger than 4 KB",
  unreachable: "it could not be reached",
  "not-checkable": "only https sites and this computer's own are checked",
};

// A site's declaration (background/gpc-declaration.js) in words.
export function declarationWords(result) {
  const updated = dayWords(result?.lastUpdate);
  const when = updated ? ` (updated ${updated})` : "";
  switch (result?.state) {
    case "supports":
      return `This site says it honours GPC${when}.`;
    case "says-no":
      return `This site says it does not honour GPC${when}.`;
    case "not-declared":
      if (result.why === "invalid" || result.why === "not-json") {
        return "This site does not say whether it honours GPC (its gpc.json is not a valid declaration).";
      }
      return "This site does not say whether it honours GPC.";
    default: {
      const status = /^status (\d{3})$/.exec(result?.why ?? "");
      const why = status ? `it answered with status ${status[1]}` : NOT_CHECKED[result?.why] ?? "it could not be asked";
      return `Could not check whether this site honours GPC: ${why}.`;
    }
  }
}

// The daemon's reason without its "Sent:" / "Not sent:" (the line above says that already).
export function reasonWords(why) {
  const rest = String(why ?? "").replace(/^(Not sent|Sent):\s*/, "");
  return rest ? rest[0].toUpperCase() + rest.slice(1) : "";
}

// The host the switch covers: the browser's rules know hosts, not ports (background/gpc-rules.js).
function coverWords(origin) {
  const host = new URL(origin).hostname;
  return /^\d+(\.\d+){3}$/.test(host) ? `Covers ${host} on every port.` : `Covers ${host} on every port, and its subdomains.`;
}

// Firefox has a GPC setting of its own ("Tell websites not to sell or share my data", in its privacy
// settings; and in private windows by default): where it is on, Firefox sends every site the signal
// whatever the vault decides, and an extension cannot take it back for one site. An extension page sees
// it as navigator.globalPrivacyControl (the vault's page script never runs in extension pages); Chromium
// has no such setting (undefined). Without this, a Firefox user who turned GPC off for a site read "Not
// sent" while Firefox sent it.
export function browserSendsGpc(nav = globalThis.navigator) {
  return nav?.globalPrivacyControl === true;
}

// The state line and its reason: what reaches the site, from the vault's answer and the browser's own.
export function gpcStateWords(gpc, browserSends) {
  if (gpc.sent) return { sent: true, headline: "Sent to this site", why: reasonWords(gpc.why) };
  if (!browserSends) return { sent: false, headline: "Not sent to this site", why: reasonWords(gpc.why) };
  const vault = reasonWords(gpc.why);
  return {
    sent: true,
    headline: "Sent to this site by your browser",
    why: `${vault ? `${vault} ` : ""}Your browser's own setting sends it to every site ("Tell websites not to sell or share my data" in its privacy settings); the vault cannot take it back.`,
  };
}

const checkable = (origin) => /^https:\/\//.test(origin) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(origin);

function stateLines(area, gpc) {
  const words = gpcStateWords(gpc, browserSendsGpc());
  replace(
    area,
    h("p", { id: "gpc-sent", class: words.sent ? "sent" : "not-sent" }, h("strong", {}, words.headline)),
    h("p", { class: "small muted", id: "gpc-why" }, words.why),
  );
}

// The switch on while nothing is sent: the context decides, and the switch alone cannot change that.
function switchHint(hint, gpc) {
  hint.textContent = gpc.site_switch && !gpc.sent ? `${gpc.context_name} does not send it: its rules and its own switch are in the options page.` : "";
  hint.hidden = !hint.textContent;
}

function siteSwitch(origin, gpc, stateArea) {
  const box = h("input", { type: "checkbox", class: "switch", id: "gpc-switch", checked: gpc.site_switch });
  const status = h("span", { class: "small error-text", role: "alert" });
  const hint = h("p", { class: "small muted", id: "gpc-switch-hint" });
  switchHint(hint, gpc);
  whenSwitched(
    box,
    async (send) => {
      status.textContent = "";
      const now = await ask(Action.gpcSet, { origin, send });
      stateLines(stateArea, now);
      box.checked = now.site_switch;
      switchHint(hint, now);
    },
    (error) => (status.textContent = sentence(error.message)),
  );
  return h(
    "div",
    { class: "gpc-switch" },
    h("label", { class: "row check", for: "gpc-switch" }, box, h("span", {}, "Send GPC to this site")),
    h("p", { class: "small muted" }, coverWords(origin)),
    hint,
    status,
  );
}

async function fillDeclaration(line, origin) {
  try {
    line.textContent = declarationWords(await ask(Action.gpcDeclaration, { origin }));
  } catch (error) {
    line.textContent = `Could not check whether this site honours GPC: ${sentence(error.message)}.`;
  }
  line.dataset.state = "done";
}

export async function gpcSection(origin) {
  const area = h("div", { class: "stack gpc", id: "gpc" });
  const title = h("h2", {}, "Global Privacy Control");
  const explain = h("p", { class: "small muted" }, "A signal asking the site not to sell or share your personal data.");
  if (!checkable(origin)) {
    const words = gpcStateWords({ sent: false, why: "The extension sends it only to https sites and to this computer's own." }, browserSendsGpc());
    return replace(area, title, h("p", { id: "gpc-sent" }, h("strong", {}, words.headline)), h("p", { class: "small muted" }, words.why));
  }
  let gpc;
  try {
    gpc = await ask(Action.gpcSite, { origin });
  } catch (error) {
    return replace(area, title, h("p", { class: "small muted" }, `Cannot read it: ${sentence(error.message)}.`));
  }
  const stateArea = h("div", { class: "gpc-state" });
  stateLines(stateArea, gpc);
  const declaration = h("p", { class: "small", id: "gpc-declaration" }, "Checking whether this site says it honours GPC…");
  fillDeclaration(declaration, origin); // up to 3 s: the rest of the popup does not wait for it
  return replace(area, title, explain, stateArea, declaration, siteSwitch(origin, gpc, stateArea));
}
