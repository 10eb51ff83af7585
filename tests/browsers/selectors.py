"""Playwright's selectors in a page's own JavaScript, for the Firefox driver: CSS plus `text=`, `:has-text()`,
`:text()`, `:text-is()` and `A >> B`; and the WebDriver key codes for the keys the tests press."""

POLL = 0.05

# Finds elements for a selector: `A >> B` parts, each CSS (with an optional trailing :has-text('x')) or
# text=x (the deepest elements whose text contains x, case-insensitively; quoted: equal to it).
ENGINE = r"""
const pvNorm = (s) => (s || "").replace(/\s+/g, " ").trim();
const pvText = (el) => pvNorm(el.innerText !== undefined ? el.innerText : el.textContent);
function pvByText(scopes, text) {
  const quoted = /^(["']).*\1$/.test(text);
  const want = pvNorm(quoted ? text.slice(1, -1) : text).toLowerCase();
  const hit = (el) => { const t = pvText(el).toLowerCase(); return quoted ? t === want : t.includes(want); };
  const found = [];
  for (const scope of scopes) {
    for (const el of [scope, ...scope.querySelectorAll("*")]) {
      if (["SCRIPT", "STYLE", "HEAD", "TITLE"].includes(el.tagName) || !hit(el)) continue;
      if ([...el.children].some(hit)) continue;
      if (!found.includes(el)) found.push(el);
    }
  }
  return found;
}
function pvQuery(selector, hasText) {
  let scopes = [document.documentElement];
  for (let part of selector.split(" >> ")) {
    part = part.trim();
    if (part.startsWith("text=")) { scopes = pvByText(scopes, part.slice(5)); continue; }
    let contains = null, deepest = false, exact = false;
    const m = part.match(/:(has-text|text-is|text)\((["'])(.*)\2\)$/);
    if (m) {
      exact = m[1] === "text-is";  // the whole text, case-sensitive (Playwright's :text-is)
      contains = exact ? pvNorm(m[3]) : pvNorm(m[3]).toLowerCase();
      deepest = m[1] === "text";
      part = part.slice(0, m.index);
    }
    const next = [];
    for (const scope of scopes) {
      const within = scope === document.documentElement ? document.querySelectorAll(part)
        : [...(scope.matches(part) ? [scope] : []), ...scope.querySelectorAll(part)];
      for (const el of within) {
        if (exact && pvText(el) !== contains) continue;
        if (contains !== null && !exact && !pvText(el).toLowerCase().includes(contains)) continue;
        if (deepest && [...el.children].some((c) => pvText(c).toLowerCase().includes(contains))) continue;
        if (!next.includes(el)) next.push(el);
      }
    }
    scopes = next;
  }
  const having = pvNorm(hasText).toLowerCase();
  if (having) scopes = scopes.filter((el) => pvText(el).toLowerCase().includes(having));
  return scopes;
}
// Whether what an event or a point reached (`hit`) is `el`, in it, or its label (as for a styled checkbox).
function pvHits(el, hit) {
  return !!hit && (el.contains(hit) || [...(el.labels || [])].some((label) => label.contains(hit)));
}
// Scrolls only when a click at the element's middle would miss it: out of view, or under something else
// (a sticky bar).
function pvReachable(el) {
  const r = el.getBoundingClientRect();
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
  return pvHits(el, document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
}
// Until the next click event: stops the click's events that reach anything but `el` and says so in
// `missed` (as Playwright's hit target check), so a click whose element moved away is tried again.
function pvGuardClick(el) {
  if (window.__pvClickGuard) window.__pvClickGuard.stop();
  const types = ["pointerdown", "mousedown", "pointerup", "mouseup", "click"];
  const guard = {missed: false};
  const check = (event) => {
    if (!pvHits(el, event.target)) {
      guard.missed = true;
      event.preventDefault();
      event.stopImmediatePropagation();
    }
    if (event.type === "click") guard.stop();  // a label's click on its input that follows is its own
  };
  guard.stop = () => { for (const type of types) window.removeEventListener(type, check, true); };
  for (const type of types) window.addEventListener(type, check, true);
  window.__pvClickGuard = guard;
}
function pvScrollIfNeeded(el) {
  if (!pvReachable(el)) el.scrollIntoView({block: "center"});
}
function pvVisible(el) {
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
}
"""

KEYS = {
    "Enter": "\ue007", "Escape": "\ue00c", "Tab": "\ue004", "Backspace": "\ue003", "Delete": "\ue017",
    "ArrowUp": "\ue013", "ArrowDown": "\ue015", "ArrowLeft": "\ue012", "ArrowRight": "\ue014",
    "Space": " ", "Home": "\ue011", "End": "\ue010",
}  # fmt: skip
