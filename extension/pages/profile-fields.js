// The profile editor's inputs, one kind per attribute type (shared/contract.js PROFILE_INPUTS, generated
// from the vault's own attribute types): a date picker, countries and languages by name, the vocabulary's
// choices, bounded numbers, text. Each control can `read()` what it holds as the value the daemon takes,
// `{ empty: true }`, or `{ problem }` in words; the daemon still checks every value it is sent.

import { COUNTRIES } from "../shared/contract.js";
import { h } from "./dom.js";
import { valueText } from "./format.js";
import { displayNames, languagesControl } from "./profile-languages.js";

// "gluten-free" -> "Gluten free", "screen-reader" -> "Screen reader"; "XXS" stays "XXS".
export function choiceWords(choice) {
  const text = String(choice).replace(/-/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const EMPTY = { empty: true };
const todayISO = () => {
  const now = new Date(); // the user's own day: the date picker is local
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
};
const longDate = (iso) => new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeZone: "UTC" }).format(new Date(`${iso}T00:00:00Z`));

function input(attributes, saved) {
  const element = h("input", { ...attributes, value: saved === undefined ? "" : valueText(saved) });
  return { element, read: () => element.value.trim(), set: (value) => (element.value = value === undefined ? "" : valueText(value)) };
}

function textControl(id, spec, saved, type = "text") {
  const box = input({ type, id, maxlength: spec.maxLength, autocomplete: "off" }, saved);
  return {
    ...box,
    read() {
      const text = box.read();
      if (!text) return EMPTY;
      if (spec.maxLength && text.length > spec.maxLength) return { problem: `Use at most ${spec.maxLength} characters.` };
      if (type === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) return { problem: "This is not an email address (like ada@example.org)." };
      return { value: text };
    },
  };
}

function listControl(id, spec, saved) {
  const box = input({ type: "text", id, autocomplete: "off" }, saved);
  return {
    ...box,
    read() {
      const items = box.read().split(",").map((item) => item.trim()).filter(Boolean);
      if (!items.length) return EMPTY;
      if (items.length > spec.maxItems) return { problem: `Give at most ${spec.maxItems}, separated by commas.` };
      const long = items.find((item) => item.length > spec.maxLength);
      if (long) return { problem: `“${long}” is longer than ${spec.maxLength} characters.` };
      return { value: items };
    },
  };
}

function numberControl(id, spec, saved) {
  const box = input({ type: "number", id, min: spec.min, max: spec.max, step: spec.step, inputmode: "decimal" }, saved);
  return {
    ...box,
    read() {
      if (box.element.validity.badInput) return { problem: "Enter a number." };
      const text = box.read();
      if (!text) return EMPTY;
      const number = Number(text);
      if (!Number.isFinite(number) || number < spec.min || number > spec.max) return { problem: `Enter a number from ${spec.min} to ${spec.max}.` };
      if (Math.abs(number / spec.step - Math.round(number / spec.step)) > 1e-9) return { problem: `Sizes come in steps of ${spec.step}.` };
      return { value: number };
    },
  };
}

function dateControl(id, spec, saved) {
  const box = input({ type: "date", id, min: spec.min, max: todayISO() }, saved);
  return {
    ...box,
    read() {
      if (box.element.validity.badInput) return { problem: "Enter the whole date: day, month and year." };
      const day = box.read();
      if (!day) return EMPTY;
      if (day < spec.min) return { problem: `Enter a date from ${longDate(spec.min)} on.` };
      if (day > todayISO()) return { problem: "A birth date cannot be in the future." };
      return { value: day };
    },
  };
}

// A <select> with "Not set" first: type-ahead finds an option by the first letters of its name.
function selectControl(id, options, saved) {
  const element = h("select", { id }, h("option", { value: "" }, "Not set"), options.map(([value, text]) => h("option", { value }, text)));
  const set = (value) => (element.value = value === undefined ? "" : String(value));
  set(saved);
  if (saved !== undefined && element.value !== String(saved)) element.append(h("option", { value: saved, selected: true }, valueText(saved))); // a value the list lacks stays visible
  return { element, set, read: () => (element.value ? { value: element.value } : EMPTY) };
}

// Countries by name in the page's language, sorted by that name; the code is what is stored.
function countryControl(id, spec, saved) {
  const names = displayNames("region");
  const options = COUNTRIES.map((code) => [code, names?.of(code) ?? code]);
  const collator = new Intl.Collator(navigator.language);
  return selectControl(id, options.sort((a, b) => collator.compare(a[1], b[1])), saved);
}

// Several of the vocabulary's choices: checkboxes, in the vocabulary's order.
function choicesControl(id, spec, saved) {
  const chosen = new Set(Array.isArray(saved) ? saved : []);
  const boxes = spec.choices.map((choice) => h("input", { type: "checkbox", id: `${id}-${choice}`, value: choice, checked: chosen.has(choice) }));
  const element = h("div", { class: "choice-grid" }, boxes.map((box) => h("label", { class: "check" }, box, " ", choiceWords(box.value))));
  return {
    element,
    set: (value) => boxes.forEach((box) => (box.checked = Array.isArray(value) && value.includes(box.value))),
    read() {
      const values = boxes.filter((box) => box.checked).map((box) => box.value);
      return values.length ? { value: values } : EMPTY;
    },
  };
}

const CONTROLS = {
  text: textControl,
  email: (id, spec, saved) => textControl(id, spec, saved, "email"),
  list: listControl,
  number: numberControl,
  date: dateControl,
  country: countryControl,
  choice: (id, spec, saved) => selectControl(id, spec.choices.map((c) => [c, choiceWords(c)]), saved),
  choices: choicesControl,
  languages: languagesControl,
};

// The control for an attribute; one the contract does not know (a newer daemon) is edited as text, which
// the daemon parses as `vault profile set` does.
export function control(id, spec, saved) {
  const make = CONTROLS[spec?.kind] ?? ((i, s, v) => textControl(i, { kind: "text" }, v));
  return make(id, spec ?? {}, saved);
}
