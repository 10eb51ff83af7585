// The words of the issue 12 controls (extension/pages/dpv-words.js, rule-words.js, recipient-words.js,
// ledger-words.js). Run: node --test tests/extension/unit/

process.env.TZ = "UTC";

import assert from "node:assert/strict";
import { test } from "node:test";

import { conceptWords, countryName, purposeTitle, REFUSABLE_CONCEPTS, roleWords } from "../../../extension/pages/dpv-words.js";
import { LEDGER_KINDS, ledgerSummary, ledgerWhat } from "../../../extension/pages/ledger-words.js";
import { brokenPromiseWords, partyNames, recipientAskedWords, recipientHoldings, recipientStatusWords } from "../../../extension/pages/recipient-words.js";
import { RULE_KINDS, ruleTargets, ruleWords } from "../../../extension/pages/rule-words.js";

const NOW = Date.UTC(2026, 10, 30, 13, 0, 0) / 1000;
const DAY = 86400;

test("every DPV concept the project uses has words; an unknown one is named, never translated wrongly", () => {
  for (const concept of ["dpv:ProvidePersonalisedRecommendations", "dpv:AgeVerification", "dpv:ServiceProvision", "dpv:TargetedAdvertising", "dpv:Marketing", "dpv:CommunicationForCustomerCare", ...REFUSABLE_CONCEPTS]) {
    const words = conceptWords(concept);
    assert.equal(words.known, true, concept);
    assert.ok(words.label && words.meaning, concept);
  }
  assert.deepEqual(conceptWords("dpv:SomethingNewHere"), { label: "Something new here", meaning: "a kind of purpose this extension has no words for yet", known: false });
  assert.equal(roleWords("dpv:Processor").meaning, "works for the site, on its instructions");
  assert.equal(roleWords("dpv:ThirdParty").meaning, "uses it for its own purposes");
  assert.equal(roleWords("dpv:JointDataControllers").meaning, "decides with the site how it is used");
  assert.equal(roleWords("dpv:Other").label, "Other");
  assert.equal(countryName("IE"), "Ireland");
  assert.equal(countryName("NL"), "Netherlands");
  const purposes = { "https://shop.example": { recommendations: { title: "Shoe recommendations", concept: "dpv:X" } } };
  assert.equal(purposeTitle(purposes, "https://shop.example", "recommendations"), "Shoe recommendations");
  assert.equal(purposeTitle(purposes, "https://shop.example", "gone"), "gone");
  assert.equal(purposeTitle(undefined, "https://other.example", "x"), "x");
});

test("rules read as sentences, and the editor offers only what is not a rule yet", () => {
  assert.equal(ruleWords({ kind: "never", target: "email" }), "Never share “Email address” with any site");
  assert.equal(ruleWords({ kind: "ask", target: "sizes.shoe" }), "Always ask before sharing “Shoe size”, even when you chose “remember”");
  assert.equal(ruleWords({ kind: "deny_concept", target: "dpv:TargetedAdvertising" }), "Refuse every purpose of the kind “Targeted advertising” (adverts chosen for you from what is known about you)");
  assert.equal(ruleWords({ kind: "remember", target: "diet" }), "Let “remember” cover “Diet”, a sensitive item otherwise asked about every time");
  assert.deepEqual(RULE_KINDS.map((k) => k.kind), ["never", "ask", "deny_concept", "remember"]);
  const book = {
    rules: [{ kind: "never", target: "email" }],
    claims: [
      { name: "email", sensitivity: "high", reveals: "your email address" },
      { name: "sizes.shoe", sensitivity: "low", reveals: "your shoe size" },
      { name: "diet", sensitivity: "high", reveals: "your diet" },
    ],
    concepts: ["dpv:ProvidePersonalisedRecommendations", "dpv:FromASite"],
  };
  assert.deepEqual(ruleTargets("never", book, []).map((o) => o.value), ["sizes.shoe", "diet"]);
  assert.deepEqual(ruleTargets("remember", book, []).map((o) => o.value), ["email", "diet"]); // sensitive only
  const concepts = ruleTargets("deny_concept", book, ["dpv:TargetedAdvertising"]);
  assert.deepEqual(concepts.map((o) => o.value), ["dpv:TargetedAdvertising", "dpv:ProvidePersonalisedRecommendations", "dpv:FromASite"]);
  assert.equal(concepts[0].label, "Targeted advertising");
  assert.deepEqual(ruleTargets("gossip", book, []), []);
});

test("what each third party holds: only its claims, grouped, and where a withdrawal stands", () => {
  const stock = { id: "stock", name: "Stock Ltd.", role: "dpv:Processor", claims: ["location.country"], keep_until: NOW + 30 * DAY, withdrawal_state: "none" };
  const analytics = { id: "analytics", name: "Analytics B.V.", role: "dpv:ThirdParty", claims: ["sizes.shoe"], keep_until: NOW + 30 * DAY, withdrawal_state: "pending" };
  const disclosures = [
    { purpose: "recommendations", claims: { "location.country": "NL", "sizes.shoe": 42, age_over_18: true }, keep_until: NOW + 30 * DAY, recipients: [stock, analytics] },
    { purpose: "recommendations", claims: { "location.country": "BE" }, keep_until: NOW - DAY, recipients: [{ ...stock, keep_until: NOW - DAY }] },
    { purpose: "recommendations", claims: { "location.country": "DE" }, keep_until: NOW + DAY, withdrawal_state: "pending", recipients: [{ ...stock, keep_until: NOW + DAY }] },
  ];
  const holdings = recipientHoldings(disclosures, NOW);
  assert.deepEqual(holdings.map((x) => [x.id, x.state]), [["stock", "none"], ["analytics", "pending"]]);
  assert.deepEqual(holdings[0].claims, { "location.country": "NL" }); // expired and withdrawn ones left out
  assert.deepEqual(holdings[1].claims, { "sizes.shoe": 42 });
  assert.equal(recipientStatusWords(holdings[0]), "May keep it until 30 Dec 2026");
  assert.equal(recipientStatusWords(holdings[1]), "Asked to stop — waiting for the site's confirmation");
  const confirmed = { ...holdings[1], state: "confirmed", confirmed_at: NOW, outcome: "erased" };
  // One claim asked back from a third party: the rest it may still hold.
  const partial = [{ purpose: "p", claims: { "sizes.shoe": 42, interests: ["jazz"] }, keep_until: NOW + DAY, recipients: [{ ...analytics, claims: ["sizes.shoe", "interests"], withdrawn_claims: ["interests"], withdrawal_state: "confirmed", withdrawal_confirmed_at: NOW, outcome: "erased", passed_on: true }] }];
  const split = recipientHoldings(partial, NOW);
  assert.deepEqual(split.map((x) => [x.state, x.claims]), [["none", { "sizes.shoe": 42 }], ["confirmed", { interests: ["jazz"] }]]);
  assert.equal(split[1].confirmed_at, NOW);
  assert.equal(recipientStatusWords(confirmed), "Erased, confirmed by the site on 30 Nov 2026");
  assert.equal(recipientStatusWords({ ...confirmed, outcome: "not_held" }), "It held nothing, confirmed by the site on 30 Nov 2026");
  assert.equal(recipientStatusWords({ ...confirmed, outcome: "forwarded" }), "The site passed your withdrawal on, confirmed by the site on 30 Nov 2026");
  assert.deepEqual(recipientHoldings([{ purpose: "p", claims: {}, keep_until: NOW + DAY }], NOW), []); // no recipients field
  assert.equal(recipientAskedWords("Analytics B.V.", "shop.example", { withdrawn: 2 }), "Asked shop.example to tell Analytics B.V. to stop using what it got. Waiting for the site's confirmation.");
  assert.match(recipientAskedWords("A", "shop.example", { withdrawn: 0 }), /had nothing to withdraw/);
});

test("the history says the new ledger records in words", () => {
  assert.ok(LEDGER_KINDS.includes("broken_promise"));
  assert.equal(ledgerWhat({ kind: "broken_promise" }), "Broken promise");
  const consent = (body) => ledgerSummary({ kind: "consent", body });
  assert.equal(consent({ action: "changed", claim: "sizes.shoe", recipient: null, effect: "deny" }), "Changed your remembered choice about Shoe size to refuse");
  assert.equal(consent({ action: "changed", claim: null, recipient: "analytics", effect: "forgotten" }), "Forgot your remembered choice about analytics");
  assert.equal(consent({ action: "recipient_decided", recipient: "stock", effect: "allow", mode: "remember" }), "Allowed stock to receive it (remembered)");
  assert.equal(consent({ action: "rule_added", rule: "never", target: "email" }), "New rule: Never share “Email address” with any site");
  assert.equal(consent({ action: "revoked", purpose: null, decisions: 2, recipient: "analytics" }), "Took back 2 remembered choice(s) about analytics");
  assert.equal(
    ledgerSummary({ kind: "revocation", body: { presentations: ["j"], erasure: true, site: false, recipients: ["analytics"], claims: [] } }),
    "Asked the site to tell analytics to stop using and erase what it got",
  );
  assert.equal(ledgerSummary({ kind: "revocation", body: { presentations: ["j"], erasure: false, claims: ["sizes.shoe"] } }), "Asked the site to stop using Shoe size");
  assert.equal(
    ledgerSummary({ kind: "delivery_ack", body: { erased: true, recipients: [{ id: "analytics", outcome: "erased", at: NOW }] } }),
    "The site erased it · analytics: erased",
  );
  assert.match(ledgerSummary({ kind: "broken_promise", body: { recipients: ["ads"] } }), /passed your information to ads, which you did not allow/);
  // With the purpose's third parties' names (GET /v1/purposes), they are named.
  const names = { analytics: "Analytics B.V.", stock: "Stock Ltd." };
  const disclosure = { kind: "disclosure", body: { claims: { "sizes.shoe": 42 }, recipients: { analytics: ["sizes.shoe"] } } };
  assert.equal(ledgerSummary(disclosure, names), "Shoe size: 42 · may pass it on to Analytics B.V.");
  assert.equal(ledgerSummary({ kind: "consent", body: { action: "changed", claim: null, recipient: "stock", effect: "deny" } }, names), "Changed your remembered choice about Stock Ltd. to refuse");
});

test("a broken promise names the third parties the site passed things to without consent", () => {
  const purposes = { "https://shop.example": { a: { third_parties: { ads: "Ads Inc." } }, b: { third_parties: { data: "Data Co." } } } };
  const names = partyNames(purposes, "https://shop.example");
  assert.deepEqual(names, { ads: "Ads Inc.", data: "Data Co." });
  assert.equal(
    brokenPromiseWords({ at: NOW, presentation: "j", recipients: ["ads", "data", "other"] }, names),
    "The site says it passed your information to Ads Inc., Data Co. and other, which you did not allow (its signed acknowledgement of 30 Nov 2026).",
  );
  assert.deepEqual(partyNames(undefined, "https://x.example"), {});
});
