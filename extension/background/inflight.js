// Page calls the worker has accepted and not yet answered, kept in chrome.storage.session.
//
// An MV3 service worker can be stopped at any time (idle, update, crash); its globals go with it. Each
// call is stored from the moment it is accepted until its answer reaches the tab, so a restarted worker
// reads them back and finishes them (background/requests.js reconcile()). storage.session lives as long
// as the browser session, stays in memory, and is not readable from content scripts by default.

const PREFIX = "inflight:";
export const MAX_INFLIGHT = 32; // across all tabs: a page cannot fill the store
export const MAX_PER_TAB = 4;

const area = () => chrome.storage.session;

export async function get(key) {
  return (await area().get(PREFIX + key))[PREFIX + key] ?? null;
}

export async function put(record) {
  await area().set({ [PREFIX + record.key]: record });
}

export async function remove(key) {
  await area().remove(PREFIX + key);
}

export async function all() {
  const items = await area().get(null);
  return Object.entries(items)
    .filter(([name]) => name.startsWith(PREFIX))
    .map(([, record]) => record)
    .sort((a, b) => a.createdAt - b.createdAt);
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
