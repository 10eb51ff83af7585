// Global Privacy Control in the browser: the worker reads where GPC is sent (GET /v1/gpc) and applies it,
// as declarativeNetRequest rules that set `Sec-GPC: 1` and a MAIN-world script (content/gpc-main.js) that
// defines navigator.globalPrivacyControl. Both persist in the browser, so a stopped worker, a locked vault
// or a daemon that is not running leave the last applied state in force.
//
// refreshGpc() reads and applies the state: on the worker's start, after the pages' actions that can move
// it (the popup's switch, contexts, rules), when a timed context ends (next_change), and every 5 minutes
// (the command line may have changed it). Nothing is recorded per request and the daemon never hears of
// page loads: it is asked for the whole state, never about one page.

import { Action } from "../shared/actions.js";
import { api } from "./client.js";
import { checkableOrigin, siteDeclaration } from "./gpc-declaration.js";
import { RULE_IDS, SCRIPT_ID, gpcPlan, nextChangeMs, scriptRegistration } from "./gpc-rules.js";

export const GPC_ALARM = "vault-gpc-refresh"; // every 5 minutes
export const GPC_CHANGE_ALARM = "vault-gpc-change"; // when a timed context ends, or a retry
const PERIOD_MINUTES = 5;
const RETRY_MS = 60_000; // a locked or unpaired vault: try again soon, the user may be about to unlock
const APPLIED_KEY = "gpcApplied"; // storage.session: the plan in force, to skip identical updates

let refreshing = null;
let again = false;

async function applyRules(rules) {
  const ours = Object.values(RULE_IDS);
  await chrome.declarativeNetRequest.updateDynamicRules({ removeRuleIds: ours, addRules: rules });
}

async function applyScript(script) {
  const registered = await chrome.scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] });
  if (!script) {
    if (registered.length) await chrome.scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
    return;
  }
  const registration = scriptRegistration(script);
  // An update changes the patterns in one step: no page load in between runs without the script.
  if (registered.length) await chrome.scripting.updateContentScripts([registration]);
  else await chrome.scripting.registerContentScripts([registration]);
}

async function apply(plan) {
  const key = JSON.stringify([plan.rules, plan.script]);
  const stored = await chrome.storage.session.get(APPLIED_KEY).catch(() => ({}));
  if (stored[APPLIED_KEY] === key) return false;
  await applyRules(plan.rules);
  await applyScript(plan.script);
  await chrome.storage.session.set({ [APPLIED_KEY]: key }).catch(() => {});
  return true;
}

async function schedule(state) {
  const at = nextChangeMs(state, Date.now());
  if (at === null) await chrome.alarms.clear(GPC_CHANGE_ALARM);
  else await chrome.alarms.create(GPC_CHANGE_ALARM, { when: at });
}

async function refreshOnce() {
  let state;
  try {
    state = await api("GET", "/v1/gpc");
  } catch (error) {
    // Keep what is applied. A vault that is running but locked or unpaired is asked again in a minute.
    if (error?.code === "vault_locked" || error?.code === "not_paired") {
      await chrome.alarms.create(GPC_CHANGE_ALARM, { when: Date.now() + RETRY_MS });
    }
    return null;
  }
  const plan = gpcPlan(state);
  await apply(plan);
  await schedule(state);
  return plan;
}

// Reads the daemon's state and applies it; one at a time (a call during a refresh runs once more after
// it). Never throws: a failure keeps the last applied state. Resolves the plan applied, or null.
export function refreshGpc() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    let plan = null;
    do {
      again = false;
      try {
        plan = await refreshOnce();
      } catch (error) {
        console.error("vault: applying Global Privacy Control failed", error);
      }
    } while (again);
    return plan;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export function startGpc() {
  chrome.alarms.create(GPC_ALARM, { periodInMinutes: PERIOD_MINUTES }).catch(() => {});
  return refreshGpc();
}

export function onGpcAlarm(alarm) {
  if (alarm.name === GPC_ALARM || alarm.name === GPC_CHANGE_ALARM) refreshGpc();
}

// -- the pages' actions ----------------------------------------------------------------------------

class BadArguments extends Error {
  constructor(message) {
    super(message);
    this.code = "bad_arguments";
  }
}

function origin(value) {
  if (!checkableOrigin(value)) throw new BadArguments("origin must be a site's origin (https://host[:port])");
  return value;
}

// What the popup shows first: the daemon's words for this site (SiteGpc), after bringing the browser in
// step with the daemon (the popup is where a user looks when something seems off).
async function siteGpc({ origin: site }) {
  const view = await api("GET", `/v1/contexts?origin=${encodeURIComponent(origin(site))}`);
  await refreshGpc();
  return view.gpc;
}

// "Send GPC to this site": POST /v1/gpc/site, then the rules follow before the popup shows the result.
async function setSiteGpc({ origin: site, send }) {
  if (typeof send !== "boolean") throw new BadArguments("send is true or false");
  const answer = await api("POST", "/v1/gpc/site", { origin: origin(site), gpc: send ? "on" : "off" });
  await refreshGpc();
  return answer;
}

export const GPC_HANDLERS = Object.freeze({
  [Action.gpcSite]: siteGpc,
  [Action.gpcSet]: setSiteGpc,
  [Action.gpcDeclaration]: ({ origin: site }) => siteDeclaration(origin(site)),
});

// After an action that may move GPC (a rule added or removed): the answer, once the browser follows.
export async function thenRefreshGpc(answer) {
  await refreshGpc();
  return answer;
}
