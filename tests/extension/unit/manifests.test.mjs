// The worker's manifest cache (extension/background/manifests.js): a page can be served from any number of
// origins, and each could fill an entry of up to 64 KB, so the cache keeps only the newest few.
// Run: node --test tests/extension/unit/

import assert from "node:assert/strict";
import { test } from "node:test";

import { siteManifest } from "../../../extension/background/manifests.js";

test("the manifest cache keeps at most 32 origins, dropping the oldest", async () => {
  const fetched = [];
  globalThis.fetch = async (url) => {
    const origin = new URL(url).origin;
    fetched.push(origin);
    return new Response(JSON.stringify({ origin, padding: "x".repeat(60_000) }), { status: 200 });
  };
  const origins = Array.from({ length: 40 }, (_, i) => `https://site-${i}.example`);
  for (const origin of origins) await siteManifest(origin);
  assert.equal(fetched.length, 40);
  // The newest origins are still cached; the oldest were dropped and are fetched again.
  assert.equal((await siteManifest(origins[39])).cached, true);
  assert.equal((await siteManifest(origins[8])).cached, true);
  assert.equal((await siteManifest(origins[0])).cached, false);
  assert.equal(fetched.length, 41);
});
