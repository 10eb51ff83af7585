// window.personalVault: the API web pages use (documented in extension/README.md). MAIN world, so the
// page's own scripts can call it; it holds no secrets and no privileges. It only talks to the relay
// (content/relay.js, ISOLATED world) on a random per-page channel, by CustomEvents on window whose detail
// is the message as a JSON string (a string crosses between the two worlds as it is; dispatched
// synchronously, unlike window.postMessage, which waits for a task of its own each way), and every
// message it accepts must have the exact shape it expects. A page's scripts can fire the same events, as
// they could post the same messages: they speak for the page anyway.
(() => {
  "use strict";

  // An opaque origin (a sandboxed document) cannot be answered: the vault binds tokens to an origin.
  if (Object.hasOwn(window, "personalVault") || location.origin === "null") return;

  const VERSION = "1.0";
  const TAG = "personal-vault";
  const READY_EVENT = "personalvault:ready";
  // PAGE_ERRORS of shared/contract.js: a MAIN-world script cannot import it (tests/extension/unit checks).
  const ERROR_CODES = ["not_available", "not_paired", "bad_request", "busy", "timeout"];
  const RELAY_WAIT_MS = 5_000; // the relay loads with the page; longer than this means it is not there
  const TO_RELAY = "personalvault:to-relay"; // the events each side listens to (content/relay.js)
  const TO_PAGE = "personalvault:to-page";
  const MAX_MESSAGE = 65 * 1024; // characters of one message's JSON, as the relay accepts (64 KiB of args)
  const MAX_NOTIFY = 8192; // LIMITS.notifyToken of shared/contract.js (tests/extension/unit checks)

  // Built-ins the page could replace later are captured now, before any page script runs.
  const dispatch = window.dispatchEvent.bind(window);
  const Custom = CustomEvent;
  const { parse, stringify } = JSON;
  const getRandomValues = crypto.getRandomValues.bind(crypto);

  const hex = (n) => Array.from(getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");
  const channel = hex(16);
  const pending = new Map(); // id -> {resolve, reject}
  const queue = []; // calls made before the relay answered the hello
  let connected = false;
  let relayTimer = null;

  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

  function vaultError(code, message) {
    const error = new Error(typeof message === "string" && message ? message : code);
    error.name = "PersonalVaultError";
    error.code = ERROR_CODES.includes(code) ? code : "not_available";
    return error;
  }

  // The message as the relay reads it, or null when it cannot travel (not JSON, or too long).
  function encode(message) {
    try {
      const json = stringify({ tag: TAG, from: "page", channel, ...message });
      return json.length <= MAX_MESSAGE ? json : null;
    } catch {
      return null;
    }
  }

  function send(message) {
    dispatch(new Custom(TO_RELAY, { detail: typeof message === "string" ? message : encode(message) }));
  }

  function hello() {
    send({ type: "hello" });
  }

  function call(method, args) {
    return new Promise((resolve, reject) => {
      const id = hex(8);
      const message = encode({ type: "call", id, method, args });
      if (message === null) return reject(vaultError("bad_request", "the arguments are not plain JSON of at most 64 KB"));
      pending.set(id, { resolve, reject });
      if (connected) send(message);
      else {
        queue.push({ id, message });
        relayTimer ??= setTimeout(giveUp, RELAY_WAIT_MS);
      }
    });
  }

  function giveUp() {
    if (connected) return;
    for (const { id } of queue.splice(0)) {
      pending.get(id)?.reject(vaultError("not_available", "the Personal Vault extension is not answering on this page"));
      pending.delete(id);
    }
    relayTimer = null;
  }

  function onResult(data) {
    const entry = typeof data.id === "string" ? pending.get(data.id) : undefined;
    if (!entry) return;
    pending.delete(data.id);
    if (data.ok === true && isObject(data.value)) entry.resolve(data.value);
    else entry.reject(vaultError(data.error?.code, data.error?.message));
  }

  // "personalvault:ready" fires once the relay answered AND the document is parsed, so that the page's
  // own scripts (which run after this one) have had a chance to listen. Scripts that load later
  // should check window.personalVault first.
  function announce() {
    const fire = () => window.dispatchEvent(new Event(READY_EVENT));
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fire, { once: true });
    else fire();
  }

  window.addEventListener(TO_PAGE, (event) => {
    const detail = event.detail;
    if (typeof detail !== "string" || detail.length > MAX_MESSAGE) return;
    let data;
    try {
      data = parse(detail);
    } catch {
      return;
    }
    if (!isObject(data) || data.tag !== TAG || data.from !== "relay") return;
    if (data.type === "ready") return hello(); // the relay started after our first hello
    if (data.channel !== channel) return;
    if (data.type === "welcome" && !connected) {
      connected = true;
      clearTimeout(relayTimer);
      relayTimer = null;
      for (const { message } of queue.splice(0)) send(message);
      announce();
    } else if (data.type === "result") {
      onResult(data);
    }
  });

  const personalVault = Object.freeze({
    version: VERSION,

    // request({purposes: ["recommendations"], nonce: "<from your server>", claims?: [...]})
    //   -> {origin, results: {<purpose>: {outcome: "granted", token} | {outcome: "denied", reason, message}}}
    request(options) {
      if (!isObject(options)) return Promise.reject(vaultError("bad_request", "request() takes {purposes, nonce, claims?}"));
      const { purposes, nonce, claims } = options;
      if (!Array.isArray(purposes) || typeof nonce !== "string") {
        return Promise.reject(vaultError("bad_request", "request() needs purposes (an array of purpose ids) and nonce (a string)"));
      }
      if (claims !== undefined && !Array.isArray(claims)) {
        return Promise.reject(vaultError("bad_request", "claims, when given, is an array of claim names"));
      }
      // Copies: the page cannot change what is sent after calling.
      return call("request", { purposes: [...purposes], nonce, claims: claims === undefined ? undefined : [...claims] });
    },

    // acknowledge(ackToken) -> {stored: true, presentation}
    acknowledge(ackToken) {
      if (typeof ackToken !== "string") return Promise.reject(vaultError("bad_request", "acknowledge() takes the acknowledgement token (a string)"));
      return call("acknowledge", { token: ackToken });
    },

    // notify(messageToken) -> {received: true}, always and at once, whatever the vault does with it
    // (keeps it, refuses it, drops it for a muted site): a page learns nothing about the user's inbox.
    notify(messageToken) {
      if (typeof messageToken !== "string" || messageToken.length > MAX_NOTIFY) {
        return Promise.reject(vaultError("bad_request", `notify() takes the message your server signed: a string of at most ${MAX_NOTIFY} characters`));
      }
      return call("notify", { token: messageToken });
    },
  });

  Object.defineProperty(window, "personalVault", { value: personalVault, enumerable: true });
  hello();
})();
