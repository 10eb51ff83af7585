// A web page's call, from the moment the worker accepts it until its answer reaches the tab.
//
// The life of a request record (kept in chrome.storage.session by inflight.js):
//   accepted -> each purpose asked in turn (POST /v1/presentations)
//     granted / denied          -> results[purpose]
//     consent_required          -> prompt {id, purpose, windowId}: the consent window is open; the
//                                  record waits until the user answers there (decide()) or closes it
//                                  (we ask with prompt_detail "id": the window reads the prompt itself)
//     vault_locked              -> waiting "locked" (badge); retried after an unlock
//   all purposes answered -> answer stored, delivered to the tab, record removed (on the page's open
//                            port: delivered and removed in one run of code, not stored; see finish())
// Every step stores the record before it acts (or, on the fast path, issues its storage write before it
// acts: storage keeps the order of writes, and a message sent after the write cannot overtake it), so
// reconcile() (run when the worker starts, and from an alarm while anything is in flight) can finish
// whatever a stopped worker left.

import { PAGE_RESULT } from "../shared/actions.js";
import { NOT_PAIRED, UNAVAILABLE, VAULT_LOCKED } from "../shared/contract.js";
import { refreshBadge } from "./badge.js";
import { api, requestPairing } from "./client.js";
import * as inflight from "./inflight.js";
import { siteManifest } from "./manifests.js";
import {
  PageError,
  checkAcknowledgeArgs,
  checkRequestArgs,
  isSiteOrigin,
  pageAcknowledged,
  pageAnswer,
  pageError,
  pageResult,
  senderOrigin,
} from "./page-contract.js";
import { postToPage, sendToPage } from "./page-port.js";
import { closeWindow, openPromptWindow, windowExists } from "./prompts.js";
import { refreshUnread } from "./unread.js";

// What this module talks to: the browser and the daemon. The worker uses the real ones; the Node unit
// tests (tests/extension/unit/requests.test.mjs) replace them with setDependencies(). The records
// themselves stay in chrome.storage.session (inflight.js), which a test fakes with a `chrome` global.
const deps = {
  api,
  requestPairing,
  siteManifest,
  refreshBadge,
  refreshUnread,
  openPromptWindow,
  closeWindow,
  windowExists,
  sendToTab: sendToPage, // on the page's port while it is open, else chrome.tabs.sendMessage
  postToPage, // on the page's port if it is open: true when posted
  alarms: { create: (name, info) => chrome.alarms.create(name, info), clear: (name) => chrome.alarms.clear(name) },
  now: () => Date.now(),
};

export function setDependencies(replacements) {
  Object.assign(deps, replacements);
}

export const SWEEP_ALARM = "vault-inflight-sweep";
const MAX_WAIT_MS = 15 * 60_000; // longer than a prompt lives (10 min): a stuck call ends as `timeout`
const CALL_ID = /^[A-Za-z0-9_-]{16,64}$/;
const DENY = Object.freeze({ share: false, claims: [], remember: false });
const PROMPT_PENDING = "prompt_pending"; // GET /v1/prompts/{id}/outcome: the user has not answered yet
const EXPIRED = Object.freeze({ outcome: "denied", reason: "expired", message: "the request waited too long; ask again" });

let sweepScheduled = null; // the sweep alarm's creation, once per worker life while calls are in flight

const promptPath = (id) => `/v1/prompts/${encodeURIComponent(id)}`;

// The handler for both page actions: checks, stores, answers {accepted} at once; the result follows.
export async function acceptPageCall(kind, message, sender) {
  const origin = senderOrigin(sender);
  if (!isSiteOrigin(origin)) throw new PageError("bad_request", "the vault answers https pages only (and http on localhost)");
  if (typeof message.callId !== "string" || !CALL_ID.test(message.callId)) throw new PageError("bad_request", "malformed call");
  const args = kind === "request" ? checkRequestArgs(message.args) : checkAcknowledgeArgs(message.args);
  const tab = { tabId: sender.tab.id, frameId: sender.frameId ?? 0, documentId: sender.documentId ?? null };
  const records = await inflight.all();
  const sameTab = records.filter((r) => r.tab.tabId === tab.tabId).length;
  if (records.length >= inflight.MAX_INFLIGHT || sameTab >= inflight.MAX_PER_TAB) {
    throw new PageError("busy", "too many vault requests are waiting; answer or close them, then try again");
  }
  const key = `${tab.tabId}:${message.callId}`;
  const record = { key, kind, callId: message.callId, tab, origin, args, results: {}, prompt: null, waiting: null, answer: null, createdAt: deps.now() };
  // The storage write leaves before the daemon is asked (put() issues it before returning), so a worker
  // stopped from here on leaves the call for its successor; the call does not wait for the write's
  // round trip. {accepted} is answered once the record is stored.
  const stored = inflight.put(record);
  // The sweep is cleared when nothing is in flight; (re)created once per worker life, not per call.
  sweepScheduled ??= deps.alarms.create(SWEEP_ALARM, { periodInMinutes: 0.5 }).catch(() => {
    sweepScheduled = null;
  });
  advance(key, record);
  await stored;
  return { accepted: true };
}

// Which of the content script's calls (its ids, sent on a port that has since closed) the worker holds
// for the sender's tab: those will be answered (by tabs.sendMessage); the content script fails the rest.
// On a page's port the worker does not answer {accepted} (a message each way across the browser while
// the daemon is asked, 0.4-1.4 ms of the page's wait in Firefox): the content script asks this instead,
// only when the port closes. A restarted worker reads its records from storage first.
export async function heldCalls(message, sender) {
  const asked = Array.isArray(message?.callIds) ? message.callIds.slice(0, inflight.MAX_INFLIGHT) : [];
  const keys = new Set((await inflight.all()).map((r) => r.key));
  return { held: asked.filter((id) => typeof id === "string" && CALL_ID.test(id) && keys.has(`${sender.tab.id}:${id}`)) };
}

// Moves a record on as far as it can go without the user. Never throws; safe to call twice.
// `known`: the record as just stored by the caller (saves reading it back on the fast path).
export function advance(key, known = null) {
  return inflight
    .exclusive(key, async () => {
      const record = known ?? (await inflight.get(key));
      if (!record || record.prompt || record.waiting || record.answer) return;
      try {
        await step(record);
      } catch (error) {
        await fail(record, error);
      }
    })
    .catch((error) => console.error("vault: advancing a request failed", error));
}

async function step(record) {
  if (record.kind === "acknowledge") {
    const stored = await deps.api("POST", "/v1/acknowledgements", { token: record.args.token });
    await finish(record, { ok: true, value: pageAcknowledged(stored) });
    // It may have carried messages for the inbox: counted after the page has its answer.
    return deps.refreshUnread();
  }
  for (const purpose of record.args.purposes) {
    if (Object.hasOwn(record.results, purpose)) continue;
    const answer = await ask(record, purpose);
    if (answer.outcome === "consent_required" && typeof answer.prompt?.id === "string") {
      // One prompt window per tab at a time: a page cannot bury the user under windows. The daemon's
      // prompt is left to expire.
      if (await promptOpenInTab(record)) {
        throw new PageError("busy", "a vault prompt from this page is already open; ask again once the user answered it");
      }
      // Stored before the window opens: a worker stopped in between opens it again on restart.
      record.prompt = { id: answer.prompt.id, purpose, windowId: null };
      await inflight.put(record);
      record.prompt.windowId = await deps.openPromptWindow(answer.prompt.id);
      await inflight.put(record);
      return;
    }
    record.results[purpose] = pageResult(answer);
    // Stored for a later purpose to build on; the last one is stored with the answer by finish().
    if (purpose !== record.args.purposes.at(-1)) await inflight.put(record);
  }
  await finish(record, { ok: true, value: pageAnswer(record.origin, record.results) });
}

async function promptOpenInTab(record) {
  return (await inflight.all()).some((r) => r.key !== record.key && r.tab.tabId === record.tab.tabId && r.prompt);
}

// One purpose, asked of the daemon with the site's manifest. A cached manifest that the daemon refuses,
// or that does not know the purpose, may be stale: the site gets one more try with a fresh copy.
async function ask(record, purpose) {
  const { tabId, frameId, documentId } = record.tab;
  let manifest = await deps.siteManifest(record.origin, { document: documentId ?? `${tabId}:${frameId}` });
  const body = { origin: record.origin, manifest: manifest.text, purpose, nonce: record.args.nonce, prompt_detail: "id" };
  if (record.args.claims) body.claims = record.args.claims;
  try {
    const answer = await deps.api("POST", "/v1/presentations", body);
    if (!(manifest.cached && answer.outcome === "denied" && answer.reason === "bad_request")) return answer;
  } catch (error) {
    if (!(manifest.cached && error.code === "manifest_invalid")) throw error;
  }
  manifest = await deps.siteManifest(record.origin, { fresh: true });
  return deps.api("POST", "/v1/presentations", { ...body, manifest: manifest.text });
}

async function fail(record, error) {
  if (error?.code === VAULT_LOCKED) {
    record.waiting = "locked";
    await inflight.put(record);
    await deps.refreshBadge();
    return;
  }
  if (error?.code === NOT_PAIRED) {
    // Ask for a pairing code now, so the popup has one to show when the user clicks the badge.
    deps.requestPairing().catch(() => {});
  }
  await finish(record, { ok: false, error: pageError(error) });
}

// Delivers the answer and forgets the record. On the page's open port the answer is posted and the
// record's removal issued in the same run of the worker's code, without storing the answer first: each
// storage call costs Firefox 0.5-0.7 ms on the thread the page's messages cross, whenever it is issued.
// A worker stopped after that run has nothing left to do; one stopped within it (between two statements)
// leaves the call as accepted, and its successor asks the daemon again and delivers a second answer,
// which the content script ignores: a second ledger entry at worst, never a token without one.
// Otherwise (the port is closed: tabs.sendMessage, which waits for the tab) the answer is stored before
// it is delivered, so a worker stopped in between leaves it for its successor to deliver.
async function finish(record, answer) {
  record.answer = answer;
  record.prompt = null;
  record.waiting = null;
  if (deps.postToPage(...addressed(record))) return forget(record);
  const stored = inflight.put(record);
  await deliver(record);
  await stored;
}

// (tabId, the result message, the document's address) for the tab's content script.
function addressed(record) {
  const { tabId, frameId, documentId } = record.tab;
  const options = documentId ? { documentId } : { frameId };
  return [tabId, { type: PAGE_RESULT, callId: record.callId, ...record.answer }, options];
}

async function deliver(record) {
  try {
    await deps.sendToTab(...addressed(record));
  } catch {
    // The tab was closed or navigated: nobody is left to answer.
  }
  await forget(record);
}

async function forget(record) {
  await inflight.remove(record.key);
  await deps.refreshBadge();
}

// The user answered a prompt (from the prompt window). Returns the daemon's full answer: the prompt
// window may show the user what was shared; the page gets only pageResult() of it.
export async function decide(promptId, decision) {
  const answer = await deps.api("POST", `${promptPath(promptId)}/decision`, decision);
  await settlePrompt(promptId, answer);
  return answer;
}

// Records the prompt's outcome as its purpose's result and moves the request on. Idempotent. (The prompt
// window closes itself once it has shown what was shared.)
async function settlePrompt(promptId, answer) {
  const found = (await inflight.all()).find((r) => r.prompt?.id === promptId);
  if (!found) return;
  await inflight.exclusive(found.key, async () => {
    const record = await inflight.get(found.key);
    if (record?.prompt?.id !== promptId) return;
    record.results[record.prompt.purpose] = pageResult(answer);
    record.prompt = null;
    await inflight.put(record);
  });
  advance(found.key);
}

// Closing the consent window without answering means "no", this time only: nothing is remembered,
// and the page hears `denied` at once rather than waiting for the prompt to expire.
export async function onWindowRemoved(windowId) {
  const record = (await inflight.all()).find((r) => r.prompt?.windowId === windowId);
  if (!record) return;
  const promptId = record.prompt.id;
  let answer;
  try {
    answer = await deps.api("POST", `${promptPath(promptId)}/decision`, DENY);
  } catch {
    answer = { outcome: "denied", reason: "denied" }; // the daemon will let the prompt expire
  }
  await settlePrompt(promptId, answer);
}

// A closed tab needs no answer: its calls are dropped, and their prompts denied and closed.
export async function onTabRemoved(tabId) {
  for (const record of await inflight.all()) {
    if (record.tab.tabId !== tabId) continue;
    await inflight.remove(record.key);
    if (record.prompt) {
      deps.api("POST", `${promptPath(record.prompt.id)}/decision`, DENY).catch(() => {});
      await deps.closeWindow(record.prompt.windowId);
    }
  }
  await deps.refreshBadge();
}

// After an unlock (from the popup, or noticed by reconcile()), the waiting calls are asked again.
export async function resumeAfterUnlock() {
  for (const record of await inflight.all()) {
    if (record.waiting !== "locked") continue;
    await inflight.exclusive(record.key, async () => {
      const current = await inflight.get(record.key);
      if (current?.waiting !== "locked") return;
      current.waiting = null;
      await inflight.put(current);
    });
    advance(record.key);
  }
  await deps.refreshBadge();
}

// Finishes what a stopped worker left, and ends what waited too long. Runs when the worker starts and
// every 30 s (an alarm, which also wakes a stopped worker) while anything is in flight.
export async function reconcile() {
  const records = await inflight.all();
  if (records.length === 0) {
    sweepScheduled = null;
    await deps.alarms.clear(SWEEP_ALARM);
    await deps.refreshBadge();
    return;
  }
  let status; // asked once, only if some call waits for an unlock
  for (const record of records) {
    const next = await inflight.exclusive(record.key, () => reconcileOne(record.key, () => (status ??= lockState())));
    if (next === "advance") advance(record.key);
    if (next === "unlocked") await resumeAfterUnlock();
  }
  await deps.refreshBadge();
}

async function lockState() {
  try {
    return await deps.api("GET", "/v1/status");
  } catch {
    return null;
  }
}

async function reconcileOne(key, getStatus) {
  const record = await inflight.get(key);
  if (!record) return null;
  if (record.answer) return deliver(record);
  if (deps.now() - record.createdAt > MAX_WAIT_MS) {
    if (record.prompt) {
      deps.api("POST", `${promptPath(record.prompt.id)}/decision`, DENY).catch(() => {});
      await deps.closeWindow(record.prompt.windowId);
    }
    return finish(record, { ok: false, error: { code: "timeout", message: "the vault did not answer in time; ask again" } });
  }
  if (record.waiting === "locked") {
    const status = await getStatus();
    return status && !status.locked ? "unlocked" : null;
  }
  if (!record.prompt) return "advance";
  return reconcilePrompt(record);
}

async function reconcilePrompt(record) {
  const { id, windowId } = record.prompt;
  let answer;
  try {
    // Decided (the answer was lost with a stopped worker) or expired: what it came to, read, not answered.
    answer = await deps.api("GET", `${promptPath(id)}/outcome`);
  } catch (error) {
    // A locked or unreachable vault says nothing about the prompt: ask again on the next sweep (the call
    // still ends as `timeout` after MAX_WAIT_MS). Any other refusal means the prompt is gone.
    if (error.code === VAULT_LOCKED || UNAVAILABLE.includes(error.code)) return null;
    if (error.code === PROMPT_PENDING) {
      if (await deps.windowExists(windowId)) return null;
      // The window never opened, or was closed while the worker was stopped: open it (again).
      record.prompt.windowId = await deps.openPromptWindow(id);
      await inflight.put(record);
      return null;
    }
    answer = EXPIRED;
  }
  record.results[record.prompt.purpose] = pageResult(answer);
  record.prompt = null;
  await inflight.put(record);
  await deps.closeWindow(windowId);
  return "advance";
}
