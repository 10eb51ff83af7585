// The ISOLATED-world content script: relays the page API's calls (content/page-api.js, MAIN world) to
// the service worker and the answers back. It decides nothing and trusts nothing from the page but the
// arguments of request(), acknowledge() and notify(), which the worker checks again; the worker takes the page's
// origin from the browser (sender.origin), never from anything said here.
//
// A classic script (content scripts cannot be ES modules), so the names below repeat
// shared/actions.js; tests/extension/unit/contract.test.mjs checks that they agree.
//
// notify() is answered by the worker's reply itself (always {received: true}, before any daemon call);
// request() and acknowledge() go on one port to the worker, opened on the first such call (a message on
// an open port costs less than a runtime message, which opens a channel each time): the worker answers a
// refusal on it at once, and the result as a PAGE_RESULT message, on the port while it is open, else (the
// worker was stopped and restarted) by a runtime message from a later worker, which we listen for too.
// An accepted call gets no message until its result (one message fewer crossing the browser while the
// daemon is asked): when the port closes, we ask the worker which of its calls it holds, and only those
// wait for their result.
(() => {
  "use strict";

  const PAGE_ACTIONS = { request: "page.request", acknowledge: "page.acknowledge", notify: "page.notify" };
  const ANSWERED_AT_ONCE = new Set(["notify"]);
  const PAGE_RESULT = "page.result";
  const HELD = "page.held"; // ours alone, never a page's method (not in PAGE_ACTIONS)
  const PAGE_PORT = "vault-page"; // background/page-port.js
  const TAG = "personal-vault"; // the event protocol shared with page-api.js
  const TO_RELAY = "personalvault:to-relay"; // events on window, detail the message's JSON (page-api.js)
  const TO_PAGE = "personalvault:to-page";
  const CHANNEL = /^[0-9a-f]{32}$/;
  const PAGE_ID = /^[0-9a-f]{1,32}$/;
  const MAX_ARGS_JSON = 64 * 1024;
  const MAX_MESSAGE = 65 * 1024; // a call's JSON: its arguments and the envelope
  const MAX_PENDING = 16;
  // notify() calls in flight to the worker, counted apart from the requests (a page sending messages
  // cannot make its own requests busy). Past this many, a call gets the same answer without travelling:
  // the worker would drop it anyway (at most 4 an origin a minute), and the page learns nothing new.
  const MAX_NOTIFY_PENDING = 32;
  const NOTIFY_ANSWER = { received: true }; // background/page-contract.js NOTIFY_ANSWER
  const UNAVAILABLE = { ok: false, error: { code: "not_available", message: "the vault extension is not available; reload the page" } };

  let channel = null; // set by the page API's first hello; page-api.js runs before any page script
  const calls = new Map(); // our call id -> the page API's id
  let notifying = 0; // notify() calls the worker has not answered yet
  let port = null; // to the worker, while it is open
  const onPort = new Set(); // our call ids sent on `port` and not answered yet

  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

  // Synchronous: the page API's listener has the message before this returns.
  function post(message) {
    window.dispatchEvent(new CustomEvent(TO_PAGE, { detail: JSON.stringify({ tag: TAG, from: "relay", channel, ...message }) }));
  }

  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Only the fields each call takes, rebuilt as plain JSON: nothing else the page attached travels on.
  function argumentsFor(method, args) {
    if (!isObject(args)) return null;
    const copy =
      method === "request"
        ? { purposes: args.purposes, nonce: args.nonce, claims: args.claims }
        : { token: args.token };
    try {
      const json = JSON.stringify(copy);
      return json.length <= MAX_ARGS_JSON ? JSON.parse(json) : null;
    } catch {
      return null;
    }
  }

  function answer(callId, outcome) {
    const pageId = calls.get(callId);
    if (pageId === undefined) return; // already answered (a restarted worker may deliver twice)
    calls.delete(callId);
    if (outcome?.ok === true) post({ type: "result", id: pageId, ok: true, value: outcome.value });
    else post({ type: "result", id: pageId, ok: false, error: outcome?.error });
  }

  function fail(pageId, code, message) {
    post({ type: "result", id: pageId, ok: false, error: { code, message } });
  }

  function notify(pageId, args) {
    if (notifying >= MAX_NOTIFY_PENDING) return post({ type: "result", id: pageId, ok: true, value: { ...NOTIFY_ANSWER } });
    notifying += 1;
    const done = (reply) => {
      notifying -= 1;
      if (reply?.ok === true) post({ type: "result", id: pageId, ok: true, value: reply.value });
      else post({ type: "result", id: pageId, ok: false, error: reply?.error });
    };
    chrome.runtime.sendMessage({ action: PAGE_ACTIONS.notify, callId: randomId(), args }).then(done, () =>
      done({ ok: false, error: { code: "not_available", message: "the vault extension is not available; reload the page" } }),
    );
  }

  function relay(data) {
    const method = data.method;
    if (!Object.hasOwn(PAGE_ACTIONS, method) || typeof data.id !== "string" || !PAGE_ID.test(data.id)) return;
    const args = argumentsFor(method, data.args);
    if (args === null) return fail(data.id, "bad_request", "the arguments are not plain JSON of at most 64 KB");
    if (ANSWERED_AT_ONCE.has(method)) return notify(data.id, args);
    if (calls.size >= MAX_PENDING) return fail(data.id, "busy", "too many vault requests are waiting on this page");
    const callId = randomId();
    calls.set(callId, data.id);
    // The worker answers {accepted} at once; the result arrives later as a PAGE_RESULT message.
    try {
      workerPort().postMessage({ action: PAGE_ACTIONS[method], callId, args });
      onPort.add(callId);
    } catch {
      port = null;
      answer(callId, UNAVAILABLE);
    }
  }

  // A call the worker does not hold was never stored: nobody will answer it. Held calls wait for their
  // result, which a restarted worker sends as a runtime message. (The question restarts a stopped worker,
  // which reads its stored calls before it answers.)
  function keepHeld(callIds) {
    const failUnheld = (held) => {
      for (const callId of callIds) if (!held.includes(callId)) answer(callId, UNAVAILABLE);
    };
    chrome.runtime.sendMessage({ action: HELD, callIds }).then(
      (reply) => failUnheld(reply?.ok === true && Array.isArray(reply.value?.held) ? reply.value.held : []),
      () => failUnheld([]),
    );
  }

  function workerPort() {
    if (port) return port;
    const opened = chrome.runtime.connect({ name: PAGE_PORT });
    opened.onMessage.addListener((message) => {
      if (!isObject(message)) return;
      if (message.type === PAGE_RESULT) {
        onPort.delete(message.callId);
        answer(message.callId, message);
      } else if (message.type === "reply" && onPort.delete(message.callId) && !message.reply?.ok) {
        answer(message.callId, message.reply ?? { ok: false, error: { code: "not_available", message: "no answer" } });
      }
    });
    opened.onDisconnect.addListener(() => {
      void chrome.runtime.lastError; // the worker stopped, or the extension went away
      if (port === opened) port = null;
      const waiting = [...onPort];
      onPort.clear();
      if (waiting.length) keepHeld(waiting);
    });
    port = opened;
    return opened;
  }

  window.addEventListener(TO_RELAY, (event) => {
    // Only a string of bounded length, parsed here, in the page API's shape. Only scripts that can reach
    // this window can fire the event: this document's, and same-origin frames', which can reach
    // window.personalVault as well.
    const detail = event.detail;
    if (typeof detail !== "string" || detail.length > MAX_MESSAGE) return;
    let data;
    try {
      data = JSON.parse(detail);
    } catch {
      return;
    }
    if (!isObject(data) || data.tag !== TAG || data.from !== "page" || !CHANNEL.test(data.channel ?? "")) return;
    if (data.type === "hello") {
      channel ??= data.channel;
      if (data.channel === channel) post({ type: "welcome" });
      return;
    }
    if (data.type === "call" && data.channel === channel) relay(data);
  });

  chrome.runtime.onMessage.addListener((message, sender) => {
    if (sender.id !== chrome.runtime.id || !isObject(message) || message.type !== PAGE_RESULT) return;
    answer(message.callId, message);
  });

  // In case the page API said hello before this script listened.
  window.dispatchEvent(new CustomEvent(TO_PAGE, { detail: JSON.stringify({ tag: TAG, from: "relay", type: "ready" }) }));
})();
