// The options page's inbox: every site's messages, the sites with unread ones first, each site with its
// "Mute this site" switch. Shown messages are marked read (the sites are never told).

import { Action, ask } from "./api.js";
import { h } from "./dom.js";
import { siteName } from "./format.js";
import { heading } from "./options-ui.js";
import { messageItem, muteToggle } from "./message-view.js";
import { inboxOrder } from "./message-words.js";

function bySite(inbox) {
  const sites = new Map();
  for (const origin of inbox.muted) sites.set(origin, []);
  for (const message of inbox.messages) sites.set(message.origin, [...(sites.get(message.origin) ?? []), message]);
  const unread = (list) => list.filter((m) => !m.read).length;
  const newest = (list) => Math.max(0, ...list.map((m) => m.received_at));
  return [...sites.entries()].sort(([, a], [, b]) => Number(unread(b) > 0) - Number(unread(a) > 0) || newest(b) - newest(a));
}

function siteBlock(origin, messages, muted, refresh) {
  const unread = messages.filter((m) => !m.read).length;
  return h(
    "section",
    { class: "card inbox-site", dataset: { origin } },
    h(
      "div",
      { class: "row inbox-site-head" },
      h("h2", {}, siteName(origin)),
      unread ? h("span", { class: "tag required" }, `${unread} new`) : null,
      muted ? h("span", { class: "tag" }, "muted") : null,
      h("span", { class: "spacer" }),
    ),
    messages.length ? h("ul", { class: "plain messages" }, inboxOrder(messages).map((m) => messageItem(m, { onDeleted: refresh }))) : h("p", { class: "small muted" }, "No messages kept."),
    muteToggle(origin, muted, { onChanged: refresh }),
  );
}

export async function inboxSection(refresh) {
  const inbox = await ask(Action.messagesList);
  const sites = bySite(inbox);
  // Shown, so read: exactly those shown, one call per site (at most 100 visible each, as a call takes).
  const reads = sites.map(([, messages]) => messages.filter((m) => !m.read).map((m) => m.jti)).filter((jtis) => jtis.length);
  await Promise.all(reads.map((jtis) => ask(Action.messagesRead, { jtis: jtis.slice(0, 100) }).catch(() => {})));
  return [
    heading("Inbox", "What sites you shared with wrote to you: proposals, changes to come, confirmed deletions and breach notices. Sites never learn whether you read them. Accepting a proposal opens the site, which asks you with the usual prompt."),
    sites.length
      ? h("div", { class: "inbox-sites", id: "inbox" }, sites.map(([origin, messages]) => siteBlock(origin, messages, inbox.muted.includes(origin), refresh)))
      : h("p", { class: "notice", id: "inbox-empty" }, "No messages from any site."),
  ];
}
