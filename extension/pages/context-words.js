// Contexts in plain words (GET /v1/contexts): which one is in force and why, what comes back when a
// site's own or a timed choice ends, and a context's switches. Pure functions
// (tests/extension/unit/context-words.test.mjs runs them in Node). `now` is Unix seconds.

import { dateText, timeText } from "./format.js";

export const TIMED_MINUTES = 60; // "For the next hour"

// "14:30" today, "1 Dec 2026, 14:30" on another day.
export function untilText(until, now) {
  if (typeof until !== "number") return "";
  return dateText(until) === dateText(now) ? timeText(until) : dateText(until, { time: true });
}

// Why the active context is in force, after its name: "on every site", "always on this site", "on this
// site until 14:30", "until 14:30".
export function sourceWords(active, now) {
  const until = untilText(active?.until, now);
  switch (active?.source) {
    case "site":
      return until ? `on this site until ${until}` : "always on this site";
    case "timed":
      return `until ${until}`;
    default:
      return "on every site";
  }
}

// "Context: Work — on every site".
export function activeWords(active, now) {
  if (!active?.context) return "";
  return `Context: ${active.context.name} — ${sourceWords(active, now)}`;
}

// The context the browser uses when no site has its own: a timed one while it lasts, else the chosen one.
export function browserContext(choices, now) {
  if (choices?.timed && typeof choices.timed_until === "number" && choices.timed_until > now) return choices.timed;
  return choices?.browser ?? null;
}

// What comes back when the choice in force ends: a site's own choice gives way to the browser's (a timed
// one first), a timed one to the browser-wide choice. Null when nothing is there to end.
export function previousContext(view, now) {
  const source = view?.active?.source;
  if (source === "site") return browserContext(view.choices, now);
  if (source === "timed") return view.choices?.browser ?? null;
  return null;
}

// "its own identity" / "the same identity as your other contexts".
export function identityWords(context) {
  return context?.separate_identity ? "its own identity" : "shared identity";
}

export function gpcWords(context) {
  return context?.gpc ? "GPC on" : "GPC off";
}

// The prompt's line: "Context: Work · its own identity".
export function promptContextWords(context) {
  if (!context?.name) return "";
  return context.separate_identity ? `Context: ${context.name} · its own identity` : `Context: ${context.name}`;
}

// A disclosure's or decision's context, by its name; "Everyday" for one made before contexts (null).
// `names`: id -> name of the contexts known to the page.
export function contextName(item, names = {}) {
  if (typeof item?.context_name === "string" && item.context_name) return item.context_name;
  const id = item?.context;
  if (id == null) return "Everyday";
  return Object.hasOwn(names, id) ? names[id] : "a removed context";
}

// The sites with a context of their own: [{origin, name, until}], by site.
export function siteChoices(choices) {
  return Object.entries(choices?.sites ?? {})
    .map(([origin, active]) => ({ origin, name: active.context?.name ?? "", id: active.context?.id ?? "", until: active.until ?? null }))
    .sort((a, b) => a.origin.localeCompare(b.origin));
}

// A ledger entry of kind "context" (ContextChanged): "Added Work, a copy of Everyday · its own identity ·
// GPC on". `names`: id -> name, for the context it was copied from.
export function contextEntryWords(body = {}, names = {}) {
  const switches = `${identityWords(body)} · ${gpcWords(body)}`;
  switch (body.action) {
    case "added": {
      const copied = body.copied_from ? `, a copy of ${Object.hasOwn(names, body.copied_from) ? names[body.copied_from] : "a removed context"}` : "";
      return `Added ${body.name}${copied} · ${switches}`;
    }
    case "renamed":
      return `Renamed ${body.old_name ?? "a context"} to ${body.name}`;
    case "removed":
      return `Removed ${body.name}: its rules and remembered choices went`;
    case "changed":
      return `Changed ${body.name}: ${switches}`;
    default:
      return String(body.name ?? "");
  }
}
