// Who may run which action. Every message to the worker goes through route(): the sender is classified
// from what the browser says about it (never from the message), and each kind of sender has its own
// table. A web page (through the content script) can reach the page actions and nothing else.

import { PageAction } from "../shared/actions.js";
import { EXTENSION_HANDLERS } from "./actions.js";
import { acceptNotify } from "./notify.js";
import { isSiteOrigin, pageError, senderOrigin } from "./page-contract.js";
import { acceptPageCall, heldCalls } from "./requests.js";

const PAGE_HANDLERS = Object.freeze({
  [PageAction.request]: (message, sender) => acceptPageCall("request", message, sender),
  [PageAction.acknowledge]: (message, sender) => acceptPageCall("acknowledge", message, sender),
  // Answered here and now, the same for every message (background/notify.js); no page.result follows.
  [PageAction.notify]: (message, sender) => acceptNotify(message, sender),
  [PageAction.held]: (message, sender) => heldCalls(message, sender),
});

const TABLES = Object.freeze({ page: PAGE_HANDLERS, extension: EXTENSION_HANDLERS });

// "extension" for our own pages, "page" for our content script in a web page's top frame, else null.
export function senderKind(sender) {
  if (!sender || sender.id !== chrome.runtime.id) return null;
  const root = chrome.runtime.getURL("");
  // Extension pages have our own URL (a content script's sender.url is the web page's).
  if (typeof sender.url === "string" && sender.url.startsWith(root)) return "extension";
  if (sender.tab && sender.frameId === 0 && isSiteOrigin(senderOrigin(sender))) return "page";
  return null;
}

// The error an extension page sees: everything, hint included (it is the user's own UI).
function extensionError(error) {
  return {
    code: typeof error?.code === "string" ? error.code : "failed",
    message: String(error?.message ?? error),
    hint: typeof error?.hint === "string" ? error.hint : "",
    ...(error?.problems?.length ? { problems: error.problems } : {}), // each refused entry of a batch
  };
}

export async function route(message, sender) {
  const kind = senderKind(sender);
  const table = kind ? TABLES[kind] : null;
  const action = typeof message?.action === "string" ? message.action : "";
  if (!table || !Object.hasOwn(table, action)) {
    return { ok: false, error: { code: "forbidden", message: `action ${JSON.stringify(action.slice(0, 40))} is not allowed here` } };
  }
  try {
    return { ok: true, value: await table[action](message, sender) };
  } catch (error) {
    return { ok: false, error: kind === "page" ? pageError(error) : extensionError(error) };
  }
}
