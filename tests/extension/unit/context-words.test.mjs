// Contexts in words (extension/pages/context-words.js). Run: node --test tests/extension/unit/

process.env.TZ = "UTC"; // dates and times below are read in UTC

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  activeWords,
  browserContext,
  contextEntryWords,
  contextName,
  previousContext,
  promptContextWords,
  siteChoices,
  sourceWords,
  untilText,
} from "../../../extension/pages/context-words.js";

const NOW = Date.UTC(2026, 10, 30, 13, 0, 0) / 1000; // 30 Nov 2026 13:00 UTC
const ctx = (id, name, fields = {}) => ({ id, name, separate_identity: false, gpc: true, created_at: 0, ...fields });
const EVERYDAY = ctx("everyday", "Everyday");
const WORK = ctx("c-1", "Work", { separate_identity: true });
const URGENT = ctx("c-2", "Urgent");

test("the active context says why it is in force: every site, this site, or until when", () => {
  assert.equal(activeWords({ context: WORK, source: "browser" }, NOW), "Context: Work — on every site");
  assert.equal(activeWords({ context: EVERYDAY, source: "default" }, NOW), "Context: Everyday — on every site");
  assert.equal(activeWords({ context: WORK, source: "site", until: null }, NOW), "Context: Work — always on this site");
  assert.equal(activeWords({ context: URGENT, source: "timed", until: NOW + 5400 }, NOW), "Context: Urgent — until 14:30");
  assert.equal(sourceWords({ source: "site", until: NOW + 3600 }, NOW), "on this site until 14:00");
  assert.equal(activeWords(null, NOW), "");
});

test("an end on another day names the day", () => {
  assert.equal(untilText(NOW + 86400, NOW), "1 Dec 2026, 13:00");
  assert.equal(untilText(NOW + 60, NOW), "13:01");
  assert.equal(untilText(null, NOW), "");
});

test("what comes back: a site's own choice gives way to the browser's (timed first), a timed one to the chosen one", () => {
  const choices = { browser: WORK, timed: URGENT, timed_until: NOW + 60, sites: {} };
  assert.equal(previousContext({ active: { context: EVERYDAY, source: "site" }, choices }, NOW), URGENT);
  assert.equal(previousContext({ active: { context: EVERYDAY, source: "site" }, choices: { ...choices, timed_until: NOW } }, NOW), WORK);
  assert.equal(previousContext({ active: { context: URGENT, source: "timed" }, choices }, NOW), WORK);
  assert.equal(previousContext({ active: { context: WORK, source: "browser" }, choices }, NOW), null);
  assert.equal(previousContext({ active: { context: EVERYDAY, source: "default" }, choices }, NOW), null);
  assert.equal(browserContext({ browser: EVERYDAY, timed: null, timed_until: null }, NOW), EVERYDAY);
});

test("the prompt's line, with its own identity when the context keeps one", () => {
  assert.equal(promptContextWords({ id: "c-1", name: "Work", separate_identity: true }), "Context: Work · its own identity");
  assert.equal(promptContextWords({ id: "c-2", name: "Urgent" }), "Context: Urgent");
  assert.equal(promptContextWords(undefined), "");
});

test("a recorded context by its name: the report's own name, a known id, Everyday before contexts", () => {
  assert.equal(contextName({ context: "c-1", context_name: "Work" }), "Work");
  assert.equal(contextName({ context: "c-2" }, { "c-2": "Urgent" }), "Urgent");
  assert.equal(contextName({ context: null }), "Everyday");
  assert.equal(contextName({ context: "c-9" }, {}), "a removed context");
});

test("sites with a context of their own, in order, with their end", () => {
  const sites = { "https://b.example": { context: WORK, source: "site", until: null }, "https://a.example": { context: URGENT, source: "site", until: NOW + 60 } };
  assert.deepEqual(siteChoices({ sites }), [
    { origin: "https://a.example", name: "Urgent", id: "c-2", until: NOW + 60 },
    { origin: "https://b.example", name: "Work", id: "c-1", until: null },
  ]);
  assert.deepEqual(siteChoices(null), []);
});

test("a context's ledger entries in words", () => {
  const names = { everyday: "Everyday" };
  assert.equal(contextEntryWords({ action: "added", name: "Work", separate_identity: true, gpc: true, copied_from: "everyday" }, names), "Added Work, a copy of Everyday · its own identity · GPC on");
  assert.equal(contextEntryWords({ action: "renamed", name: "Job", old_name: "Work", separate_identity: false, gpc: false }), "Renamed Work to Job");
  assert.equal(contextEntryWords({ action: "removed", name: "Job" }), "Removed Job: its rules and remembered choices went");
  assert.equal(contextEntryWords({ action: "changed", name: "Job", separate_identity: false, gpc: false }), "Changed Job: shared identity · GPC off");
});
