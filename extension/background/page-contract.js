// What a web page may send and what it may receive. Pure functions (no chrome.* calls), so the
// unit tests run them in Node: tests/extension/unit/contract.test.mjs.
//
// The page is not trusted: its arguments are checked here (the daemon checks again), and an answer is
// rebuilt from an allow-list, never copied, so nothing the daemon meant for the user (detail, prompt,
// claims values, jti, expiry) can reach the page by accident.

import { CLAIM_NAME, LIMITS, NONCE, NOT_PAIRED, PAGE_ERRORS, PAGE_REASONS, PURPOSE_ID, SITE_MISTAKES } from "../shared/contract.js";

// The limits, patterns, reasons and codes are the daemon's (vault/daemon/page_contract.py, generated
// into shared/contract.js): re-exported for the worker and the unit tests.
export { LIMITS, PAGE_ERRORS, PAGE_REASONS };

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export class PageError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "PageError";
    this.code = code;
  }
}

const badRequest = (message) => new PageError("bad_request", message);

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function stringList(value, { name, max, pattern, maxLength }) {
  if (!Array.isArray(value)) throw badRequest(`${name} must be an array of strings`);
  if (value.length > max) throw badRequest(`${name} may hold at most ${max} entries`);
  for (const item of value) {
    if (typeof item !== "string" || item.length > maxLength || !pattern.test(item)) {
      const shown = typeof item === "string" ? JSON.stringify(item.slice(0, 80)) : typeof item;
      throw badRequest(`${name} has an invalid entry: ${shown}`);
    }
  }
  return [...new Set(value)];
}

// personalVault.request({purposes, nonce, claims?}) -> the checked arguments, or a bad_request PageError.
export function checkRequestArgs(args) {
  if (!isPlainObject(args)) throw badRequest("request() takes one object: {purposes, nonce, claims?}");
  const unknown = Object.keys(args).filter((key) => !["purposes", "nonce", "claims"].includes(key));
  if (unknown.length) throw badRequest(`unknown argument: ${unknown[0].slice(0, 40)}`);
  const purposes = stringList(args.purposes, {
    name: "purposes",
    max: LIMITS.purposes,
    pattern: PURPOSE_ID,
    maxLength: LIMITS.purposeLength,
  });
  if (purposes.length === 0) throw badRequest("purposes must name at least one purpose of your manifest");
  if (typeof args.nonce !== "string" || !NONCE.test(args.nonce)) {
    throw badRequest("nonce must be 22 to 128 base64url characters (at least 128 bits from your server)");
  }
  const checked = { purposes, nonce: args.nonce };
  if (args.claims !== undefined) {
    checked.claims = stringList(args.claims, {
      name: "claims",
      max: LIMITS.claims,
      pattern: CLAIM_NAME,
      maxLength: LIMITS.claimLength,
    });
  }
  return checked;
}

// personalVault.acknowledge(ackToken) -> {token}, or a bad_request PageError.
export function checkAcknowledgeArgs(args) {
  const token = isPlainObject(args) ? args.token : undefined;
  if (typeof token !== "string" || token.length > LIMITS.ackToken || !COMPACT_JWS.test(token)) {
    throw badRequest("acknowledge() takes the acknowledgement your server made: a compact JWS string");
  }
  return { token };
}

function shortMessage(message) {
  return typeof message === "string" ? message.slice(0, LIMITS.message) : undefined;
}

// One purpose's result for the page, rebuilt from the daemon's ConsentAnswer (POST /v1/presentations, a
// decision, or GET /v1/prompts/{id}/outcome): granted, or a denial with one of PAGE_REASONS.
export function pageResult(answer) {
  if (isPlainObject(answer) && answer.outcome === "granted" && typeof answer.token === "string") {
    return { outcome: "granted", token: answer.token };
  }
  const reason = isPlainObject(answer) && PAGE_REASONS.includes(answer.reason) ? answer.reason : "denied";
  const result = { outcome: "denied", reason };
  // The daemon words its page message for the page; anything else falls back to our own words.
  const message = isPlainObject(answer) && PAGE_REASONS.includes(answer.reason) ? shortMessage(answer.message) : undefined;
  result.message = message ?? "the user did not share this";
  return result;
}

// The whole answer to personalVault.request(): {origin, results}, nothing else.
export function pageAnswer(origin, results) {
  const clean = {};
  for (const [purpose, result] of Object.entries(results)) clean[purpose] = pageResult(result);
  return { origin, results: clean };
}

// personalVault.notify(token) -> {token}, or a bad_request PageError. Only the type and the length are
// checked: any other string is taken (and answered) exactly like a valid message, so that the answer
// says nothing about the vault (background/notify.js drops what is not even a compact JWS).
export function checkNotifyArgs(args) {
  const token = isPlainObject(args) ? args.token : undefined;
  if (typeof token !== "string" || token.length > LIMITS.notifyToken) {
    throw badRequest(`notify() takes the message your server signed: a string of at most ${LIMITS.notifyToken} characters`);
  }
  return { token };
}

export function isCompactJws(token) {
  return typeof token === "string" && COMPACT_JWS.test(token);
}

// The one answer to personalVault.notify(): the same whatever becomes of the message (kept, refused,
// muted, dropped) and whether or not the vault is there at all. No read receipts.
export const NOTIFY_ANSWER = Object.freeze({ received: true });

// The answer to personalVault.acknowledge().
export function pageAcknowledged(stored) {
  const presentation = isPlainObject(stored) && typeof stored.presentation === "string" ? stored.presentation : null;
  return { stored: true, presentation };
}

// Any failure, as the {code, message} a page may see. Vault, host and network errors are folded into
// a few codes; their details (paths, hints for the user) stay in the extension.
export function pageError(error) {
  if (error instanceof PageError) {
    const code = PAGE_ERRORS.includes(error.code) ? error.code : "bad_request";
    return { code, message: shortMessage(error.message) ?? code };
  }
  if (error?.code === NOT_PAIRED) {
    return {
      code: "not_paired",
      message: "this browser is not paired with the vault yet; the extension's toolbar button shows how",
    };
  }
  if (SITE_MISTAKES.includes(error?.code)) {
    // About the site's own manifest, nonce or acknowledgement: the site needs to know.
    return { code: "bad_request", message: shortMessage(error.message) ?? "the request was refused" };
  }
  if (error?.code === "timeout") return { code: "timeout", message: "the vault did not answer in time; ask again" };
  return { code: "not_available", message: "the vault is not available (is the vault daemon running?)" };
}

// The page's origin, from what the browser says about the sender: never from the message.
// Chrome gives sender.origin; Firefox gives only sender.url.
export function senderOrigin(sender) {
  if (typeof sender?.origin === "string" && sender.origin !== "null") return sender.origin;
  try {
    const origin = new URL(sender?.url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}

// Origins the extension answers: https, or http on the loopback hosts it has permissions for
// (development). The daemon checks the origin's spelling again.
export function isSiteOrigin(origin) {
  if (typeof origin !== "string") return false;
  return /^https:\/\/[^/]+$/.test(origin) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/.test(origin);
}
