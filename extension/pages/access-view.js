// "What do you hold about me?": an access request's answer as the popup and the options page show it
// (an AccessView of POST/GET /v1/access), and the holdings kept past their promised retention. Text
// only; each discrepancy is the daemon's own sentence (its `text`), tagged by kind.

import { h } from "./dom.js";
import { sentence } from "./format.js";
import { accessStateWords, accessTag, discrepancyTag, holdingWords, overdueIsBad, overdueWords } from "./message-words.js";

function holdingItem(holding, names) {
  const words = holdingWords(holding, names);
  return h(
    "li",
    { class: "holding", dataset: { purpose: holding.purpose } },
    h("strong", {}, holding.purpose_title ?? holding.purpose),
    h("div", { class: "small holding-claims" }, words.claims),
    h("div", { class: "small muted" }, `Holds it ${words.when}. ${words.recipients}.`),
  );
}

export function discrepancyList(discrepancies) {
  return h(
    "ul",
    { class: "plain discrepancies" },
    discrepancies.map((d) => h("li", { class: "discrepancy", dataset: { kind: d.kind } }, h("span", { class: "tag danger" }, discrepancyTag(d.kind)), " ", h("span", { class: "discrepancy-text" }, d.text))),
  );
}

// One request and what came of it. `names`: recipient id -> name.
export function accessView(view, now, names = {}) {
  const answered = view.state === "answered";
  const bad = view.discrepancies?.length > 0;
  const [tag, tone] = accessTag(view);
  return h(
    "div",
    { class: "access-view stack", dataset: { state: view.state } },
    h("p", { class: "access-state" }, h("span", { class: `tag ${tone}` }, tag), " ", accessStateWords(view, now), "."),
    view.error && (view.state === "waiting" || view.state === "unanswered") ? h("p", { class: "small muted access-error" }, `Last try: ${sentence(view.error)}`) : null,
    view.holdings?.length
      ? h("div", {}, h("h3", {}, "What it says it holds"), h("ul", { class: "plain holdings" }, view.holdings.map((holding) => holdingItem(holding, names))))
      : answered
        ? h("p", { class: "small" }, "It says it holds nothing about you.")
        : null,
    bad
      ? h("div", { class: "notice error access-differs", role: "note" }, h("strong", {}, "What differs from your vault's records"), discrepancyList(view.discrepancies))
      : answered
        ? h("p", { class: "notice ok small access-matches" }, "This matches what your vault recorded.")
        : null,
  );
}

// Disclosures whose promised retention has ended, with what the site said about them. null when none.
export function overdueList(rows) {
  if (!rows?.length) return null;
  const bad = rows.some(overdueIsBad);
  return h(
    "div",
    { class: `notice ${bad ? "error" : "warn"} overdue`, role: "note", id: "overdue" },
    h("strong", {}, "Kept past its promise"),
    h("ul", { class: "plain overdue-list" }, rows.map((row) => h("li", { class: `overdue-row ${row.state}` }, overdueWords(row)))),
  );
}
