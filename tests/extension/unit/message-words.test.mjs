// A site's messages and its answers to access requests in words (extension/pages/message-words.js).
// Run: node --test tests/extension/unit/

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  accessStateWords,
  accessTag,
  discrepancyTag,
  holdingWords,
  inboxOrder,
  kindWords,
  linkText,
  messageFacts,
  openableUrl,
  overdueWords,
  viaWords,
} from "../../../extension/pages/message-words.js";

const DAY = 86_400;
const NOW = Date.UTC(2026, 10, 30, 12, 0) / 1000;

test("every kind has its words; an unknown one is just a message", () => {
  assert.deepEqual(["proposal", "change", "deletion", "breach", "other"].map(kindWords), ["Proposal", "Change to come", "Deletion confirmed", "Data breach", "Message"]);
});

test("a link is text with its origin first; only http(s) pages can be opened", () => {
  assert.equal(linkText("https://shop.example/offers"), "shop.example — https://shop.example/offers");
  assert.equal(linkText("http://127.0.0.1:8080/a?b=1"), "127.0.0.1:8080 — http://127.0.0.1:8080/a?b=1");
  assert.equal(linkText("not a url"), "not a url");
  assert.equal(openableUrl("https://shop.example/offers"), "https://shop.example/offers");
  for (const url of ["javascript:alert(1)", "data:text/html,x", "chrome://settings", "nonsense", null]) assert.equal(openableUrl(url), null, String(url));
});

test("what a message's kind adds", () => {
  assert.deepEqual(messageFacts({ kind: "proposal", purpose: "newsletter", purpose_title: "A newsletter" }), ["Offers: A newsletter"]);
  const change = messageFacts({ kind: "change", purpose: "recommendations", purpose_title: null, effective_at: NOW + 30 * DAY });
  assert.deepEqual(change, ["Purpose: recommendations", "Takes effect on 30 Dec 2026"]);
  assert.deepEqual(messageFacts({ kind: "breach", claims: ["sizes.shoe", "location.country"] }), ["About: Shoe size, Country"]);
  assert.equal(viaWords({ via: "statement" }), "Came with its answer to your question");
  assert.equal(viaWords({ via: "acknowledgement" }), "Came with its acknowledgement");
  assert.equal(viaWords({ via: "page" }), "");
});

test("the inbox lists unread first, then newest first", () => {
  const list = [
    { jti: "a", read: true, received_at: 30 },
    { jti: "b", read: false, received_at: 10 },
    { jti: "c", read: false, received_at: 20 },
    { jti: "d", read: true, received_at: 40 },
  ];
  assert.deepEqual(inboxOrder(list).map((m) => m.jti), ["c", "b", "d", "a"]);
});

test("where an access request stands", () => {
  assert.deepEqual(accessTag({ state: "answered", discrepancies: [] }), ["matches", "ok"]);
  assert.deepEqual(accessTag({ state: "answered", discrepancies: [{ kind: "no_answer" }] }), ["differs", "danger"]);
  assert.deepEqual(["waiting", "unanswered", "no_endpoint"].map((state) => accessTag({ state })[0]), ["waiting", "no answer", "cannot ask"]);
  assert.match(accessStateWords({ state: "answered", answered_at: NOW }, NOW), /^Answered on 30 Nov 2026, \d\d:00$/);
  assert.match(accessStateWords({ state: "waiting", next_try_at: NOW + 60 }, NOW), /^No answer yet, will try again at \d\d:01$/);
  assert.equal(accessStateWords({ state: "unanswered", attempts: 6 }, NOW), "The site never answered (6 tries); the vault gave up");
  assert.equal(accessStateWords({ state: "no_endpoint" }, NOW), "No access endpoint: this site does not say where to ask it what it holds");
});

test("a holding and an overdue one in words; discrepancy kinds have tags", () => {
  const words = holdingWords(
    { purpose: "recommendations", claims: ["sizes.shoe", "location.country"], values: { "sizes.shoe": 42 }, since: NOW, until: NOW + 30 * DAY, recipients: ["stock-check"] },
    { "stock-check": "Example Stock Check Ltd." },
  );
  assert.deepEqual(words, { claims: "Shoe size: 42, Country", when: "since 30 Nov 2026, until 30 Dec 2026", recipients: "Passed to: Example Stock Check Ltd." });
  assert.equal(holdingWords({ claims: ["email"], recipients: [] }).recipients, "Passed to no one");
  const row = { purpose: "recommendations", purpose_title: "Personalised recommendations", claims: ["sizes.shoe"], keep_until: NOW, state: "still_held" };
  assert.equal(overdueWords(row), "Shoe size for Personalised recommendations: to be kept only until 30 Nov 2026 — the site says it still holds it");
  for (const kind of ["held_past_retention", "never_disclosed", "held_after_erasure", "unallowed_recipient", "no_answer"]) assert.notEqual(discrepancyTag(kind), "differs", kind);
});
