// Page calls the worker has accepted and not yet answered, kept in chrome.storage.session.
//
// An MV3 service worker can be stopped at any time (idle, update, crash); its globals go with it. Each
// call is stored from the moment it is accepted until its answer reaches the tab, so a restarted worker
// reads them back and finishes them (background/requests.js reconcile()). storage.session lives as long
// as the browser session, stays in memory, and is not readable from content scripts by default.
//
// Only this worker writes these records, so they are read from storage once per worker life and then
// served from memory (each storage call is a round trip to the browser, ~0.5-1 ms on a page's request
// path); every write goes to both. put() issues its storage write before it returns, so a message the
// caller sends afterwards leaves after the write: the browser applies one context's storage calls in the
// order they were made, and a restarted worker finds the record. remove() waits for the record's writes
// still under way, so no older copy can be stored after it is gone.

const PREFIX = "inflight:";
export const MAX_INFLIGHT = 32; // across all tabs: a page cannot fill the store
export const MAX_PER_TAB = 4;

const area = () => chrome.storage.session;

let records = null; // key -> record, once loaded: copies in and out, as storage itself gives
let loading = null;

function load() {
  loading ??= area()
    .get(null)
    .then((items) => {
      records ??= new Map(
        Object.entries(items)
          .filter(([name]) => name.startsWith(PREFIX))
          .map(([name, record]) => [name.slice(PREFIX.length), record]),
      );
      return records;
    })
    .catch((error) => {
      loading = null; // the next call tries again
      throw error;
    });
  return loading;
}

// What a worker restart does to this module's memory (the unit tests' worker lives call it).
export function forget() {
  records = null;
  loading = null;
}

// The storage writes of each record still under way.
const writes = new Map();
function track(key, write) {
  const settled = Promise.allSettled([writes.get(key), write]);
  writes.set(key, settled);
  settled.then(() => {
    if (writes.get(key) === settled) writes.delete(key);
  });
  return write;
}

export async function get(key) {
  const record = (records ?? (await load())).get(key);
  return record ? structuredClone(record) : null;
}

export async function put(record) {
  const copy = structuredClone(record);
  (records ?? (await load())).set(record.key, copy);
  await track(record.key, area().set({ [PREFIX + record.key]: copy }));
}

// Issued before it returns when records are loaded and no write of the record is under way (a page's
// answer: requests.js finish() removes the record in the same run of code that delivers it).
export async function remove(key) {
  (records ?? (await load())).delete(key);
  const writing = writes.get(key);
  if (writing) await writing;
  await area().remove(PREFIX + key);
}

export async function all() {
  return [...(records ?? (await load())).values()].map((record) => structuredClone(record)).sort((a, b) => a.createdAt - b.createdAt);
}

// Runs fn() after every earlier fn for the same key has settled: a record's read-modify-write never
// interleaves with another for the same record (a decision arriving while the record is being advanced).
const chains = new Map();
export function exclusive(key, fn) {
  const previous = chains.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.catch(() => {});
  chains.set(key, settled);
  settled.then(() => {
    if (chains.get(key) === settled) chains.delete(key);
  });
  return run;
}
