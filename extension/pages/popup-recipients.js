// The popup's "Who else has it": each third party of the site that received something, what it holds,
// and a Withdraw for each one that still holds it (a confirmation first: it cannot be undone), with where
// the withdrawal stands (asked, or confirmed by the site on ...).

import { Action, ask } from "./api.js";
import { h, replace } from "./dom.js";
import { claimLabel, sentence, siteName, valueText } from "./format.js";
import { roleWords } from "./dpv-words.js";
import { recipientAskedWords, recipientHoldings, recipientStatusWords } from "./recipient-words.js";

function withdrawArea(origin, holding, onDone) {
  const area = h("div", { class: "withdraw" });
  const start = h("button", { type: "button", class: "button small danger", dataset: { withdraw: holding.id } }, "Withdraw");
  const idle = () => replace(area, start);
  start.addEventListener("click", () => {
    const erase = h("input", { type: "checkbox", checked: true, id: `erase-${holding.id}` });
    const yes = h("button", { type: "button", class: "button small danger", dataset: { confirmWithdraw: holding.id } }, "Yes, withdraw");
    const no = h("button", { type: "button", class: "button small" }, "Cancel");
    no.addEventListener("click", () => {
      idle();
      start.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        const result = await ask(Action.siteRevoke, { origin, thirdParty: holding.id, erase: erase.checked });
        onDone(recipientAskedWords(holding.name, siteName(origin), result));
      } catch (error) {
        area.append(h("p", { class: "notice error", role: "alert" }, sentence(error.message)));
        yes.disabled = false;
      }
    });
    replace(
      area,
      h("p", {}, h("strong", {}, `Withdraw what ${holding.name} got?`)),
      h("p", { class: "small muted" }, `${siteName(origin)} is told to pass this on. This cannot be undone: ${holding.name} gets nothing from your vault through this site again.`),
      h("label", { class: "row check small" }, erase, h("span", {}, "Also ask it to delete what it has")),
      h("div", { class: "row" }, no, yes),
    );
    yes.focus();
  });
  idle();
  return area;
}

function holdingItem(origin, holding, onDone) {
  const role = roleWords(holding.role);
  const pending = holding.state === "pending";
  return h(
    "li",
    { class: `recipient ${holding.state}`, dataset: { recipient: holding.id } },
    h(
      "div",
      { class: "row" },
      h("h3", {}, holding.name),
      h("span", { class: "spacer" }),
      holding.state === "none" ? null : h("span", { class: `tag ${pending ? "high" : "ok"}` }, pending ? "waiting" : "confirmed"),
    ),
    h("p", { class: "small muted" }, `${role.label}: ${role.meaning}`),
    h("ul", { class: "plain pairs" }, Object.entries(holding.claims).map(([claim, value]) => h("li", {}, h("span", {}, claimLabel(claim)), h("span", { class: "value" }, valueText(value))))),
    h("p", { class: "small recipient-state" }, recipientStatusWords(holding)),
    holding.state === "none" ? withdrawArea(origin, holding, onDone) : null,
  );
}

// The section, or null when no third party got anything from this site.
export function recipientsSection(origin, report, now, onDone) {
  const holdings = recipientHoldings(report.disclosures, now);
  if (!holdings.length) return null;
  return h(
    "div",
    { class: "stack", id: "recipients" },
    h("h2", {}, "Who else has it"),
    h("p", { class: "small muted" }, `Third parties you allowed ${siteName(origin)} to pass your information to.`),
    h("ul", { class: "plain recipients" }, holdings.map((holding) => holdingItem(origin, holding, onDone))),
  );
}
