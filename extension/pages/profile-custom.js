// "Add a field of your own": a name and a value, stored as the custom attribute custom.NAME (the vault's
// own rule for such names is in shared/contract.js). Saved with the rest of the form by its one Save.

import { CUSTOM_ATTRIBUTE, CUSTOM_INPUT } from "../shared/contract.js";
import { h } from "./dom.js";

// "Favourite colour" -> "custom.favourite_colour"
export const customName = (text) => `custom.${text.trim().toLowerCase().replace(/[\s-]+/g, "_")}`;

export function newCustomRow(taken) {
  const name = h("input", { type: "text", id: "custom-name", autocomplete: "off", placeholder: "e.g. Favourite colour", "aria-describedby": "custom-name-status" });
  const value = h("input", { type: "text", id: "custom-value", autocomplete: "off", maxlength: CUSTOM_INPUT.maxLength, placeholder: "e.g. green", "aria-describedby": "custom-value-status" });
  const nameStatus = h("p", { class: "small row-status", id: "custom-name-status" });
  const valueStatus = h("p", { class: "small row-status", id: "custom-value-status" });
  const row = h(
    "div",
    { class: "attribute custom-new" },
    h("div", { class: "attribute-name" }, h("span", { class: "label" }, "Add a field"), h("p", { class: "small muted" }, "Anything else you want sites to be able to ask for, with your agreement.")),
    h("div", { class: "custom-fields" }, h("label", { for: "custom-name" }, "Name"), name, nameStatus, h("label", { for: "custom-value" }, "Value"), value, valueStatus),
  );
  const say = (input, status, text) => {
    status.textContent = text ? `Error: ${text}` : "";
    status.className = `small row-status ${text ? "error-text" : ""}`;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  let wrong = name;
  return {
    label: "Add a field",
    row,
    // { name, value, label } to add, { problem } (said next to the input it is about), or null.
    change() {
      const [label, text] = [name.value.trim(), value.value.trim()];
      if (!label && !text) return null;
      const attribute = customName(label);
      const [input, status, problem] = !label
        ? [name, nameStatus, "Give the field a name."]
        : !CUSTOM_ATTRIBUTE.test(attribute)
          ? [name, nameStatus, "A name uses letters a to z, digits and spaces, starts with a letter, and has at most 40 characters."]
          : taken.has(attribute)
            ? [name, nameStatus, `You already have a field called “${label}”: change it above.`]
            : !text
              ? [value, valueStatus, "Give the field a value."]
              : [null, null, ""];
      if (problem) {
        say(input, status, problem);
        wrong = input;
        return { problem };
      }
      return { name: attribute, value: text, label };
    },
    problem(text) {
      say(value, valueStatus, text);
      wrong = value;
    },
    clear() {
      say(name, nameStatus, "");
      say(value, valueStatus, "");
    },
    focus: () => wrong.focus(),
  };
}
