// Pieces every section of the options page uses: headings, error notices, the confirmation dialog for
// what cannot be undone, and the undo bar for what can.

import { $, h, replace } from "./dom.js";
import { sentence } from "./format.js";

export function errorNotice(error) {
  return h("p", { class: "notice error", role: "alert" }, sentence(error.message), error.hint ? ` — ${error.hint}` : "");
}

export function heading(title, text) {
  return h("div", { class: "section-head" }, h("h1", {}, title), text ? h("p", { class: "muted" }, text) : null);
}

// An in-page modal (a <dialog>): resolves true when the user confirms, false on Cancel or Escape. Focus
// starts on Cancel: the safe answer is the one a stray Enter gives.
export function confirmDialog({ title, text, confirm, danger = true, extra = null }) {
  return new Promise((resolve) => {
    const yes = h("button", { type: "button", class: `button ${danger ? "danger" : "primary"}`, id: "confirm-yes" }, confirm);
    const no = h("button", { type: "button", class: "button", id: "confirm-no" }, "Cancel");
    const dialog = h(
      "dialog",
      { class: "confirm card", id: "confirm-dialog", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
      h("h2", { id: "confirm-title" }, title),
      h("p", { id: "confirm-text" }, text),
      extra,
      h("div", { class: "row confirm-buttons" }, h("span", { class: "spacer" }), no, yes),
    );
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => finish(true));
    no.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

// The undo bar under the masthead: what was just done, and an Undo for it. One at a time: a new action
// replaces it; it stays until then (no timer: the user reads at their own pace).
export function offerUndo(text, undo) {
  const bar = $("#undo-bar");
  const button = h("button", { type: "button", class: "button small", id: "undo" }, "Undo");
  const close = h("button", { type: "button", class: "button small quiet", "aria-label": "Dismiss" }, "✕");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await undo();
      replace(bar, h("span", {}, "Undone."));
    } catch (error) {
      replace(bar, h("span", { class: "error-text" }, `Could not undo: ${sentence(error.message)}`));
    }
  });
  close.addEventListener("click", () => clearUndo());
  replace(bar, h("span", { id: "undo-text" }, text), h("span", { class: "spacer" }), button, close);
  bar.hidden = false;
}

// After an action that cannot be undone: what it did, without an Undo.
export function tellDone(text) {
  const bar = $("#undo-bar");
  const close = h("button", { type: "button", class: "button small quiet", "aria-label": "Dismiss" }, "✕");
  close.addEventListener("click", () => clearUndo());
  replace(bar, h("span", { id: "undo-text" }, text), h("span", { class: "spacer" }), close);
  bar.hidden = false;
}

export function clearUndo() {
  const bar = $("#undo-bar");
  replace(bar);
  bar.hidden = true;
}
