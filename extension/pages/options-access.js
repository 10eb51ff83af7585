// The site details' "What it says it holds": every access request asked of the site (newest first, the
// daemon keeps 20), each with its answer and what differs from the ledger, the holdings kept past their
// promise, and "Ask now". Fills itself in once the daemon answered (the rest of the details do not wait).

import { Action, ask } from "./api.js";
import { h, replace } from "./dom.js";
import { dateText, sentence, siteName } from "./format.js";
import { accessView, overdueList } from "./access-view.js";

function history(state, names) {
  const now = Date.now() / 1000;
  if (!state.requests.length) return h("p", { class: "small muted" }, "Never asked.");
  return h(
    "ol",
    { class: "plain access-history" },
    state.requests.map((view) => h("li", { class: "access-entry" }, h("p", { class: "small muted" }, `Asked ${dateText(view.asked_at, { time: true })}${view.reason === "retention_end" ? ", when its retention ended" : ""}`), accessView(view, now, names))),
  );
}

export async function accessHistory(origin, names) {
  const area = h("div", { class: "access-block stack", dataset: { origin } });
  const load = async () => {
    try {
      const state = await ask(Action.accessGet, { origin });
      const button = h("button", { type: "button", class: "button small", dataset: { askAccess: origin } }, "Ask now");
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await ask(Action.accessAsk, { origin });
        } catch (error) {
          area.append(h("p", { class: "notice error", role: "alert" }, sentence(error.message)));
        }
        await load();
      });
      replace(
        area,
        h("div", { class: "row" }, h("h3", {}, "What it holds about you"), h("span", { class: "spacer" }), state.access_endpoint ? button : null),
        state.access_endpoint ? null : h("p", { class: "small muted" }, `No access endpoint: ${siteName(origin)} does not say where to ask it what it holds.`),
        overdueList(state.overdue),
        history(state, names),
      );
    } catch (error) {
      replace(area, h("p", { class: "small muted" }, `Cannot read what it said it holds: ${sentence(error.message)}.`));
    }
  };
  await load(); // before the view is shown: filled in later, it would move the buttons below as they are clicked
  return area;
}
