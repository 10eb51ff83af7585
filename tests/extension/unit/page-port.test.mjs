// The worker's side of a page's port (extension/background/page-port.js): what it routes, where a result
// goes (the document's open port, else chrome.tabs.sendMessage), and its bound.
// Run: node --test tests/extension/unit/

import assert from "node:assert/strict";
import { test } from "node:test";

const tabMessages = [];
globalThis.chrome = {
  runtime: { id: "our-extension", lastError: undefined },
  tabs: { sendMessage: async (tabId, message, options) => tabMessages.push({ tabId, message, options }) },
};
const { PAGE_PORT, onPagePort, sendToPage } = await import("../../../extension/background/page-port.js");

const listeners = () => {
  const heard = [];
  return { heard, addListener: (listener) => heard.push(listener) };
};

function port(sender, name = PAGE_PORT) {
  const made = { name, sender, posted: [], disconnected: false, onMessage: listeners(), onDisconnect: listeners() };
  made.postMessage = (message) => made.posted.push(message);
  made.disconnect = () => (made.disconnected = true);
  made.send = (message) => made.onMessage.heard.forEach((l) => l(message));
  made.close = () => made.onDisconnect.heard.forEach((l) => l());
  return made;
}

const pageSender = (tabId, documentId) => ({ id: "our-extension", tab: { id: tabId }, frameId: 0, documentId, origin: "https://shop.example" });
const routed = [];
const router = {
  route: async (message, sender) => {
    routed.push({ message, sender });
    if (message.refuse) return { ok: false, error: { code: "busy", message: "wait" } };
    return { ok: true, value: { accepted: true } };
  },
  senderKind: (sender) => (sender?.tab && sender.frameId === 0 ? "page" : null),
};
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
const result = (callId) => ({ type: "page.result", callId, ok: true, value: {} });

test("a page's port routes each call with the port's sender; a refusal is answered on it, an acceptance is not", async () => {
  const open = port(pageSender(7, "doc-a"));
  onPagePort(open, router);
  open.send({ action: "page.request", callId: "c1", args: {} });
  await tick();
  assert.deepEqual(routed.at(-1), { message: { action: "page.request", callId: "c1", args: {} }, sender: open.sender });
  assert.deepEqual(open.posted, []); // its result follows
  open.send({ action: "page.request", callId: "c0", args: {}, refuse: true });
  await tick();
  assert.deepEqual(open.posted, [{ type: "reply", callId: "c0", reply: { ok: false, error: { code: "busy", message: "wait" } } }]);
  open.close();
});

test("a result goes on the document's open port, else by tabs.sendMessage to the same document", async () => {
  const open = port(pageSender(8, "doc-b"));
  onPagePort(open, router);
  await sendToPage(8, result("c2"), { documentId: "doc-b" });
  assert.deepEqual(open.posted, [result("c2")]);
  await sendToPage(8, result("c3"), { documentId: "doc-other" }); // another document in the tab
  open.close();
  await sendToPage(8, result("c4"), { documentId: "doc-b" }); // the port went with the document
  assert.deepEqual(open.posted, [result("c2")]);
  assert.deepEqual(tabMessages.slice(-2).map((m) => [m.message.callId, m.options]), [
    ["c3", { documentId: "doc-other" }],
    ["c4", { documentId: "doc-b" }],
  ]);
  // Firefox gives no documentId: the tab's top frame.
  const firefox = port({ ...pageSender(9), documentId: undefined });
  onPagePort(firefox, router);
  await sendToPage(9, result("c5"), { frameId: 0 });
  assert.deepEqual(firefox.posted, [result("c5")]);
  firefox.close();
});

test("ports from anything but a page's top frame, or of another name, are closed at once", () => {
  const frame = port({ ...pageSender(10, "doc-c"), frameId: 3 });
  onPagePort(frame, router);
  const named = port(pageSender(10, "doc-c"), "something-else");
  onPagePort(named, router);
  assert.ok(frame.disconnected && named.disconnected);
  assert.equal(frame.onMessage.heard.length + named.onMessage.heard.length, 0);
});

test("at most 256 ports are kept; past that, results go by tabs.sendMessage", async () => {
  const many = Array.from({ length: 260 }, (_, i) => port(pageSender(1000 + i, `doc-${i}`)));
  for (const each of many) onPagePort(each, router);
  const before = tabMessages.length;
  await sendToPage(1000, result("first"), { documentId: "doc-0" });
  await sendToPage(1259, result("last"), { documentId: "doc-259" });
  assert.deepEqual(many[0].posted, [result("first")]);
  assert.deepEqual(many[259].posted, []);
  assert.equal(tabMessages.length, before + 1);
  for (const each of many) each.close();
});
