// The options page's export: everything in the vault, as one JSON download.

import { Action, ask } from "./api.js";
import { h } from "./dom.js";
import { heading } from "./options-ui.js";

export async function exportSection() {
  const status = h("p", { class: "small", role: "status" });
  const button = h("button", { type: "button", class: "button primary", id: "export-button" }, "Download everything (JSON)");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Exporting…";
    try {
      const data = await ask(Action.exportVault);
      const blob = new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" });
      const link = h("a", { href: URL.createObjectURL(blob), download: `personal-vault-export-${new Date().toISOString().slice(0, 10)}.json` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      status.textContent = `Downloaded (${Math.ceil(blob.size / 1024)} KB).`;
    } catch (error) {
      status.textContent = `${error.message}${error.hint ? ` — ${error.hint}` : ""}`;
    } finally {
      button.disabled = false;
    }
  });
  return [
    heading("Export", "A copy of everything in your vault, as JSON: your profile, every site, your choices (as ISO/IEC TS 27560 consent records) and the full history. Keep it somewhere safe: it holds your personal data."),
    h("div", { class: "card stack" }, button, status),
  ];
}

