// What the extension's own pages (popup, consent prompt, options) may ask of the worker: one handler per
// action in Action (shared/actions.js). Each checks its arguments, then makes one daemon call.

import { Action } from "../shared/actions.js";
import { refreshBadge, setPairingNeeded } from "./badge.js";
import { INBOX_HANDLERS } from "./actions-inbox.js";
import { CONTEXT_HANDLERS } from "./actions-contexts.js";
import { api, statusAndPairing } from "./client.js";
import { GPC_HANDLERS, refreshGpc, thenRefreshGpc } from "./gpc.js";
import * as inflight from "./inflight.js";
import { decide, resumeAfterUnlock } from "./requests.js";
import { refreshUnread } from "./unread.js";

const UNLOCK_TIMEOUT_MS = 120_000; // Argon2id, plus the daemon's growing delay after wrong passphrases
const EXPORT_TIMEOUT_MS = 60_000;

export class BadArguments extends Error {
  constructor(message) {
    super(message);
    this.code = "bad_arguments";
  }
}

function text(value, name, max = 300) {
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw new BadArguments(`${name} must be a string of 1 to ${max} characters`);
  }
  return value;
}

const enc = encodeURIComponent;

async function status() {
  const current = await statusAndPairing();
  await setPairingNeeded(current.client === "pending" || current.client === "unpaired");
  const waiting = (await inflight.all()).filter((r) => r.waiting === "locked").length;
  return { ...current, waiting };
}

async function unlock({ passphrase }) {
  const answer = await api("POST", "/v1/unlock", { passphrase: text(passphrase, "passphrase", 1024) }, UNLOCK_TIMEOUT_MS);
  await resumeAfterUnlock(); // requests that waited for the vault go on now
  refreshUnread(); // the inbox could not be read while locked
  refreshGpc(); // nor where Global Privacy Control goes
  return answer;
}

async function lock() {
  const answer = await api("POST", "/v1/lock");
  await refreshBadge();
  return answer;
}

function names(list, what, max) {
  if (!Array.isArray(list) || list.length > max) throw new BadArguments(`${what}s is a list of at most ${max} names`);
  return list.map((name) => text(name, what, 128));
}

async function promptDecide({ id, share, claims, recipients = [], remember }) {
  if (typeof share !== "boolean" || typeof remember !== "boolean") throw new BadArguments("share and remember are booleans");
  return decide(text(id, "id", 64), { share, claims: names(claims, "claim", 64), recipients: names(recipients, "recipient", 16), remember });
}

const given = (value) => value !== undefined && value !== null;

// The whole site, one purpose, one claim or one third party (within a purpose when given); `forget`: the
// whole site, and a new pairwise identity.
async function siteRevoke({ origin, purpose, claim, thirdParty, erase = false, forget = false }) {
  const body = { origin: text(origin, "origin"), erase: Boolean(erase) };
  if (given(purpose)) body.purpose = text(purpose, "purpose", 128);
  if (given(claim)) body.claim = text(claim, "claim", 128);
  if (given(thirdParty)) body.third_party = text(thirdParty, "third party", 128);
  if (forget === true) body.forget = true;
  return api("POST", "/v1/revocations", body);
}

const CHANGES = ["allow", "deny", "forget", "restore"];

async function consentChange({ origin, purpose, claim, recipient, change, context }) {
  if (!CHANGES.includes(change)) throw new BadArguments(`change is one of ${CHANGES.join(", ")}`);
  if (given(claim) === given(recipient)) throw new BadArguments("name either a claim or a recipient");
  const body = { origin: text(origin, "origin"), purpose: text(purpose, "purpose", 128), change };
  if (given(claim)) body.claim = text(claim, "claim", 128);
  else body.recipient = text(recipient, "recipient", 128);
  if (given(context)) body.context = text(context, "context", 80);
  return api("POST", "/v1/consents/change", body);
}

function rule({ kind, target, context }) {
  const named = { kind: text(kind, "kind", 40), target: text(target, "target", 128) };
  if (given(context)) named.context = text(context, "context", 80); // absent: the browser's context now
  return named;
}

// ?context=NAME-OR-ID, or nothing (the context in force for the whole browser now).
const inContext = ({ context } = {}) => (given(context) ? `?context=${enc(text(context, "context", 80))}` : "");

function historyList({ origin, kind, q = "", limit = 100 } = {}) {
  const n = Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : 100;
  const query = new URLSearchParams({ limit: String(n) });
  if (origin) query.set("origin", text(origin, "origin"));
  if (kind) query.set("kind", text(kind, "kind", 40));
  if (q) query.set("q", text(q, "search", 100));
  return api("GET", `/v1/history?${query}`);
}

const MAX_CHANGES = 64; // the daemon's bound (vault/daemon/messages.py), set and remove together

// The profile editor's one Save: every change in one daemon call, stored all together or not at all.
async function profileChange({ set = {}, remove = [] }) {
  if (set === null || typeof set !== "object" || Array.isArray(set)) throw new BadArguments("set is an object of names and values");
  const entries = Object.entries(set);
  const removed = names(remove, "name", MAX_CHANGES);
  if (entries.length + removed.length > MAX_CHANGES) throw new BadArguments(`at most ${MAX_CHANGES} changes at once`);
  const body = { set: {}, remove: removed };
  for (const [name, value] of entries) {
    if (value === undefined || JSON.stringify(value ?? null).length > 8192) throw new BadArguments("each value must be JSON of at most 8 KB");
    body.set[text(name, "name", 128)] = value;
  }
  if (JSON.stringify(body).length > 200_000) throw new BadArguments("the changes must be JSON of at most 200 KB");
  return api("POST", "/v1/attributes/changes", body);
}

function ledgerList({ limit = 100, origin } = {}) {
  const n = Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : 100;
  const where = origin ? `&origin=${enc(text(origin, "origin"))}` : "";
  return api("GET", `/v1/ledger?limit=${n}${where}`);
}

export const EXTENSION_HANDLERS = Object.freeze({
  [Action.status]: status,
  [Action.unlock]: unlock,
  [Action.lock]: lock,
  [Action.promptGet]: ({ id }) => api("GET", `/v1/prompts/${enc(text(id, "id", 64))}`),
  [Action.promptDecide]: promptDecide,
  [Action.siteReport]: ({ origin }) => api("GET", `/v1/sites/report?origin=${enc(text(origin, "origin"))}`),
  [Action.siteRevoke]: siteRevoke,
  [Action.profileGet]: () => api("GET", "/v1/attributes"),
  [Action.profileChange]: profileChange,
  [Action.sitesList]: () => api("GET", "/v1/sites"),
  [Action.ledgerList]: ledgerList,
  [Action.consentsList]: (args) => api("GET", `/v1/consents${inContext(args)}`),
  [Action.consentChange]: consentChange,
  [Action.rulesGet]: (args) => api("GET", `/v1/rules${inContext(args)}`),
  // A deny_concept rule can start or stop Global Privacy Control: the browser follows before the answer.
  [Action.ruleAdd]: (args) => api("POST", "/v1/rules", rule(args)).then(thenRefreshGpc),
  [Action.ruleRemove]: (args) => api("DELETE", `/v1/rules?${new URLSearchParams(rule(args))}`).then(thenRefreshGpc),
  [Action.purposesList]: () => api("GET", "/v1/purposes"),
  [Action.historyList]: historyList,
  [Action.exportVault]: () => api("GET", "/v1/export", undefined, EXPORT_TIMEOUT_MS),
  ...INBOX_HANDLERS,
  ...CONTEXT_HANDLERS,
  ...GPC_HANDLERS,
});
