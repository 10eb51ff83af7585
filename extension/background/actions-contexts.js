// The extension pages' actions for contexts: list them (with what is in force on one site), add, rename,
// change, remove, and choose which one is in force (for every site, one site, or a while). Merged into
// EXTENSION_HANDLERS (background/actions.js).
//
// A switch changes what the browser must send (Global Privacy Control follows the context in force), so
// every change that can move it calls the listeners registered with onContextSwitch() afterwards.

import { Action } from "../shared/actions.js";
import { api } from "./client.js";
import { isSiteOrigin } from "./page-contract.js";

const MAX_NAME = 80; // vault/daemon/routes_contexts.py Name; the daemon checks names precisely
const MAX_MINUTES = 43_200; // 30 days

class BadArguments extends Error {
  constructor(message) {
    super(message);
    this.code = "bad_arguments";
  }
}

function name(value, what = "context") {
  if (typeof value !== "string" || value.trim().length === 0 || value.length > MAX_NAME) {
    throw new BadArguments(`${what} must be a name of 1 to ${MAX_NAME} characters`);
  }
  return value;
}

function origin(value) {
  if (!isSiteOrigin(value)) throw new BadArguments("origin must be a site's origin (https://host[:port])");
  return value;
}

// The daemon takes switches as the words "on" and "off", never JSON booleans.
function onOff(value, what) {
  if (typeof value !== "boolean") throw new BadArguments(`${what} is true or false`);
  return value ? "on" : "off";
}

const given = (value) => value !== undefined && value !== null;

// -- what follows a switch -----------------------------------------------------------------------

const switchListeners = [];

// GPC's hook: `listener()` runs after any change of which context is in force, or of a context's switches.
export function onContextSwitch(listener) {
  switchListeners.push(listener);
}

async function switched(answer) {
  for (const listener of switchListeners) {
    try {
      await listener();
    } catch (error) {
      console.error("vault: following a context switch failed", error);
    }
  }
  return answer;
}

// -- handlers ------------------------------------------------------------------------------------

function list({ origin: site } = {}) {
  return api("GET", given(site) ? `/v1/contexts?origin=${encodeURIComponent(origin(site))}` : "/v1/contexts");
}

function add({ name: newName, copyFrom, separateIdentity = false, gpc = true }) {
  const body = { name: name(newName, "name"), separate_identity: onOff(separateIdentity, "separateIdentity"), gpc: onOff(gpc, "gpc") };
  if (given(copyFrom)) body.copy_from = name(copyFrom, "copyFrom");
  return api("POST", "/v1/contexts", body);
}

async function change({ context, separateIdentity, gpc }) {
  const body = { context: name(context) };
  if (given(separateIdentity)) body.separate_identity = onOff(separateIdentity, "separateIdentity");
  if (given(gpc)) body.gpc = onOff(gpc, "gpc");
  return switched(await api("POST", "/v1/contexts/change", body));
}

async function use({ context, origin: site, minutes }) {
  const body = { context: name(context) };
  if (given(site)) body.origin = origin(site);
  if (given(minutes)) {
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES) throw new BadArguments(`minutes is 1 to ${MAX_MINUTES}`);
    body.minutes = minutes;
  }
  return switched(await api("POST", "/v1/contexts/use", body));
}

async function end({ origin: site } = {}) {
  return switched(await api("POST", "/v1/contexts/end", given(site) ? { origin: origin(site) } : {}));
}

export const CONTEXT_HANDLERS = Object.freeze({
  [Action.contextsList]: list,
  [Action.contextAdd]: add,
  [Action.contextRename]: ({ context, name: newName }) => api("POST", "/v1/contexts/rename", { context: name(context), name: name(newName, "name") }),
  [Action.contextChange]: change,
  [Action.contextRemove]: async ({ context }) => switched(await api("POST", "/v1/contexts/remove", { context: name(context) })),
  [Action.contextUse]: use,
  [Action.contextEnd]: end,
});
