// Demo Shoes: asks the visitor's personal vault (through the extension's page API) for the
// "recommendations" purpose, has our server verify the answer, shows what was used, and hands our
// signed acknowledgement back to the vault. Without the extension, the page stays as it is.

const PURPOSE = "recommendations";
const WAIT_FOR_EXTENSION_MS = 1500;
const PAIRING_RETRY_MS = 2000; // while the extension waits for the user to approve its pairing
const PAIRING_RETRIES = 30;

const $ = (id) => document.getElementById(id);
const statusLine = $("vault-status");
const button = $("personalise");

function say(text, kind = "info") {
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function claimValue(value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

function day(seconds) {
  return new Date(seconds * 1000).toLocaleDateString(undefined, { dateStyle: "long" });
}

// The extension may have set window.personalVault before this module runs, or announce it later.
function waitForVault(timeout) {
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

async function callShop(path, body) {
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

function explainVaultError(error) {
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

function explainRefusal(result) {
  if (result.reason === "expired") return "The request waited too long in your vault: try again.";
  if (result.reason === "bad_request") return `Your vault refused our request: ${result.message}`;
  return "You chose not to share: you see our whole range, in our own order.";
}

function showProducts(products, hidden) {
  const list = $("products");
  list.replaceChildren(
    ...products.map((p) => {
      const item = element(
        "li",
        { class: "product", "data-id": p.id },
        element("div", { class: `swatch swatch-${p.colour}`, "aria-hidden": "true" }),
        element("h3", {}, p.name),
        element("p", {}, p.description),
        element("p", { class: "meta" }, element("span", { class: "price" }, `€${p.price_eur}`), ` · ${p.sizes}`),
      );
      if (p.why.length) {
        item.append(
          element("ul", { class: "why", "aria-label": "Why it is here" }, ...p.why.map((w) => element("li", {}, w))),
        );
      }
      return item;
    }),
  );
  $("products-note").textContent = "Personalised with the facts above, as your vault verified them: best matches first.";
  $("hidden-list").replaceChildren(...hidden.map((h) => element("li", {}, `${h.name}: ${h.why}`)));
  $("hidden-products").hidden = hidden.length === 0;
}

function showUsed(verified) {
  $("used-claims").replaceChildren(
    ...verified.used.flatMap((use) => [
      element("dt", {}, element("code", {}, use.claim)),
      element("dd", {}, `${claimValue(use.value)}: ${use.effect}`),
    ]),
  );
  const notShared = $("not-shared");
  notShared.textContent = `You chose not to share: ${verified.not_shared.join(", ")}.`;
  notShared.hidden = verified.not_shared.length === 0;
  $("promise").textContent = "";
  $("used").hidden = false;
}

async function personalise(vault, retries = PAIRING_RETRIES) {
  button.disabled = true;
  say("Asking your vault… it may ask you first, in the extension.", "busy");
  try {
    const { nonce } = await callShop("/api/nonce");
    const answer = await vault.request({ purposes: [PURPOSE], nonce });
    const result = answer.results?.[PURPOSE];
    if (!result || result.outcome !== "granted") {
      say(explainRefusal(result ?? {}), "info");
      return;
    }
    let verified;
    try {
      verified = await callShop("/api/verify", { purpose: PURPOSE, token: result.token });
    } catch (error) {
      say(`We could not verify what your vault sent (${error.reason ?? "error"}): ${error.message}`, "error");
      return;
    }
    showProducts(verified.products, verified.hidden);
    showUsed(verified);
    say("Personalised with facts your vault verified.", "ok");
    try {
      await vault.acknowledge(verified.acknowledgement);
      $("promise").textContent = `Our signed promise to keep these until ${day(verified.keep_until)} at ` +
        "most is now stored in your vault.";
    } catch (error) {
      $("promise").textContent = `Your vault could not store our signed promise: ${explainVaultError(error)}`;
    }
  } catch (error) {
    say(explainVaultError(error), "error");
    if (error.code === "not_paired" && retries > 0) {
      // Pairing is approved outside this page (`vault pair approve`): try again by ourselves meanwhile.
      setTimeout(() => personalise(vault, retries - 1), PAIRING_RETRY_MS);
    }
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const vault = await waitForVault(WAIT_FOR_EXTENSION_MS);
  if (!vault) {
    say(
      "No personal vault found: you see our whole range, in our own order. Install the Personal Vault " +
        "extension to get recommendations without an account.",
      "info",
    );
    return;
  }
  button.hidden = false;
  button.addEventListener("click", () => personalise(vault));
  await personalise(vault);
}

start();
