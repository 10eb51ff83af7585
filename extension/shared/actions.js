// The names of every message sent to the service worker, defined once. The worker's router
// (background/router.js) maps each name to a handler in one table per kind of sender.
//
// content/relay.js is a classic content script and cannot import this module, so it repeats the three
// page action names; tests/extension/unit/contract.test.mjs checks the copies agree.

// Sent by web pages, through the content script. These are the ONLY actions a web page can reach.
export const PageAction = Object.freeze({
  request: "page.request",
  acknowledge: "page.acknowledge",
  notify: "page.notify", // a site's message for the user's inbox: answered at once, forwarded later
  // Sent by the content script itself (never on a page's behalf) when its port to the worker closed:
  // which of its calls the worker holds, and will answer.
  held: "page.held",
});

// Sent by the extension's own pages (popup, consent prompt, options).
export const Action = Object.freeze({
  status: "status", // lock state, pairing state and code, waiting requests
  unlock: "unlock",
  lock: "lock",
  promptGet: "prompt.get",
  promptDecide: "prompt.decide",
  siteReport: "site.report",
  siteRevoke: "site.revoke",
  profileGet: "profile.get",
  profileChange: "profile.change", // the editor's one Save: sets and removes, all stored or none
  sitesList: "sites.list",
  ledgerList: "ledger.list",
  consentsList: "consents.list",
  consentChange: "consents.change", // one remembered decision: allow, deny, forget, restore
  rulesGet: "rules.get",
  ruleAdd: "rules.add",
  ruleRemove: "rules.remove",
  purposesList: "purposes.list", // every known site's purposes: titles and DPV concepts
  historyList: "history.list", // the ledger, filtered by site and kind, searched
  exportVault: "export",
  messagesList: "messages.list", // the inbox (one site's, or every site's)
  messagesRead: "messages.read",
  messagesDelete: "messages.delete",
  messagesMute: "messages.mute",
  messageAccept: "messages.accept", // a proposal: opens the site's page, whose request brings the prompt
  accessAsk: "access.ask", // "what do you hold about me?", asked now
  accessGet: "access.get", // the answers so far, and holdings kept past their retention
  // Global Privacy Control (background/gpc.js): one site's state in words, its switch, its gpc.json.
  gpcSite: "gpc.site",
  gpcSet: "gpc.set",
  gpcDeclaration: "gpc.declaration",
  // Contexts (background/actions-contexts.js): list, add, rename, change, remove; use one (for every site,
  // one site, or a while) and end a site's own or a timed choice.
  contextsList: "contexts.list",
  contextAdd: "contexts.add",
  contextRename: "contexts.rename",
  contextChange: "contexts.change",
  contextRemove: "contexts.remove",
  contextUse: "contexts.use",
  contextEnd: "contexts.end",
});

// Worker -> content script: the answer to a page call, delivered when it is ready (maybe minutes later,
// maybe by a restarted worker), with chrome.tabs.sendMessage.
export const PAGE_RESULT = "page.result";
