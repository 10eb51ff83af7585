// The options page's sites: every site, and for each what it knows per purpose (titles, with the DPV
// kind in words), which third parties hold what, and the controls to take it back at every grain: one
// claim, one third party, one purpose, the whole site, or "forget me" (a new pairwise identity). None
// of these can be undone (the site is told at once), so each asks for a confirmation first.

import { Action, ask } from "./api.js";
import { h, replace } from "./dom.js";
import { claimLabel, dateText, siteName, valueText } from "./format.js";
import { conceptWords, purposeTitle, roleWords } from "./dpv-words.js";
import { accessHistory } from "./options-access.js";
import { confirmDialog, errorNotice, heading, tellDone } from "./options-ui.js";
import { brokenPromiseWords, partyNames, recipientHoldings, recipientStatusWords } from "./recipient-words.js";
import { revokeAskedWords, siteChangeWords, withdrawalState, withdrawalWords } from "./site-words.js";
import { contextName } from "./context-words.js";

// A disclosure's status: kept until when, retention over, or taken back (waiting for the site's
// confirmation, or confirmed by it).
function disclosureStatus(d, now) {
  const state = withdrawalState(d);
  if (state !== "none") {
    return h("span", { class: `withdrawal-state ${state}` }, h("span", { class: `tag ${state === "pending" ? "high" : "ok"}` }, state === "pending" ? "waiting" : "confirmed"), " ", withdrawalWords(d, now));
  }
  if (d.keep_until > now) return h("span", { class: "tag ok" }, `kept until ${dateText(d.acknowledged_keep_until ?? d.keep_until)}`);
  return h("span", { class: "tag" }, "retention over");
}

// What the site changed about itself (its controller, signing key, revocation endpoint), newest first.
function changesList(changes) {
  if (!changes?.length) return null;
  return h(
    "div",
    { class: "site-changes" },
    h("h3", {}, "Changes the site made"),
    h("ul", {}, [...changes].sort((a, b) => b.at - a.at).map((change) => h("li", { title: `before: ${change.before}\nafter: ${change.after}` }, siteChangeWords(change)))),
  );
}

// Third parties that received something the user did not allow them (the site's own acknowledgement said so),
// each with a Withdraw: the site is told to get it back from them.
function brokenPromises(ctx, items, names) {
  if (!items?.length) return null;
  const host = siteName(ctx.origin);
  const withdraw = (id) => {
    const name = Object.hasOwn(names, id) ? names[id] : id;
    const button = h("button", { type: "button", class: "button small danger", dataset: { withdrawUnallowed: id } }, `Withdraw from ${name}`);
    button.addEventListener("click", () =>
      revokeWith(ctx, {
        title: `Withdraw from ${name}?`,
        text: `${host} is told to pass your withdrawal on to ${name}, which you never allowed to get anything. This cannot be undone.`,
        confirm: "Withdraw",
        args: { thirdParty: id },
        done: (result) => (result.withdrawn ? `Asked ${host} to tell ${name} to stop using what it got. Waiting for the site's confirmation.` : `Nothing to withdraw from ${name}: it was asked before.`),
      }),
    );
    return button;
  };
  const ids = [...new Set(items.flatMap((item) => item.recipients ?? []))];
  return h(
    "div",
    { class: "notice error broken-promises", role: "note" },
    h("strong", {}, "Broken promises"),
    h("ul", {}, items.map((item) => h("li", {}, brokenPromiseWords(item, names)))),
    h("div", { class: "row" }, ids.map(withdraw)),
  );
}

function eraseBox(id) {
  const box = h("input", { type: "checkbox", id });
  return { box, label: h("label", { class: "row check", for: id }, box, h("span", {}, "Also ask for it to be deleted")) };
}

// Confirms, runs the revocation, says what it did, reloads the site's view. `what` builds the dialog.
async function revokeWith(ctx, { title, text, confirm, args, erase = true, done }) {
  const extra = erase ? eraseBox("confirm-erase") : null;
  if (!(await confirmDialog({ title, text, confirm, extra: extra?.label }))) return;
  try {
    const result = await ask(Action.siteRevoke, { origin: ctx.origin, ...args, erase: Boolean(extra?.box.checked) });
    tellDone(done(result, Boolean(extra?.box.checked)));
  } catch (error) {
    tellDone(`Nothing was revoked: ${error.message}`);
  }
  await ctx.reload();
}

function claimChip(ctx, purpose, claim, value) {
  const host = siteName(ctx.origin);
  const button = h("button", { type: "button", class: "button small quiet", dataset: { revokeClaim: claim }, "aria-label": `Revoke ${claimLabel(claim)}` }, "Revoke");
  button.addEventListener("click", () =>
    revokeWith(ctx, {
      title: `Stop sharing ${claimLabel(claim)} with ${host}?`,
      text: `What ${host} got of it for “${purpose.title}” is withdrawn, and it must ask you again before it gets it. This cannot be undone.`,
      confirm: "Revoke it",
      args: { purpose: purpose.id, claim },
      done: (result) => `${claimLabel(claim)}: ${revokeAskedWords(host, { withdrawn: result.withdrawn, erase: result.erasure })}`,
    }),
  );
  return h("li", { class: "chip" }, h("span", {}, `${claimLabel(claim)}: `, h("strong", {}, valueText(value))), button);
}

function recipientRow(ctx, purpose, holding) {
  const role = roleWords(holding.role);
  const host = siteName(ctx.origin);
  const withdraw = h("button", { type: "button", class: "button small danger", dataset: { withdraw: holding.id } }, "Withdraw");
  withdraw.addEventListener("click", () =>
    revokeWith(ctx, {
      title: `Withdraw from ${holding.name}?`,
      text: `${host} is told to pass your withdrawal on to ${holding.name}, which gets nothing from your vault through this site again. ${host} keeps its own copy. This cannot be undone.`,
      confirm: "Withdraw",
      args: { purpose: purpose.id, thirdParty: holding.id },
      done: (result) => (result.withdrawn ? `Asked ${host} to tell ${holding.name} to stop using what it got. Waiting for the site's confirmation.` : `${holding.name} will not get anything through ${host} again.`),
    }),
  );
  const claims = Object.entries(holding.claims).map(([claim, value]) => `${claimLabel(claim)}: ${valueText(value)}`).join(" · ");
  return h(
    "li",
    { class: `recipient-row ${holding.state}`, dataset: { recipient: holding.id } },
    h("div", { class: "recipient-id" }, h("strong", {}, holding.name), h("div", { class: "small muted" }, `${role.label}: ${role.meaning}`)),
    h("div", { class: "small" }, claims),
    h("div", { class: "small recipient-state" }, recipientStatusWords(holding)),
    holding.state === "none" ? withdraw : h("span"),
  );
}

// The context a disclosure was made in (the report names it; "Everyday" for one made before contexts).
function sharedIn(d) {
  if (!("context" in d) && !("context_name" in d)) return null; // a daemon from before contexts
  return h("div", {}, h("span", { class: "context-tag", dataset: { context: d.context ?? "everyday" } }, `in ${contextName(d)}`));
}

function purposeBlock(ctx, purpose, disclosures, now) {
  const concept = conceptWords(purpose.concept);
  const held = {};
  for (const d of disclosures) if (withdrawalState(d) === "none" && d.keep_until > now) Object.assign(held, d.claims);
  const holdings = recipientHoldings(disclosures, now);
  const revoke = h("button", { type: "button", class: "button small danger", dataset: { revokePurpose: purpose.id } }, "Revoke this purpose");
  revoke.addEventListener("click", () =>
    revokeWith(ctx, {
      title: `Revoke “${purpose.title}” on ${siteName(ctx.origin)}?`,
      text: `${siteName(ctx.origin)} is told to stop using what it got for this purpose (its third parties too), and must ask you again. This cannot be undone.`,
      confirm: "Revoke",
      args: { purpose: purpose.id },
      done: (result) => revokeAskedWords(siteName(ctx.origin), { withdrawn: result.withdrawn, erase: result.erasure }),
    }),
  );
  return h(
    "section",
    { class: "purpose-block", dataset: { purpose: purpose.id } },
    h("div", { class: "row" }, h("div", {}, h("h3", {}, purpose.title), purpose.concept ? h("p", { class: "small muted concept", title: purpose.concept }, `${concept.label}: ${concept.meaning}`) : null), h("span", { class: "spacer" }), revoke),
    h(
      "table",
      { class: "table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Shared"), h("th", {}, "What"), h("th", {}, "Status"))),
      h("tbody", {}, disclosures.map((d) => h("tr", {}, h("td", {}, dateText(d.disclosed_at), sharedIn(d)), h("td", {}, Object.entries(d.claims).map(([claim, value]) => h("div", {}, `${claimLabel(claim)}: `, h("strong", {}, valueText(value))))), h("td", {}, disclosureStatus(d, now))))),
    ),
    Object.keys(held).length ? h("div", {}, h("p", { class: "small muted" }, "It may still hold:"), h("ul", { class: "plain chips" }, Object.entries(held).map(([claim, value]) => claimChip(ctx, purpose, claim, value)))) : null,
    holdings.length ? h("div", {}, h("p", { class: "small muted" }, "Third parties you allowed it to pass this on to:"), h("ul", { class: "plain recipient-rows" }, holdings.map((holding) => recipientRow(ctx, purpose, holding)))) : null,
  );
}

function siteActions(ctx) {
  const host = siteName(ctx.origin);
  const all = h("button", { type: "button", class: "button small danger", id: "revoke-site" }, "Revoke everything");
  const forget = h("button", { type: "button", class: "button small danger", id: "forget-site" }, "Forget me on this site");
  all.addEventListener("click", () =>
    revokeWith(ctx, {
      title: `Revoke everything you allowed ${host}?`,
      text: `${host} and every third party it passed things to are told to stop using what they got, and ${host} must ask you again. This cannot be undone.`,
      confirm: "Revoke everything",
      args: {},
      done: (result) => revokeAskedWords(host, { withdrawn: result.withdrawn, erase: result.erasure }),
    }),
  );
  forget.addEventListener("click", () =>
    revokeWith(ctx, {
      title: `Forget me on ${host}?`,
      text: `Everything is revoked, and ${host} gets a new identity for you that it cannot link to your past visits. This cannot be undone.`,
      confirm: "Forget me",
      args: { forget: true },
      done: (result) => `${revokeAskedWords(host, { withdrawn: result.withdrawn, erase: result.erasure })} ${host} will see you as someone new.`,
    }),
  );
  return h("div", { class: "row site-actions" }, h("span", { class: "spacer" }), all, forget);
}

async function reportView(ctx, report, purposes) {
  const now = Date.now() / 1000;
  const changes = changesList(report.changes);
  const broken = brokenPromises(ctx, report.broken_promises, partyNames(purposes, ctx.origin));
  const access = await accessHistory(ctx.origin, partyNames(purposes, ctx.origin));
  if (!report.disclosures.length) return [broken, h("p", { class: "muted small" }, "Nothing was ever shared with this site."), access, changes, siteActions(ctx)];
  const ids = [...new Set(report.disclosures.map((d) => d.purpose))];
  const blocks = ids.map((id) => {
    const known = purposes?.[ctx.origin]?.[id];
    const purpose = { id, title: purposeTitle(purposes, ctx.origin, id), concept: known?.concept };
    return purposeBlock(ctx, purpose, report.disclosures.filter((d) => d.purpose === id), now);
  });
  return [broken, blocks, access, changes, siteActions(ctx)];
}

function siteRow(site, purposes) {
  const details = h("div", { class: "site-details", hidden: true });
  const toggle = h("button", { type: "button", class: "button small", "aria-expanded": "false" }, "What it knows");
  // Only the latest reload draws: one asked for earlier and answered later would put back a view from
  // before the last change (a revocation's reload can start while the previous one is still waiting).
  let reloads = 0;
  const ctx = {
    origin: site.origin,
    reload: async () => {
      const reload = ++reloads;
      details.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      replace(details, h("p", { class: "muted small" }, "Loading…"));
      let view;
      try {
        const [report, fresh] = await Promise.all([ask(Action.siteReport, { origin: site.origin }), ask(Action.purposesList)]);
        view = await reportView(ctx, report, fresh);
      } catch (error) {
        view = errorNotice(error);
      }
      if (reload === reloads) replace(details, view);
    },
  };
  toggle.addEventListener("click", async () => {
    if (details.hidden) return ctx.reload();
    details.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
  });
  const titles = Object.values(purposes?.[site.origin] ?? {}).map((p) => p.title);
  return h(
    "li",
    { class: "site-row", dataset: { origin: site.origin } },
    h(
      "div",
      { class: "row" },
      h("div", { class: "site-id" }, h("strong", {}, siteName(site.origin)), h("div", { class: "small muted" }, [site.controller, `first seen ${dateText(site.first_seen)}`].filter(Boolean).join(" · ")), titles.length ? h("div", { class: "small muted" }, `Asks for: ${titles.join(", ")}`) : null),
      h("span", { class: "spacer" }),
      toggle,
    ),
    details,
  );
}

export async function sitesSection() {
  const [sites, purposes] = await Promise.all([ask(Action.sitesList), ask(Action.purposesList)]);
  return [
    heading("Sites", "Every site that asked your vault for something. Open one for what it was told, who it passed things on to, and to take any of it back."),
    sites.length ? h("ul", { class: "card list plain" }, sites.map((site) => siteRow(site, purposes))) : h("p", { class: "notice" }, "No site has asked yet."),
  ];
}
