// Bench-only (scripts/bench_browser.py copies the extension and imports this first in its worker; the
// product never loads it). Timestamps one page request's steps in the worker, on one clock shared with
// the page (performance.timeOrigin + performance.now()), and sends them with the page's result.
// One request at a time: the steps belong to the last page.request received (on a port or not).

const now = () => performance.timeOrigin + performance.now();
let current = null; // {received, storage: [[op, start, end]], nativeSent, nativeReceived, resultSent}
let nativeId = null;

function onPageMessage(message) {
  if (message?.action === "page.request") current = { received: now(), storage: [] };
}
chrome.runtime.onMessage.addListener(onPageMessage);

// The result, with the stamps, as the worker sends it: on the page's port, or by tabs.sendMessage.
function withStamps(message) {
  if (!current || message?.type !== "page.result") return message;
  current.resultSent = now();
  return { ...message, probe: current };
}

// A page's port (background/page-port.js): this listener runs before the worker's own.
chrome.runtime.onConnect.addListener((port) => {
  port.onMessage.addListener(onPageMessage);
  const post = port.postMessage.bind(port);
  port.postMessage = (message) => post(withStamps(message));
});

// Every storage.session call while a request is in the worker: which, and how long it took.
const session = chrome.storage.session;
for (const op of ["get", "set", "remove"]) {
  const original = session[op].bind(session);
  session[op] = (...args) => {
    const entry = current && current.resultSent === undefined ? [op, now(), null] : null;
    if (entry) current.storage.push(entry);
    const done = original(...args);
    if (entry) done.then(() => (entry[2] = now()), () => (entry[2] = now()));
    return done;
  };
}

const connectNative = chrome.runtime.connectNative.bind(chrome.runtime);
chrome.runtime.connectNative = (name) => {
  const port = connectNative(name);
  port.onMessage.addListener((frame) => {
    if (current && frame?.id === nativeId) current.nativeReceived = now();
  });
  const post = port.postMessage.bind(port);
  port.postMessage = (frame) => {
    if (current && frame?.path === "/v1/presentations") {
      current.nativeSent = now();
      nativeId = frame.id;
    }
    return post(frame);
  };
  return port;
};

const sendToTab = chrome.tabs.sendMessage.bind(chrome.tabs);
chrome.tabs.sendMessage = (tabId, message, options) => sendToTab(tabId, withStamps(message), options);
