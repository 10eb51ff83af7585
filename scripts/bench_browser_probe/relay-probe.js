// Bench-only (scripts/bench_browser.py adds it before content/relay.js in a copy of the extension; the
// product never loads it). Timestamps a page request in the content script (ISOLATED world) and keeps the
// worker's timestamps that came with its result; the page reads them all by dispatching
// "vault-bench-probe" on document (they are written to <html data-vault-bench-probe>).
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const runs = [];
  let current = null;

  function onPageMessage(data) {
    if (data?.tag !== "personal-vault" || data.from !== "page") return;
    if (data.type === "call" && data.method === "request") {
      current = { relayReceived: now() };
      runs.push(current);
    }
  }
  // The page API's calls: CustomEvents with the message's JSON (since the relay took them), or window
  // messages (an older extension, in an A/B run).
  window.addEventListener("personalvault:to-relay", (event) => {
    if (typeof event.detail === "string") onPageMessage(JSON.parse(event.detail));
  });
  window.addEventListener("message", (event) => {
    if (event.source === window) onPageMessage(event.data);
  });

  const sendMessage = chrome.runtime.sendMessage.bind(chrome.runtime);
  chrome.runtime.sendMessage = (message, ...rest) => {
    if (current && message?.action === "page.request") current.relaySent = now();
    return sendMessage(message, ...rest);
  };

  function onResult(message) {
    if (current && message?.type === "page.result") {
      current.relayGotResult = now();
      current.worker = message.probe ?? null;
    }
  }
  chrome.runtime.onMessage.addListener(onResult);

  // The relay's port to the worker: calls go out on it and results come back on it.
  const connect = chrome.runtime.connect.bind(chrome.runtime);
  chrome.runtime.connect = (...args) => {
    const port = connect(...args);
    port.onMessage.addListener(onResult);
    const post = port.postMessage.bind(port);
    port.postMessage = (message) => {
      if (current && message?.action === "page.request") current.relaySent = now();
      return post(message);
    };
    return port;
  };


  document.addEventListener("vault-bench-probe", () => {
    document.documentElement.dataset.vaultBenchProbe = JSON.stringify(runs.splice(0));
  });
})();
