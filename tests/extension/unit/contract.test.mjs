// What a web page may send and receive: the worker's allow-lists (background/page-contract.js), and the
// two content scripts run against a fake window to show that only the call's own arguments travel.
// Run: node --test tests/extension/unit/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { LIMITS } from "../../../extension/shared/contract.js";
import {
  PAGE_ERRORS,
  PAGE_REASONS,
  PageError,
  NOTIFY_ANSWER,
  checkAcknowledgeArgs,
  checkNotifyArgs,
  checkRequestArgs,
  isSiteOrigin,
  pageAnswer,
  pageError,
  pageResult,
  senderOrigin,
} from "../../../extension/background/page-contract.js";
import { Action, PAGE_RESULT, PageAction } from "../../../extension/shared/actions.js";

const EXTENSION = new URL("../../../extension/", import.meta.url);
const source = (path) => readFileSync(new URL(path, EXTENSION), "utf8");
const NONCE = "n".repeat(22);

// Everything the daemon's Presentation can hold (vault/daemon/messages.py), and more.
const FULL_ANSWER = {
  outcome: "granted",
  token: "a.b.c",
  jti: "jti-1",
  claims: { age_over_18: true, "location.country": "NL" },
  expires_at: 1,
  prompt: { id: "p", questions: [{ claim: "location.country", value: "NL" }] },
  reason: null,
  message: null,
  detail: "for the user only",
  dropped: { interests: "you chose not to share it" },
};

test("a granted result carries the outcome and the token, nothing else", () => {
  assert.deepEqual(pageResult(FULL_ANSWER), { outcome: "granted", token: "a.b.c" });
});

test("a denial carries only the coarse reason and the page message, never detail or values", () => {
  const denied = { ...FULL_ANSWER, outcome: "denied", token: undefined, reason: "denied", message: "the user did not share this" };
  assert.deepEqual(pageResult(denied), { outcome: "denied", reason: "denied", message: "the user did not share this" });
  // An unknown reason (a daemon reason not meant for pages) becomes a plain denial in our own words.
  const leaky = { outcome: "denied", reason: "missing_attribute", message: "your profile has no shoe size", detail: "x" };
  assert.deepEqual(pageResult(leaky), { outcome: "denied", reason: "denied", message: "the user did not share this" });
  for (const reason of PAGE_REASONS) assert.equal(pageResult({ outcome: "denied", reason, message: "m" }).reason, reason);
});

test("consent_required or a malformed answer never reaches a page as such", () => {
  assert.equal(pageResult({ ...FULL_ANSWER, outcome: "consent_required" }).outcome, "denied");
  assert.equal(pageResult({ outcome: "granted" }).outcome, "denied"); // no token: not a grant
  assert.equal(pageResult(null).outcome, "denied");
  assert.ok(pageResult({ outcome: "denied", reason: "bad_request", message: "m".repeat(5000) }).message.length <= 300);
});

test("the whole answer is {origin, results} and each result is rebuilt", () => {
  const answer = pageAnswer("https://shop.example", { recommendations: FULL_ANSWER, other: { outcome: "denied", reason: "expired", message: "m" } });
  assert.deepEqual(Object.keys(answer), ["origin", "results"]);
  assert.deepEqual(answer.results.recommendations, { outcome: "granted", token: "a.b.c" });
  assert.deepEqual(answer.results.other, { outcome: "denied", reason: "expired", message: "m" });
});

test("errors are folded into the documented codes; host and vault details stay inside", () => {
  assert.deepEqual(pageError({ code: "not_paired", message: "x", hint: "run vault pair approve" }).code, "not_paired");
  assert.equal(pageError({ code: "manifest_invalid", message: "the site's manifest is invalid: origin" }).code, "bad_request");
  for (const code of ["daemon_unavailable", "internal_error", "vault_damaged", "response_too_large", "not_available"]) {
    const error = pageError({ code, message: "/run/user/0/vault/vault.sock: secret path", hint: "h" });
    assert.equal(error.code, "not_available");
    assert.ok(!error.message.includes("/run/user"), error.message);
  }
  assert.deepEqual(pageError(new PageError("busy", "too many")), { code: "busy", message: "too many" });
});

test("the page API rejects with exactly the contract's codes (it is a classic script and keeps a copy)", () => {
  const copy = source("content/page-api.js").match(/const ERROR_CODES = (\[[^\]]*\]);/);
  assert.ok(copy, "content/page-api.js no longer defines ERROR_CODES");
  assert.deepEqual(JSON.parse(copy[1]), [...PAGE_ERRORS]);
  assert.deepEqual([...PAGE_ERRORS].sort(), ["bad_request", "busy", "not_available", "not_paired", "timeout"]);
});

test("request arguments are checked and bounded", () => {
  assert.deepEqual(checkRequestArgs({ purposes: ["a", "a", "b-2"], nonce: NONCE }), { purposes: ["a", "b-2"], nonce: NONCE });
  assert.deepEqual(checkRequestArgs({ purposes: ["a"], nonce: NONCE, claims: ["sizes.shoe"] }).claims, ["sizes.shoe"]);
  const refused = [
    undefined,
    "recommendations",
    { purposes: ["a"] },
    { purposes: [], nonce: NONCE },
    { purposes: "a", nonce: NONCE },
    { purposes: ["A"], nonce: NONCE },
    { purposes: Array.from({ length: 17 }, (_, i) => `p${i}`), nonce: NONCE },
    { purposes: ["a"], nonce: "short" },
    { purposes: ["a"], nonce: "n".repeat(129) },
    { purposes: ["a"], nonce: NONCE, claims: "sizes.shoe" },
    { purposes: ["a"], nonce: NONCE, claims: [42] },
    { purposes: ["a"], nonce: NONCE, claims: ["x".repeat(65)] },
    { purposes: ["a"], nonce: NONCE, origin: "https://bank.example" }, // the origin is never the page's to say
  ];
  for (const args of refused) {
    assert.throws(() => checkRequestArgs(args), (e) => e instanceof PageError && e.code === "bad_request", JSON.stringify(args));
  }
});

test("acknowledge takes a compact JWS of bounded size", () => {
  assert.deepEqual(checkAcknowledgeArgs({ token: "a.b.c" }), { token: "a.b.c" });
  for (const token of [undefined, 1, "a.b", "a.b.c.d", `a.${"b".repeat(20000)}.c`, "a.b.c<"]) {
    assert.throws(() => checkAcknowledgeArgs({ token }), PageError);
  }
});

test("notify takes any string up to the limit, and nothing else", () => {
  assert.deepEqual(checkNotifyArgs({ token: "a.b.c" }), { token: "a.b.c" });
  assert.deepEqual(checkNotifyArgs({ token: "not a token at all" }), { token: "not a token at all" });
  assert.deepEqual(checkNotifyArgs({ token: "x".repeat(LIMITS.notifyToken) }).token.length, 8192);
  for (const token of [undefined, 1, null, ["a.b.c"], "x".repeat(LIMITS.notifyToken + 1)]) {
    assert.throws(() => checkNotifyArgs({ token }), (e) => e instanceof PageError && e.code === "bad_request");
  }
  assert.ok(Object.isFrozen(NOTIFY_ANSWER));
  assert.deepEqual(NOTIFY_ANSWER, { received: true });
});

test("the page API and the relay keep copies of the notify limit and answer", () => {
  assert.match(source("content/page-api.js"), new RegExp(`const MAX_NOTIFY = ${LIMITS.notifyToken};`));
  assert.match(source("content/relay.js"), /const NOTIFY_ANSWER = \{ received: true \};/);
});

test("the origin comes from the sender the browser describes", () => {
  assert.equal(senderOrigin({ origin: "https://shop.example", url: "https://evil.example/" }), "https://shop.example");
  assert.equal(senderOrigin({ url: "https://shop.example:8443/a?b" }), "https://shop.example:8443"); // Firefox
  assert.equal(senderOrigin({ origin: "null", url: "about:blank" }), null);
  assert.equal(senderOrigin({}), null);
  assert.ok(isSiteOrigin("https://shop.example") && isSiteOrigin("http://127.0.0.1:8080") && isSiteOrigin("http://localhost"));
  assert.ok(!isSiteOrigin("http://shop.example") && !isSiteOrigin("chrome-extension://abc") && !isSiteOrigin("https://a/b"));
});

test("action names are defined once; the relay's copies agree", () => {
  const relay = source("content/relay.js");
  assert.match(relay, new RegExp(`request: "${PageAction.request}", acknowledge: "${PageAction.acknowledge}", notify: "${PageAction.notify}"`));
  assert.match(relay, new RegExp(`PAGE_RESULT = "${PAGE_RESULT}"`));
  assert.match(relay, new RegExp(`const HELD = "${PageAction.held}";`));
  assert.doesNotMatch(/const PAGE_ACTIONS = \{[^}]*\}/.exec(relay)[0], /held/, "a page cannot call it");
  const names = [...Object.values(Action), ...Object.values(PageAction), PAGE_RESULT];
  assert.equal(new Set(names).size, names.length, "action names are unique");
  const tag = (code) => /const TAG = "([^"]+)"/.exec(code)[1];
  assert.equal(tag(relay), tag(source("content/page-api.js")));
});

// -- the two content scripts on a fake page ----------------------------------------------------------

function fakePage() {
  const window = new EventTarget();
  const location = { origin: "https://shop.example" };
  const sent = [];
  const listeners = [];
  // The relay's port to the worker (request and acknowledge): the worker accepts (holds) each call on it,
  // saying nothing until its result, unless `page.accepting` is false; `page.port` is the one open now;
  // `page.asked`: the relay's questions which calls are held.
  const page = { accepting: true, ports: 0, port: null, held: new Set(), asked: [] };
  const event = () => {
    const heard = [];
    return { heard, addListener: (listener) => heard.push(listener) };
  };
  const connect = ({ name }) => {
    assert.equal(name, "vault-page");
    const port = { onMessage: event(), onDisconnect: event(), open: true };
    port.postMessage = (message) => {
      if (!port.open) throw new Error("Attempting to use a disconnected port object");
      sent.push(structuredClone(message));
      if (page.accepting) page.held.add(message.callId);
    };
    port.deliver = (message) => port.onMessage.heard.forEach((l) => l(structuredClone(message)));
    port.disconnect = () => {
      port.open = false;
      port.onDisconnect.heard.forEach((l) => l());
    };
    page.ports += 1;
    page.port = port;
    return port;
  };
  const chrome = {
    runtime: {
      id: "our-extension",
      sendMessage: async (message) => {
        if (message.action === PageAction.held) {
          page.asked.push(message.callIds);
          return { ok: true, value: { held: message.callIds.filter((id) => page.held.has(id)) } };
        }
        sent.push(message);
        if (message.action === PageAction.notify) return { ok: true, value: { received: true } };
        return { ok: true, value: { accepted: true } };
      },
      connect,
      onMessage: { addListener: (listener) => listeners.push(listener) },
    },
  };
  const document = { readyState: "complete", addEventListener() {} };
  const ready = new Promise((resolve) => window.addEventListener("personalvault:ready", resolve));
  const run = (path) => new Function("window", "location", "crypto", "document", "chrome", source(path))(window, location, crypto, document, chrome);
  run("content/page-api.js"); // both at document_start; the page API first, as the relay may be late
  run("content/relay.js");
  const fromWorker = (message, sender = { id: "our-extension" }) => listeners.forEach((l) => l(message, sender));
  return { window, sent, fromWorker, ready, page };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test("only the call's own arguments reach the worker, and only our worker's answer reaches the page", async () => {
  const { window, sent, fromWorker, ready } = fakePage();
  const api = window.personalVault;
  assert.equal(api.version, "1.0");
  assert.ok(Object.isFrozen(api));

  const options = { purposes: ["recommendations"], nonce: NONCE, claims: ["sizes.shoe"], origin: "https://bank.example", extra: { x: 1 } };
  const answered = api.request(options);
  options.purposes.push("changed-after-the-call");
  await ready;
  await tick();
  assert.equal(sent.length, 1);
  const [message] = sent;
  assert.deepEqual(Object.keys(message).sort(), ["action", "args", "callId"]);
  assert.equal(message.action, PageAction.request);
  assert.deepEqual(message.args, { purposes: ["recommendations"], nonce: NONCE, claims: ["sizes.shoe"] });

  // A forged answer from elsewhere (another extension, a page script) is not an answer.
  fromWorker({ type: PAGE_RESULT, callId: message.callId, ok: true, value: { forged: true } }, { id: "another-extension" });
  const forged = { tag: "personal-vault", from: "relay", type: "result", id: "0000000000000000", ok: true, value: {} };
  window.dispatchEvent(new CustomEvent("personalvault:to-page", { detail: JSON.stringify(forged) }));
  const value = { origin: "https://shop.example", results: { recommendations: { outcome: "granted", token: "a.b.c" } } };
  fromWorker({ type: PAGE_RESULT, callId: message.callId, ok: true, value });
  assert.deepEqual(await answered, value);

  // Delivered twice (a restarted worker): the second is ignored.
  fromWorker({ type: PAGE_RESULT, callId: message.callId, ok: false, error: { code: "timeout", message: "late" } });
  await tick();
});

test("the page API and the relay speak by synchronous events whose detail is JSON; anything else is ignored", async () => {
  const { window, sent, ready } = fakePage();
  await ready;
  let seen = null; // a page script can listen to the page API's messages, as it could to posted ones
  window.addEventListener("personalvault:to-relay", (event) => (seen = event.detail));
  const answered = window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  assert.equal(sent.length, 1, "on the port before request() returned");
  assert.deepEqual(sent[0].args, { purposes: ["a"], nonce: NONCE });
  const { channel } = JSON.parse(seen);
  // What a page script can fire at the relay: not a string, too long, not JSON, another channel, no tag.
  const call = (extra) => ({ tag: "personal-vault", from: "page", type: "call", id: "00000001", method: "request", channel, args: { purposes: ["b"], nonce: NONCE }, ...extra });
  const fire = (detail) => window.dispatchEvent(new CustomEvent("personalvault:to-relay", { detail }));
  fire(call()); // an object, not a string
  fire(JSON.stringify(call({ pad: "x".repeat(65 * 1024) })));
  fire(JSON.stringify(call()).slice(0, -1));
  fire(JSON.stringify(call({ channel: "f".repeat(32) })));
  fire(JSON.stringify(call({ tag: undefined })));
  fire(null);
  assert.equal(sent.length, 1);
  fire(JSON.stringify(call())); // the page's own call, by whichever script fires it: relayed, as before
  assert.equal(sent.length, 2);
  // A forged answer that is not a string of bounded length never reaches the page's promise.
  const forged = (detail) => window.dispatchEvent(new CustomEvent("personalvault:to-page", { detail }));
  forged({ tag: "personal-vault", from: "relay", type: "result", id: "x", ok: true, value: {} });
  forged("[".repeat(100_000));
  // Arguments that cannot travel are refused in the page.
  await assert.rejects(window.personalVault.request({ purposes: ["a".repeat(70_000)], nonce: NONCE }), (e) => e.code === "bad_request");
  await assert.rejects(window.personalVault.request({ purposes: [10n], nonce: NONCE }), (e) => e.code === "bad_request");
  assert.equal(sent.length, 2);
  void answered;
});

test("a page with 16 calls waiting gets busy for the next, without travelling", async () => {
  const { window, sent, ready } = fakePage();
  await ready;
  for (let i = 0; i < 16; i++) window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  await assert.rejects(window.personalVault.request({ purposes: ["a"], nonce: NONCE }), (e) => e.code === "busy");
  assert.equal(sent.length, 16);
});

test("calls go on one port, opened on the first call; results come on it or, from a restarted worker, by message", async () => {
  const { window, sent, fromWorker, ready, page } = fakePage();
  await ready;
  const value = (token) => ({ origin: "https://shop.example", results: { a: { outcome: "granted", token } } });
  const first = window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  const second = window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  await tick();
  assert.equal(page.ports, 1);
  assert.equal(sent.length, 2);
  page.port.deliver({ type: PAGE_RESULT, callId: sent[0].callId, ok: true, value: value("one") });
  assert.deepEqual(await first, value("one"));

  // The worker stops: the accepted call waits for a later worker's message; a call it never accepted
  // (it may not be stored) is not available; the next call opens a new port.
  page.accepting = false;
  const unaccepted = window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  await tick();
  page.port.disconnect();
  await assert.rejects(unaccepted, (e) => e.code === "not_available");
  // The relay asked which of its waiting calls the worker holds (the first was answered already).
  assert.deepEqual(page.asked, [[sent[1].callId, sent[2].callId]]);
  fromWorker({ type: PAGE_RESULT, callId: sent[1].callId, ok: true, value: value("two") });
  assert.deepEqual(await second, value("two"));
  page.accepting = true;
  const third = window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  await tick();
  assert.equal(page.ports, 2);
  page.port.deliver({ type: PAGE_RESULT, callId: sent.at(-1).callId, ok: true, value: value("three") });
  assert.deepEqual(await third, value("three"));
});

test("when the port closes and the worker cannot be asked, every waiting call is not available", async () => {
  const { window, ready, page } = fakePage();
  await ready;
  const waiting = window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  await tick();
  assert.equal(page.held.size, 1);
  page.held.clear(); // a worker that lost it (stopped before its record was stored)
  page.port.disconnect();
  await assert.rejects(waiting, (e) => e.code === "not_available");
});

test("a call the worker refuses on the port gets the refusal", async () => {
  const { window, sent, ready, page } = fakePage();
  await ready;
  page.accepting = false;
  const refused = window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  await tick();
  page.port.deliver({ type: "reply", callId: sent[0].callId, reply: { ok: false, error: { code: "busy", message: "wait" } } });
  await assert.rejects(refused, (e) => e.code === "busy" && e.message === "wait");
});

test("page API errors have a code from the documented list", async () => {
  const { window, sent, fromWorker, ready } = fakePage();
  await ready;
  await assert.rejects(window.personalVault.request("recommendations"), (e) => e.code === "bad_request" && e.name === "PersonalVaultError");
  await assert.rejects(window.personalVault.acknowledge(42), (e) => e.code === "bad_request");
  const failing = window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  await tick();
  fromWorker({ type: PAGE_RESULT, callId: sent[0].callId, ok: false, error: { code: "weird_code", message: "m" } });
  await assert.rejects(failing, (e) => e.code === "not_available");
});

test("one group says the vault did not answer: the badge, the pages and a prompt's check all use it", async () => {
  const { UNAVAILABLE } = await import("../../../extension/shared/contract.js");
  const { isUnavailable } = await import("../../../extension/pages/api.js");
  // The three lists the group replaces (background/client.js, pages/api.js, background/requests.js).
  const before = [
    ["not_available", "daemon_unavailable", "timeout", "bad_response", "host_error", "bad_frame", "response_too_large"],
    ["not_available", "daemon_unavailable", "timeout", "bad_response", "no_worker"],
    ["not_available", "daemon_unavailable"],
  ];
  for (const code of before.flat()) assert.ok(UNAVAILABLE.includes(code) && isUnavailable({ code }), code);
  for (const code of ["vault_locked", "not_paired", "forbidden", "failed", "manifest_invalid", "internal_error", undefined]) {
    assert.ok(!isUnavailable({ code }), String(code));
  }
  assert.ok(!isUnavailable(null));
});

test("notify is answered by the worker's reply itself, and only with the token", async () => {
  const { window, sent, ready } = fakePage();
  await ready;
  const answer = await window.personalVault.notify("a.b.c");
  assert.deepEqual(answer, { received: true });
  assert.equal(sent.length, 1);
  assert.equal(sent[0].action, PageAction.notify);
  assert.deepEqual(sent[0].args, { token: "a.b.c" });
  await assert.rejects(window.personalVault.notify(42), (e) => e.code === "bad_request");
  await assert.rejects(window.personalVault.notify("x".repeat(8193)), (e) => e.code === "bad_request");
  assert.equal(sent.length, 1, "refused in the page: nothing travels");
  // Many at once: every call gets the same answer (those past the relay's bound without travelling).
  const many = await Promise.all(Array.from({ length: 50 }, () => window.personalVault.notify("a.b.c")));
  for (const each of many) assert.deepEqual(each, { received: true });
  assert.ok(sent.length <= 1 + 50);
  // A request made meanwhile is not busy because of the messages.
  window.personalVault.request({ purposes: ["a"], nonce: NONCE });
  await tick();
  assert.equal(sent.at(-1).action, PageAction.request);
});
