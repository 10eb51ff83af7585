// What happened to what a site was told, in plain words (GET /v1/sites/report): whether a withdrawal is
// still waiting for the site's signed confirmation, and what the site changed about itself. Pure
// functions (tests/extension/unit/site-words.test.mjs runs them in Node). `now` is Unix seconds.

import { dateText, timeText } from "./format.js";

// "none" | "pending" | "confirmed". A report from a daemon without `withdrawal_state` is read from the
// older fields: withdrawn, and acknowledged or not.
export function withdrawalState(disclosure) {
  const state = disclosure.withdrawal_state;
  if (state === "none" || state === "pending" || state === "confirmed") return state;
  if (disclosure.withdrawn_at == null) return "none";
  return disclosure.withdrawal_acknowledged ? "confirmed" : "pending";
}

// When the vault next tries to deliver the notice: "14:05" today, "1 Dec 2026, 14:05" later, "soon" once due.
export function nextTryText(seconds, now) {
  if (typeof seconds !== "number") return "";
  if (seconds <= now) return "soon";
  const sameDay = dateText(seconds) === dateText(now);
  return sameDay ? `at ${timeText(seconds)}` : `on ${dateText(seconds, { time: true })}`;
}

// "Asked to delete — waiting for the site's confirmation (next try at 14:05)", "Deleted, confirmed by
// the site on 30 Nov 2026"; "" for a disclosure nobody withdrew. Never says "deleted" before the site did.
export function withdrawalWords(disclosure, now) {
  const erase = Boolean(disclosure.erasure_requested);
  switch (withdrawalState(disclosure)) {
    case "pending": {
      const next = nextTryText(disclosure.withdrawal_next_try_at, now);
      const asked = erase ? "Asked to delete" : "Withdrawn";
      return `${asked} — waiting for the site's confirmation${next ? ` (next try ${next})` : ""}`;
    }
    case "confirmed": {
      const when = disclosure.withdrawal_confirmed_at;
      const done = erase ? "Deleted" : "Withdrawn";
      return `${done}, confirmed by the site${typeof when === "number" ? ` on ${dateText(when)}` : ""}`;
    }
    default:
      return "";
  }
}

// A controller as the daemon describes it, "Name (contact; privacy policy)" -> "Name".
function controllerName(described) {
  const match = /^(.*\S) \([^()]*\)$/.exec(described ?? "");
  return match ? match[1] : String(described ?? "");
}

// One entry of the report's `changes`: {at, field, before, after}.
export function siteChangeWords(change) {
  const on = dateText(change.at);
  switch (change.field) {
    case "controller":
      return `Now run by ${controllerName(change.after)} (before: ${controllerName(change.before)}) since ${on}`;
    case "site_key":
      return `Changed its signing key on ${on}`;
    case "revocation_endpoint":
      return `Changed where it receives revocations on ${on}`;
    default:
      return `Changed its ${String(change.field).replace(/_/g, " ")} on ${on}`;
  }
}

// The popup's line after Revoke: the site was asked, and the answer is not in yet.
export function revokeAskedWords(site, { withdrawn, erase }) {
  if (!withdrawn) return `Your remembered choices for ${site} are gone. It had nothing from your vault to withdraw.`;
  const what = withdrawn === 1 ? "1 disclosure" : `${withdrawn} disclosures`;
  const asked = erase ? "delete" : "stop using";
  return `Asked ${site} to ${asked} what it got (${what}). Waiting for the site's confirmation.`;
}
