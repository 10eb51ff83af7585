// The profile editor's one Save: every field is checked first and each problem is said next to its field;
// when any is wrong nothing is sent. Then every change goes to the daemon in one call, which stores all of
// them in one transaction or, when it refuses any, none (POST /v1/attributes/changes): its words for each
// refused entry go next to that field, and there is nothing to put back. Removals can be undone from the
// bar at the top afterwards.

import { Action, ask } from "./api.js";
import { h } from "./dom.js";
import { sentence } from "./format.js";
import { offerUndo, tellDone } from "./options-ui.js";

// The daemon says "interests: 'x' is not valid: ..."; next to the field, its name is not needed.
function daemonWords(error, name) {
  const message = sentence(String(error.message ?? "").replace(`${name}: `, ""));
  return error.hint ? `${message} (${error.hint})` : message;
}

const words = (labels) => (labels.length <= 1 ? labels.join("") : `${labels.slice(0, -1).join(", ")} and ${labels.at(-1)}`);

// One call for all of them: { name: value } to set, and the names to remove.
function send(changes) {
  const set = Object.fromEntries(changes.filter((c) => !c.remove).map((c) => [c.name, c.value]));
  return ask(Action.profileChange, { set, remove: changes.filter((c) => c.remove).map((c) => c.name) });
}

export function profileForm(sections, fields, refresh) {
  const status = h("p", { class: "save-status", id: "profile-save-status", role: "status" });
  const button = h("button", { type: "submit", class: "button primary", id: "profile-save" }, "Save");
  const form = h("form", { class: "profile-form", novalidate: true, "aria-describedby": "profile-save-status" }, sections, h("div", { class: "save-bar card" }, status, h("span", { class: "spacer" }), button));
  const say = (text, kind = "") => {
    status.textContent = text;
    status.className = `save-status ${kind}`;
  };

  // The daemon refused some entries and stored nothing: each one's words next to its own field.
  function refused(error, changes) {
    const wrong = changes.filter((c) => error.problems.some((p) => p.name === c.name));
    for (const change of wrong) change.field.problem(daemonWords(error.problems.find((p) => p.name === change.name), change.name));
    button.disabled = false;
    const labels = wrong.map((c) => c.label);
    say(labels.length ? `Error: nothing was saved: your vault refused ${words(labels)}.` : `Error: ${sentence(error.message)}`, "error-text");
    wrong[0]?.field.focus();
  }

  async function save() {
    fields.forEach((field) => field.clear());
    const changes = [];
    const wrong = [];
    for (const field of fields) {
      const change = field.change();
      if (!change) continue;
      if (change.problem) {
        if (field.name) field.problem(change.problem); // the custom row has already said it
        wrong.push(field);
      } else changes.push({ field, name: change.name ?? field.name, label: change.label ?? field.label, value: change.value, before: field.saved, remove: change.remove === true });
    }
    if (wrong.length) {
      say(`Error: nothing was saved. Fix ${wrong.length === 1 ? "this field" : `these ${wrong.length} fields`} first: ${words(wrong.map((f) => f.label))}.`, "error-text");
      wrong[0].focus();
      return;
    }
    if (!changes.length) return say("Nothing has changed.");
    button.disabled = true;
    say("Saving…");
    try {
      await send(changes);
    } catch (error) {
      if (!error.problems?.length) throw error; // locked, not paired, ...: said in the bar, as before
      return refused(error, changes);
    }
    await refresh();
    document.getElementById("profile-save")?.focus();
    const removed = changes.filter((c) => c.remove);
    const kept = changes.filter((c) => !c.remove);
    const text = [kept.length ? `Saved ${words(kept.map((c) => c.label))}.` : "Saved.", removed.length ? `Removed ${words(removed.map((c) => c.label))}.` : ""].join(" ").trim();
    if (!removed.length) return tellDone(text);
    offerUndo(text, async () => {
      await send(removed.map((c) => ({ ...c, value: c.before, remove: false })));
      await refresh();
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save().catch((error) => {
      button.disabled = false;
      say(`Error: ${sentence(error.message)}`, "error-text");
    });
  });
  return form;
}
