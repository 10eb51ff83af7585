// Whether a site declares that it honours Global Privacy Control: ORIGIN/.well-known/gpc.json, fetched by
// the worker when the popup opens on the site (never on page loads), and kept for a while.
//
// The site is an attacker like any other: the fetch carries no cookies and no referrer, follows no
// redirect, gives up after 3 s, reads at most 4096 bytes, and the answer is read strictly (a JSON object
// whose "gpc" is a boolean; "lastUpdate" a real YYYY-MM-DD date or absent). The result is one of
//   {state: "supports", lastUpdate}   the site says it honours GPC
//   {state: "says-no", lastUpdate}    the site says it does not
//   {state: "not-declared", why}      no such file (404/410, a redirect), or not a valid declaration
//   {state: "could-not-check", why}   no answer, a timeout, an error status, too large

import { readAtMost } from "./bounded-read.js";

export const GPC_PATH = "/.well-known/gpc.json";
export const MAX_BYTES = 4096;
export const TIMEOUT_MS = 3000;
const KEPT_MS = 24 * 3600_000;
const FAILURE_KEPT_MS = 3600_000;
const MAX_ENTRIES = 200;
const STORAGE_KEY = "gpcDeclarations";

// Only https sites and this computer's own (as the extension's host permissions).
export function checkableOrigin(origin) {
  return typeof origin === "string" && (/^https:\/\/[^/?#@\s]+$/.test(origin) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/.test(origin));
}

function realDate(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

// The declaration from the file's bytes (Uint8Array), strictly.
export function parseDeclaration(bytes) {
  let value;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { state: "not-declared", why: "not-json" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value) || typeof value.gpc !== "boolean") {
    return { state: "not-declared", why: "invalid" };
  }
  let lastUpdate = null;
  if (Object.hasOwn(value, "lastUpdate")) {
    if (typeof value.lastUpdate !== "string" || !realDate(value.lastUpdate)) return { state: "not-declared", why: "invalid" };
    lastUpdate = value.lastUpdate;
  }
  return { state: value.gpc ? "supports" : "says-no", lastUpdate };
}

class TooLarge extends Error {}

// Fetches and reads the declaration now (no cache). `fetcher` is for the Node tests.
export async function fetchDeclaration(origin, { fetcher = fetch, timeoutMs = TIMEOUT_MS } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetcher(origin + GPC_PATH, {
      credentials: "omit", // the site must not learn who asks: no cookies
      cache: "no-store",
      redirect: "manual", // a declaration is the origin's own: a redirect is not followed
      referrerPolicy: "no-referrer",
      signal: controller.signal,
    });
    if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
      return { state: "not-declared", why: "redirect" };
    }
    if (response.status === 404 || response.status === 410) return { state: "not-declared", why: "missing" };
    if (!response.ok) return { state: "could-not-check", why: `status ${response.status}` };
    return parseDeclaration(await readAtMost(response, MAX_BYTES, () => new TooLarge()));
  } catch (error) {
    if (error instanceof TooLarge) return { state: "could-not-check", why: "too-large" };
    if (controller.signal.aborted) return { state: "could-not-check", why: "timeout" };
    return { state: "could-not-check", why: "unreachable" };
  } finally {
    clearTimeout(timer);
  }
}

// -- the cache: memory, and storage.session for a restarted worker ------------------------------------

let memory = null; // origin -> {result, checkedAt}, oldest first
const running = new Map(); // origin -> the fetch in flight

async function loaded(storage) {
  if (memory) return memory;
  let stored = {};
  try {
    stored = (await storage.get(STORAGE_KEY))[STORAGE_KEY] ?? {};
  } catch {
    // no session storage: memory alone
  }
  memory ??= new Map(Object.entries(stored).sort((a, b) => a[1].checkedAt - b[1].checkedAt));
  return memory;
}

function fresh(entry, now) {
  const kept = entry.result.state === "could-not-check" ? FAILURE_KEPT_MS : KEPT_MS;
  return now - entry.checkedAt < kept && now >= entry.checkedAt;
}

// The site's declaration, from the cache while fresh: {...result, checkedAt}.
export async function siteDeclaration(origin, { storage = chrome.storage.session, fetcher = fetch, now = Date.now } = {}) {
  if (!checkableOrigin(origin)) return { state: "could-not-check", why: "not-checkable", checkedAt: now() };
  const cache = await loaded(storage);
  const hit = cache.get(origin);
  if (hit && fresh(hit, now())) return { ...hit.result, checkedAt: hit.checkedAt };
  if (!running.has(origin)) {
    const fetching = fetchDeclaration(origin, { fetcher }).then(async (result) => {
      const entry = { result, checkedAt: now() };
      cache.delete(origin); // re-inserted last: a Map iterates in insertion order
      cache.set(origin, entry);
      while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value);
      await storage.set({ [STORAGE_KEY]: Object.fromEntries(cache) }).catch(() => {});
      return entry;
    });
    running.set(origin, fetching);
    fetching.finally(() => running.delete(origin)).catch(() => {});
  }
  const entry = await running.get(origin);
  return { ...entry.result, checkedAt: entry.checkedAt };
}

// For the Node tests: forget the memory cache, as a restarted worker does.
export function forgetMemory() {
  memory = null;
  running.clear();
}
