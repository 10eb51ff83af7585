// The extension pages' actions for the two-way relationship with a site: its messages (the inbox) and
// "what do you hold about me?" (access requests). Merged into EXTENSION_HANDLERS (background/actions.js).

import { Action } from "../shared/actions.js";
import { api } from "./client.js";
import { isSiteOrigin } from "./page-contract.js";
import { refreshUnread } from "./unread.js";

const ACCESS_TIMEOUT_MS = 20_000; // the daemon waits up to 12 s for the site's answer
const JTI = /^[A-Za-z0-9_-]{16,64}$/; // vault/protocol/presentation.py JTI_PATTERN
const MAX_JTIS = 100; // vault/daemon/routes_inbox.py MAX_NAMED

class BadArguments extends Error {
  constructor(message) {
    super(message);
    this.code = "bad_arguments";
  }
}

function origin(value) {
  if (!isSiteOrigin(value)) throw new BadArguments("origin must be a site's origin (https://host[:port])");
  return value;
}

function jtis(list) {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_JTIS || !list.every((j) => typeof j === "string" && JTI.test(j))) {
    throw new BadArguments(`jtis is a list of 1 to ${MAX_JTIS} message ids`);
  }
  return list;
}

// Changes what the badge counts: the count is read again afterwards.
async function andRecount(promise) {
  const answer = await promise;
  await refreshUnread();
  return answer;
}

function messagesList({ origin: site } = {}) {
  return api("GET", site ? `/v1/messages?origin=${encodeURIComponent(origin(site))}` : "/v1/messages");
}

// {origin} marks everything from that site read; {jtis} those messages.
function messagesRead({ origin: site, jtis: ids }) {
  return andRecount(api("POST", "/v1/messages/read", site ? { origin: origin(site) } : { jtis: jtis(ids) }));
}

function messagesMute({ origin: site, muted }) {
  if (typeof muted !== "boolean") throw new BadArguments("muted is true or false");
  return andRecount(api("POST", "/v1/messages/mute", { origin: origin(site), muted }));
}

// Accepting a proposal shares nothing: it opens the site's own page (on the site's origin, which the
// daemon checked and we check again), and that page's request brings the normal consent prompt.
async function messageAccept({ jti }) {
  const ids = jtis([jti]);
  const accepted = await api("POST", "/v1/messages/accept", { jti: ids[0] });
  let url;
  try {
    url = new URL(accepted.url);
  } catch {
    throw new BadArguments("the proposal's page is not a URL");
  }
  if (!isSiteOrigin(url.origin) || url.origin !== accepted.origin) throw new BadArguments("the proposal's page is not on the site's own origin");
  await chrome.tabs.create({ url: url.href, active: true });
  return { ...accepted, opened: true };
}

export const INBOX_HANDLERS = Object.freeze({
  [Action.messagesList]: messagesList,
  [Action.messagesRead]: messagesRead,
  [Action.messagesDelete]: ({ jtis: ids }) => andRecount(api("POST", "/v1/messages/delete", { jtis: jtis(ids) })),
  [Action.messagesMute]: messagesMute,
  [Action.messageAccept]: messageAccept,
  // A statement may carry messages for the inbox.
  [Action.accessAsk]: ({ origin: site }) => andRecount(api("POST", "/v1/access", { origin: origin(site) }, ACCESS_TIMEOUT_MS)),
  [Action.accessGet]: ({ origin: site }) => api("GET", `/v1/access?origin=${encodeURIComponent(origin(site))}`),
});
