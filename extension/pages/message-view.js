// One message from a site, as the popup and the options page show it. Everything the site wrote goes in
// as text (dom.js h() makes text nodes, never markup): its title, its body, its link. A link is never a
// live <a>: it is shown as text with its origin, and opened in a new tab only by the explicit button.
// A proposal's "Accept…" opens the site's own page for it, whose request brings the normal consent
// prompt: accepting shares nothing by itself.

import { Action, ask } from "./api.js";
import { h, replace, whenSwitched } from "./dom.js";
import { dateText, sentence, siteName } from "./format.js";
import { kindTone, kindWords, linkText, messageFacts, openableUrl, viaWords } from "./message-words.js";

function failed(area, error) {
  area.append(h("p", { class: "notice error small", role: "alert" }, sentence(error.message)));
}

function acceptButton(message, area) {
  const button = h("button", { type: "button", class: "button small primary", dataset: { accept: message.jti } }, "Accept…");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await ask(Action.messageAccept, { jti: message.jti });
      replace(area, h("p", { class: "small accepted" }, `Opened ${siteName(message.origin)}: it asks you there with the usual prompt.`));
    } catch (error) {
      button.disabled = false;
      failed(area, error);
    }
  });
  return button;
}

function openButton(url) {
  const target = openableUrl(url);
  if (!target) return null;
  const button = h("button", { type: "button", class: "button small", dataset: { open: target } }, "Open");
  button.addEventListener("click", () => chrome.tabs.create({ url: target }));
  return button;
}

// `onDeleted()`: after the daemon deleted it. `showSite`: the options page's inbox lists every site.
export function messageItem(message, { onDeleted, showSite = false } = {}) {
  const actions = h("div", { class: "row message-actions" });
  const status = h("div", { class: "message-status" });
  const remove = h("button", { type: "button", class: "button small quiet", dataset: { delete: message.jti } }, "Delete");
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await ask(Action.messagesDelete, { jtis: [message.jti] });
      onDeleted?.();
    } catch (error) {
      remove.disabled = false;
      failed(status, error);
    }
  });
  const proposal = message.kind === "proposal";
  if (proposal) actions.append(acceptButton(message, status));
  else if (message.url) actions.append(openButton(message.url) ?? "");
  actions.append(h("span", { class: "spacer" }), remove);
  return h(
    "li",
    { class: `message ${message.read ? "read" : "unread"} kind-${message.kind}`, dataset: { jti: message.jti } },
    h(
      "div",
      { class: "row message-head" },
      h("span", { class: `tag ${kindTone(message.kind)}` }, kindWords(message.kind)),
      message.read ? null : h("span", { class: "tag required" }, "new"),
      showSite ? h("span", { class: "small muted message-site" }, siteName(message.origin)) : null,
      h("span", { class: "spacer" }),
      h("span", { class: "small muted message-date" }, dateText(message.received_at, { time: true })),
    ),
    h("h3", { class: "message-title" }, message.title),
    h("p", { class: "message-body" }, message.body),
    messageFacts(message).map((fact) => h("p", { class: "small muted message-fact" }, fact)),
    message.url ? h("p", { class: "small message-link" }, linkText(message.url, message.url_origin)) : null,
    proposal
      ? h("p", { class: "small muted" }, message.accepted_at ? `You accepted it on ${dateText(message.accepted_at)}. ` : "", "Accepting opens the site's page; it asks you with the usual prompt, and nothing is shared before you answer there.")
      : null,
    viaWords(message) ? h("p", { class: "small muted" }, viaWords(message)) : null,
    actions,
    status,
  );
}

// "Mute this site": its proposals and change notices are dropped from now on; confirmations of deletion
// and breach notices still arrive (the daemon decides, this only asks).
export function muteToggle(origin, muted, { onChanged } = {}) {
  const id = `mute-${siteName(origin).replace(/[^a-z0-9]/gi, "-")}`;
  const box = h("input", { type: "checkbox", class: "switch", id, checked: muted, dataset: { mute: origin } });
  const status = h("span", { class: "small error-text", role: "alert" });
  whenSwitched(
    box,
    async (muted) => {
      status.textContent = "";
      await ask(Action.messagesMute, { origin, muted });
      onChanged?.(muted);
    },
    (error) => (status.textContent = sentence(error.message)),
  );
  return h(
    "div",
    { class: "mute" },
    h("label", { class: "row check", for: id }, box, h("span", {}, "Mute this site")),
    h("p", { class: "small muted" }, "Drops its proposals and change notices. Deletion confirmations and breach notices still arrive."),
    status,
  );
}
