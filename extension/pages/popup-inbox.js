// The popup's "Messages": what this site wrote to the user (plain text only), marked read once shown,
// each with Delete, a proposal with "Accept…", and "Mute this site".

import { Action, ask } from "./api.js";
import { h, replace } from "./dom.js";
import { sentence, siteName } from "./format.js";
import { muteToggle, messageItem } from "./message-view.js";
import { inboxOrder } from "./message-words.js";

async function render(area, origin) {
  let inbox;
  try {
    inbox = await ask(Action.messagesList, { origin });
  } catch (error) {
    return replace(area, h("h2", {}, "Messages"), h("p", { class: "small muted" }, `Cannot read the messages: ${sentence(error.message)}.`));
  }
  const messages = inboxOrder(inbox.messages.filter((m) => m.origin === origin));
  const unread = messages.filter((m) => !m.read).length;
  const again = () => render(area, origin);
  area.dataset.unread = String(unread); // the popup shows unread messages first
  replace(
    area,
    h("div", { class: "row" }, h("h2", {}, "Messages"), unread ? h("span", { class: "tag required", id: "unread-count" }, `${unread} new`) : null),
    messages.length
      ? h("ul", { class: "plain messages" }, messages.map((message) => messageItem(message, { onDeleted: again })))
      : h("p", { class: "small muted", id: "no-messages" }, `No messages from ${siteName(origin)}.`),
    muteToggle(origin, inbox.muted.includes(origin)),
  );
  // Shown, so read (the site is never told: no read receipts). The "new" marks stay until the next view.
  // Exactly those shown (one arriving meanwhile stays unread); a site has at most 100 visible.
  const shown = messages.filter((m) => !m.read).map((m) => m.jti);
  if (shown.length) await ask(Action.messagesRead, { jtis: shown.slice(0, 100) }).catch(() => {});
}

export async function inboxSection(origin) {
  const area = h("div", { class: "stack", id: "messages" });
  await render(area, origin);
  return area;
}
