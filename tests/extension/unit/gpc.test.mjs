// Global Privacy Control: the rules and page-script patterns built from the daemon's state
// (extension/background/gpc-rules.js), reading a site's gpc.json (gpc-declaration.js), and the popup's
// words (pages/popup-gpc.js). Run: node --test tests/extension/unit/

import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_BYTES, fetchDeclaration, forgetMemory, parseDeclaration, siteDeclaration } from "../../../extension/background/gpc-declaration.js";
import { RULE_IDS, SITE_PATTERNS, gpcHost, gpcPlan, nextChangeMs, scriptRegistration } from "../../../extension/background/gpc-rules.js";
import { browserSendsGpc, dayWords, declarationWords, gpcStateWords, reasonWords } from "../../../extension/pages/popup-gpc.js";

const HEADER = { type: "modifyHeaders", requestHeaders: [{ header: "Sec-GPC", operation: "set", value: "1" }] };
const bytes = (text) => new TextEncoder().encode(text);

test("sent by default: one rule for documents and one for subresources, everywhere but the hosts turned off", () => {
  const plan = gpcPlan({ sent: true, sites: {}, next_change: null });
  assert.deepEqual(plan.rules, [
    { id: RULE_IDS.documents, priority: 1, action: HEADER, condition: { resourceTypes: ["main_frame", "sub_frame"] } },
    { id: RULE_IDS.subresources, priority: 1, action: HEADER, condition: { excludedResourceTypes: ["main_frame", "sub_frame"] } },
  ]);
  assert.deepEqual(plan.script, { matches: [...SITE_PATTERNS], excludeMatches: [] });

  const off = gpcPlan({ sent: true, sites: { "https://Shop.Example:8443": false, "http://127.0.0.1:8000": false, "http://127.0.0.1:9000": false } });
  assert.deepEqual(off.hosts, ["127.0.0.1", "shop.example"]); // per host: ports fold together, lower case
  const [documents, subresources] = off.rules;
  // A page is judged by its own host (a link from a site where GPC is off still gets it on the next page).
  assert.deepEqual(documents.condition, { resourceTypes: ["main_frame", "sub_frame"], excludedRequestDomains: off.hosts });
  assert.deepEqual(subresources.condition, {
    excludedResourceTypes: ["main_frame", "sub_frame"],
    excludedRequestDomains: off.hosts,
    excludedInitiatorDomains: off.hosts,
  });
  assert.deepEqual(off.script.matches, [...SITE_PATTERNS]);
  // The script is left out where the header is: the host, its subdomains (as the rules' domains), loopback over http.
  assert.deepEqual(off.script.excludeMatches, ["https://127.0.0.1/*", "http://127.0.0.1/*", "https://shop.example/*", "https://*.shop.example/*"]);
});

test("not sent by default: rules and the script for the listed hosts only, or nothing at all", () => {
  assert.deepEqual(gpcPlan({ sent: false, sites: {}, next_change: null }), { sent: false, hosts: [], rules: [], script: null });
  const plan = gpcPlan({ sent: false, sites: { "http://localhost:3000": true, "https://news.example": true } });
  assert.deepEqual(plan.rules.map((r) => r.condition), [
    { resourceTypes: ["main_frame", "sub_frame"], requestDomains: ["localhost", "news.example"] },
    { excludedResourceTypes: ["main_frame", "sub_frame"], initiatorDomains: ["localhost", "news.example"] },
  ]);
  assert.deepEqual(plan.script.matches, ["https://localhost/*", "http://localhost/*", "https://*.localhost/*", "https://news.example/*", "https://*.news.example/*"]);
  const registration = scriptRegistration(plan.script);
  assert.equal(registration.world, "MAIN");
  assert.equal(registration.runAt, "document_start");
  assert.equal(registration.allFrames, true);
  assert.deepEqual(registration.js, ["content/gpc-main.js"]);
});

test("hosts the rules cannot name are left out, and a malformed state sends nothing", () => {
  assert.equal(gpcHost("https://[::1]:8443"), null);
  assert.equal(gpcHost("not an origin"), null);
  assert.equal(gpcHost("ftp://files.example"), null);
  assert.equal(gpcHost("https://bücher.example"), "xn--bcher-kva.example");
  assert.deepEqual(gpcPlan({ sent: "yes", sites: { "https://[::1]": true } }).rules, []);
  assert.deepEqual(gpcPlan(null).rules, []);
});

test("a timed context's end is refreshed a second after it, and never sooner than the alarms allow", () => {
  const now = 1_000_000_000_000;
  assert.equal(nextChangeMs({ next_change: null }, now), null);
  assert.equal(nextChangeMs({ next_change: now / 1000 + 3600 }, now), now + 3600_000 + 1000);
  assert.equal(nextChangeMs({ next_change: now / 1000 + 1 }, now), now + 30_000);
});

test("gpc.json is read strictly", () => {
  assert.deepEqual(parseDeclaration(bytes('{"gpc": true, "lastUpdate": "2026-11-01"}')), { state: "supports", lastUpdate: "2026-11-01" });
  assert.deepEqual(parseDeclaration(bytes('{"gpc": false}')), { state: "says-no", lastUpdate: null });
  for (const bad of ['{"gpc": "true"}', '{"gpc": 1}', "[true]", "null", '{"lastUpdate": "2026-11-01"}', '{"gpc": true, "lastUpdate": "2026-02-30"}', '{"gpc": true, "lastUpdate": "1 Nov 2026"}']) {
    assert.deepEqual(parseDeclaration(bytes(bad)), { state: "not-declared", why: "invalid" }, bad);
  }
  assert.deepEqual(parseDeclaration(bytes("<html>not found</html>")), { state: "not-declared", why: "not-json" });
  assert.deepEqual(parseDeclaration(new Uint8Array([0x7b, 0xff, 0x7d])), { state: "not-declared", why: "not-json" });
});

function fakeFetch(answer, calls = []) {
  return async (url, options) => {
    calls.push({ url, options });
    return typeof answer === "function" ? answer(options) : answer;
  };
}

test("the fetch: no cookies, no referrer, no redirect; a bounded body and time", async () => {
  const calls = [];
  const ok = await fetchDeclaration("https://shop.example", { fetcher: fakeFetch(new Response('{"gpc": true}'), calls) });
  assert.deepEqual(ok, { state: "supports", lastUpdate: null });
  assert.equal(calls[0].url, "https://shop.example/.well-known/gpc.json");
  assert.equal(calls[0].options.credentials, "omit");
  assert.equal(calls[0].options.referrerPolicy, "no-referrer");
  assert.equal(calls[0].options.redirect, "manual");
  assert.equal(calls[0].options.cache, "no-store");

  const at = (status, body = "") => fetchDeclaration("https://x.example", { fetcher: fakeFetch(new Response(body, { status })) });
  assert.deepEqual(await at(404), { state: "not-declared", why: "missing" });
  assert.deepEqual(await at(500), { state: "could-not-check", why: "status 500" });
  assert.deepEqual(await at(302), { state: "not-declared", why: "redirect" });
  assert.deepEqual(await at(200, `{"gpc": true, "pad": "${"x".repeat(MAX_BYTES)}"}`), { state: "could-not-check", why: "too-large" });

  // A body that never ends is cut at the limit, whatever the site says its length is.
  let pulled = 0;
  const endless = new ReadableStream({ pull: (c) => { pulled += 1; c.enqueue(new Uint8Array(1024)); } });
  assert.deepEqual(await fetchDeclaration("https://x.example", { fetcher: fakeFetch(new Response(endless)) }), { state: "could-not-check", why: "too-large" });
  assert.ok(pulled <= 8, pulled);

  // A site that never answers is given up after the timeout.
  const hanging = (options) => new Promise((_, reject) => options.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  assert.deepEqual(await fetchDeclaration("https://slow.example", { fetcher: fakeFetch(hanging), timeoutMs: 50 }), { state: "could-not-check", why: "timeout" });
  const refused = async () => { throw new TypeError("Failed to fetch"); };
  assert.deepEqual(await fetchDeclaration("https://down.example", { fetcher: refused }), { state: "could-not-check", why: "unreachable" });
});

function memoryStorage() {
  const data = {};
  return { data, get: async (key) => ({ [key]: data[key] }), set: async (items) => Object.assign(data, structuredClone(items)) };
}

test("declarations are kept a day (failures an hour), survive a worker restart, and at most 200 are kept", async () => {
  forgetMemory();
  const storage = memoryStorage();
  let clock = 1_000_000;
  const now = () => clock;
  let fetched = 0;
  const fetcher = async () => {
    fetched += 1;
    return new Response('{"gpc": true}');
  };
  await siteDeclaration("https://a.example", { storage, fetcher, now });
  await siteDeclaration("https://a.example", { storage, fetcher, now });
  assert.equal(fetched, 1);
  forgetMemory(); // a restarted worker reads storage.session
  clock += 23 * 3600_000;
  assert.equal((await siteDeclaration("https://a.example", { storage, fetcher, now })).state, "supports");
  assert.equal(fetched, 1);
  clock += 2 * 3600_000;
  await siteDeclaration("https://a.example", { storage, fetcher, now });
  assert.equal(fetched, 2);

  const failing = async () => { fetched += 1; throw new TypeError("Failed to fetch"); };
  await siteDeclaration("https://b.example", { storage, fetcher: failing, now });
  clock += 30 * 60_000;
  await siteDeclaration("https://b.example", { storage, fetcher: failing, now });
  assert.equal(fetched, 3);
  clock += 31 * 60_000;
  await siteDeclaration("https://b.example", { storage, fetcher: failing, now });
  assert.equal(fetched, 4);

  for (let i = 0; i < 210; i += 1) await siteDeclaration(`https://s${i}.example`, { storage, fetcher, now });
  const kept = Object.keys(storage.data.gpcDeclarations);
  assert.equal(kept.length, 200);
  assert.ok(!kept.includes("https://a.example") && kept.includes("https://s209.example"));

  // Plain http sites elsewhere than this computer are never fetched.
  const before = fetched;
  assert.equal((await siteDeclaration("http://shop.example", { storage, fetcher, now })).state, "could-not-check");
  assert.equal(fetched, before);
});

test("the popup's words", () => {
  assert.equal(dayWords("2026-11-01"), "1 November 2026");
  assert.equal(declarationWords({ state: "supports", lastUpdate: "2026-11-01" }), "This site says it honours GPC (updated 1 November 2026).");
  assert.equal(declarationWords({ state: "supports", lastUpdate: null }), "This site says it honours GPC.");
  assert.equal(declarationWords({ state: "says-no", lastUpdate: null }), "This site says it does not honour GPC.");
  assert.equal(declarationWords({ state: "not-declared", why: "missing" }), "This site does not say whether it honours GPC.");
  assert.match(declarationWords({ state: "not-declared", why: "invalid" }), /not a valid declaration/);
  assert.equal(declarationWords({ state: "could-not-check", why: "timeout" }), "Could not check whether this site honours GPC: it did not answer within 3 seconds.");
  assert.equal(declarationWords({ state: "could-not-check", why: "status 503" }), "Could not check whether this site honours GPC: it answered with status 503.");
  assert.equal(reasonWords("Sent: the rules of Everyday refuse selling your data."), "The rules of Everyday refuse selling your data.");
  assert.equal(reasonWords("Not sent: you turned it off for this site."), "You turned it off for this site.");
});

test("the popup says the browser itself sends GPC where the vault does not and the browser's own setting does", () => {
  const off = { sent: false, why: "Not sent: you turned it off for this site." };
  assert.deepEqual(gpcStateWords(off, false), { sent: false, headline: "Not sent to this site", why: "You turned it off for this site." });
  const byBrowser = gpcStateWords(off, true);
  assert.equal(byBrowser.headline, "Sent to this site by your browser");
  assert.ok(byBrowser.sent);
  assert.match(byBrowser.why, /^You turned it off for this site\. Your browser's own setting sends it to every site/);
  const on = { sent: true, why: "Sent: the rules of Everyday refuse selling your data." };
  assert.deepEqual(gpcStateWords(on, true), gpcStateWords(on, false));
  // Chromium has no navigator.globalPrivacyControl; Firefox's is false unless its setting is on.
  assert.equal(browserSendsGpc({}), false);
  assert.equal(browserSendsGpc({ globalPrivacyControl: false }), false);
  assert.equal(browserSendsGpc({ globalPrivacyControl: true }), true);
});
