// A page call's life in the worker (extension/background/requests.js), with the browser and the daemon
// replaced: a fake daemon API that records every call, an in-memory chrome.storage.session, fake prompt
// windows and a fake tab. The real thing runs in Chromium: tests/extension/test_browser.py.
// Run: node --test tests/extension/unit/

import assert from "node:assert/strict";
import { test } from "node:test";

const START = Date.UTC(2026, 0, 1);
const ORIGIN = "https://shop.example";
const NONCE = "n0nce-from-the-shop-server-123";
const DENY = { share: false, claims: [], remember: false };
const MINUTE = 60_000;

// chrome.storage.session as the worker sees it: values go in and come out as copies.
function memoryArea() {
  const items = new Map();
  return {
    items,
    async get(key) {
      const names = key === null ? [...items.keys()] : [key];
      return Object.fromEntries(names.filter((n) => items.has(n)).map((n) => [n, structuredClone(items.get(n))]));
    },
    async set(values) {
      for (const [name, value] of Object.entries(values)) items.set(name, structuredClone(value));
    },
    async remove(name) {
      items.delete(name);
    },
  };
}

const failure = (code, message = code) => Object.assign(new Error(message), { code, hint: "a hint for the user only" });

// One browser session: a fresh storage area, fake windows and tabs, and a daemon answering with
// `daemon(method, path, body)` (replaceable as `browser.daemon`). `start()` is a worker (re)start.
function browserSession(daemon) {
  const storage = memoryArea();
  globalThis.chrome = { storage: { session: storage } };
  const browser = { daemon, storage, calls: [], delivered: [], opened: [], closed: [], openWindows: new Set(), clock: START };
  let nextWindow = 100;
  browser.deps = {
    api: async (method, path, body) => {
      browser.calls.push({ method, path, body });
      return browser.daemon(method, path, body);
    },
    requestPairing: async () => ({ state: "pending", code: "1234" }),
    siteManifest: async () => ({ text: '{"purposes":{}}', cached: false }),
    refreshBadge: async () => {},
    refreshUnread: async () => {},
    openPromptWindow: async (promptId) => {
      const windowId = nextWindow++;
      browser.opened.push({ promptId, windowId });
      browser.openWindows.add(windowId);
      return windowId;
    },
    closeWindow: async (windowId) => {
      if (windowId == null) return;
      browser.closed.push(windowId);
      browser.openWindows.delete(windowId);
    },
    windowExists: async (windowId) => browser.openWindows.has(windowId),
    sendToTab: async (tabId, message, options) => {
      browser.delivered.push({ tabId, message, options });
    },
    // The page's port: closed unless a test opens it (`browser.portOpen`); posted results in `delivered`.
    postToPage: (tabId, message, options) => {
      if (!browser.portOpen) return false;
      browser.delivered.push({ tabId, message, options, onPort: true });
      return true;
    },
    alarms: { create: async () => {}, clear: async () => {} },
    now: () => browser.clock,
  };
  return browser;
}

// A worker life: a fresh copy of requests.js (its module state starts empty), the same storage.
let lives = 0;
async function start(browser) {
  const requests = await import(`../../../extension/background/requests.js?life=${++lives}`);
  // requests.js imports the one inflight.js module: its records in memory go with the worker, as in a browser.
  (await import("../../../extension/background/inflight.js")).forget();
  requests.setDependencies(browser.deps);
  return requests;
}

// Lets the worker's fire-and-forget steps run (every fake answers at once).
async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const records = async (browser) => Object.values(await browser.storage.get(null));
const sender = (tabId) => ({ tab: { id: tabId }, frameId: 0, documentId: `doc-${tabId}`, origin: ORIGIN });
let calls = 0;
const pageCall = (purposes = ["checkout"]) => ({ callId: `call-${String(++calls).padStart(16, "0")}`, args: { purposes, nonce: NONCE } });

// What the daemon says, with what a page must never see (claim values, jti, detail, prompt view).
const GRANTED = Object.freeze({ outcome: "granted", token: "eyJ.pres.sig", jti: "jti-1", claims: { email: "me@example.org" }, detail: "for the user" });
const consentRequired = (id) => ({ outcome: "consent_required", prompt: { id, view: { claims: ["email"] } }, detail: "asks" });
const PENDING = () => {
  throw failure("prompt_pending", "the user has not answered this prompt yet");
};

// A daemon that remembers nothing and answers each presentation with a prompt p1, p2, ...
function promptingDaemon() {
  let prompts = 0;
  return (method, path) => {
    if (path === "/v1/presentations") return consentRequired(`p${++prompts}`);
    if (path.endsWith("/decision")) return { outcome: "denied", reason: "denied", message: "the user said no" };
    throw failure("not_found");
  };
}

test("a remembered grant is delivered to the tab, with only what a page may see, and the record removed", async () => {
  const browser = browserSession(() => GRANTED);
  const requests = await start(browser);
  const call = pageCall();
  assert.deepEqual(await requests.acceptPageCall("request", call, sender(7)), { accepted: true });
  await settle();
  assert.deepEqual(browser.calls, [
    {
      method: "POST",
      path: "/v1/presentations",
      body: { origin: ORIGIN, manifest: '{"purposes":{}}', purpose: "checkout", nonce: NONCE, prompt_detail: "id" },
    },
  ]);
  assert.deepEqual(browser.delivered, [
    {
      tabId: 7,
      options: { documentId: "doc-7" },
      message: {
        type: "page.result",
        callId: call.callId,
        ok: true,
        value: { origin: ORIGIN, results: { checkout: { outcome: "granted", token: "eyJ.pres.sig" } } },
      },
    },
  ]);
  assert.deepEqual(await records(browser), []);
  assert.deepEqual(browser.opened, []);
});

test("the record is written before the daemon is asked and its answer before it is delivered, without waiting for storage", async () => {
  const browser = browserSession(() => GRANTED);
  // A storage write takes effect when it is issued (a stopped worker's successor finds it) and answers later.
  const slow = [];
  const set = browser.storage.set;
  browser.storage.set = (values) => {
    const done = set(values);
    return new Promise((resolve) => slow.push(() => done.then(resolve)));
  };
  const seen = {};
  const api = browser.deps.api;
  browser.deps.api = async (...args) => {
    seen.asked = await records(browser);
    return api(...args);
  };
  browser.deps.sendToTab = async () => {
    seen.delivered = await records(browser);
  };
  const requests = await start(browser);
  const accepted = requests.acceptPageCall("request", pageCall(), sender(7)); // answered once stored
  await settle();
  assert.equal(seen.asked.length, 1); // asked while the write had not answered yet
  assert.equal(seen.delivered.length, 1);
  assert.deepEqual(seen.delivered[0].answer.value.results, { checkout: { outcome: "granted", token: GRANTED.token } });
  for (let i = 0; i < 5 && slow.length; i++) {
    while (slow.length) slow.shift()();
    await settle();
  }
  assert.deepEqual(await accepted, { accepted: true });
  assert.deepEqual(await records(browser), []);
  assert.equal(browser.delivered.length, 0); // the fake above took the delivery
});

test("on the page's open port the answer is posted and the record removed in the same run, the answer not stored", async () => {
  const browser = browserSession(() => GRANTED);
  browser.portOpen = true;
  const written = []; // each storage call as issued
  for (const op of ["set", "remove"]) {
    const original = browser.storage[op];
    browser.storage[op] = (arg) => {
      written.push(op === "set" ? (Object.values(arg)[0].answer ? "answer" : "accepted") : "remove");
      return original(arg);
    };
  }
  const seen = {};
  const post = browser.deps.postToPage;
  browser.deps.postToPage = (...args) => {
    seen.issuedBefore = [...written];
    // Runs once the code that posted the answer has finished: its removal was issued in that same run.
    queueMicrotask(() => (seen.issuedAfter = [...written]));
    return post(...args);
  };
  const requests = await start(browser);
  const call = pageCall();
  assert.deepEqual(await requests.acceptPageCall("request", call, sender(7)), { accepted: true });
  await settle();
  assert.deepEqual(seen.issuedBefore, ["accepted"]);
  assert.deepEqual(seen.issuedAfter, ["accepted", "remove"]);
  assert.deepEqual(written, ["accepted", "remove"]);
  assert.equal(browser.delivered.length, 1);
  assert.ok(browser.delivered[0].onPort);
  assert.deepEqual(browser.delivered[0].message.value.results, { checkout: { outcome: "granted", token: GRANTED.token } });
  assert.deepEqual(await records(browser), []);
});

test("a worker stopped as it posted the answer (the removal not issued) leaves the call to its successor, which delivers again", async () => {
  const browser = browserSession(() => GRANTED);
  browser.portOpen = true;
  const remove = browser.storage.remove;
  browser.storage.remove = async () => {}; // the worker stopped before the removal reached storage
  const requests = await start(browser);
  const call = pageCall();
  await requests.acceptPageCall("request", call, sender(7));
  await settle();
  assert.equal(browser.delivered.length, 1);
  assert.equal((await records(browser)).length, 1);
  browser.storage.remove = remove;
  browser.portOpen = false; // the port went with the worker
  const successor = await start(browser);
  await successor.reconcile();
  await settle();
  assert.equal(browser.calls.length, 2); // asked again: a second answer, which the content script ignores
  assert.equal(browser.delivered.length, 2);
  assert.equal(browser.delivered[1].message.callId, call.callId);
  assert.deepEqual(await records(browser), []);
});

test("heldCalls names the sender's tab's calls the worker holds, also after a restart, and nothing else", async () => {
  let answer;
  const browser = browserSession(() => new Promise((resolve) => (answer = resolve)));
  const requests = await start(browser);
  const call = pageCall();
  await requests.acceptPageCall("request", call, sender(7));
  const asked = { callIds: [call.callId, "x".repeat(20), 42, "../../etc", ...Array(40).fill(call.callId)] };
  assert.deepEqual((await requests.heldCalls(asked, sender(7))).held.slice(0, 2), [call.callId, call.callId]);
  assert.ok((await requests.heldCalls(asked, sender(7))).held.length <= 32);
  assert.deepEqual(await requests.heldCalls(asked, sender(8)), { held: [] }); // another tab's question
  assert.deepEqual(await requests.heldCalls({}, sender(7)), { held: [] });
  const successor = await start(browser); // reads the stored calls before it answers
  assert.deepEqual((await successor.heldCalls({ callIds: [call.callId] }, sender(7))).held, [call.callId]);
  answer(GRANTED);
  await settle();
});

test("a daemon error reaches the page as a code and a fixed message, without the user's hint", async () => {
  const browser = browserSession(() => {
    throw failure("daemon_unavailable", "no socket at /home/me/.local/share/vault/daemon.sock");
  });
  const requests = await start(browser);
  await requests.acceptPageCall("request", pageCall(), sender(7));
  await settle();
  assert.equal(browser.delivered.length, 1);
  const { ok, error } = browser.delivered[0].message;
  assert.equal(ok, false);
  assert.deepEqual(error, { code: "not_available", message: "the vault is not available (is the vault daemon running?)" });
  assert.deepEqual(await records(browser), []);
});

test("consent_required opens one prompt window and stores the prompt id; nothing is delivered yet", async () => {
  const browser = browserSession(promptingDaemon());
  const requests = await start(browser);
  const call = pageCall();
  await requests.acceptPageCall("request", call, sender(7));
  await settle();
  assert.deepEqual(browser.opened, [{ promptId: "p1", windowId: 100 }]);
  const [record] = await records(browser);
  assert.deepEqual(record.prompt, { id: "p1", purpose: "checkout", windowId: 100 });
  assert.equal(record.key, `7:${call.callId}`);
  assert.deepEqual(browser.delivered, []);
});

test("a second call from a tab whose prompt is open gets busy; another tab gets its own prompt", async () => {
  const browser = browserSession(promptingDaemon());
  const requests = await start(browser);
  await requests.acceptPageCall("request", pageCall(), sender(7));
  await settle();
  const second = pageCall();
  await requests.acceptPageCall("request", second, sender(7));
  await settle();
  assert.equal(browser.opened.length, 1);
  assert.equal(browser.delivered.length, 1);
  assert.equal(browser.delivered[0].message.callId, second.callId);
  assert.equal(browser.delivered[0].message.error.code, "busy");
  assert.deepEqual(Object.keys(browser.delivered[0].message.error), ["code", "message"]);

  await requests.acceptPageCall("request", pageCall(), sender(8));
  await settle();
  assert.deepEqual(browser.opened.at(-1), { promptId: "p3", windowId: 101 });
  assert.equal((await records(browser)).length, 2);
});

test("deciding a prompt delivers the page's share of the answer; the prompt window then closes by itself", async () => {
  const browser = browserSession(promptingDaemon());
  const requests = await start(browser);
  const call = pageCall();
  await requests.acceptPageCall("request", call, sender(7));
  await settle();
  browser.daemon = () => GRANTED;
  const decision = { share: true, claims: ["email"], remember: true };
  // The prompt window is shown everything the daemon said (what was shared); the page is not.
  assert.deepEqual(await requests.decide("p1", decision), GRANTED);
  await settle();
  assert.deepEqual(browser.calls.at(-1), { method: "POST", path: "/v1/prompts/p1/decision", body: decision });
  assert.equal(browser.delivered.length, 1);
  assert.deepEqual(browser.delivered[0].message, {
    type: "page.result",
    callId: call.callId,
    ok: true,
    value: { origin: ORIGIN, results: { checkout: { outcome: "granted", token: "eyJ.pres.sig" } } },
  });
  assert.deepEqual(await records(browser), []);
  // The worker leaves the window to pages/prompt.js (it shows what was shared, then closes); its closing
  // is then no denial.
  assert.deepEqual(browser.closed, []);
  const before = browser.calls.length;
  await requests.onWindowRemoved(100);
  await settle();
  assert.equal(browser.calls.length, before);
  assert.equal(browser.delivered.length, 1);
});

test("a prompt window closed by the user sends DENY and the page gets denied", async () => {
  const browser = browserSession(promptingDaemon());
  const requests = await start(browser);
  await requests.acceptPageCall("request", pageCall(), sender(7));
  await settle();
  await requests.onWindowRemoved(100);
  await settle();
  assert.deepEqual(browser.calls.at(-1), { method: "POST", path: "/v1/prompts/p1/decision", body: DENY });
  assert.equal(browser.delivered.length, 1);
  assert.deepEqual(browser.delivered[0].message.value.results, {
    checkout: { outcome: "denied", reason: "denied", message: "the user said no" },
  });
  assert.deepEqual(await records(browser), []);
});

test("a prompt window closed while the daemon is away still ends the call as denied", async () => {
  const browser = browserSession(promptingDaemon());
  const requests = await start(browser);
  await requests.acceptPageCall("request", pageCall(), sender(7));
  await settle();
  browser.daemon = () => {
    throw failure("daemon_unavailable");
  };
  await requests.onWindowRemoved(100);
  await settle();
  assert.deepEqual(browser.delivered[0].message.value.results.checkout, {
    outcome: "denied",
    reason: "denied",
    message: "the user did not share this",
  });
});

test("a closed tab drops its calls and denies and closes their prompts; other tabs keep theirs", async () => {
  const browser = browserSession(promptingDaemon());
  const requests = await start(browser);
  await requests.acceptPageCall("request", pageCall(), sender(7));
  await requests.acceptPageCall("request", pageCall(), sender(8));
  await settle();
  await requests.onTabRemoved(7);
  await settle();
  assert.deepEqual(browser.calls.at(-1), { method: "POST", path: "/v1/prompts/p1/decision", body: DENY });
  assert.deepEqual(browser.closed, [100]);
  assert.deepEqual(browser.delivered, []);
  const left = await records(browser);
  assert.deepEqual(
    left.map((r) => [r.tab.tabId, r.prompt.id]),
    [[8, "p2"]],
  );
});

test("after a restart, reconcile() finishes a call whose prompt was decided while the worker was stopped", async () => {
  const browser = browserSession(promptingDaemon());
  const call = pageCall();
  await (await start(browser)).acceptPageCall("request", call, sender(7));
  await settle();
  // The decision's answer was lost with the stopped worker; the daemon kept it.
  browser.daemon = (method, path) => {
    assert.deepEqual([method, path], ["GET", "/v1/prompts/p1/outcome"]);
    return GRANTED;
  };
  const restarted = await start(browser);
  await restarted.reconcile();
  await settle();
  assert.deepEqual(browser.delivered.map((d) => d.message.callId), [call.callId]);
  assert.deepEqual(browser.delivered[0].message.value.results.checkout, { outcome: "granted", token: "eyJ.pres.sig" });
  assert.deepEqual(browser.closed, [100]);
  assert.deepEqual(await records(browser), []);
  // Read, never answered: no DENY went to the daemon.
  assert.equal(browser.calls.filter((c) => c.path.endsWith("/decision")).length, 0);
});

test("after a restart, reconcile() keeps waiting on a pending prompt, and reopens its window if it is gone", async () => {
  const browser = browserSession(promptingDaemon());
  await (await start(browser)).acceptPageCall("request", pageCall(), sender(7));
  await settle();
  browser.daemon = PENDING;
  const restarted = await start(browser);
  await restarted.reconcile();
  await settle();
  assert.deepEqual(browser.opened.length, 1);
  assert.deepEqual((await records(browser))[0].prompt, { id: "p1", purpose: "checkout", windowId: 100 });

  browser.openWindows.delete(100); // closed while no worker was listening
  await restarted.reconcile();
  await settle();
  assert.deepEqual(browser.opened.at(-1), { promptId: "p1", windowId: 101 });
  assert.deepEqual((await records(browser))[0].prompt, { id: "p1", purpose: "checkout", windowId: 101 });
  assert.deepEqual(browser.delivered, []);
});

test("after a restart, an unavailable or locked vault says nothing about the prompt: the call keeps waiting", async () => {
  for (const code of ["daemon_unavailable", "timeout", "no_worker", "vault_locked"]) {
    const browser = browserSession(promptingDaemon());
    await (await start(browser)).acceptPageCall("request", pageCall(), sender(7));
    await settle();
    const stored = await records(browser);
    browser.daemon = () => {
      throw failure(code);
    };
    await (await start(browser)).reconcile();
    await settle();
    assert.deepEqual(await records(browser), stored, code);
    assert.deepEqual(browser.delivered, [], code);
    assert.deepEqual(browser.closed, [], code);
    assert.equal(browser.opened.length, 1, code);
  }
});

test("after a restart, a prompt the daemon no longer knows ends as expired", async () => {
  const browser = browserSession(promptingDaemon());
  await (await start(browser)).acceptPageCall("request", pageCall(), sender(7));
  await settle();
  browser.daemon = () => {
    throw failure("not_found");
  };
  await (await start(browser)).reconcile();
  await settle();
  assert.equal(browser.delivered[0].message.value.results.checkout.reason, "expired");
  assert.deepEqual(await records(browser), []);
});

test("calls older than 15 minutes end as timeout, and their prompts are denied and closed", async () => {
  const browser = browserSession(promptingDaemon());
  const requests = await start(browser);
  const call = pageCall();
  await requests.acceptPageCall("request", call, sender(7));
  await settle();
  browser.daemon = (method, path, body) => (path.endsWith("/outcome") ? PENDING() : promptingDaemon()(method, path, body));
  browser.clock = START + 15 * MINUTE; // not older yet
  await requests.reconcile();
  await settle();
  assert.deepEqual(browser.delivered, []);

  browser.clock = START + 15 * MINUTE + 1;
  await requests.reconcile();
  await settle();
  assert.deepEqual(browser.calls.at(-1), { method: "POST", path: "/v1/prompts/p1/decision", body: DENY });
  assert.deepEqual(browser.closed, [100]);
  assert.deepEqual(browser.delivered.map((d) => d.message), [
    {
      type: "page.result",
      callId: call.callId,
      ok: false,
      error: { code: "timeout", message: "the vault did not answer in time; ask again" },
    },
  ]);
  assert.deepEqual(await records(browser), []);
});

test("a locked vault makes the call wait; resumeAfterUnlock() asks again and delivers", async () => {
  let locked = true;
  const browser = browserSession((method, path) => {
    if (path === "/v1/status") return { locked, client: "paired" };
    if (locked) throw failure("vault_locked");
    return GRANTED;
  });
  const requests = await start(browser);
  const call = pageCall();
  await requests.acceptPageCall("request", call, sender(7));
  await settle();
  assert.equal((await records(browser))[0].waiting, "locked");
  assert.deepEqual(browser.delivered, []);

  // A sweep while still locked changes nothing.
  await requests.reconcile();
  await settle();
  assert.equal((await records(browser))[0].waiting, "locked");

  locked = false;
  await requests.resumeAfterUnlock();
  await settle();
  assert.deepEqual(browser.delivered.map((d) => [d.message.callId, d.message.ok]), [[call.callId, true]]);
  assert.equal(browser.calls.filter((c) => c.path === "/v1/presentations").length, 2);
  assert.deepEqual(await records(browser), []);
});

test("a sweep that finds the vault unlocked (by someone else) resumes the waiting calls", async () => {
  let locked = true;
  const browser = browserSession((method, path) => {
    if (path === "/v1/status") return { locked, client: "paired" };
    if (locked) throw failure("vault_locked");
    return GRANTED;
  });
  await (await start(browser)).acceptPageCall("request", pageCall(), sender(7));
  await settle();
  locked = false;
  await (await start(browser)).reconcile();
  await settle();
  assert.equal(browser.delivered.length, 1);
  assert.equal(browser.delivered[0].message.ok, true);
  assert.deepEqual(await records(browser), []);
});

test("at most 4 calls in flight per tab and 32 in all; the next is refused with busy", async () => {
  const browser = browserSession(() => {
    throw failure("vault_locked"); // every call waits, so they stay in flight
  });
  const requests = await start(browser);
  const busy = (error) => error.code === "busy";
  for (let i = 0; i < 4; i++) await requests.acceptPageCall("request", pageCall(), sender(7));
  await assert.rejects(requests.acceptPageCall("request", pageCall(), sender(7)), busy);
  for (let tab = 8; tab < 15; tab++) {
    for (let i = 0; i < 4; i++) await requests.acceptPageCall("request", pageCall(), sender(tab));
  }
  assert.equal((await records(browser)).length, 32);
  await assert.rejects(requests.acceptPageCall("request", pageCall(), sender(99)), busy);
  await settle();
  assert.equal((await records(browser)).length, 32);
  assert.deepEqual(browser.delivered, []);
});
