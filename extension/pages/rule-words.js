// The standing rules (GET /v1/rules) in plain words. Pure (tests/extension/unit/rule-words.test.mjs).

import { claimLabel } from "./format.js";
import { conceptWords } from "./dpv-words.js";

// The kinds, in the order the editor offers them: what the rule does, and what it applies to.
export const RULE_KINDS = Object.freeze([
  { kind: "never", label: "Never share…", target: "claim", help: "No site gets it, whatever you answered before." },
  { kind: "ask", label: "Always ask me before sharing…", target: "claim", help: "Even a remembered answer asks again." },
  { kind: "deny_concept", label: "Refuse every purpose of the kind…", target: "concept", help: "Every site's purpose of that kind is refused without asking." },
  { kind: "remember", label: "Let “remember” cover…", target: "sensitive", help: "Sensitive items are asked about every time unless you allow this." },
]);

// One rule as a sentence: {kind: "never", target: "email"} -> "Never share “Email address” with any site".
export function ruleWords({ kind, target }) {
  switch (kind) {
    case "never":
      return `Never share “${claimLabel(target)}” with any site`;
    case "ask":
      return `Always ask before sharing “${claimLabel(target)}”, even when you chose “remember”`;
    case "deny_concept": {
      const concept = conceptWords(target);
      return `Refuse every purpose of the kind “${concept.label}” (${concept.meaning})`;
    }
    case "remember":
      return `Let “remember” cover “${claimLabel(target)}”, a sensitive item otherwise asked about every time`;
    default:
      return `${kind} ${target}`;
  }
}

// What the editor offers for a kind: [{value, label, hint}]. `book` is GET /v1/rules's answer; `concepts`
// the concepts the extension has words for (dpv-words.js REFUSABLE_CONCEPTS). Rules already there are left out.
export function ruleTargets(kind, book, concepts) {
  const taken = new Set(book.rules.filter((r) => r.kind === kind).map((r) => r.target));
  const spec = RULE_KINDS.find((k) => k.kind === kind);
  if (!spec) return [];
  if (spec.target === "concept") {
    const all = [...new Set([...concepts, ...(book.concepts ?? [])])];
    return all.filter((c) => !taken.has(c)).map((c) => ({ value: c, label: conceptWords(c).label, hint: conceptWords(c).meaning }));
  }
  const claims = book.claims.filter((c) => spec.target !== "sensitive" || c.sensitivity === "high");
  return claims.filter((c) => !taken.has(c.name)).map((c) => ({ value: c.name, label: claimLabel(c.name), hint: c.reveals }));
}
