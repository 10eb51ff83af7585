// A tiny element builder for the extension's pages. Text always goes in as text nodes (never innerHTML):
// values come from sites' manifests and the user's profile, and must never become markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// A switch that asks for a change when flipped: disabled while `change(checked)` runs; if it is refused,
// the switch goes back to where it was and `fail(error)` says why.
export function whenSwitched(box, change, fail) {
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      await change(box.checked);
    } catch (error) {
      box.checked = !box.checked;
      fail(error);
    } finally {
      box.disabled = false;
    }
  });
  return box;
}
