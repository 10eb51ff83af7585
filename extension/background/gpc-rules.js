// What the browser must do for Global Privacy Control, from the daemon's state (GET /v1/gpc): the
// declarativeNetRequest rules that set `Sec-GPC: 1`, and where the MAIN-world script that defines
// navigator.globalPrivacyControl runs. Pure (no chrome.*), so Node tests it (tests/extension/unit/).
//
// The daemon speaks of origins; the browser's request rules and match patterns know only hosts (a domain
// in a rule also covers its subdomains, and neither looks at ports). So GPC is decided per host: an origin
// the daemon lists (a site whose setting differs from the default) sets its whole host, every port, and
// its subdomains. Listed origins all differ from the default the same way, so they never disagree.

// The sites the extension acts on at all (manifest.json's host_permissions and content scripts): with
// declarativeNetRequestWithHostAccess the rules reach only these, and the page script matches them too.
export const SITE_PATTERNS = Object.freeze(["https://*/*", "http://127.0.0.1/*", "http://localhost/*"]);

// Our dynamic rule ids (no other part of the extension uses declarativeNetRequest yet; the range keeps
// them apart if one does).
export const RULE_IDS = Object.freeze({ documents: 1401, subresources: 1402 });
export const SCRIPT_ID = "gpc-main";
export const SCRIPT_FILE = "content/gpc-main.js";
const DOCUMENTS = ["main_frame", "sub_frame"];
const MAX_HOSTS = 10_000; // the vault's own list; a bound all the same
const LOOPBACK = new Set(["127.0.0.1", "localhost"]);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

const SET_HEADER = Object.freeze({
  type: "modifyHeaders",
  requestHeaders: [{ header: "Sec-GPC", operation: "set", value: "1" }],
});

// The host of a site origin as the rules spell it (lower case, punycode), or null for what the rules
// cannot name (an IPv6 literal, a malformed origin).
export function gpcHost(origin) {
  let url;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  const host = url.hostname.replace(/\.$/, "");
  return /^[a-z0-9.-]{1,253}$/.test(host) ? host : null;
}

// The hosts of the listed origins, sorted and without repeats.
export function listedHosts(sites) {
  const hosts = new Set();
  for (const origin of Object.keys(sites ?? {})) {
    const host = gpcHost(origin);
    if (host) hosts.add(host);
  }
  return [...hosts].sort().slice(0, MAX_HOSTS);
}

// The match patterns that name `host` and its subdomains (an IP address has none).
function hostPatterns(host) {
  const patterns = [`https://${host}/*`];
  if (LOOPBACK.has(host)) patterns.push(`http://${host}/*`);
  if (!IPV4.test(host)) patterns.push(`https://*.${host}/*`);
  return patterns;
}

// The whole plan: {sent, hosts, rules, script}. `script` is the registration's matching part
// ({matches, excludeMatches}) or null when no page gets it.
//
// A document (main_frame, sub_frame) carries GPC by its own host: a page reached by a link from a site
// where GPC is off still gets it. A subresource carries it by the page that makes it (initiator); and
// where GPC is sent by default, never to a host where it is off, nor from one.
export function gpcPlan(state) {
  const sent = state?.sent === true;
  const hosts = listedHosts(state?.sites);
  const rules = [];
  let script = null;
  if (sent) {
    const except = hosts.length ? { excludedRequestDomains: hosts } : {};
    rules.push({ id: RULE_IDS.documents, priority: 1, action: SET_HEADER, condition: { resourceTypes: DOCUMENTS, ...except } });
    const fromExcept = hosts.length ? { excludedInitiatorDomains: hosts } : {};
    rules.push({ id: RULE_IDS.subresources, priority: 1, action: SET_HEADER, condition: { excludedResourceTypes: DOCUMENTS, ...except, ...fromExcept } });
    script = { matches: [...SITE_PATTERNS], excludeMatches: hosts.flatMap(hostPatterns) };
  } else if (hosts.length) {
    rules.push({ id: RULE_IDS.documents, priority: 1, action: SET_HEADER, condition: { resourceTypes: DOCUMENTS, requestDomains: hosts } });
    rules.push({ id: RULE_IDS.subresources, priority: 1, action: SET_HEADER, condition: { excludedResourceTypes: DOCUMENTS, initiatorDomains: hosts } });
    script = { matches: hosts.flatMap(hostPatterns), excludeMatches: [] };
  }
  return { sent, hosts, rules, script };
}

// The content script registration for chrome.scripting (register or update).
export function scriptRegistration(script) {
  return {
    id: SCRIPT_ID,
    js: [SCRIPT_FILE],
    matches: script.matches,
    excludeMatches: script.excludeMatches,
    runAt: "document_start",
    allFrames: true,
    world: "MAIN",
    persistAcrossSessions: true,
  };
}

// When the daemon's state changes by itself next (a timed context ends), in ms since the epoch, or null.
export function nextChangeMs(state, nowMs) {
  const at = state?.next_change;
  if (typeof at !== "number" || !Number.isFinite(at)) return null;
  return Math.max(at * 1000 + 1000, nowMs + 30_000); // a second late: the daemon has switched by then
}
