// The options page's contexts: each named set of rules and remembered choices (its own identity or not,
// Global Privacy Control on or off, which one is in use), renamed inline, removed behind a confirmation;
// a new one, maybe as a copy of another; and the sites that always use a context of their own.

import { Action, ask } from "./api.js";
import { h, replace, whenSwitched } from "./dom.js";
import { sentence, siteName } from "./format.js";
import { browserContext, siteChoices, untilText } from "./context-words.js";
import { confirmDialog, errorNotice, heading, tellDone } from "./options-ui.js";

const EVERYDAY = "everyday"; // every other context falls back to it; it cannot be removed

// "in use" for the context the browser uses now ("until 14:30" for a timed one).
function inUseTag(context, choices, now) {
  if (context.id !== browserContext(choices, now)?.id) return null;
  const timed = choices.timed?.id === context.id && choices.timed_until > now;
  return h("span", { class: "tag ok", id: "context-in-use" }, timed ? `in use until ${untilText(choices.timed_until, now)}` : "in use");
}

// A switch that changes the context at once ("separateIdentity" or "gpc").
function switchCell(context, field, label, refresh, fail) {
  const box = h("input", { type: "checkbox", class: "switch", role: "switch", checked: context[field === "gpc" ? "gpc" : "separate_identity"], "aria-label": `${label}: ${context.name}`, dataset: { switch: field } });
  whenSwitched(
    box,
    async (on) => {
      await ask(Action.contextChange, { context: context.id, [field]: on });
      await refresh();
    },
    fail,
  );
  return h("td", {}, h("label", { class: "row" }, box, h("span", { class: "small muted" }, box.checked ? "on" : "off")));
}

// The name (with `tag`, the "in use" mark), or the inline form that renames it.
function renameCell(context, tag, refresh, fail) {
  const cell = h("td", {});
  const show = () => replace(cell, h("span", { class: "context-name" }, context.name), tag ? [" ", tag] : null);
  const edit = () => {
    const input = h("input", { type: "text", value: context.name, maxlength: 40, "aria-label": `New name for ${context.name}`, id: "rename-input" });
    const save = h("button", { type: "submit", class: "button small primary", id: "rename-save" }, "Save");
    const cancel = h("button", { type: "button", class: "button small quiet" }, "Cancel");
    const form = h("form", { class: "rename-form" }, input, save, cancel);
    cancel.addEventListener("click", show);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        await ask(Action.contextRename, { context: context.id, name: input.value.trim() });
        await refresh();
      } catch (error) {
        fail(error);
        save.disabled = false;
      }
    });
    replace(cell, form);
    input.select();
  };
  show();
  return { cell, edit };
}

async function removeContext(context, refresh) {
  const ok = await confirmDialog({
    title: `Remove “${context.name}”?`,
    text: `Its rules and remembered decisions go, and sites that used it fall back to your other choices. What was shared in “${context.name}” stays in the history. This cannot be undone.`,
    confirm: "Remove",
  });
  if (!ok) return;
  try {
    await ask(Action.contextRemove, { context: context.id });
    tellDone(`“${context.name}” was removed. What was shared in it stays in the history.`);
  } catch (error) {
    tellDone(`${context.name} was not removed: ${sentence(error.message)}`);
  }
  await refresh();
}

function contextsTable(view, refresh, fail) {
  const now = Date.now() / 1000;
  return h(
    "table",
    { class: "table card contexts-table", id: "contexts" },
    h("thead", {}, h("tr", {}, h("th", {}, "Context"), h("th", {}, "Its own identity"), h("th", {}, "Global Privacy Control"), h("th", {}, h("span", { class: "visually-hidden" }, "Change")))),
    h(
      "tbody",
      {},
      view.contexts.map((context) => {
        const name = renameCell(context, inUseTag(context, view.choices, now), refresh, fail);
        const rename = h("button", { type: "button", class: "button small", dataset: { rename: context.id } }, "Rename");
        rename.addEventListener("click", name.edit);
        const remove = context.id === EVERYDAY ? null : h("button", { type: "button", class: "button small danger", dataset: { remove: context.id } }, "Remove");
        remove?.addEventListener("click", () => removeContext(context, refresh));
        return h(
          "tr",
          { dataset: { context: context.id, name: context.name } },
          name.cell,
          switchCell(context, "separateIdentity", "Its own identity", refresh, fail),
          switchCell(context, "gpc", "Global Privacy Control", refresh, fail),
          h("td", {}, h("div", { class: "row-actions" }, rename, remove)),
        );
      }),
    ),
  );
}

function siteChoicesList(view, refresh, fail) {
  const now = Date.now() / 1000;
  const sites = siteChoices(view.choices);
  if (!sites.length) return h("p", { class: "small muted", id: "no-site-choices" }, "No site has a context of its own: each uses the one in use for the whole browser. Choose one for a site from the toolbar button.");
  return h(
    "ul",
    { class: "card list plain site-choices", id: "site-choices" },
    sites.map((site) => {
      const remove = h("button", { type: "button", class: "button small quiet", dataset: { endSite: site.origin } }, "Remove");
      remove.addEventListener("click", async () => {
        remove.disabled = true;
        try {
          await ask(Action.contextEnd, { origin: site.origin });
          await refresh();
        } catch (error) {
          fail(error);
          remove.disabled = false;
        }
      });
      const until = site.until ? ` until ${untilText(site.until, now)}` : ", always";
      return h("li", { dataset: { origin: site.origin } }, h("strong", {}, siteName(site.origin)), h("span", { class: "muted" }, `uses ${site.name}${until}`), h("span", { class: "spacer" }), remove);
    }),
  );
}

function editor(view, refresh) {
  const name = h("input", { type: "text", id: "context-name", maxlength: 40, placeholder: "Work, Family, Urgent…", required: true });
  const copy = h("select", { id: "context-copy" }, h("option", { value: "" }, "Nothing: an empty context"), view.contexts.map((c) => h("option", { value: c.id }, `A copy of ${c.name}`)));
  const separate = h("input", { type: "checkbox", class: "switch", role: "switch", id: "context-separate" });
  const gpc = h("input", { type: "checkbox", class: "switch", role: "switch", id: "context-gpc", checked: true });
  const add = h("button", { type: "submit", class: "button primary", id: "context-add" }, "Add context");
  const error = h("p", { class: "notice error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "card stack context-editor", "aria-labelledby": "context-editor-title" },
    h("h2", { id: "context-editor-title" }, "Add a context"),
    h("div", { class: "fields" }, h("label", { for: "context-name" }, "Name"), name, h("label", { for: "context-copy" }, "Start with"), copy),
    h("label", { class: "check", for: "context-separate" }, separate, h("span", {}, h("strong", {}, "Its own identity"), h("span", { class: "small muted" }, " — sites cannot tell it is you in your other contexts."))),
    h("label", { class: "check", for: "context-gpc" }, gpc, h("span", {}, h("strong", {}, "Global Privacy Control"), h("span", { class: "small muted" }, " — asks sites not to sell or share your data, if its rules refuse that."))),
    error,
    h("div", { class: "row" }, h("span", { class: "spacer" }), add),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    add.disabled = true;
    try {
      const made = await ask(Action.contextAdd, { name: name.value.trim(), copyFrom: copy.value || undefined, separateIdentity: separate.checked, gpc: gpc.checked });
      tellDone(`${made.name} was added. Choose it from the toolbar button, for every site or one.`);
      await refresh();
    } catch (failure) {
      error.textContent = sentence(failure.message) + (failure.hint ? ` — ${failure.hint}` : "");
      error.hidden = false;
      add.disabled = false;
    }
  });
  return form;
}

export async function contextsSection(refresh) {
  const view = await ask(Action.contextsList);
  const status = h("div", { id: "contexts-status" });
  const fail = (error) => replace(status, errorNotice(error));
  return [
    heading("Contexts", "Each context has its own rules and remembered choices: everyday browsing, work, shopping for the family, something urgent. The toolbar button chooses which one answers a site."),
    status,
    contextsTable(view, refresh, fail),
    h("section", { class: "stack site-choices-section" }, h("h2", {}, "Sites with a context of their own"), siteChoicesList(view, refresh, fail)),
    editor(view, refresh),
  ];
}

// -- the context that rules and remembered choices are shown for ---------------------------------

let chosenId = null; // the user's pick while the page is open; at first the one in use for the browser

// {view, context, inUse, arg}: the contexts, the one chosen (still there, else the one in use), the one in
// use, and what to add to a change's arguments: the chosen one's id, always (the one in use may change in
// the popup while this page is open).
export async function chosenContext() {
  const view = await ask(Action.contextsList);
  const now = Date.now() / 1000;
  const inUse = browserContext(view.choices, now) ?? view.contexts[0];
  const context = view.contexts.find((c) => c.id === chosenId) ?? inUse;
  return { view, context, inUse, arg: { context: context.id } };
}

// "Context: [Work ▾] — in use for every site now": changing it redraws the section with `refresh`.
export function contextFor({ view, context, inUse }, what, refresh) {
  const select = h(
    "select",
    { id: "context-for", "aria-label": `Context of these ${what}` },
    view.contexts.map((c) => h("option", { value: c.id, selected: c.id === context.id }, c.id === inUse?.id ? `${c.name} (in use)` : c.name)),
  );
  select.addEventListener("change", () => {
    chosenId = select.value;
    refresh();
  });
  return h("div", { class: "context-for card" }, h("label", { for: "context-for" }, "Context"), select, h("span", { class: "small muted", id: "context-for-words" }, `${sentence(what)} for ${context.name}${context.id === inUse?.id ? ", the context in use now" : ""}.`));
}
