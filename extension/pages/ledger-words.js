// Ledger entries (vault/consent/ledger.py kinds) in plain words, for the History section.

import { claimLabel, dateText, valueText } from "./format.js";
import { ruleWords } from "./rule-words.js";

const WHAT = {
  disclosure: "Shared",
  acknowledgement: "Site confirmed",
  consent: "Your choice",
  revocation: "Revoked",
  delivery: "Notice sent",
  delivery_ack: "Site confirmed revocation",
  forget: "New identity",
  site_changed: "Site changed",
  broken_promise: "Broken promise",
};

// The kinds, in the order the history's filter offers them.
export const LEDGER_KINDS = Object.freeze(Object.keys(WHAT));

const OUTCOME_WORDS = { erased: "erased", not_held: "held nothing", forwarded: "passed on" };

// site_changed bodies: {field, before, after}, as the daemon describes them.
const SITE_FIELDS = { controller: "Now run by", site_key: "New signing key", revocation_endpoint: "Receives revocations at" };

export function ledgerWhat(entry) {
  return WHAT[entry.kind] ?? entry.kind;
}

// `names`: the purpose's third parties, id -> name (GET /v1/purposes), for entries that name them by id.
export function ledgerSummary(entry, names = {}) {
  const body = entry.body ?? {};
  const party = (id) => (Object.hasOwn(names, id) ? names[id] : id);
  const listOf = (ids) => (ids ?? []).map(party).join(", ") || "third parties";
  switch (entry.kind) {
    case "disclosure": {
      const values = Object.entries(body.claims ?? {}).map(([claim, value]) => `${claimLabel(claim)}: ${valueText(value)}`);
      const onward = Object.keys(body.recipients ?? {});
      return [...values, ...(onward.length ? [`may pass it on to ${listOf(onward)}`] : [])].join(" · ");
    }
    case "consent":
      if (body.action === "decided") {
        const verb = body.effect === "allow" ? "Shared" : "Refused";
        return `${verb} ${claimLabel(body.claim ?? "")} (${body.mode === "remember" ? "remembered" : "this time"})`;
      }
      if (body.action === "recipient_decided") {
        const verb = body.effect === "allow" ? "Allowed" : "Refused";
        return `${verb} ${party(body.recipient ?? "")} to receive it (${body.mode === "remember" ? "remembered" : "this time"})`;
      }
      if (body.action === "changed") {
        const what = body.claim ? claimLabel(body.claim) : party(body.recipient ?? "");
        if (body.effect === "forgotten") return `Forgot your remembered choice about ${what}`;
        return `Changed your remembered choice about ${what} to ${body.effect === "allow" ? "allow" : "refuse"}`;
      }
      if (body.action === "rule_added") return `New rule: ${ruleWords({ kind: body.rule, target: body.target })}`;
      if (body.action === "rule_removed") return `Rule removed: ${ruleWords({ kind: body.rule, target: body.target })}`;
      if (body.action === "revoked") {
        const scope = body.claim ? ` about ${claimLabel(body.claim)}` : body.recipient ? ` about ${party(body.recipient)}` : "";
        return `Took back ${body.decisions ?? 0} remembered choice(s)${scope}`;
      }
      return body.action ?? "";
    case "acknowledgement":
      return body.keep_until ? `Promised to keep it until ${dateText(body.keep_until)}` : "";
    case "revocation": {
      const who = body.site === false ? `Asked the site to tell ${listOf(body.recipients)} to stop using` : "Asked the site to stop using";
      const what = body.claims?.length ? ` ${body.claims.map(claimLabel).join(", ")}` : " what it got";
      return `${who}${body.erasure ? " and erase" : ""}${what}`;
    }
    case "delivery_ack": {
      const parts = (body.recipients ?? []).map((r) => `${party(r.id)}: ${OUTCOME_WORDS[r.outcome] ?? r.outcome}`);
      return [body.erased ? "The site erased it" : "The site stopped using it", ...parts].join(" · ");
    }
    case "broken_promise":
      return `The site says it passed your information to ${listOf(body.recipients)}, which you did not allow`;
    case "delivery": {
      if (body.outcome === "delivered") return "Delivered";
      const next = typeof body.next_attempt_at === "number" ? `; next try ${dateText(body.next_attempt_at, { time: true })}` : "";
      return `Not delivered yet${body.error ? ` (${body.error})` : ""}${next}`;
    }
    case "site_changed":
      if (body.field === "site_key") return `${SITE_FIELDS.site_key} (before: ${body.before ?? "?"})`;
      return `${SITE_FIELDS[body.field] ?? body.field} ${body.after ?? "?"} (before: ${body.before ?? "?"})`;
    case "forget":
      return "The site can no longer link you to your earlier visits";
    default:
      return "";
  }
}
