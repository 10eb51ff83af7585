// The options page's profile: what the vault may derive claims from, edited as one form with typed inputs
// (profile-fields.js), one Save (profile-editor.js), and fields of the user's own (profile-custom.js).

import { PROFILE_INPUTS } from "../shared/contract.js";
import { Action, ask } from "./api.js";
import { h } from "./dom.js";
import { claimLabel } from "./format.js";
import { heading } from "./options-ui.js";
import { newCustomRow } from "./profile-custom.js";
import { profileForm } from "./profile-editor.js";
import { attributeRow } from "./profile-row.js";

const ATTRIBUTE_LABELS = { birthdate: "Birth date", country: "Country", region: "Region", postal_code: "Postal code", city: "City" };

function attributeLabel(name) {
  return ATTRIBUTE_LABELS[name] ?? claimLabel(name);
}

// The profile in groups a person recognises; attributes not named here go under "Other".
const GROUPS = [
  ["About you", ["given_name", "family_name", "email", "birthdate"]],
  ["Where you live", ["country", "region", "city", "postal_code"]],
  ["Preferences", ["languages", "interests", "sizes.shoe", "sizes.clothing", "diet", "accessibility"]],
];
const CUSTOM = "custom.";

export async function profileSection(refresh) {
  const profile = await ask(Action.profileGet);
  const byName = new Map(profile.catalogue.map((e) => [e.name, e]));
  const own = Object.keys(profile.values).filter((name) => name.startsWith(CUSTOM) && !byName.has(name)).sort();
  for (const name of Object.keys(profile.values)) {
    if (!byName.has(name) && !name.startsWith(CUSTOM)) byName.set(name, { name, description: "", sensitivity: "medium" });
  }
  const row = (entry) =>
    attributeRow({
      name: entry.name,
      label: attributeLabel(entry.name),
      description: entry.description,
      sensitive: entry.sensitivity === "high",
      spec: PROFILE_INPUTS[entry.name],
      saved: profile.values[entry.name],
    });
  const placed = new Set(GROUPS.flatMap(([, names]) => names));
  const grouped = GROUPS.map(([title, names]) => [title, names.filter((n) => byName.has(n)).map((n) => row(byName.get(n)))]);
  grouped.push(["Other", [...byName.values()].filter((e) => !placed.has(e.name)).map(row)]);
  const custom = newCustomRow(new Set(own));
  grouped.push(["Your own fields", [...own.map((name) => row({ name, description: "" })), custom]]);
  const sections = grouped
    .filter(([, rows]) => rows.length)
    .map(([title, rows]) => h("section", { class: "group", "aria-label": title }, h("h2", {}, title), h("div", { class: "card list" }, rows.map((r) => r.row))));
  return [
    heading("Your profile", "Sites never see these values directly: they get only what a claim derives from them (“18 or older”, not your birth date), and only when you agree. Change what you like, then Save."),
    profileForm(sections, grouped.flatMap(([, rows]) => rows), refresh),
  ];
}
