// The popup's context chooser, at the top: which context answers this site now and why ("Context: Work —
// always on this site"), a choice of context, and where it applies: every site, only this site, or the
// next hour; "Back to Everyday" ends a site's own or a timed choice. The worker lets GPC follow a switch
// (background/actions-contexts.js onContextSwitch).

import { Action, ask } from "./api.js";
import { h, replace } from "./dom.js";
import { sentence } from "./format.js";
import { TIMED_MINUTES, activeWords, previousContext } from "./context-words.js";

function render(area, origin, view, onSwitched) {
  const now = Date.now() / 1000;
  const active = view.active;
  const select = h(
    "select",
    { id: "context-select", "aria-label": "Context" },
    view.contexts.map((c) => h("option", { value: c.id, selected: c.id === active?.context.id }, c.name)),
  );
  const status = h("p", { class: "small error-text", role: "alert", hidden: true });
  const buttons = [];
  const act = (label, id, action, args) => {
    const button = h("button", { type: "button", class: "button small", id }, label);
    button.addEventListener("click", async () => {
      for (const b of buttons) b.disabled = true;
      try {
        await ask(action, args());
        await onSwitched();
      } catch (error) {
        status.textContent = sentence(error.message);
        status.hidden = false;
        for (const b of buttons) b.disabled = false;
      }
    });
    buttons.push(button);
    return button;
  };
  const chosen = () => ({ context: select.value });
  const previous = previousContext(view, now);
  const back = previous
    ? act(`Back to ${previous.name}`, "context-back", Action.contextEnd, () => (active.source === "site" ? { origin } : {}))
    : null;
  replace(
    area,
    h("p", { class: "context-line", id: "context-line" }, activeWords(active, now)),
    h("div", { class: "context-pick" }, select, back),
    h(
      "div",
      { class: "context-where" },
      act("Use on every site", "context-everywhere", Action.contextUse, chosen),
      act("Only on this site", "context-site", Action.contextUse, () => ({ ...chosen(), origin })),
      act("For the next hour", "context-hour", Action.contextUse, () => ({ ...chosen(), minutes: TIMED_MINUTES })),
    ),
    status,
  );
}

// The chooser for `origin`; `onSwitched` redraws the popup (what this site is answered with may change).
export async function contextSection(origin, onSwitched) {
  const area = h("section", { class: "context-chooser", id: "context-chooser", "aria-label": "Context" });
  try {
    const view = await ask(Action.contextsList, { origin });
    area.dataset.context = view.active?.context.id ?? ""; // the popup shows this context's remembered choices
    render(area, origin, view, onSwitched);
  } catch (error) {
    replace(area, h("p", { class: "small muted" }, `Cannot read your contexts: ${sentence(error.message)}.`));
  }
  return area;
}
