// Ledger entries (vault/consent/ledger.py kinds) in plain words, for the History section.

import { claimLabel, dateText, valueText } from "./format.js";

const WHAT = {
  disclosure: "Shared",
  acknowledgement: "Site confirmed",
  consent: "Your choice",
  revocation: "Revoked",
  delivery: "Notice sent",
  delivery_ack: "Site confirmed revocation",
  forget: "New identity",
  site_changed: "Site changed",
};

// site_changed bodies: {field, before, after}, as the daemon describes them.
const SITE_FIELDS = { controller: "Now run by", site_key: "New signing key", revocation_endpoint: "Receives revocations at" };

export function ledgerWhat(entry) {
  return WHAT[entry.kind] ?? entry.kind;
}

export function ledgerSummary(entry) {
  const body = entry.body ?? {};
  switch (entry.kind) {
    case "disclosure":
      return Object.entries(body.claims ?? {})
        .map(([claim, value]) => `${claimLabel(claim)}: ${valueText(value)}`)
        .join(" · ");
    case "consent":
      if (body.action === "decided") {
        const verb = body.effect === "allow" ? "Shared" : "Refused";
        return `${verb} ${claimLabel(body.claim ?? "")} (${body.mode === "remember" ? "remembered" : "this time"})`;
      }
      if (body.action === "revoked") return `Took back ${body.decisions ?? 0} remembered choice(s)`;
      return body.action ?? "";
    case "acknowledgement":
      return body.keep_until ? `Promised to keep it until ${dateText(body.keep_until)}` : "";
    case "revocation":
      return body.erasure ? "Asked the site to stop using and erase what it got" : "Asked the site to stop using what it got";
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
