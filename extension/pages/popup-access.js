// The popup's "Ask what it holds": sends the site a signed access request now (the daemon waits up to
// 12 s for its answer) and shows, per purpose, what the site says it holds and every way that differs
// from the ledger; or that it has no access endpoint, or when the vault tries again. The last answer
// is shown on opening; holdings kept past their promise are flagged at the top (overdueList).

import { Action, ask } from "./api.js";
import { h, replace } from "./dom.js";
import { sentence, siteName } from "./format.js";
import { accessView } from "./access-view.js";

// What GET /v1/access says, or null when it cannot be read (the popup shows the rest anyway).
export async function accessState(origin) {
  try {
    return await ask(Action.accessGet, { origin });
  } catch {
    return null;
  }
}

export function accessSection(origin, state, names) {
  const result = h("div", { id: "access-result" });
  const button = h("button", { type: "button", class: "button", id: "ask-access" }, "Ask what it holds");
  const latest = state?.requests?.[0];
  if (latest) replace(result, accessView(latest, Date.now() / 1000, names));
  button.addEventListener("click", async () => {
    button.disabled = true;
    replace(result, h("p", { class: "small muted", role: "status" }, `Asking ${siteName(origin)}… (this can take a few seconds)`));
    try {
      replace(result, accessView(await ask(Action.accessAsk, { origin }), Date.now() / 1000, names));
    } catch (error) {
      replace(result, h("p", { class: "notice error", role: "alert" }, sentence(error.message)));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "div",
    { class: "stack", id: "access" },
    h("h2", {}, "What it holds about you"),
    h("p", { class: "small muted" }, `Ask ${siteName(origin)} for a signed statement of what it holds, and compare it with what your vault gave it.`),
    button,
    result,
  );
}
