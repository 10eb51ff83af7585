// Demo Shoes' offer page, where our proposal leads: it asks the visitor's vault for the purpose the page
// names (data-purpose), through the extension's page API, so the vault shows its normal prompt; the user
// may say no. Then our server verifies the answer and suggests from the interests it carries alone.

import { $, acknowledge, callShop, element, explainVaultError, say, waitForVault } from "./page.js";

const PURPOSE = document.querySelector("[data-purpose]").dataset.purpose;
const WAIT_FOR_EXTENSION_MS = 1500;
const SHOWN = 3;
const button = $("share-interests");

async function ask(vault) {
  button.disabled = true;
  say("Asking your vault… it asks you first, in the extension.", "busy");
  try {
    const { nonce } = await callShop("/api/nonce");
    const answer = await vault.request({ purposes: [PURPOSE], nonce });
    const result = answer.results?.[PURPOSE];
    if (!result || result.outcome !== "granted") {
      say("You chose not to share your interests: nothing changes.", "info");
      return;
    }
    let verified;
    try {
      verified = await callShop("/api/verify", { purpose: PURPOSE, token: result.token });
    } catch (error) {
      say(`We could not verify what your vault sent (${error.reason ?? "error"}): ${error.message}`, "error");
      return;
    }
    const liked = verified.products.filter((p) => p.why.some((why) => why.startsWith("you like")));
    $("suggestions").replaceChildren(
      ...(liked.length ? liked : verified.products).slice(0, SHOWN).map((p) =>
        element("li", { "data-id": p.id }, `${p.name}: ${p.why.join("; ") || p.description}`)
      ),
    );
    $("suggested").hidden = false;
    say("Suggested from the interests your vault shared.", "ok");
    await acknowledge(vault, verified, $("promise"));
  } catch (error) {
    say(explainVaultError(error), "error");
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const vault = await waitForVault(WAIT_FOR_EXTENSION_MS);
  if (!vault) {
    say("No personal vault found: install the Personal Vault extension to get suggestions.", "info");
    return;
  }
  button.hidden = false;
  button.addEventListener("click", () => ask(vault));
  await ask(vault);
}

start();
