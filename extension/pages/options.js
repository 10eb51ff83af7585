// The options page: the profile (what the vault may derive claims from), every site, remembered
// choices, the history (ledger) and the export. One section at a time, chosen by the URL's #hash.

import { Command } from "../shared/commands.js";
import { Action, ask, isUnavailable } from "./api.js";
import { $, h, replace } from "./dom.js";
import { claimLabel, dateText, sentence, siteName, valueText } from "./format.js";
import { ledgerSummary, ledgerWhat } from "./ledger-words.js";
import { siteChangeWords, withdrawalState, withdrawalWords } from "./site-words.js";
import { unlockForm } from "./unlock.js";

const app = $("#app");
const stateTag = $("#state");
const lockButton = $("#lock");
const SECTIONS = { profile: profileSection, sites: sitesSection, consents: consentsSection, ledger: ledgerSection, export: exportSection };

function errorNotice(error) {
  return h("p", { class: "notice error", role: "alert" }, sentence(error.message), error.hint ? ` — ${error.hint}` : "");
}

function heading(title, text) {
  return h("div", { class: "section-head" }, h("h1", {}, title), text ? h("p", { class: "muted" }, text) : null);
}

const ATTRIBUTE_LABELS = { birthdate: "Birth date", country: "Country", region: "Region", postal_code: "Postal code", city: "City" };

function attributeLabel(name) {
  return ATTRIBUTE_LABELS[name] ?? claimLabel(name);
}

// -- profile -------------------------------------------------------------------------------------

// The profile in groups a person recognises; attributes not named here go under "Other".
const GROUPS = [
  ["About you", ["given_name", "family_name", "email", "birthdate"]],
  ["Where you live", ["country", "region", "city", "postal_code"]],
  ["Preferences", ["languages", "interests", "sizes.shoe", "sizes.clothing", "diet", "accessibility"]],
];

function attributeRow(entry, value) {
  const id = `attr-${entry.name.replace(/[^a-z0-9]/gi, "-")}`;
  const shown = value === undefined ? "" : valueText(value);
  const input = h("input", { type: "text", id, name: entry.name, value: shown, placeholder: entry.example ? `e.g. ${entry.example}` : "", "aria-describedby": `${id}-help ${id}-status` });
  const status = h("p", { class: "small muted row-status", id: `${id}-status`, role: "status" });
  const save = h("button", { type: "submit", class: "button small primary", disabled: true }, "Save");
  const remove = h("button", { type: "button", class: "button small quiet" }, "Remove");
  const showRemove = (visible) => (remove.style.visibility = visible ? "visible" : "hidden"); // keeps the columns aligned
  showRemove(value !== undefined);
  let saved = shown;
  const form = h(
    "form",
    { class: "attribute" },
    h("div", { class: "attribute-name" }, h("label", { for: id }, attributeLabel(entry.name)), entry.sensitivity === "high" ? h("span", { class: "tag high" }, "Sensitive") : null, h("p", { class: "small muted", id: `${id}-help` }, entry.description)),
    h("div", { class: "attribute-edit" }, input, save, remove),
    status,
  );
  const show = (text, kind = "muted") => {
    status.textContent = text;
    status.className = `small row-status ${kind}`;
  };
  input.addEventListener("input", () => {
    save.disabled = input.value.trim() === saved;
    show("");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (input.value.trim() === "") return remove.click();
    try {
      const answer = await ask(Action.profileSet, { name: entry.name, value: input.value.trim() });
      saved = input.value = valueText(answer.value);
      save.disabled = true;
      showRemove(true);
      show("Saved", "ok-text");
    } catch (error) {
      show(error.message, "error-text");
    }
  });
  remove.addEventListener("click", async () => {
    try {
      await ask(Action.profileDelete, { name: entry.name });
      saved = input.value = "";
      save.disabled = true;
      showRemove(false);
      show("Removed");
    } catch (error) {
      show(error.message, "error-text");
    }
  });
  return form;
}

async function profileSection() {
  const profile = await ask(Action.profileGet);
  const byName = new Map(profile.catalogue.map((e) => [e.name, e]));
  for (const name of Object.keys(profile.values)) {
    if (!byName.has(name)) byName.set(name, { name, description: "Your own attribute", sensitivity: "medium", example: "" });
  }
  const grouped = GROUPS.map(([title, names]) => [title, names.filter((n) => byName.has(n)).map((n) => byName.get(n))]);
  const placed = new Set(GROUPS.flatMap(([, names]) => names));
  grouped.push(["Other", [...byName.values()].filter((e) => !placed.has(e.name))]);
  return [
    heading("Your profile", "Sites never see these values directly: they get only what a claim derives from them (“18 or older”, not your birth date), and only when you agree. Lists are written with commas: jazz, hiking."),
    grouped
      .filter(([, entries]) => entries.length)
      .map(([title, entries]) => h("section", { class: "group" }, h("h2", {}, title), h("div", { class: "card list" }, entries.map((e) => attributeRow(e, profile.values[e.name]))))),
  ];
}

// -- sites ---------------------------------------------------------------------------------------

// A disclosure's status: kept until when, retention over, or taken back (waiting for the site's
// confirmation, or confirmed by it).
function disclosureStatus(d, now) {
  const state = withdrawalState(d);
  if (state !== "none") {
    return h("span", { class: `withdrawal-state ${state}` }, h("span", { class: `tag ${state === "pending" ? "high" : "ok"}` }, state === "pending" ? "waiting" : "confirmed"), " ", withdrawalWords(d, now));
  }
  if (d.keep_until > now) return h("span", { class: "tag ok" }, `kept until ${dateText(d.acknowledged_keep_until ?? d.keep_until)}`);
  return h("span", { class: "tag" }, "retention over");
}

// What the site changed about itself (its controller, signing key, revocation endpoint), newest first.
function changesList(changes) {
  if (!changes?.length) return null;
  return h(
    "div",
    { class: "site-changes" },
    h("h3", {}, "Changes the site made"),
    h("ul", {}, [...changes].sort((a, b) => b.at - a.at).map((change) => h("li", { title: `before: ${change.before}\nafter: ${change.after}` }, siteChangeWords(change)))),
  );
}

function reportList(report) {
  const now = Date.now() / 1000;
  const changes = changesList(report.changes);
  if (!report.disclosures.length) return [h("p", { class: "muted small" }, "Nothing was ever shared with this site."), changes];
  return [
    h(
      "table",
      { class: "table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Shared"), h("th", {}, "For"), h("th", {}, "What"), h("th", {}, "Status"))),
      h(
        "tbody",
        {},
        report.disclosures.map((d) =>
          h(
            "tr",
            {},
            h("td", {}, dateText(d.disclosed_at)),
            h("td", {}, d.purpose),
            h("td", {}, Object.entries(d.claims).map(([claim, value]) => h("div", {}, `${claimLabel(claim)}: `, h("strong", {}, valueText(value))))),
            h("td", {}, disclosureStatus(d, now)),
          ),
        ),
      ),
    ),
    changes,
  ];
}

function siteRow(site) {
  const details = h("div", { class: "site-details", hidden: true });
  const toggle = h("button", { type: "button", class: "button small", "aria-expanded": "false" }, "What it knows");
  const revoke = h("button", { type: "button", class: "button small danger" }, "Revoke");
  const load = async () => {
    replace(details, h("p", { class: "muted small" }, "Loading…"));
    try {
      replace(details, reportList(await ask(Action.siteReport, { origin: site.origin })));
    } catch (error) {
      replace(details, errorNotice(error));
    }
  };
  toggle.addEventListener("click", async () => {
    const open = details.hidden;
    toggle.setAttribute("aria-expanded", String(open));
    details.hidden = !open;
    if (open) await load();
  });
  revoke.addEventListener("click", async () => {
    if (!confirm(`Revoke everything you allowed ${siteName(site.origin)}? It will be told to stop using what it got.`)) return;
    try {
      const result = await ask(Action.siteRevoke, { origin: site.origin });
      const asked = result.withdrawn ? "asked to stop using it — waiting for the site's confirmation" : "remembered choices removed";
      revoke.replaceWith(h("span", { class: "tag high revoke-status" }, asked));
      if (!details.hidden) await load();
    } catch (error) {
      details.hidden = false;
      replace(details, errorNotice(error));
    }
  });
  return h(
    "li",
    { class: "site-row" },
    h(
      "div",
      { class: "row" },
      h("div", { class: "site-id" }, h("strong", {}, siteName(site.origin)), h("div", { class: "small muted" }, [site.controller, `first seen ${dateText(site.first_seen)}`].filter(Boolean).join(" · "))),
      h("span", { class: "spacer" }),
      toggle,
      revoke,
    ),
    details,
  );
}

async function sitesSection() {
  const sites = await ask(Action.sitesList);
  return [
    heading("Sites", "Every site that asked your vault for something."),
    sites.length ? h("ul", { class: "card list plain" }, sites.map(siteRow)) : h("p", { class: "notice" }, "No site has asked yet."),
  ];
}

// -- remembered choices --------------------------------------------------------------------------

async function consentsSection() {
  const consents = await ask(Action.consentsList);
  const body = consents.length
    ? h(
        "table",
        { class: "table card" },
        h("thead", {}, h("tr", {}, h("th", {}, "Site"), h("th", {}, "Purpose"), h("th", {}, "Item"), h("th", {}, "Choice"), h("th", {}, "Until"))),
        h(
          "tbody",
          {},
          consents.map((c) =>
            h(
              "tr",
              {},
              h("td", {}, siteName(c.origin)),
              h("td", {}, c.purpose),
              h("td", {}, claimLabel(c.claim)),
              h("td", {}, h("span", { class: `tag ${c.effect === "allow" ? "ok" : "danger"}` }, c.effect === "allow" ? "share" : "refuse")),
              h("td", {}, dateText(c.expires_at)),
            ),
          ),
        ),
      )
    : h("p", { class: "notice" }, "No remembered choices: every site asks you first.");
  return [heading("Remembered choices", "Answers you asked the vault to remember. Revoke a site under Sites to take them back."), body];
}

// -- history -------------------------------------------------------------------------------------

async function ledgerSection(limit = 100) {
  const entries = await ask(Action.ledgerList, { limit });
  const select = h("select", { id: "ledger-limit", "aria-label": "How many entries" }, [50, 100, 500, 1000].map((n) => h("option", { value: n, selected: n === limit }, `Last ${n}`)));
  select.addEventListener("change", async () => show(() => ledgerSection(Number(select.value))));
  const rows = [...entries].reverse();
  return [
    h("div", { class: "row section-head-row" }, heading("History", "Everything the vault did for you, newest first. Each entry is chained to the one before, so history cannot be changed unnoticed."), h("span", { class: "spacer" }), h("div", { class: "limit" }, select)),
    rows.length
      ? h(
          "table",
          { class: "table card" },
          h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "What"), h("th", {}, "Site"), h("th", {}, "Details"))),
          h(
            "tbody",
            {},
            rows.map((e) =>
              h(
                "tr",
                {},
                h("td", { class: "nowrap" }, dateText(e.at, { time: true })),
                h("td", {}, ledgerWhat(e)),
                h("td", {}, e.origin ? siteName(e.origin) : "—", e.purpose_id ? h("div", { class: "small muted" }, e.purpose_id) : null),
                h("td", {}, ledgerSummary(e)),
              ),
            ),
          ),
        )
      : h("p", { class: "notice" }, "Nothing has happened yet."),
  ];
}

// -- export --------------------------------------------------------------------------------------

async function exportSection() {
  const status = h("p", { class: "small", role: "status" });
  const button = h("button", { type: "button", class: "button primary", id: "export-button" }, "Download everything (JSON)");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Exporting…";
    try {
      const data = await ask(Action.exportVault);
      const blob = new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" });
      const link = h("a", { href: URL.createObjectURL(blob), download: `personal-vault-export-${new Date().toISOString().slice(0, 10)}.json` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      status.textContent = `Downloaded (${Math.ceil(blob.size / 1024)} KB).`;
    } catch (error) {
      status.textContent = `${error.message}${error.hint ? ` — ${error.hint}` : ""}`;
    } finally {
      button.disabled = false;
    }
  });
  return [
    heading("Export", "A copy of everything in your vault, as JSON: your profile, every site, your choices (as ISO/IEC TS 27560 consent records) and the full history. Keep it somewhere safe: it holds your personal data."),
    h("div", { class: "card stack" }, button, status),
  ];
}

// -- page ----------------------------------------------------------------------------------------

function currentSection() {
  const name = location.hash.slice(1);
  return Object.hasOwn(SECTIONS, name) ? name : "profile";
}

async function show(render) {
  try {
    replace(app, await render());
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
  start();
  app.focus();
});
lockButton.addEventListener("click", async () => {
  await ask(Action.lock).catch(() => {});
  start();
});

start();
