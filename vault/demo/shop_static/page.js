// What the shop's pages share: finding the extension's page API, calling our own server, and saying
// what happened in the page's status line (#vault-status) in words.

export const $ = (id) => document.getElementById(id);

export function say(text, kind = "info") {
  const statusLine = $("vault-status");
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

export function claimValue(value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

export function day(seconds) {
  return new Date(seconds * 1000).toLocaleDateString(undefined, { dateStyle: "long" });
}

// The extension may have set window.personalVault before this module runs, or announce it later.
export function waitForVault(timeout) {
  if (window.personalVault) return Promise.resolve(window.personalVault);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(window.personalVault ?? null), timeout);
    window.addEventListener(
      "personalvault:ready",
      () => {
        clearTimeout(timer);
        resolve(window.personalVault ?? null);
      },
      { once: true },
    );
  });
}

export async function callShop(path, body) {
  const options = body === undefined
    ? { credentials: "same-origin" }
    : {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
  const response = await fetch(path, options);
  const answer = await response.json();
  if (!response.ok) {
    const error = new Error(answer.message || `the shop answered ${response.status}`);
    error.reason = answer.reason;
    throw error;
  }
  return answer;
}

export function explainVaultError(error) {
  switch (error.code) {
    case "not_available":
      return "Your vault is not reachable: is the vault daemon running (vault serve)?";
    case "not_paired":
      return "The extension is not paired with your vault yet: open its popup and approve the code it " +
        "shows with: vault pair approve CODE. This page tries again by itself.";
    case "busy":
      return "Your vault is still busy with an earlier request from this page: try again in a moment.";
    case "timeout":
      return "Your vault did not answer in time (was the question left open?): try again.";
    case "bad_request":
      return `Your vault refused this page's request (a bug in this shop): ${error.message}`;
    default:
      return `Your vault could not answer: ${error.message || error.code || "unknown error"}.`;
  }
}

// Hand our signed acknowledgement back to the vault; say in `promise` whether it is stored.
export async function acknowledge(vault, verified, promise) {
  try {
    await vault.acknowledge(verified.acknowledgement);
    promise.textContent = `Our signed promise to keep these until ${day(verified.keep_until)} at ` +
      "most is now stored in your vault.";
  } catch (error) {
    promise.textContent = `Your vault could not store our signed promise: ${explainVaultError(error)}`;
  }
}
