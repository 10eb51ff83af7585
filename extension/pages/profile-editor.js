// The profile editor's one Save: every field is checked first and each problem is said next to its field;
// when any is wrong nothing is sent. Then the changes go to the daemon one by one (it has no batch call);
// if the daemon refuses one, its words go next to that field and the changes already made are put back,
// so the vault is as it was. Removals can be undone from the bar at the top afterwards.

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
const put = (name, value) => (value === undefined ? ask(Action.profileDelete, { name }) : ask(Action.profileSet, { name, value }));

export function profileForm(sections, fields, refresh) {
  const status = h("p", { class: "save-status", id: "profile-save-status", role: "status" });
  const button = h("button", { type: "submit", class: "button primary", id: "profile-save" }, "Save");
  const form = h("form", { class: "profile-form", novalidate: true, "aria-describedby": "profile-save-status" }, sections, h("div", { class: "save-bar card" }, status, h("span", { class: "spacer" }), button));
  const say = (text, kind = "") => {
    status.textContent = text;
    status.className = `save-status ${kind}`;
  };

  // Puts back what this Save already changed (newest first); returns what could not be put back.
  async function putBack(done) {
    const failed = [];
    for (const change of done.reverse()) {
      await put(change.name, change.before).catch(() => failed.push(change.label));
    }
    return failed;
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
    const done = [];
    for (const change of changes) {
      try {
        await put(change.name, change.remove ? undefined : change.value);
        done.push(change);
      } catch (error) {
        change.field.problem(daemonWords(error, change.name));
        const failed = await putBack(done);
        button.disabled = false;
        const left = failed.length ? ` Could not put back ${words(failed)}: reload the page to see what is stored.` : "";
        say(`Error: nothing was saved: your vault refused ${change.label}.${left}`, "error-text");
        change.field.focus();
        return;
      }
    }
    await refresh();
    document.getElementById("profile-save")?.focus();
    const removed = changes.filter((c) => c.remove);
    const kept = changes.filter((c) => !c.remove);
    const text = [kept.length ? `Saved ${words(kept.map((c) => c.label))}.` : "Saved.", removed.length ? `Removed ${words(removed.map((c) => c.label))}.` : ""].join(" ").trim();
    if (!removed.length) return tellDone(text);
    offerUndo(text, async () => {
      for (const change of removed) await put(change.name, change.before);
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
