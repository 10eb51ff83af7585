// One attribute of the profile editor: its name and what it is for, its input, a Remove (which takes
// effect on Save, and can be taken back with Keep until then), and its problem in words next to it,
// tied to the input by aria-describedby and aria-invalid so a screen reader reads it with the field.

import { h } from "./dom.js";
import { control, choiceWords } from "./profile-fields.js";

export const fieldId = (name) => `attr-${name.replace(/[^a-z0-9]/gi, "-")}`;
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export function attributeRow({ name, label, description = "", sensitive = false, spec, saved }) {
  const id = fieldId(name);
  const edit = control(id, spec, saved);
  const kind = spec?.kind;
  const group = kind === "choices"; // checkboxes: a labelled group, not one labelled input
  const status = h("p", { class: "small row-status", id: `${id}-status` });
  const remove = h("button", { type: "button", class: "button small quiet", id: `${id}-remove`, "aria-label": `Remove ${label}` }, "Remove");
  const keep = h("button", { type: "button", class: "button small", id: `${id}-keep` }, "Keep");
  const described = `${description ? `${id}-help ` : ""}${id}-status`;
  const title = group ? h("span", { class: "label", id: `${id}-label` }, label) : h("label", { for: id }, label);
  const editor = group ? h("div", { role: "group", "aria-labelledby": `${id}-label`, "aria-describedby": described }, edit.element) : edit.element;
  if (!group) for (const input of edit.element.matches("input, select") ? [edit.element] : edit.element.querySelectorAll(`#${id}`)) input.setAttribute("aria-describedby", described);
  const row = h(
    "div",
    { class: `attribute kind-${kind ?? "text"}`, dataset: { attribute: name } },
    h("div", { class: "attribute-name" }, title, sensitive ? h("span", { class: "tag high" }, "Sensitive") : null, description ? h("p", { class: "small muted", id: `${id}-help` }, description) : null),
    h("div", { class: "attribute-edit" }, editor, remove),
    status,
  );
  const target = () => row.querySelector(`#${id}`) ?? row.querySelector("input, select"); // a group: its first box
  const invalidTargets = () => (group ? [editor] : [target()]);
  const say = (text, kind = "") => {
    status.replaceChildren(text ?? "");
    status.className = `small row-status ${kind}`;
    for (const target of invalidTargets()) {
      if (kind === "error-text") target.setAttribute("aria-invalid", "true");
      else target.removeAttribute("aria-invalid");
    }
  };
  // Hidden by visibility, not removed: the inputs of every row stay the same width.
  const showRemove = () => (remove.style.visibility = saved === undefined || edit.read(false).empty === true ? "hidden" : "visible");
  const removed = () => {
    say("");
    status.append(`${label} will be removed when you save. `, keep);
    status.className = "small row-status pending";
  };
  remove.addEventListener("click", () => {
    edit.set(undefined);
    showRemove();
    removed();
    keep.focus();
  });
  keep.addEventListener("click", () => {
    edit.set(saved);
    showRemove();
    say("");
    target()?.focus();
  });
  row.addEventListener("input", () => {
    if (status.classList.contains("error-text")) say("");
    showRemove();
    if (saved !== undefined && edit.read(false).empty) removed();
  });
  edit.problemOut = (problem) => say(problem ? `Error: ${problem}` : "", problem ? "error-text" : "");
  showRemove();
  return {
    name,
    label,
    row,
    saved,
    // What Save should do: { value } to set, { remove: true }, { problem }, or null for no change.
    change() {
      const read = edit.read();
      if (read.problem) return { problem: read.problem };
      if (read.empty) return saved === undefined ? null : { remove: true };
      return same(read.value, saved) ? null : { value: read.value };
    },
    problem: (text) => say(`Error: ${text}`, "error-text"),
    clear: () => status.classList.contains("error-text") && say(""),
    focus: () => target()?.focus(),
  };
}

export { choiceWords };
