// Fetching a site's manifest (ORIGIN/.well-known/vault-manifest.json) on the page's behalf.
//
// The worker fetches it itself, from the origin the browser reported, so a page cannot hand the vault a
// manifest of its choosing. The exact text goes to the daemon, which verifies it (the bytes, not our
// parse of them); the checks here only turn the common mistakes into a clear message for the site.

import { readAtMost } from "./bounded-read.js";
import { PageError } from "./page-contract.js";

export const MANIFEST_PATH = "/.well-known/vault-manifest.json";
const MAX_BYTES = 64 * 1024; // the daemon's limit too
const TIMEOUT_MS = 10_000;
const CACHE_MS = 5 * 60_000; // short: a site that fixes its manifest is not kept waiting long

const cache = new Map(); // origin -> {text, fetchedAt, documents: Set of the page loads that used it}
// Every origin a page is served from can fill an entry (up to 64 KB): the oldest goes first.
const MAX_CACHED_ORIGINS = 32;

const badRequest = (message) => new PageError("bad_request", message);

export function forget(origin) {
  cache.delete(origin);
}

// The manifest's text for `origin`. Each page load (`document`) reads it afresh once, so a site that
// changed a purpose is asked about on the very next visit; later calls from the same page use the cached
// copy (while fresh, and unless `fresh` is asked for). Returns {text, cached}. Throws PageError
// bad_request naming the problem.
export async function siteManifest(origin, { fresh = false, document = null } = {}) {
  const hit = cache.get(origin);
  const seen = document === null || hit?.documents.has(document);
  if (!fresh && seen && hit && Date.now() - hit.fetchedAt < CACHE_MS) return { text: hit.text, cached: true };
  const text = await fetchManifest(origin);
  const documents = hit && hit.text === text ? hit.documents : new Set();
  if (document !== null) documents.add(document);
  if (documents.size > 256) documents.clear(); // bounded: old page loads are gone anyway
  cache.delete(origin); // re-inserted last: a Map iterates in insertion order
  cache.set(origin, { text, fetchedAt: Date.now(), documents });
  if (cache.size > MAX_CACHED_ORIGINS) cache.delete(cache.keys().next().value);
  return { text, cached: false };
}

function get(url) {
  return fetch(url, {
    credentials: "omit", // the vault's request must not carry the user's cookies for that site
    cache: "no-store",
    redirect: "error", // the manifest must be served by the origin itself
    referrerPolicy: "no-referrer",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
}

async function fetchManifest(origin) {
  const url = origin + MANIFEST_PATH;
  let response;
  try {
    response = await get(url).catch(async (error) => {
      // A network error right after the browser starts (its network service still waking) is worth
      // one more try; a timeout is not.
      if (error?.name === "TimeoutError") throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
      return get(url);
    });
  } catch (error) {
    const why = error?.name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / 1000} s` : "the fetch failed";
    throw badRequest(`the site's vault manifest could not be fetched from ${url} (${why})`);
  }
  if (response.status === 404) throw badRequest(`this site has no vault manifest: ${url} answered 404`);
  if (!response.ok) throw badRequest(`the site's vault manifest could not be fetched: ${url} answered ${response.status}`);
  let text;
  try {
    text = await readBounded(response, url);
  } catch (error) {
    if (error instanceof PageError) throw error;
    throw badRequest(`the site's vault manifest at ${url} could not be read (${error?.name ?? "error"})`);
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(`the site's vault manifest at ${url} is not JSON`);
  }
  if (parsed === null || typeof parsed !== "object" || typeof parsed.origin !== "string") {
    throw badRequest(`the site's vault manifest at ${url} has no "origin"`);
  }
  if (parsed.origin !== origin) {
    throw badRequest(
      `the vault manifest at ${url} is for ${JSON.stringify(parsed.origin.slice(0, 300))}, ` +
        `not for this page's origin ${origin}`,
    );
  }
  return text;
}

async function readBounded(response, url) {
  const bytes = await readAtMost(response, MAX_BYTES, () =>
    badRequest(`the site's vault manifest at ${url} is larger than ${MAX_BYTES} bytes`),
  );
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw badRequest(`the site's vault manifest at ${url} is not UTF-8`);
  }
}
