// The options page's history: the ledger, newest first, filtered by site and kind and searched (the
// daemon does both: GET /v1/history), with purposes by their titles.

import { Action, ask } from "./api.js";
import { h, replace } from "./dom.js";
import { dateText, siteName } from "./format.js";
import { purposeTitle } from "./dpv-words.js";
import { LEDGER_KINDS, ledgerSummary, ledgerWhat } from "./ledger-words.js";
import { errorNotice, heading } from "./options-ui.js";
import { contextEntryWords, contextName } from "./context-words.js";

const LIMITS = [50, 100, 500, 1000];

// What an entry says in the Details column; a disclosure says which context it was made in, and a
// context's own entries (added, renamed, removed, changed) are said in words.
function details(e, purposes, names) {
  if (e.kind === "context") return contextEntryWords(e.body, names);
  const summary = ledgerSummary(e, purposes?.[e.origin]?.[e.purpose_id]?.third_parties ?? {});
  if (e.kind !== "disclosure" || e.body?.context == null) return summary;
  return [summary, " ", h("span", { class: "context-tag" }, `in ${contextName(e.body, names)}`)];
}

function entriesTable(entries, purposes, names) {
  if (!entries.length) return h("p", { class: "notice", id: "history-empty" }, "Nothing matches.");
  return h(
    "table",
    { class: "table card", id: "history-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "What"), h("th", {}, "Site"), h("th", {}, "Details"))),
    h(
      "tbody",
      {},
      [...entries].reverse().map((e) =>
        h(
          "tr",
          { dataset: { kind: e.kind } },
          h("td", { class: "nowrap" }, dateText(e.at, { time: true })),
          h("td", {}, e.kind === "context" ? "Context" : ledgerWhat(e)),
          h("td", {}, e.origin ? siteName(e.origin) : "—", e.purpose_id ? h("div", { class: "small muted" }, purposeTitle(purposes, e.origin, e.purpose_id)) : null),
          h("td", {}, details(e, purposes, names)),
        ),
      ),
    ),
  );
}

export async function historySection() {
  const [sites, purposes, contexts] = await Promise.all([ask(Action.sitesList), ask(Action.purposesList), ask(Action.contextsList)]);
  const names = Object.fromEntries(contexts.contexts.map((c) => [c.id, c.name]));
  const site = h("select", { id: "history-site" }, h("option", { value: "" }, "Every site"), sites.map((s) => h("option", { value: s.origin }, siteName(s.origin))));
  const kind = h("select", { id: "history-kind" }, h("option", { value: "" }, "Everything"), LEDGER_KINDS.map((k) => h("option", { value: k }, ledgerWhat({ kind: k }))), h("option", { value: "context" }, "Context"));
  const search = h("input", { type: "search", id: "history-search", maxlength: 100, placeholder: "Search: a site, an item, a value…", "aria-label": "Search the history" });
  const limit = h("select", { id: "ledger-limit", "aria-label": "How many entries" }, LIMITS.map((n) => h("option", { value: n, selected: n === 100 }, `Last ${n}`)));
  const results = h("div", { id: "history-results", "aria-live": "polite" });
  const count = h("p", { class: "small muted", id: "history-count", role: "status" });
  const load = async () => {
    try {
      const entries = await ask(Action.historyList, { origin: site.value || undefined, kind: kind.value || undefined, q: search.value.trim(), limit: Number(limit.value) });
      count.textContent = entries.length === 1 ? "1 entry" : `${entries.length} entries`;
      replace(results, entriesTable(entries, purposes, names));
    } catch (error) {
      count.textContent = "";
      replace(results, errorNotice(error));
    }
  };
  const form = h(
    "form",
    { class: "filters card", role: "search" },
    h("label", { class: "filter" }, h("span", { class: "small muted" }, "Site"), site),
    h("label", { class: "filter" }, h("span", { class: "small muted" }, "Kind"), kind),
    h("label", { class: "filter grow" }, h("span", { class: "small muted" }, "Search"), search),
    h("label", { class: "filter" }, h("span", { class: "small muted" }, "Show"), limit),
    h("button", { type: "submit", class: "button", id: "history-go" }, "Search"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  for (const select of [site, kind, limit]) select.addEventListener("change", load);
  search.addEventListener("search", load); // the field's own clear button
  await load();
  return [heading("History", "Everything the vault did for you, newest first. Each entry is chained to the one before, so history cannot be changed unnoticed."), form, count, results];
}
