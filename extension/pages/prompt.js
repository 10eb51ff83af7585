// The consent prompt: who asks, why, what they get, and each claim with the exact value that would be
// sent. Private by default: required claims start on, optional ones off, and the user switches on what
// they want to add; then "just this time" or "remember", Share or Deny (two equal buttons).
// Closing the window counts as Deny (this time only): the worker answers the page at once.
//
// Keyboard: focus starts on the purpose's title; Tab walks the switches, the choice, then Deny and
// Share; Enter in the form shares (Share is the submit button), Escape denies (this time only).
//
// Like browsers' permission prompts, the prompt ignores input for INPUT_DELAY_MS after it appears and
// after it regains focus: its buttons and switches are disabled meanwhile, so a page cannot open it under
// the user's fingers and have a key press or click meant for the page share something. Escape and
// closing the window stay immediate: they only deny, this time.

import { Action, ask } from "./api.js";
import { $, h, replace } from "./dom.js";
import { claimLabel, controllerChangeWords, keptAndSharedWords, retentionWords, sentence, siteName, timeText, valueHint, valueText } from "./format.js";
import { droppedRequiredParty, markReceived, partiesSection, switchedOn } from "./prompt-parties.js";
import { promptContextWords } from "./context-words.js";

const app = $("#app");
const promptId = new URLSearchParams(location.search).get("id") ?? "";
const CLOSE_AFTER_MS = 1500;
const INPUT_DELAY_MS = 1000;

const WHY_ASKED = {
  changed: "The site changed what it asks for since you last decided.",
  expired: "Your earlier decision has expired.",
  always_ask: "You are always asked before this is shared.",
  controller_changed: "You decided this when the site was run by someone else.",
};

// A letter for the site's badge: the host's first letter, or the controller's for an IP address.
function siteInitial(view) {
  const host = siteName(view.origin);
  const letter = /^[a-z]/i.test(host) ? host : view.controller?.name ?? "?";
  return letter.charAt(0).toUpperCase();
}

// The controller's contact and privacy policy, as links where they are addresses.
function controllerContacts(controller) {
  const parts = [];
  if (controller.contact) {
    const mail = /^[^\s@]+@[^\s@]+$/.test(controller.contact);
    parts.push(mail ? h("a", { href: `mailto:${controller.contact}` }, controller.contact) : h("span", {}, controller.contact));
  }
  if (/^https:\/\//.test(controller.privacy_policy ?? "")) {
    parts.push(h("a", { href: controller.privacy_policy, target: "_blank", rel: "noopener noreferrer" }, "Privacy policy"));
  }
  return parts;
}

function dotted(parts) {
  return parts.flatMap((part, i) => (i ? [h("span", { "aria-hidden": "true" }, " · "), part] : [part]));
}

// "Context: Work" (and "its own identity" when the context keeps one): whose rules and remembered
// answers this prompt is in, and what it will remember into.
function contextLine(view) {
  const words = promptContextWords(view.context);
  return words ? h("p", { class: "prompt-context small muted", id: "prompt-context" }, words) : null;
}

function controllerLine(controller) {
  const parts = [h("span", { class: "muted" }, "Run by ", h("strong", {}, controller.name)), ...controllerContacts(controller)];
  return h("p", { class: "controller small" }, dotted(parts));
}

// Remembered answers were given to another company: say so first, with the new one's contacts.
function controllerChangeNotice(view) {
  const before = view.controller_changed_from;
  if (!before) return null;
  const contacts = controllerContacts(view.controller);
  return h(
    "div",
    { class: "notice warn controller-change", id: "controller-change", role: "note" },
    h("p", {}, h("strong", {}, controllerChangeWords(view.controller, before))),
    h("p", { class: "small" }, `What you decided before was for ${before.name}, so you are asked again.`),
    contacts.length ? h("p", { class: "controller small" }, dotted(contacts)) : null,
  );
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
      checked: question.required, // private by default: the user switches on what to add
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
  return h("dl", { class: "details" }, h("div", {}, h("dt", {}, "Kept for"), h("dd", {}, retentionWords(view.retention))));
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
  // Two equal answers: neither is the coloured default.
  const shareButton = h("button", { type: "submit", class: "button answer", id: "share" }, "Share");
  const denyButton = h("button", { type: "button", class: "button answer", id: "deny" }, "Deny");
  const form = h(
    "form",
    { class: "prompt", "aria-labelledby": "title" },
    controllerChangeNotice(view),
    h(
      "header",
      { class: "site" },
      h("div", { class: "site-mark", "aria-hidden": "true" }, siteInitial(view)),
      h("div", { class: "site-text" }, h("p", { class: "site-name", id: "site", title: view.origin }, siteName(view.origin)), controllerLine(view.controller), contextLine(view)),
    ),
    h(
      "div",
      { class: "section intro" },
      h("p", { class: "asks" }, "asks to use some of your information for"),
      h("h1", { id: "title", tabindex: "-1" }, view.purpose.title),
      h("p", { class: "summary", id: "summary" }, keptAndSharedWords(view.retention, view.third_parties ?? [])),
      h("p", {}, view.purpose.description),
      h("p", { class: "benefit" }, h("strong", {}, "What you get: "), view.purpose.benefit),
    ),
    h(
      "section",
      { class: "section", "aria-labelledby": "shared-heading" },
      h("h2", { id: "shared-heading" }, "What would be shared"),
      questions.length
        ? [h("p", { class: "small muted" }, "Exactly these values, nothing more. Optional items start off: switch on what you want to share."), h("ul", { class: "claims" }, questions.map(questionRow))]
        : h("p", { class: "small muted", id: "nothing-new" }, "Nothing new: only what you allowed before, listed below. You are asked about who else would receive it."),
      anyRequired ? h("p", { class: "small muted required-note" }, "Items marked ", h("span", { class: "tag required" }, "Required"), " are needed for this purpose: switching one off means nothing is shared.") : null,
      otherClaims(view),
    ),
    partiesSection(view),
    h("section", { class: "section", "aria-label": "Retention and your choice" }, details(view), choice()),
    h(
      "footer",
      { class: "actions" },
      warning, // in the footer, always in view: a required switch may be far down the page
      h("p", { class: "small muted" }, `Closing this window counts as Deny. The request expires at ${timeText(view.expires_at)}.`),
      h("div", { class: "buttons" }, denyButton, shareButton),
    ),
  );

  const updateShareLabel = () => {
    const droppedRequired = [...form.querySelectorAll('input[name="claim"][data-required="yes"]')].some((box) => !box.checked) || droppedRequiredParty(form, view);
    const anyChecked = [...form.querySelectorAll('input[name="claim"]')].some((box) => box.checked) || Object.keys(view.already_allowed ?? {}).length > 0;
    warning.hidden = !droppedRequired;
    markReceived(form, view);
    shareButton.textContent = droppedRequired || !anyChecked ? "Share nothing" : "Share";
  };
  form.addEventListener("change", updateShareLabel);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(view, form, { share: true });
  });
  denyButton.addEventListener("click", () => submit(view, form, { share: false }));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !form.dataset.busy) {
      event.preventDefault();
      submit(view, form, { share: false, once: true }); // like closing the window: at once, never remembered
    }
  });

  replace(app, form);
  updateShareLabel();
  ignoreInputAtFirst(form);
  document.title = `${siteName(view.origin)} asks: ${view.purpose.title} · Personal Vault`;
  $("#title").focus();
}

// The form's controls are enabled only while it is neither answering nor waiting out INPUT_DELAY_MS.
function syncControls(form) {
  const off = Boolean(form.dataset.busy || form.dataset.waiting);
  for (const control of form.querySelectorAll("button, input")) control.disabled = off;
}

// Input within INPUT_DELAY_MS of the prompt appearing, or of its window regaining focus, does nothing:
// the controls are disabled (a disabled control drops a click or key press; nothing is queued), and a
// capturing listener drops clicks and Enter/Space anywhere else (the controller's links). Escape and Tab
// pass. The performance marks let the tests measure the delay.
function ignoreInputAtFirst(form) {
  let timer = null;
  const hold = () => {
    clearTimeout(timer);
    form.dataset.waiting = "yes";
    syncControls(form);
  };
  const release = (until) => {
    const left = until - performance.now(); // a timer may fire a little early: never release before time
    if (left > 0) {
      timer = setTimeout(() => release(until), left);
      return;
    }
    delete form.dataset.waiting;
    syncControls(form);
    performance.mark("prompt-input-enabled");
  };
  const restart = () => {
    hold();
    const started = performance.mark("prompt-input-delay").startTime;
    timer = setTimeout(() => release(started + INPUT_DELAY_MS), INPUT_DELAY_MS);
  };
  const drop = (event) => {
    if (!form.dataset.waiting) return;
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    event.stopImmediatePropagation();
  };
  for (const type of ["click", "auxclick", "keydown", "submit"]) window.addEventListener(type, drop, true);
  window.addEventListener("blur", hold);
  window.addEventListener("focus", restart);
  document.addEventListener("visibilitychange", () => (document.visibilityState === "visible" ? restart() : hold()));
  restart();
}

async function submit(view, form, { share, once = false }) {
  if (form.dataset.busy || (share && form.dataset.waiting)) return; // only a denial (Escape) may come early
  form.dataset.busy = "yes";
  syncControls(form);
  const claims = share ? [...form.querySelectorAll('input[name="claim"]:checked')].map((box) => box.value) : [];
  const recipients = share ? switchedOn(form) : [];
  const remember = !once && form.querySelector('input[name="remember"]:checked')?.value === "remember";
  try {
    const answer = await ask(Action.promptDecide, { id: view.id, share, claims, recipients, remember });
    showDone(view, answer);
  } catch (error) {
    delete form.dataset.busy;
    syncControls(form);
    const message = error.code === "vault_locked" ? "Your vault is locked. Unlock it from the toolbar button, then answer again." : `${sentence(error.message)}${error.hint ? ` (${error.hint})` : ""}`;
    form.querySelector(".actions .notice.error")?.remove();
    form.querySelector(".actions").prepend(h("p", { class: "notice error", role: "alert" }, message));
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
      granted ? h("p", { class: "small muted", id: "done-recipients" }, recipientsWords(view, answer.recipients ?? [])) : null,
      h("p", { class: "small muted" }, "This window closes by itself."),
    ),
  );
  $("#done").focus();
  setTimeout(() => window.close(), CLOSE_AFTER_MS);
}

// "Also passed on to Example Stock Check Ltd." / "Not passed on to anyone else."
function recipientsWords(view, ids) {
  const names = (view.third_parties ?? []).filter((p) => ids.includes(p.id)).map((p) => p.name);
  return names.length ? `The site may pass it on to ${names.join(" and ")} only.` : "The site may not pass it on to anyone.";
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

// The prompt view names its context ({id, name}); whether it keeps its own identity comes from the list.
async function withContext(view) {
  if (!view.context || "separate_identity" in view.context) return view;
  const contexts = await ask(Action.contextsList).then((answer) => answer.contexts, () => []);
  const found = contexts.find((c) => c.id === view.context.id);
  return found ? { ...view, context: { ...view.context, separate_identity: found.separate_identity } } : view;
}

async function main() {
  let view;
  try {
    view = await withContext(await ask(Action.promptGet, { id: promptId }));
  } catch (error) {
    return showMessage("This request cannot be shown", sentence(error.message), error.hint);
  }
  if (view.state === "expired") return showMessage("This request expired", "The site waited too long for an answer. Nothing was shared; the site can ask again.");
  if (view.state !== "pending") return showMessage("Already answered", "You have already answered this request.");
  render(view);
}

main();
