// The unlock form, shared by the popup and the options page.

import { Action, ask } from "./api.js";
import { h } from "./dom.js";
import { sentence } from "./format.js";

// A form that unlocks the vault and then calls onUnlocked(). `waiting`: requests that wait for it.
export function unlockForm({ onUnlocked, waiting = 0, autofocus = true }) {
  const input = h("input", { type: "password", id: "passphrase", name: "passphrase", autocomplete: "current-password", required: true, autofocus });
  const error = h("p", { class: "notice error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "button primary", id: "unlock" }, "Unlock");
  const form = h(
    "form",
    { class: "unlock stack" },
    waiting > 0
      ? h("p", { class: "notice warn" }, waiting === 1 ? "1 request is waiting for your vault; it goes on once you unlock." : `${waiting} requests are waiting for your vault; they go on once you unlock.`)
      : null,
    h("div", { class: "stack field" }, h("label", { for: "passphrase" }, "Passphrase"), input),
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    button.textContent = "Unlocking…";
    error.hidden = true;
    try {
      await ask(Action.unlock, { passphrase: input.value });
      input.value = "";
      onUnlocked();
    } catch (failure) {
      error.textContent =
        failure.code === "wrong_passphrase"
          ? "That passphrase is not right. Try again."
          : `${sentence(failure.message)}${failure.hint ? ` — ${failure.hint}` : ""}`;
      error.hidden = false;
      input.select();
    } finally {
      button.disabled = false;
      button.textContent = "Unlock";
    }
  });
  return form;
}
