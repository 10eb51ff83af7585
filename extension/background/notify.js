// personalVault.notify(token): a site's signed message for the user's inbox.
//
// The page gets NOTIFY_ANSWER as soon as the message is taken here, before any daemon call, whatever
// becomes of it: kept, refused (forged, replayed, rate-limited, an unknown site), muted, dropped here,
// or lost with a stopped worker. So the answer and its timing say nothing about the inbox, the user's
// reading, or even whether the vault is running. The message goes on in the background, one at a time,
// to POST /v1/messages with the origin the browser gave for the sender (never the page's word).
//
// Bounded: at most MAX_QUEUED messages wait in all, and each origin gets at most PER_ORIGIN_PER_MINUTE
// into the queue a minute; the rest are dropped silently (the daemon rate-limits what it keeps again).
// The queue lives in the worker's memory: a stopped worker loses what waited, which a site cannot tell
// from a refusal either.

import { refreshUnread } from "./unread.js";
import { api } from "./client.js";
import { NOTIFY_ANSWER, PageError, checkNotifyArgs, isCompactJws, isSiteOrigin, senderOrigin } from "./page-contract.js";

export const MAX_QUEUED = 16;
export const PER_ORIGIN_PER_MINUTE = 4;
const MINUTE_MS = 60_000;
const MAX_ORIGINS_TRACKED = 256; // the per-origin counters are bounded too

// Replaced by the Node unit tests (tests/extension/unit/notify.test.mjs).
const deps = { api, refreshUnread, now: () => Date.now(), later: (fn) => setTimeout(fn, 0) };

export function setDependencies(replacements) {
  Object.assign(deps, replacements);
}

const queue = []; // {origin, token}
const taken = new Map(); // origin -> times (ms) messages were queued in the last minute
let draining = false;

function recentFor(origin, now) {
  const times = (taken.get(origin) ?? []).filter((t) => now - t < MINUTE_MS);
  if (times.length) taken.set(origin, times);
  else taken.delete(origin);
  return times;
}

function enqueue(origin, token) {
  if (!isCompactJws(token) || queue.length >= MAX_QUEUED) return;
  const now = deps.now();
  const times = recentFor(origin, now);
  if (times.length >= PER_ORIGIN_PER_MINUTE) return;
  if (!taken.has(origin) && taken.size >= MAX_ORIGINS_TRACKED) {
    for (const [known] of taken) recentFor(known, now); // forget the quiet ones first
    if (taken.size >= MAX_ORIGINS_TRACKED) return;
  }
  taken.set(origin, [...times, now]);
  queue.push({ origin, token });
  if (!draining) {
    draining = true;
    deps.later(drain); // after the page's answer has gone out
  }
}

async function drain() {
  let kept = false;
  try {
    while (queue.length) {
      const { origin, token } = queue.shift();
      try {
        const answer = await deps.api("POST", "/v1/messages", { origin, token });
        if (answer?.outcome === "kept") kept = true;
      } catch (error) {
        // Refused or not delivered: the page is never told, and the user has nothing to see.
        console.debug("vault: a site's message was not kept:", String(error?.code ?? "error"));
      }
    }
  } finally {
    draining = false;
  }
  if (kept) await deps.refreshUnread();
}

// The page action's handler (background/router.js).
export function acceptNotify(message, sender) {
  const origin = senderOrigin(sender);
  if (!isSiteOrigin(origin)) throw new PageError("bad_request", "the vault answers https pages only (and http on localhost)");
  const { token } = checkNotifyArgs(message?.args);
  enqueue(origin, token);
  return NOTIFY_ANSWER;
}

// For the unit tests: what waits, and a fresh start.
export function pending() {
  return queue.map(({ origin }) => origin);
}

export function reset() {
  queue.length = 0;
  taken.clear();
  draining = false;
}
