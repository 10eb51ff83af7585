// The options page's profile: what the vault may derive claims from, edited one attribute at a time.

import { Action, ask } from "./api.js";
import { h } from "./dom.js";
import { claimLabel, valueText } from "./format.js";
import { heading } from "./options-ui.js";

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

function attributeRow(entry, value) {
  const id = `attr-${entry.name.replace(/[^a-z0-9]/gi, "-")}`;
  const shown = value === undefined ? "" : valueText(value);
  const input = h("input", { type: "text", id, name: entry.name, value: shown, placeholder: entry.example ? `e.g. ${entry.example}` : "", "aria-describedby": `${id}-help ${id}-status` });
  const status = h("p", { class: "small muted row-status", id: `${id}-status`, role: "status" });
  const save = h("button", { type: "submit", class: "button small primary", disabled: true }, "Save");
  const remove = h("button", { type: "button", class: "button small quiet" }, "Remove");
  const showRemove = (visible) => (remove.style.visibility = visible ? "visible" : "hidden"); // keeps the columns aligned
  showRemove(value !== undefined);
  let saved = shown;
  const form = h(
    "form",
    { class: "attribute" },
    h("div", { class: "attribute-name" }, h("label", { for: id }, attributeLabel(entry.name)), entry.sensitivity === "high" ? h("span", { class: "tag high" }, "Sensitive") : null, h("p", { class: "small muted", id: `${id}-help` }, entry.description)),
    h("div", { class: "attribute-edit" }, input, save, remove),
    status,
  );
  const show = (text, kind = "muted") => {
    status.textContent = text;
    status.className = `small row-status ${kind}`;
  };
  input.addEventListener("input", () => {
    save.disabled = input.value.trim() === saved;
    show("");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (input.value.trim() === "") return remove.click();
    try {
      const answer = await ask(Action.profileSet, { name: entry.name, value: input.value.trim() });
      saved = input.value = valueText(answer.value);
      save.disabled = true;
      showRemove(true);
      show("Saved", "ok-text");
    } catch (error) {
      show(error.message, "error-text");
    }
  });
  remove.addEventListener("click", async () => {
    try {
      await ask(Action.profileDelete, { name: entry.name });
      saved = input.value = "";
      save.disabled = true;
      showRemove(false);
      show("Removed");
    } catch (error) {
      show(error.message, "error-text");
    }
  });
  return form;
}

export async function profileSection() {
  const profile = await ask(Action.profileGet);
  const byName = new Map(profile.catalogue.map((e) => [e.name, e]));
  for (const name of Object.keys(profile.values)) {
    if (!byName.has(name)) byName.set(name, { name, description: "Your own attribute", sensitivity: "medium", example: "" });
  }
  const grouped = GROUPS.map(([title, names]) => [title, names.filter((n) => byName.has(n)).map((n) => byName.get(n))]);
  const placed = new Set(GROUPS.flatMap(([, names]) => names));
  grouped.push(["Other", [...byName.values()].filter((e) => !placed.has(e.name))]);
  return [
    heading("Your profile", "Sites never see these values directly: they get only what a claim derives from them (“18 or older”, not your birth date), and only when you agree. Lists are written with commas: jazz, hiking."),
    grouped
      .filter(([, entries]) => entries.length)
      .map(([title, entries]) => h("section", { class: "group" }, h("h2", {}, title), h("div", { class: "card list" }, entries.map((e) => attributeRow(e, profile.values[e.name]))))),
  ];
}

