// personalVault.notify in the worker (extension/background/notify.js): the page's answer is the same
// constant, given before any daemon call, whatever the daemon says; the queue behind it is bounded.
// The real thing runs in Chromium: tests/extension/test_messages.py.
// Run: node --test tests/extension/unit/

import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_QUEUED, PER_ORIGIN_PER_MINUTE, acceptNotify, pending, reset, setDependencies } from "../../../extension/background/notify.js";
import { LIMITS } from "../../../extension/shared/contract.js";

const SHOP = { origin: "https://shop.example", tab: { id: 1 }, frameId: 0 };
const TOKEN = "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl";

function harness(daemon) {
  reset();
  const world = { calls: [], later: [], recounts: 0, clock: 0 };
  setDependencies({
    api: async (method, path, body) => {
      world.calls.push({ method, path, body });
      return daemon(body);
    },
    refreshUnread: async () => {
      world.recounts += 1;
    },
    now: () => world.clock,
    later: (fn) => world.later.push(fn),
  });
  world.runLater = async () => {
    for (const fn of world.later.splice(0)) await fn();
  };
  return world;
}

const call = (token, sender = SHOP) => acceptNotify({ args: { token } }, sender);

test("the page gets {received: true} before any daemon call, whatever the daemon answers", async () => {
  const answers = [];
  for (const daemon of [
    async () => ({ outcome: "kept", jti: "j", kind: "proposal" }),
    async () => ({ outcome: "muted" }),
    async () => Promise.reject(Object.assign(new Error("no"), { code: "bad_signature" })),
    async () => Promise.reject(Object.assign(new Error("no"), { code: "inbox_full" })),
    async () => Promise.reject(Object.assign(new Error("no"), { code: "not_available" })),
  ]) {
    const world = harness(daemon);
    const answer = call(TOKEN);
    assert.equal(world.calls.length, 0, "answered before the daemon was asked");
    answers.push(answer);
    await world.runLater();
    assert.deepEqual(world.calls, [{ method: "POST", path: "/v1/messages", body: { origin: SHOP.origin, token: TOKEN } }]);
  }
  for (const answer of answers) assert.deepEqual(answer, { received: true });
});

test("only a kept message makes the badge count again", async () => {
  let world = harness(async () => ({ outcome: "kept", jti: "j", kind: "change" }));
  call(TOKEN);
  await world.runLater();
  assert.equal(world.recounts, 1);
  world = harness(async () => ({ outcome: "muted" }));
  call(TOKEN);
  await world.runLater();
  assert.equal(world.recounts, 0);
});

test("the origin is the sender's, never the page's word", async () => {
  const world = harness(async () => ({ outcome: "kept" }));
  acceptNotify({ args: { token: TOKEN, origin: "https://bank.example" }, origin: "https://bank.example" }, SHOP);
  await world.runLater();
  assert.equal(world.calls[0].body.origin, SHOP.origin);
  assert.deepEqual(Object.keys(world.calls[0].body).sort(), ["origin", "token"]);
});

test("a non-string or an overlong token is a bad_request; any other string is answered alike", async () => {
  const world = harness(async () => ({ outcome: "kept" }));
  for (const token of [undefined, 42, null, { token: TOKEN }, "x".repeat(LIMITS.notifyToken + 1)]) {
    assert.throws(() => call(token), (e) => e.code === "bad_request" && /string of at most 8192/.test(e.message));
  }
  // Not a JWS at all: the same answer, and the daemon is not even asked.
  assert.deepEqual(call("hello"), { received: true });
  assert.deepEqual(call("x".repeat(LIMITS.notifyToken)), { received: true });
  await world.runLater();
  assert.equal(world.calls.length, 0);
  assert.throws(() => call(TOKEN, { origin: "http://shop.example", tab: { id: 1 } }), (e) => e.code === "bad_request");
});

test("at most PER_ORIGIN_PER_MINUTE an origin a minute, MAX_QUEUED in all; the rest dropped silently", async () => {
  const world = harness(async () => ({ outcome: "kept" }));
  for (let i = 0; i < 10; i += 1) assert.deepEqual(call(TOKEN), { received: true });
  assert.equal(pending().length, PER_ORIGIN_PER_MINUTE);
  world.clock += 61_000;
  call(TOKEN);
  assert.equal(pending().length, PER_ORIGIN_PER_MINUTE + 1);
  for (let site = 0; site < 40; site += 1) {
    for (let i = 0; i < 4; i += 1) assert.deepEqual(call(TOKEN, { ...SHOP, origin: `https://site${site}.example` }), { received: true });
  }
  assert.equal(pending().length, MAX_QUEUED);
  await world.runLater();
  assert.equal(world.calls.length, MAX_QUEUED);
  assert.equal(pending().length, 0);
});
