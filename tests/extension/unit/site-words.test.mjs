// What happened to what a site was told (extension/pages/site-words.js, ledger-words.js). Run: node --test tests/extension/unit/

process.env.TZ = "UTC"; // dates and times below are read in UTC

import assert from "node:assert/strict";
import { test } from "node:test";

import { ledgerSummary, ledgerWhat } from "../../../extension/pages/ledger-words.js";
import { nextTryText, revokeAskedWords, siteChangeWords, withdrawalState, withdrawalWords } from "../../../extension/pages/site-words.js";

const NOW = Date.UTC(2026, 10, 30, 13, 0, 0) / 1000; // 30 Nov 2026 13:00 UTC
const disclosure = (fields) => ({ jti: "j", purpose: "recommendations", claims: {}, erasure_requested: false, ...fields });

test("a withdrawal is pending until the site confirms it, and says when the vault tries next", () => {
  const pending = disclosure({ withdrawal_state: "pending", withdrawal_next_try_at: NOW + 30 * 60, erasure_requested: true });
  assert.equal(withdrawalWords(pending, NOW), "Asked to delete — waiting for the site's confirmation (next try at 13:30)");
  const noErase = { ...pending, erasure_requested: false };
  assert.equal(withdrawalWords(noErase, NOW), "Withdrawn — waiting for the site's confirmation (next try at 13:30)");
  const tomorrow = { ...pending, withdrawal_next_try_at: NOW + 24 * 3600 };
  assert.equal(withdrawalWords(tomorrow, NOW), "Asked to delete — waiting for the site's confirmation (next try on 1 Dec 2026, 13:00)");
  const due = { ...pending, withdrawal_next_try_at: NOW - 5 };
  assert.equal(withdrawalWords(due, NOW), "Asked to delete — waiting for the site's confirmation (next try soon)");
  const unknown = { ...pending, withdrawal_next_try_at: null };
  assert.equal(withdrawalWords(unknown, NOW), "Asked to delete — waiting for the site's confirmation");
});

test("only a confirmed withdrawal reads as done, with the site's date", () => {
  const confirmed = disclosure({ withdrawal_state: "confirmed", withdrawal_confirmed_at: NOW, erasure_requested: true });
  assert.equal(withdrawalWords(confirmed, NOW), "Deleted, confirmed by the site on 30 Nov 2026");
  assert.equal(withdrawalWords({ ...confirmed, erasure_requested: false }, NOW), "Withdrawn, confirmed by the site on 30 Nov 2026");
  assert.equal(withdrawalWords(disclosure({ withdrawal_state: "none" }), NOW), "");
  for (const state of ["pending", "none"]) {
    const words = withdrawalWords(disclosure({ withdrawal_state: state, erasure_requested: true, withdrawal_next_try_at: NOW + 60 }), NOW);
    assert.doesNotMatch(words, /Deleted|confirmed by/, state);
  }
});

test("a report from an older daemon (no withdrawal_state) is read from withdrawn_at and the acknowledgement", () => {
  assert.equal(withdrawalState(disclosure({ withdrawn_at: null })), "none");
  assert.equal(withdrawalState(disclosure({ withdrawn_at: NOW, withdrawal_acknowledged: false })), "pending");
  assert.equal(withdrawalState(disclosure({ withdrawn_at: NOW, withdrawal_acknowledged: true })), "confirmed");
  assert.equal(withdrawalWords(disclosure({ withdrawn_at: NOW, withdrawal_acknowledged: true }), NOW), "Withdrawn, confirmed by the site");
  assert.equal(nextTryText(undefined, NOW), "");
});

test("what a site changed about itself", () => {
  const at = NOW;
  const controller = {
    at,
    field: "controller",
    before: "Test Shoes B.V. (privacy@shoes.test; https://shoes.test/privacy)",
    after: "Big Retail (Europe) plc (dpo@bigretail.test; https://bigretail.test/privacy)",
  };
  assert.equal(siteChangeWords(controller), "Now run by Big Retail (Europe) plc (before: Test Shoes B.V.) since 30 Nov 2026");
  assert.equal(siteChangeWords({ at, field: "site_key", before: "key a", after: "key b" }), "Changed its signing key on 30 Nov 2026");
  assert.equal(
    siteChangeWords({ at, field: "revocation_endpoint", before: "https://a/r", after: "https://a/r2" }),
    "Changed where it receives revocations on 30 Nov 2026",
  );
  const entry = { kind: "site_changed", at, body: { field: "controller", before: "A (a@a.test; https://a.test/p)", after: "B (b@b.test; https://b.test/p)" } };
  assert.equal(ledgerWhat(entry), "Site changed");
  assert.equal(ledgerSummary(entry), "Now run by B (b@b.test; https://b.test/p) (before: A (a@a.test; https://a.test/p))");
});

test("after Revoke the popup says the site was asked, not that it is done", () => {
  assert.equal(revokeAskedWords("shop.example", { withdrawn: 2, erase: true }), "Asked shop.example to delete what it got (2 disclosures). Waiting for the site's confirmation.");
  assert.equal(revokeAskedWords("shop.example", { withdrawn: 1, erase: false }), "Asked shop.example to stop using what it got (1 disclosure). Waiting for the site's confirmation.");
  assert.match(revokeAskedWords("shop.example", { withdrawn: 0, erase: false }), /nothing from your vault to withdraw/);
  const failed = { kind: "delivery", at: NOW, body: { outcome: "failed", error: "HTTP 503", next_attempt_at: NOW + 30 } };
  assert.equal(ledgerSummary(failed), "Not delivered yet (HTTP 503); next try 30 Nov 2026, 13:00");
});
