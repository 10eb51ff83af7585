// The options page's standing rules: what the vault does for every site without asking, as sentences,
// each removable (with Undo), and an editor that builds a new rule from plain choices: a kind, then an
// item from the claim vocabulary or a purpose kind from the DPV, each shown in words.

import { Action, ask } from "./api.js";
import { h, replace } from "./dom.js";
import { REFUSABLE_CONCEPTS } from "./dpv-words.js";
import { heading, offerUndo } from "./options-ui.js";
import { chosenContext, contextFor } from "./options-contexts.js";
import { RULE_KINDS, ruleTargets, ruleWords } from "./rule-words.js";

// `chosen`: the context the rules are for (options-contexts.js chosenContext), named in every change.
function ruleRow(rule, chosen, refresh) {
  const { arg } = chosen;
  const remove = h("button", { type: "button", class: "button small quiet", dataset: { removeRule: `${rule.kind}:${rule.target}` } }, "Remove");
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    await ask(Action.ruleRemove, { ...rule, ...arg });
    offerUndo(`Rule removed from ${chosen.context.name}: ${ruleWords(rule)}.`, async () => {
      await ask(Action.ruleAdd, { ...rule, ...arg });
      await refresh();
    });
    await refresh();
  });
  return h("li", { class: "rule-row", dataset: { rule: `${rule.kind}:${rule.target}` } }, h("span", { class: "rule-words" }, ruleWords(rule)), h("span", { class: "spacer" }), remove);
}

function editor(book, chosen, refresh) {
  const { arg } = chosen;
  const kind = h("select", { id: "rule-kind" }, RULE_KINDS.map((k) => h("option", { value: k.kind }, k.label)));
  const target = h("select", { id: "rule-target" });
  const hint = h("p", { class: "small muted", id: "rule-hint" });
  const preview = h("p", { class: "rule-preview", id: "rule-preview", role: "status" });
  const add = h("button", { type: "submit", class: "button primary", id: "rule-add" }, "Add rule");
  const error = h("p", { class: "notice error", role: "alert", hidden: true });
  const fill = () => {
    const options = ruleTargets(kind.value, book, REFUSABLE_CONCEPTS);
    replace(target, options.map((o) => h("option", { value: o.value, dataset: { hint: o.hint } }, o.label)));
    add.disabled = options.length === 0;
    describe();
  };
  const describe = () => {
    const spec = RULE_KINDS.find((k) => k.kind === kind.value);
    const chosen = target.selectedOptions[0];
    hint.textContent = chosen ? `${spec.help} ${chosen.label}: ${chosen.dataset.hint}.` : "Every choice for this kind is already a rule.";
    preview.textContent = chosen ? `${ruleWords({ kind: kind.value, target: target.value })}.` : "";
  };
  kind.addEventListener("change", fill);
  target.addEventListener("change", describe);
  const form = h(
    "form",
    { class: "card stack rule-editor", "aria-labelledby": "rule-editor-title" },
    h("h2", { id: "rule-editor-title" }, "Add a rule"),
    h("div", { class: "rule-fields" }, h("label", { for: "rule-kind" }, "Rule"), kind, h("label", { for: "rule-target" }, "About"), target),
    hint,
    preview,
    error,
    h("div", { class: "row" }, h("span", { class: "spacer" }), add),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rule = { kind: kind.value, target: target.value, ...arg };
    add.disabled = true;
    try {
      await ask(Action.ruleAdd, rule);
      offerUndo(`Rule added to ${chosen.context.name}: ${ruleWords(rule)}.`, async () => {
        await ask(Action.ruleRemove, rule);
        await refresh();
      });
      await refresh();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      add.disabled = false;
    }
  });
  fill();
  return form;
}

export async function rulesSection(refresh) {
  const chosen = await chosenContext();
  const book = await ask(Action.rulesGet, { context: chosen.context.id });
  const rule = (r) => ({ kind: r.kind, target: r.target }); // a daemon with contexts may say more about each
  return [
    heading("Rules", "What your vault does for every site, before any site asks. Sensitive items (such as your email address) are always asked about unless a rule says otherwise. Each context has its own rules."),
    contextFor(chosen, "rules", refresh),
    book.rules.length
      ? h("ul", { class: "card list plain rules" }, book.rules.map((r) => ruleRow(rule(r), chosen, refresh)))
      : h("p", { class: "notice", id: "no-rules" }, `No rules in ${chosen.context.name} yet: every site asks you, and you decide each time.`),
    editor(book, chosen, refresh),
  ];
}
