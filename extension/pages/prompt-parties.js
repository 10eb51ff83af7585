// The consent prompt's third parties: who else would receive what, and a switch for each one the user
// decides now. Private by default, like the claims: an optional third party starts off; a required one
// starts on, and switching it off means nothing is shared (as with a required claim). Third parties the
// user decided before show that answer instead of a switch.

import { h } from "./dom.js";
import { claimLabel } from "./format.js";
import { countryName, roleWords } from "./dpv-words.js";

const REQUIRED_NOTE = "Needed for this service: not sharing with it means not sharing at all.";

function policyLink(party) {
  if (!/^https:\/\//.test(party.privacy_policy ?? "")) return null;
  return h("a", { href: party.privacy_policy, target: "_blank", rel: "noopener noreferrer" }, "Privacy policy");
}

function rememberedTag(party) {
  if (party.allowed === true) return h("span", { class: "tag ok" }, "You allowed it before");
  if (party.allowed === false) return h("span", { class: "tag danger" }, "You refused it before");
  return null;
}

function partyRow(party, index) {
  const id = `party-${index}`;
  const role = roleWords(party.role);
  const toggle = party.asked
    ? h("input", {
        type: "checkbox",
        class: "switch",
        id,
        name: "recipient",
        value: party.id,
        checked: party.required, // private by default: optional third parties start off
        role: "switch",
        "aria-describedby": `${id}-about`,
        dataset: { required: party.required ? "yes" : "no" },
      })
    : h("span", { class: "switch-spacer", "aria-hidden": "true" });
  const name = party.asked ? h("label", { for: id }, party.name) : h("strong", {}, party.name);
  return h(
    "li",
    { class: `party claim${party.asked ? "" : " decided"}`, dataset: { party: party.id } },
    toggle,
    h(
      "div",
      { class: "claim-body" },
      h(
        "div",
        { class: "claim-top" },
        name,
        party.required ? h("span", { class: "tag required" }, "Required") : null,
        party.asked ? null : rememberedTag(party),
      ),
      h(
        "div",
        { class: "claim-about small", id: `${id}-about` },
        h("p", {}, h("span", { class: "muted" }, `${role.label}: `), role.meaning, h("span", { class: "muted" }, ` · based in ${countryName(party.country)}`)),
        h(
          "p",
          { class: "receives" },
          h("span", { class: "muted" }, "Would receive: "),
          party.claims.map((claim, i) => [i ? ", " : "", h("span", { class: "received", dataset: { claim } }, claimLabel(claim))]),
        ),
        h("p", {}, h("span", { class: "muted" }, "Why: "), party.why),
        party.required && party.asked ? h("p", { class: "muted" }, REQUIRED_NOTE) : null,
        policyLink(party),
      ),
    ),
  );
}

// The section, or null when the purpose names no third party.
export function partiesSection(view) {
  const parties = view.third_parties ?? [];
  if (!parties.length) return null;
  const asked = parties.some((p) => p.asked);
  return h(
    "section",
    { class: "section", "aria-labelledby": "parties-heading" },
    h("h2", { id: "parties-heading" }, "Who else would receive it"),
    h("p", { class: "small muted" }, asked ? "The site passes these items on only to those you switch on. Optional ones start off." : "You decided about these before."),
    h("ul", { class: "claims parties" }, parties.map(partyRow)),
  );
}

// What the form says now: the claims being shared, and the third parties switched on.
export function sharedClaims(form, view) {
  const checked = [...form.querySelectorAll('input[name="claim"]:checked')].map((box) => box.value);
  return new Set([...checked, ...Object.keys(view.already_allowed ?? {})]);
}

export function switchedOn(form) {
  return [...form.querySelectorAll('input[name="recipient"]:checked')].map((box) => box.value);
}

// A required third party switched off that would receive something being shared: nothing can be shared.
export function droppedRequiredParty(form, view) {
  const shared = sharedClaims(form, view);
  const off = new Set([...form.querySelectorAll('input[name="recipient"][data-required="yes"]:not(:checked)')].map((box) => box.value));
  return (view.third_parties ?? []).some((p) => off.has(p.id) && p.claims.some((c) => shared.has(c)));
}

// Marks the items a third party would not receive because they are not shared (struck through).
export function markReceived(form, view) {
  const shared = sharedClaims(form, view);
  for (const item of form.querySelectorAll(".received")) item.classList.toggle("not-shared", !shared.has(item.dataset.claim));
}
