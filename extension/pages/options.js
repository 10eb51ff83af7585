// The options page: the profile (what the vault may derive claims from), every site and what it knows
// (with control at every grain, and what it says it holds), the inbox of sites' messages, remembered
// choices, standing rules, the history and the export. One section at a time, chosen by the URL's
// #hash; each lives in its own module (options-*.js).

import { Command } from "../shared/commands.js";
import { Action, ask, isUnavailable } from "./api.js";
import { $, h, replace } from "./dom.js";
import { consentsSection } from "./options-consents.js";
import { contextsSection } from "./options-contexts.js";
import { exportSection } from "./options-export.js";
import { historySection } from "./options-history.js";
import { inboxSection } from "./options-inbox.js";
import { profileSection } from "./options-profile.js";
import { rulesSection } from "./options-rules.js";
import { sitesSection } from "./options-sites.js";
import { clearUndo, errorNotice, heading } from "./options-ui.js";
import { unlockForm } from "./unlock.js";

const app = $("#app");
const stateTag = $("#state");
const lockButton = $("#lock");
const SECTIONS = { profile: profileSection, sites: sitesSection, inbox: inboxSection, consents: consentsSection, rules: rulesSection, contexts: contextsSection, ledger: historySection, export: exportSection };

// -- page ----------------------------------------------------------------------------------------

function currentSection() {
  const name = location.hash.slice(1);
  return Object.hasOwn(SECTIONS, name) ? name : "profile";
}

// Renders a section; the section gets `refresh` to render itself again after a change.
async function show(render) {
  const refresh = () => show(render);
  try {
    replace(app, await render(refresh));
  } catch (error) {
    if (error.code === "vault_locked") return start();
    replace(app, errorNotice(error));
  }
}

function markNav(name) {
  for (const link of document.querySelectorAll(".sidebar a")) {
    if (link.dataset.section === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function start() {
  let status;
  try {
    status = await ask(Action.status);
  } catch (error) {
    stateTag.textContent = "Not connected";
    stateTag.className = "tag danger";
    return replace(app, heading("Can’t reach your vault", isUnavailable(error) ? `Start it with: ${Command.serve()}` : ""), errorNotice(error));
  }
  if (status.client !== "paired") {
    stateTag.textContent = "Not paired";
    stateTag.className = "tag danger";
    return replace(app, heading("Pair this browser", "In a terminal on this computer, run:"), status.pairing_code ? h("div", { class: "command" }, h("code", {}, Command.pairApprove(status.pairing_code))) : null, h("button", { type: "button", class: "button", onclick: start }, "I did, continue"));
  }
  lockButton.hidden = status.locked;
  stateTag.textContent = status.locked ? "Locked" : "Unlocked";
  stateTag.className = `tag ${status.locked ? "high" : "ok"}`;
  if (status.locked) {
    return replace(app, heading("Your vault is locked", "Unlock it to see and edit your profile and history."), h("div", { class: "card narrow" }, unlockForm({ onUnlocked: start, waiting: status.waiting })));
  }
  const name = currentSection();
  markNav(name);
  await show(SECTIONS[name]);
}

window.addEventListener("hashchange", () => {
  clearUndo();
  start();
  app.focus();
});
lockButton.addEventListener("click", async () => {
  await ask(Action.lock).catch(() => {});
  start();
});

start();
