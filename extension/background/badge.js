// The toolbar badge: the one place the extension can ask for the user's attention without a window.
// A locked vault with requests waiting shows their count; an unpaired extension shows "!"; otherwise
// the number of unread messages from sites (background/unread.js keeps it current).

import * as inflight from "./inflight.js";

const PAIRING_KEY = "pairingNeeded"; // in storage.session: survives a worker restart
const UNREAD_KEY = "unreadMessages";

const pairedListeners = [];

// What the badge shows is in storage.session (a restarted worker reads it back), and only this module
// writes it: read once per worker life, then kept here. The badge itself is set only when what it shows
// changes (each call is a round trip to the browser, and every page request ends with a refresh).
let stored = null; // Promise of {pairing, unread}
let shown = null; // the text, title and colour this worker last set

function storedState() {
  stored ??= chrome.storage.session.get([PAIRING_KEY, UNREAD_KEY]).then(
    (items) => ({
      pairing: items[PAIRING_KEY] === true,
      unread: Number.isInteger(items[UNREAD_KEY]) ? items[UNREAD_KEY] : 0,
    }),
    (error) => {
      stored = null; // the next call reads again
      throw error;
    },
  );
  return stored;
}

// `listener` runs when the extension, having waited for the user to pair it, learns that it is paired: what
// it could not read while unpaired (where Global Privacy Control goes, the unread messages) is read at once,
// not at the next retry a minute later.
export function onPaired(listener) {
  pairedListeners.push(listener);
}

export async function setPairingNeeded(needed) {
  const state = await storedState();
  const before = state.pairing;
  state.pairing = Boolean(needed);
  await chrome.storage.session.set({ [PAIRING_KEY]: state.pairing });
  await refreshBadge();
  if (before && !needed) for (const listener of pairedListeners) listener();
}

// After any call the daemon answered as a paired client: the "!" goes away (writes only on a change).
export async function clearPairingNeeded() {
  if ((await storedState()).pairing) await setPairingNeeded(false);
}

export async function setUnread(count) {
  const state = await storedState();
  state.unread = Math.max(0, Number(count) || 0);
  await chrome.storage.session.set({ [UNREAD_KEY]: state.unread });
  await refreshBadge();
}

export async function refreshBadge() {
  const records = await inflight.all();
  const locked = records.filter((r) => r.waiting === "locked").length;
  const { pairing, unread } = await storedState();
  let text = "";
  let title = "Personal Vault";
  let color = "#b45309";
  if (pairing) {
    text = "!";
    title = "Personal Vault: pair this browser with your vault (click for the code)";
    color = "#b91c1c";
  } else if (locked > 0) {
    text = String(Math.min(locked, 99));
    title = `Personal Vault: ${locked} request${locked === 1 ? "" : "s"} waiting; unlock your vault to answer`;
  } else if (unread > 0) {
    text = String(Math.min(unread, 99));
    title = `Personal Vault: ${unread} unread message${unread === 1 ? "" : "s"} from sites`;
    color = "#2f5bd3";
  }
  const badge = JSON.stringify([text, title, color]);
  if (badge === shown) return;
  shown = badge;
  try {
    await Promise.all([
      chrome.action.setBadgeText({ text }),
      chrome.action.setBadgeBackgroundColor({ color }),
      chrome.action.setTitle({ title }),
    ]);
  } catch (error) {
    if (shown === badge) shown = null; // set it again next time
    throw error;
  }
}
