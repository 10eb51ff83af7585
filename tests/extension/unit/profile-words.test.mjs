// The profile editor's pure parts: a custom field's name as the vault's attribute name, and the vocabulary's
// choices in words (extension/pages/profile-custom.js, profile-fields.js).
import assert from "node:assert/strict";
import test from "node:test";

import { CUSTOM_ATTRIBUTE, PROFILE_INPUTS } from "../../../extension/shared/contract.js";
import { customName } from "../../../extension/pages/profile-custom.js";
import { choiceWords } from "../../../extension/pages/profile-fields.js";

test("a custom field's name becomes custom.NAME, and the vault's rule decides", () => {
  assert.equal(customName("  Favourite colour "), "custom.favourite_colour");
  assert.equal(customName("Shoe-lace  length"), "custom.shoe_lace_length");
  assert.ok(CUSTOM_ATTRIBUTE.test(customName("Favourite colour")));
  for (const bad of ["3 wishes", "Kleur é", "", "x".repeat(41)]) assert.ok(!CUSTOM_ATTRIBUTE.test(customName(bad)), bad);
});

test("choices read as words; the inputs come from the vault's attribute types", () => {
  assert.equal(choiceWords("gluten-free"), "Gluten free");
  assert.equal(choiceWords("screen-reader"), "Screen reader");
  assert.equal(choiceWords("XXS"), "XXS");
  assert.equal(PROFILE_INPUTS.birthdate.kind, "date");
  assert.equal(PROFILE_INPUTS.country.kind, "country");
  assert.equal(PROFILE_INPUTS.languages.kind, "languages");
  assert.ok(PROFILE_INPUTS.diet.choices.includes("vegan") && PROFILE_INPUTS.diet.kind === "choices");
  assert.ok(PROFILE_INPUTS["sizes.clothing"].choices.includes("M"));
});
