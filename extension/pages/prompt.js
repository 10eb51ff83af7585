// The consent prompt: who asks, why, what they get, and each claim with the exact value that would be
// sent. The user can untick optional claims, choose "just this time" or "remember", Share or Deny.
// Closing the window counts as Deny (this time only): the worker answers the page at once.
//
// Keyboard: focus starts on the purpose's title; Tab walks the switches, the choice, then Deny and
// Share; Enter in the form shares (Share is the submit button), Escape denies.

import { Action, ask } from "./api.js";
import { $, h, replace } from "./dom.js";
import { claimLabel, retentionWords, sentence, siteName, timeText, valueHint, valueText } from "./format.js";

const app = $("#app");
const promptId = new URLSearchParams(location.search).get("id") ?? "";
const CLOSE_AFTER_MS = 1500;

const WHY_ASKED = {
  changed: "The site changed what it asks for since you last decided.",
  expired: "Your earlier decision has expired.",
  always_ask: "You are always asked before this is shared.",
};

// A letter for the site's badge: the host's first letter, or the controller's for an IP address.
function siteInitial(view) {
  const host = siteName(view.origin);
  const letter = /^[a-z]/i.test(host) ? host : view.controller?.name ?? "?";
  return letter.charAt(0).toUpperCase();
}

function controllerLine(controller) {
  const parts = [h("span", { class: "muted" }, "Run by ", h("strong", {}, controller.name))];
  if (controller.contact) {
    const mail = /^[^\s@]+@[^\s@]+$/.test(controller.contact);
    parts.push(mail ? h("a", { href: `mailto:${controller.contact}` }, controller.contact) : h("span", {}, controller.contact));
  }
  if (/^https:\/\//.test(controller.privacy_policy ?? "")) {
    parts.push(h("a", { href: controller.privacy_policy, target: "_blank", rel: "noopener noreferrer" }, "Privacy policy"));
  }
  return h("p", { class: "controller small" }, parts.flatMap((part, i) => (i ? [h("span", { "aria-hidden": "true" }, " · "), part] : [part])));
}

function questionRow(question, index) {
  const id = `claim-${index}`;
  const hint = valueHint(question.claim, question.value);
  const note = WHY_ASKED[question.asked_because];
  return h(
    "li",
    { class: "claim" },
    h("input", {
      type: "checkbox",
      class: "switch",
      id,
      name: "claim",
      value: question.claim,
      checked: true,
      role: "switch",
      "aria-describedby": `${id}-about`,
      dataset: { required: question.required ? "yes" : "no" },
    }),
    h(
      "div",
      { class: "claim-body" },
      h(
        "div",
        { class: "claim-top" },
        h("label", { for: id }, claimLabel(question.claim)),
        question.required ? h("span", { class: "tag required" }, "Required") : null,
        question.sensitivity === "high" ? h("span", { class: "tag high" }, "Sensitive") : null,
        h("span", { class: "spacer" }),
        hint ? h("span", { class: "small muted value-hint" }, hint) : null,
        h("span", { class: "value", title: `sent as ${question.claim} = ${JSON.stringify(question.value)}` }, valueText(question.value)),
      ),
      h(
        "div",
        { class: "claim-about small", id: `${id}-about` },
        h("p", {}, h("span", { class: "muted" }, "Reveals "), question.reveals),
        h("p", {}, h("span", { class: "muted" }, "Why: "), question.why),
        note ? h("p", { class: "muted" }, note) : null,
      ),
    ),
  );
}

function otherClaims(view) {
  const sections = [];
  const allowed = Object.entries(view.already_allowed ?? {});
  if (allowed.length) {
    sections.push(
      h(
        "div",
        { class: "also" },
        h("h3", {}, "Also sent: you allowed these before"),
        h("ul", { class: "plain" }, allowed.map(([claim, value]) => h("li", {}, h("span", {}, claimLabel(claim)), h("span", { class: "value" }, valueText(value))))),
      ),
    );
  }
  const dropped = Object.entries(view.dropped ?? {});
  if (dropped.length) {
    sections.push(
      h(
        "div",
        { class: "also" },
        h("h3", {}, "Not sent"),
        h("ul", { class: "plain" }, dropped.map(([claim, reason]) => h("li", {}, h("span", {}, claimLabel(claim)), h("span", { class: "muted small" }, reason)))),
      ),
    );
  }
  return sections;
}

function details(view) {
  const parties = view.third_parties ?? [];
  return h(
    "dl",
    { class: "details" },
    h("div", {}, h("dt", {}, "Kept for"), h("dd", {}, retentionWords(view.retention))),
    h(
      "div",
      {},
      h("dt", {}, "Also seen by"),
      h("dd", {}, parties.length ? h("ul", { class: "plain" }, parties.map((p) => h("li", {}, h("strong", {}, p.name), h("span", { class: "muted" }, ` — ${p.why}`)))) : "No one else"),
    ),
  );
}

const CHOICE_HELP = {
  once: "You will be asked again next time.",
  remember: "Next time your answer is given without asking. You can revoke it any time.",
};

function choice() {
  const help = h("p", { class: "small muted", id: "choice-help" }, CHOICE_HELP.once);
  const option = (value, label, checked) =>
    h("label", { class: "option" }, h("input", { type: "radio", name: "remember", value, checked, "aria-describedby": "choice-help" }), h("span", {}, label));
  const fieldset = h(
    "fieldset",
    { class: "choice" },
    h("legend", {}, "Your answer counts"),
    h("div", { class: "segmented" }, option("once", "Just this time", true), option("remember", "Remember for this site")),
    help,
  );
  fieldset.addEventListener("change", (event) => {
    if (event.target.name === "remember") help.textContent = CHOICE_HELP[event.target.value];
  });
  return fieldset;
}

function render(view) {
  const questions = view.questions ?? [];
  const anyRequired = questions.some((q) => q.required);
  const warning = h("p", { class: "notice warn", hidden: true, role: "status" }, "You switched off something this purpose requires, so nothing will be shared.");
  const shareButton = h("button", { type: "submit", class: "button primary", id: "share" }, "Share");
  const denyButton = h("button", { type: "button", class: "button", id: "deny" }, "Deny");
  const form = h(
    "form",
    { class: "prompt", "aria-labelledby": "title" },
    h(
      "header",
      { class: "site" },
      h("div", { class: "site-mark", "aria-hidden": "true" }, siteInitial(view)),
      h("div", { class: "site-text" }, h("p", { class: "site-name", id: "site", title: view.origin }, siteName(view.origin)), controllerLine(view.controller)),
    ),
    h(
      "div",
      { class: "section intro" },
      h("p", { class: "asks" }, "asks to use some of your information for"),
      h("h1", { id: "title", tabindex: "-1" }, view.purpose.title),
      h("p", {}, view.purpose.description),
      h("p", { class: "benefit" }, h("strong", {}, "What you get: "), view.purpose.benefit),
    ),
    h(
      "section",
      { class: "section", "aria-labelledby": "shared-heading" },
      h("h2", { id: "shared-heading" }, "What would be shared"),
      h("p", { class: "small muted" }, "Exactly these values, nothing more. Switch off what you would rather keep."),
      h("ul", { class: "claims" }, questions.map(questionRow)),
      anyRequired ? h("p", { class: "small muted required-note" }, "Items marked ", h("span", { class: "tag required" }, "Required"), " are needed for this purpose: switching one off means nothing is shared.") : null,
      warning,
      otherClaims(view),
    ),
    h("section", { class: "section", "aria-label": "Retention and third parties" }, details(view), choice()),
    h(
      "footer",
      { class: "actions" },
      h("p", { class: "small muted" }, `Closing this window counts as Deny. The request expires at ${timeText(view.expires_at)}.`),
      h("div", { class: "buttons" }, denyButton, shareButton),
    ),
  );

  form.addEventListener("change", () => {
    const droppedRequired = [...form.querySelectorAll('input[name="claim"][data-required="yes"]')].some((box) => !box.checked);
    const anyChecked = [...form.querySelectorAll('input[name="claim"]')].some((box) => box.checked) || Object.keys(view.already_allowed ?? {}).length > 0;
    warning.hidden = !droppedRequired;
    shareButton.textContent = droppedRequired || !anyChecked ? "Share nothing" : "Share";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(view, form, true);
  });
  denyButton.addEventListener("click", () => submit(view, form, false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !form.dataset.busy) {
      event.preventDefault();
      submit(view, form, false);
    }
  });

  replace(app, form);
  document.title = `${siteName(view.origin)} asks: ${view.purpose.title} · Personal Vault`;
  $("#title").focus();
}

async function submit(view, form, share) {
  if (form.dataset.busy) return;
  form.dataset.busy = "yes";
  for (const button of form.querySelectorAll("button")) button.disabled = true;
  const claims = share ? [...form.querySelectorAll('input[name="claim"]:checked')].map((box) => box.value) : [];
  const remember = form.querySelector('input[name="remember"]:checked')?.value === "remember";
  try {
    const answer = await ask(Action.promptDecide, { id: view.id, share, claims, remember });
    showDone(view, answer);
  } catch (error) {
    delete form.dataset.busy;
    for (const button of form.querySelectorAll("button")) button.disabled = false;
    const message = error.code === "vault_locked" ? "Your vault is locked. Unlock it from the toolbar button, then answer again." : `${sentence(error.message)}${error.hint ? ` (${error.hint})` : ""}`;
    form.querySelector(".actions .error")?.remove();
    form.querySelector(".actions").prepend(h("p", { class: "notice error error", role: "alert" }, message));
  }
}

function showDone(view, answer) {
  const granted = answer.outcome === "granted";
  const shared = Object.entries(answer.claims ?? {});
  replace(
    app,
    h(
      "div",
      { class: "done", role: "status" },
      h("div", { class: `done-mark ${granted ? "ok" : ""}`, "aria-hidden": "true" }, granted ? "✓" : "–"),
      h("h1", { tabindex: "-1", id: "done" }, granted ? `Shared with ${siteName(view.origin)}` : "Nothing was shared"),
      granted
        ? h("ul", { class: "plain shared" }, shared.map(([claim, value]) => h("li", {}, h("span", {}, claimLabel(claim)), h("span", { class: "value" }, valueText(value)))))
        : h("p", { class: "muted" }, sentence(answer.detail ?? answer.message ?? "")),
      h("p", { class: "small muted" }, "This window closes by itself."),
    ),
  );
  $("#done").focus();
  setTimeout(() => window.close(), CLOSE_AFTER_MS);
}

function showMessage(title, text, hint) {
  replace(
    app,
    h(
      "div",
      { class: "done" },
      h("h1", { tabindex: "-1", id: "message" }, title),
      h("p", { class: "muted" }, text),
      hint ? h("p", { class: "small muted" }, hint) : null,
      h("button", { class: "button", type: "button", onclick: () => window.close() }, "Close"),
    ),
  );
  $("#message").focus();
  document.addEventListener("keydown", (event) => event.key === "Escape" && window.close());
}

async function main() {
  let view;
  try {
    view = await ask(Action.promptGet, { id: promptId });
  } catch (error) {
    return showMessage("This request cannot be shown", sentence(error.message), error.hint);
  }
  if (view.state === "expired") return showMessage("This request expired", "The site waited too long for an answer. Nothing was shared; the site can ask again.");
  if (view.state !== "pending") return showMessage("Already answered", "You have already answered this request.");
  render(view);
}

main();
