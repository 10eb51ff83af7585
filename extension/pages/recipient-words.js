// What a site's third parties hold, from the site report (GET /v1/sites/report: each disclosure's
// `recipients`), and where a withdrawal from one stands, in plain words. Pure (tests/extension/unit/
// recipient-words.test.mjs runs it in Node). `now` is Unix seconds.

import { dateText } from "./format.js";

const STATES = ["none", "pending", "confirmed"];

function stateOf(recipient) {
  return STATES.includes(recipient.withdrawal_state) ? recipient.withdrawal_state : "none";
}

// One entry per third party and withdrawal state: {id, name, role, state, purposes, claims: {claim:
// value}, until, confirmed_at, outcome, passed_on}. Only what it received (its claims of each disclosure);
// claims asked back go to the withdrawal's entry, the rest to "none" while it may still hold them (within
// their retention, not withdrawn from the site).
export function recipientHoldings(disclosures, now) {
  const groups = new Map();
  const add = (d, r, state, claims, until) => {
    if (!claims.length) return;
    const key = `${r.id}\u0000${state}`;
    const group = groups.get(key) ?? { id: r.id, name: r.name ?? r.id, role: r.role, state, purposes: [], claims: {}, until: 0, confirmed_at: null, outcome: null, passed_on: null };
    if (!group.purposes.includes(d.purpose)) group.purposes.push(d.purpose);
    for (const claim of claims) if (Object.hasOwn(d.claims ?? {}, claim)) group.claims[claim] = d.claims[claim];
    group.until = Math.max(group.until, until ?? 0);
    if (state !== "none" && typeof r.withdrawal_confirmed_at === "number") group.confirmed_at = Math.max(group.confirmed_at ?? 0, r.withdrawal_confirmed_at);
    if (state !== "none") group.outcome = r.outcome ?? group.outcome;
    if (r.passed_on === true) group.passed_on = true;
    else if (r.passed_on === false && group.passed_on !== true) group.passed_on = false;
    groups.set(key, group);
  };
  for (const d of disclosures ?? []) {
    const siteWithdrawn = (d.withdrawal_state ?? "none") !== "none";
    const fromSite = new Set(siteWithdrawn && !d.withdrawn_claims?.length ? Object.keys(d.claims ?? {}) : d.withdrawn_claims ?? []);
    for (const r of d.recipients ?? []) {
      const state = stateOf(r);
      const claims = r.claims ?? [];
      const asked = state === "none" ? [] : r.withdrawn_claims?.length ? r.withdrawn_claims : claims;
      const until = r.keep_until ?? d.keep_until;
      add(d, r, state, asked, until);
      if (until > now) add(d, r, "none", claims.filter((c) => !asked.includes(c) && !fromSite.has(c)), until);
    }
  }
  // Those that hold something first, then waiting withdrawals, then confirmed ones.
  return [...groups.values()].sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state) || a.name.localeCompare(b.name));
}

const OUTCOMES = {
  erased: "Erased",
  not_held: "It held nothing",
  forwarded: "The site passed your withdrawal on",
};

// "May keep it until 1 Jan 2027" | "Asked to stop — waiting for the site's confirmation" |
// "Erased, confirmed by the site on 30 Nov 2026". Never says "erased" before the site said so.
export function recipientStatusWords(holding) {
  switch (holding.state) {
    case "pending":
      return "Asked to stop — waiting for the site's confirmation";
    case "confirmed": {
      const done = OUTCOMES[holding.outcome] ?? "Withdrawn";
      const on = typeof holding.confirmed_at === "number" ? ` on ${dateText(holding.confirmed_at)}` : "";
      return `${done}, confirmed by the site${on}`;
    }
    default: {
      const until = holding.until ? `May keep it until ${dateText(holding.until)}` : "";
      return holding.passed_on === false ? `${until} (the site says it did not pass it on)` : until;
    }
  }
}

// The line after "withdraw": the site was asked, the answer is not in yet.
export function recipientAskedWords(name, site, result) {
  if (!result?.withdrawn) return `${name} will not get anything from your vault through ${site} again. It had nothing to withdraw.`;
  return `Asked ${site} to tell ${name} to stop using what it got. Waiting for the site's confirmation.`;
}

// One of the site report's `broken_promises` ({at, presentation, recipients: [ids]}): the site's own
// signed acknowledgement says it passed your information to third parties you did not allow. `names`:
// id -> name (GET /v1/purposes's third_parties of the site's purposes).
export function brokenPromiseWords(item, names = {}) {
  const who = (item.recipients ?? []).map((id) => (Object.hasOwn(names, id) ? names[id] : id));
  const list = who.length > 1 ? `${who.slice(0, -1).join(", ")} and ${who.at(-1)}` : who[0] ?? "a third party";
  const on = typeof item.at === "number" ? ` (its signed acknowledgement of ${dateText(item.at)})` : "";
  return `The site says it passed your information to ${list}, which you did not allow${on}.`;
}

// Every third party's name the site's purposes declare: {id: name}.
export function partyNames(purposes, origin) {
  return Object.assign({}, ...Object.values(purposes?.[origin] ?? {}).map((p) => p.third_parties ?? {}));
}
