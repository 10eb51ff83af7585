// Web pages' calls over one port per page: content/relay.js opens it on the page's first request() or
// acknowledge() and sends each call on it; the worker answers a refusal at once, and the result later,
// on the same port (an accepted call gets no {accepted} message: if the port closes, the content script
// asks which calls the worker holds, PageAction.held). A runtime message opens and closes a channel each
// time (a round trip to the browser more than a message on an open port, ~0.5-1 ms each way on a page's
// request path).
//
// The port is a shortcut, never the only way: it goes with the worker (stopped, restarted) and with the
// document, and then a result is delivered by chrome.tabs.sendMessage as before, to the same document.
// Each message is routed exactly as a runtime message is (router.js's route and senderKind, handed in by
// worker.js, with the port's sender, which the browser fills in, never the page).

import { PAGE_RESULT } from "../shared/actions.js";

export const PAGE_PORT = "vault-page"; // content/relay.js opens ports with this name
const MAX_PORTS = 256; // one per top-level document that called the vault; beyond, tabs.sendMessage
const ports = new Map(); // the document's address (tab, frame, document) -> its port

const addressOf = (tabId, frameId, documentId) => `${tabId}/${frameId}/${documentId ?? ""}`;

export function onPagePort(port, { route, senderKind }) {
  if (port.name !== PAGE_PORT || senderKind(port.sender) !== "page") return port.disconnect();
  const { tab, frameId = 0, documentId = null } = port.sender;
  const address = addressOf(tab.id, frameId, documentId);
  if (ports.size < MAX_PORTS) ports.set(address, port);
  port.onDisconnect.addListener(() => {
    void chrome.runtime.lastError; // a closed tab or a navigation: nothing to report
    if (ports.get(address) === port) ports.delete(address);
  });
  port.onMessage.addListener((message) => {
    const callId = typeof message?.callId === "string" ? message.callId : null;
    route(message, port.sender).then((reply) => {
      if (reply?.ok && reply.value?.accepted === true) return; // its result follows
      try {
        port.postMessage({ type: "reply", callId, reply });
      } catch {
        // The document is gone: nobody waits for the answer.
      }
    });
  });
}

// A result for a page's call on the document's port, if it is still open: true once posted (synchronously).
export function postToPage(tabId, message, options) {
  const address = addressOf(tabId, options.frameId ?? 0, options.documentId);
  const port = ports.get(address);
  if (!port) return false;
  try {
    port.postMessage(message);
    return true;
  } catch {
    ports.delete(address);
    return false;
  }
}

// A result for a page's call: on the document's port if it is still open, else by tabs.sendMessage.
export async function sendToPage(tabId, message, options) {
  if (message?.type === PAGE_RESULT && postToPage(tabId, message, options)) return;
  await chrome.tabs.sendMessage(tabId, message, options);
}
