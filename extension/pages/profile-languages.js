// Languages by name: the user types "Dutch" (or picks it from the suggestions) and the vault stores the
// BCP 47 tag "nl"; most preferred first, in the order added. Names come from Intl.DisplayNames, in the
// page's language, so no list of names is kept here, only which tags to suggest.

import { h } from "./dom.js";

// Languages to suggest by name (ISO 639-1, and the regional forms people often mean); any other tag the
// user types (e.g. "gsw" or "sr-Latn") is accepted when the browser can name it.
const SUGGESTED = (
  "af am ar az be bg bn bs ca cs cy da de el en en-GB en-US eo es es-MX et eu fa fi fil fr fr-CA ga gl gu he hi hr " +
  "hu hy id is it ja ka kk km kn ko ky lb lo lt lv mk ml mn mr ms mt my nb ne nl nl-BE nn pa pl ps pt pt-BR pt-PT " +
  "ro ru si sk sl sq sr sv sw ta te th tr uk ur uz vi xh yo zh zh-Hans zh-Hant zu"
).split(" ");

export function displayNames(type) {
  try {
    return new Intl.DisplayNames([navigator.language, "en"], { type, fallback: "none" });
  } catch {
    return null; // a browser without DisplayNames shows codes
  }
}

const canonical = (tag) => {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return null;
  }
};

export function languagesControl(id, spec, saved) {
  const names = displayNames("language");
  const nameOf = (tag) => names?.of(tag) ?? tag;
  const byName = new Map();
  for (const tag of new Set([...navigator.languages, ...SUGGESTED].map(canonical).filter(Boolean))) {
    if (!byName.has(nameOf(tag).toLowerCase())) byName.set(nameOf(tag).toLowerCase(), tag);
  }
  let tags = Array.isArray(saved) ? [...saved] : [];
  const chips = h("ul", { class: "chips language-chips", "aria-label": "Your languages, most preferred first" });
  const field = h("input", { type: "text", id, list: `${id}-names`, autocomplete: "off", placeholder: "Add a language by name, e.g. Dutch" });
  const add = h("button", { type: "button", class: "button small", id: `${id}-add` }, "Add");
  const note = h("p", { class: "small muted row-status", id: `${id}-added`, role: "status" });
  const suggestions = h("datalist", { id: `${id}-names` }, [...byName.keys()].sort().map((key) => h("option", { value: nameOf(byName.get(key)) })));

  // "Dutch" -> "nl"; "en-gb" -> "en-GB"; null when neither a name nor a tag the browser can name.
  const resolve = (text) => {
    const known = byName.get(text.toLowerCase());
    if (known) return known;
    const tag = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(text) ? canonical(text) : null;
    return tag && names?.of(tag) ? tag : null;
  };
  const draw = () =>
    chips.replaceChildren(
      ...tags.map((tag) => {
        const drop = h("button", { type: "button", class: "button small quiet", "aria-label": `Remove ${nameOf(tag)}` }, "✕");
        drop.addEventListener("click", () => {
          tags = tags.filter((t) => t !== tag);
          note.textContent = `${nameOf(tag)} will be removed when you save.`;
          draw();
          field.focus();
        });
        return h("li", { class: "chip", lang: tag }, nameOf(tag), drop);
      }),
    );
  // Adds what is typed; returns a problem in words, or "" when it was added (or nothing was typed).
  const take = () => {
    const text = field.value.trim();
    if (!text) return "";
    const tag = resolve(text);
    if (!tag) return `“${text}” is not a language this browser knows: type its name, like Dutch, or a tag, like nl.`;
    if (!tags.includes(tag)) {
      if (tags.length >= spec.maxItems) return `You can list at most ${spec.maxItems} languages.`;
      tags.push(tag);
      note.textContent = `${nameOf(tag)} added.`;
    }
    field.value = "";
    draw();
    return "";
  };
  const control = { element: null, problemOut: null };
  const addNow = () => control.problemOut?.(take());
  add.addEventListener("click", addNow);
  field.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter adds the language; the form's Save is a separate step
    addNow();
  });
  draw();
  return Object.assign(control, {
    element: h("div", { class: "languages" }, chips, h("div", { class: "row language-add" }, field, add), suggestions, note),
    set(value) {
      tags = Array.isArray(value) ? [...value] : [];
      field.value = "";
      note.textContent = "";
      draw();
    },
    // `commit`: a name typed but not yet added counts (on Save); while typing, only look.
    read(commit = true) {
      const problem = commit ? take() : "";
      if (problem) return { problem };
      return tags.length || field.value.trim() ? { value: [...tags] } : { empty: true };
    },
  });
}
