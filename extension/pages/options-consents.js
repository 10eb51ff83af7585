// The options page's remembered choices: per site, purpose, claim and third party, each changeable
// (allow <-> refuse, or forget it so the site asks again), each change with an Undo.

import { Action, ask } from "./api.js";
import { h } from "./dom.js";
import { claimLabel, dateText, siteName } from "./format.js";
import { heading, offerUndo } from "./options-ui.js";
import { chosenContext, contextFor } from "./options-contexts.js";

const OPPOSITE = { allow: "deny", deny: "allow" };

// The remembered decision's key, as POST /v1/consents/change names it.
function keyOf(c) {
  return c.claim != null ? { origin: c.origin, purpose: c.purpose, claim: c.claim } : { origin: c.origin, purpose: c.purpose, recipient: c.recipient };
}

function itemName(c) {
  return c.claim != null ? claimLabel(c.claim) : c.recipient_name ?? c.recipient;
}

function choiceWords(c, effect = c.effect) {
  if (c.claim != null) return effect === "allow" ? "share" : "refuse";
  return effect === "allow" ? "may receive" : "refused";
}

// "Shoe size, for Shoe recommendations on shop.example: now refused."
function changedWords(c, effect) {
  const what = `${itemName(c)}, for ${c.purpose_title ?? c.purpose} on ${siteName(c.origin)}`;
  if (effect === null) return `${what}: forgotten. The site will ask you again.`;
  return `${what}: now ${c.claim != null ? (effect === "allow" ? "shared" : "refused") : effect === "allow" ? "allowed to receive it" : "refused"} without asking.`;
}

// `arg`: the context the decision is in ({context: id}), added to every change.
async function change(c, how, arg, refresh) {
  const answer = await ask(Action.consentChange, { ...keyOf(c), ...arg, change: how });
  const undo = how === "forget" ? "restore" : answer.before;
  offerUndo(changedWords(c, answer.effect ?? null), async () => {
    await ask(Action.consentChange, { ...keyOf(c), ...arg, change: undo });
    await refresh();
  });
  await refresh();
}

function decisionRow(c, arg, refresh) {
  const flip = h("button", { type: "button", class: "button small", dataset: { change: OPPOSITE[c.effect] } }, c.effect === "allow" ? "Refuse instead" : c.claim != null ? "Share instead" : "Allow instead");
  const forget = h("button", { type: "button", class: "button small quiet", dataset: { change: "forget" } }, "Forget");
  const status = h("p", { class: "small error-text", role: "alert", hidden: true });
  const run = (how) => async () => {
    flip.disabled = forget.disabled = true;
    try {
      await change(c, how, arg, refresh);
    } catch (error) {
      status.textContent = error.message;
      status.hidden = false;
      flip.disabled = forget.disabled = false;
    }
  };
  flip.addEventListener("click", run(OPPOSITE[c.effect]));
  forget.addEventListener("click", run("forget"));
  const party = c.claim == null;
  return h(
    "tr",
    { dataset: { item: party ? `recipient:${c.recipient}` : `claim:${c.claim}`, purpose: c.purpose } },
    h("td", {}, itemName(c), party ? h("span", { class: "tag" }, "third party") : null),
    h("td", {}, h("span", { class: `tag ${c.effect === "allow" ? "ok" : "danger"}` }, choiceWords(c))),
    h("td", { class: "nowrap" }, dateText(c.expires_at)),
    h("td", { class: "row-actions" }, flip, forget, status),
  );
}

export async function consentsSection(refresh) {
  const chosen = await chosenContext();
  const consents = await ask(Action.consentsList, { context: chosen.context.id });
  const bySite = groupBy(consents, (c) => c.origin);
  const tables = [...bySite.entries()].map(([origin, rows]) =>
    h(
      "section",
      { class: "group", dataset: { origin } },
      h("h2", {}, siteName(origin)),
      h(
        "table",
        { class: "table card decisions" },
        h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", {}, "Choice"), h("th", {}, "Until"), h("th", {}, h("span", { class: "visually-hidden" }, "Change")))),
        [...groupBy(rows, (c) => c.purpose).values()].map((group) =>
          h(
            "tbody",
            { dataset: { purpose: group[0].purpose } },
            h("tr", { class: "purpose-row" }, h("th", { colspan: 4, scope: "rowgroup" }, group[0].purpose_title ?? group[0].purpose)),
            group.map((c) => decisionRow(c, chosen.arg, refresh)),
          ),
        ),
      ),
    ),
  );
  return [
    heading("Remembered choices", "Answers you asked the vault to remember, for each site, purpose, item and third party. Change one, or forget it so the site asks you again. Each context remembers its own."),
    contextFor(chosen, "remembered choices", refresh),
    consents.length ? tables : h("p", { class: "notice", id: "no-consents" }, `No remembered choices in ${chosen.context.name}: every site asks you first.`),
  ];
}

// key -> its rows, in the daemon's order.
function groupBy(consents, key) {
  const map = new Map();
  for (const c of consents) map.set(key(c), [...(map.get(key(c)) ?? []), c]);
  return map;
}
