// Demo Shoes: asks the visitor's personal vault (through the extension's page API) for the
// "recommendations" purpose, has our server verify the answer, shows what was used, and hands our
// signed acknowledgement back to the vault, then hands the vault our proposal for this visitor (notify).
// Without the extension, the page stays as it is.

import { $, acknowledge, callShop, claimValue, element, explainVaultError, say, waitForVault } from "./page.js";

const PURPOSE = "recommendations";
const WAIT_FOR_EXTENSION_MS = 1500;
const PAIRING_RETRY_MS = 2000; // while the extension waits for the user to approve its pairing
const PAIRING_RETRIES = 30;

const button = $("personalise");

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
    await acknowledge(vault, verified, $("promise"));
    await propose(vault);
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

// Now that the visitor shared something, our proposal for them (if we have one) goes to their vault. The
// vault answers {received: true} whatever it does with it: this page learns nothing more.
async function propose(vault) {
  if (typeof vault.notify !== "function") return;
  try {
    const { message } = await callShop("/api/proposal");
    if (message) await vault.notify(message);
  } catch {
    // A proposal is a courtesy: the page works the same without it.
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
