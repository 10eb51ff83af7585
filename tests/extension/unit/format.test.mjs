// Plain words in the prompt and pages (extension/pages/format.js). Run: node --test tests/extension/unit/

import assert from "node:assert/strict";
import { test } from "node:test";

import { claimLabel, controllerChangeWords, keptAndSharedWords, retentionWords, valueHint, valueText } from "../../../extension/pages/format.js";

test("retention in plain words", () => {
  const cases = {
    P30D: "30 days",
    P1D: "1 day",
    P1Y: "1 year",
    P1Y6M: "1 year and 6 months",
    P2W: "2 weeks",
    PT12H: "12 hours",
    P1DT2H30M: "1 day, 2 hours and 30 minutes",
    P3M: "3 months",
  };
  for (const [duration, words] of Object.entries(cases)) assert.equal(retentionWords(duration), words, duration);
  // What we cannot read is shown as the site wrote it, never guessed at.
  for (const odd of ["P", "PT", "30 days", "", "P1.5Y"]) assert.equal(retentionWords(odd), odd);
});

test("claim names and values as a person reads them", () => {
  assert.equal(claimLabel("age_over_18"), "18 or older");
  assert.equal(claimLabel("location.country"), "Country");
  assert.equal(claimLabel("sizes.shoe"), "Shoe size");
  assert.equal(claimLabel("custom.pet_name"), "Pet name");
  assert.equal(valueText(true), "Yes");
  assert.equal(valueText(false), "No");
  assert.equal(valueText(["jazz", "hiking"]), "jazz, hiking");
  assert.equal(valueText(42), "42");
  assert.equal(valueText("NL"), "NL");
  assert.equal(valueHint("location.country", "NL"), "Netherlands");
  assert.equal(valueHint("sizes.shoe", 42), "");
});

test("the prompt's summary line: how long and with whom", () => {
  assert.equal(keptAndSharedWords("P30D", [{ name: "A" }, { name: "B" }]), "Kept 30 days · shared with 2 third parties");
  assert.equal(keptAndSharedWords("P1Y", [{ name: "A" }]), "Kept 1 year · shared with 1 third party");
  assert.equal(keptAndSharedWords("P1D", []), "Kept 1 day · no third parties");
  assert.equal(keptAndSharedWords("P1D"), "Kept 1 day · no third parties");
});

test("a new company behind the site, named with the one before", () => {
  const now = { name: "New Shoes Ltd", contact: "privacy@new.test", privacy_policy: "https://new.test/privacy" };
  assert.equal(controllerChangeWords(now, { name: "Test Shoes B.V." }), "This site is now run by New Shoes Ltd (before: Test Shoes B.V.)");
});
