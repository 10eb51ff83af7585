// A site's messages and its answers to "what do you hold about me?" in plain words. Pure functions
// (tests/extension/unit/message-words.test.mjs runs them in Node); the pages put the results in as
// text only. What a discrepancy is, is said by the daemon (each one's `text`): the short tags here only
// sort them, and are the extension's one copy of the kinds (vault/consent/access_compare.py).

import { claimLabel, dateText, siteName, valueText } from "./format.js";
import { nextTryText } from "./site-words.js";

// kind -> [what it is, the tag's tone]
const KINDS = {
  proposal: ["Proposal", ""],
  change: ["Change to come", "high"],
  deletion: ["Deletion confirmed", "ok"],
  breach: ["Data breach", "danger"],
};

export function kindWords(kind) {
  return Object.hasOwn(KINDS, kind) ? KINDS[kind][0] : "Message";
}

export function kindTone(kind) {
  return Object.hasOwn(KINDS, kind) ? KINDS[kind][1] : "";
}

// A link is shown as text with where it really goes first: "shop.example — https://shop.example/offers".
// `urlOrigin`: the daemon's reading of the link's origin (url_origin), else the browser's.
export function linkText(url, urlOrigin = null) {
  if (urlOrigin) return `${siteName(urlOrigin)} — ${url}`;
  try {
    return `${siteName(new URL(url).origin)} — ${url}`;
  } catch {
    return String(url);
  }
}

// Only http(s) pages are ever opened from a message.
export function openableUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

const VIA = { acknowledgement: "Came with its acknowledgement", statement: "Came with its answer to your question" };

// How a message came, when not through the site's page: "Came with its acknowledgement"; else "".
export function viaWords(message) {
  return Object.hasOwn(VIA, message.via) ? VIA[message.via] : "";
}

// The lines a message's kind adds: the purpose offered, the date a change takes effect, what it concerns.
export function messageFacts(message) {
  const purpose = message.purpose_title ?? message.purpose;
  const facts = [];
  if (message.kind === "proposal" && purpose) facts.push(`Offers: ${purpose}`);
  else if (purpose) facts.push(`Purpose: ${purpose}`);
  if (typeof message.effective_at === "number") facts.push(`Takes effect on ${dateText(message.effective_at)}`);
  if (message.claims?.length) facts.push(`About: ${message.claims.map(claimLabel).join(", ")}`);
  return facts;
}

// Unread first, then newest first (the daemon lists newest first).
export function inboxOrder(messages) {
  return [...messages].sort((a, b) => Number(a.read) - Number(b.read) || b.received_at - a.received_at);
}

// -- access requests --------------------------------------------------------------------------------

const DISCREPANCY_TAGS = {
  held_past_retention: "kept too long",
  never_disclosed: "never given to it",
  held_after_erasure: "kept after erasure",
  unallowed_recipient: "passed on without your leave",
  no_answer: "no answer",
};

export function discrepancyTag(kind) {
  return Object.hasOwn(DISCREPANCY_TAGS, kind) ? DISCREPANCY_TAGS[kind] : "differs";
}

// The short tag beside it: [words, tone].
export function accessTag(view) {
  switch (view.state) {
    case "answered":
      return view.discrepancies?.length ? ["differs", "danger"] : ["matches", "ok"];
    case "waiting":
      return ["waiting", "high"];
    case "unanswered":
      return ["no answer", "danger"];
    case "no_endpoint":
      return ["cannot ask", ""];
    default:
      return [String(view.state ?? ""), ""];
  }
}

// Where an access request stands (an AccessView of POST/GET /v1/access). `now`: Unix seconds.
export function accessStateWords(view, now) {
  switch (view.state) {
    case "answered":
      return `Answered on ${dateText(view.answered_at ?? view.asked_at, { time: true })}`;
    case "waiting": {
      const next = nextTryText(view.next_try_at, now);
      return `No answer yet, will try again ${next || "later"}`;
    }
    case "unanswered": {
      const tries = view.attempts === 1 ? "1 try" : `${view.attempts} tries`;
      return `The site never answered (${tries}); the vault gave up`;
    }
    case "no_endpoint":
      return "No access endpoint: this site does not say where to ask it what it holds";
    default:
      return String(view.state ?? "");
  }
}

// One holding of a statement: "Shoe size: 42, Country" · "since 1 Dec 2026, until 30 Dec 2026" ·
// "passed to: Example Stock Check Ltd.". `names`: recipient id -> name (the manifest's).
export function holdingWords(holding, names = {}) {
  const values = holding.values ?? {};
  const claims = holding.claims.map((claim) => (Object.hasOwn(values, claim) ? `${claimLabel(claim)}: ${valueText(values[claim])}` : claimLabel(claim)));
  const since = typeof holding.since === "number" ? `since ${dateText(holding.since)}` : "";
  const until = typeof holding.until === "number" ? `until ${dateText(holding.until)}` : "until further notice";
  // The daemon names them from the stored manifest (recipient_names); else the page's own names, else ids.
  const ids = holding.recipients ?? [];
  const named = holding.recipient_names?.length === ids.length ? holding.recipient_names : null;
  const recipients = ids.map((id, i) => named?.[i] ?? (Object.hasOwn(names, id) ? names[id] : id));
  return {
    claims: claims.join(", "),
    when: [since, until].filter(Boolean).join(", "),
    recipients: recipients.length ? `Passed to: ${recipients.join(", ")}` : "Passed to no one",
  };
}

const OVERDUE_STATES = {
  asking: "asking the site whether it still holds it",
  gone: "the site says it no longer holds it",
  still_held: "the site says it still holds it",
  unanswered: "the site did not answer",
};

// A disclosure whose promised retention has ended: "Shoe size for Personalised recommendations: to be
// kept only until 30 Dec 2026 — the site says it still holds it".
export function overdueWords(row) {
  const claims = (row.claims ?? []).map(claimLabel).join(", ") || "What you shared";
  const state = Object.hasOwn(OVERDUE_STATES, row.state) ? OVERDUE_STATES[row.state] : String(row.state ?? "");
  return `${claims} for ${row.purpose_title ?? row.purpose}: to be kept only until ${dateText(row.keep_until)} — ${state}`;
}

// Whether an overdue row still needs the user's eye (the site holds it, or never said).
export function overdueIsBad(row) {
  return row.state === "still_held" || row.state === "unanswered";
}
