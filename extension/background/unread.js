// The inbox's unread count for the toolbar badge (background/badge.js shows it when no request waits).
// Read from the daemon on the worker's start, after a site's message was kept, and after the user read,
// deleted or muted messages in the popup or the options page.

import { api } from "./client.js";
import { setUnread } from "./badge.js";

export async function refreshUnread() {
  try {
    const inbox = await api("GET", "/v1/messages");
    await setUnread(Number.isInteger(inbox?.unread) ? inbox.unread : 0);
  } catch {
    // Locked, unpaired or not running: the badge keeps what it showed (it says nothing to a page).
  }
}
