// The service worker's entry point: event listeners only, registered at the top level so that an event
// arriving while the worker is stopped restarts it and reaches them.

import { onPaired, setPairingNeeded } from "./badge.js";
import { onContextSwitch } from "./actions-contexts.js";
import { statusAndPairing } from "./client.js";
import { onGpcAlarm, refreshGpc, startGpc } from "./gpc.js";
import { onPagePort } from "./page-port.js";
import { SWEEP_ALARM, onTabRemoved, onWindowRemoved, reconcile } from "./requests.js";
import { route, senderKind } from "./router.js";
import { refreshUnread } from "./unread.js";

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  route(message, sender).then(sendResponse);
  return true; // the answer is sent asynchronously
});

// A page's calls on its port (content/relay.js opens one on the page's first call): routed the same way.
chrome.runtime.onConnect.addListener((port) => onPagePort(port, { route, senderKind }));

chrome.windows.onRemoved.addListener((windowId) => {
  onWindowRemoved(windowId).catch((error) => console.error("vault: closing a prompt failed", error));
});

chrome.tabs.onRemoved.addListener((tabId) => {
  onTabRemoved(tabId).catch((error) => console.error("vault: dropping a closed tab's requests failed", error));
});

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === SWEEP_ALARM) reconcile().catch((error) => console.error("vault: sweep failed", error));
  onGpcAlarm(alarm);
});

// First use (install, browser start): make the client token and ask to pair, so the popup has a code.
async function greetDaemon() {
  try {
    const status = await statusAndPairing();
    const unpaired = status.client === "pending" || status.client === "unpaired";
    await setPairingNeeded(unpaired);
    if (!unpaired && !status.locked) await refreshUnread();
  } catch {
    // No daemon yet: the popup explains how to start it.
  }
}
chrome.runtime.onInstalled.addListener(greetDaemon);
chrome.runtime.onStartup.addListener(greetDaemon);

// A restarted worker picks up the calls a stopped one left in storage.session, and counts the unread
// messages again for the badge (both say nothing when the vault is locked, unpaired or not running).
reconcile().catch((error) => console.error("vault: resuming requests failed", error));
refreshUnread();

// Global Privacy Control: the rules and the page script persist, but the vault may have changed while the
// worker was stopped (background/gpc.js); and a context switch in the pages moves where it is sent.
onContextSwitch(refreshGpc);
onPaired(() => {
  refreshGpc();
  refreshUnread();
});
startGpc();
