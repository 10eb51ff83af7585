// The daemon API as this extension instance: every call carries our client token, and a client the
// daemon does not know yet asks to be paired.
//
// The extension id is public (its key is in manifest.json), so the daemon trusts an instance only after
// the user approved its pairing code from the command line (vault/daemon/pairing.py).

import { NOT_PAIRED, UNAVAILABLE } from "../shared/contract.js";
import { clearPairingNeeded, setPairingNeeded } from "./badge.js";
import { call } from "./native.js";

const TOKEN_KEY = "clientToken";
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

let tokenPromise = null;

function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function loadOrMakeToken() {
  const stored = (await chrome.storage.local.get(TOKEN_KEY))[TOKEN_KEY];
  if (typeof stored === "string" && TOKEN_PATTERN.test(stored)) return stored;
  // 32 random bytes: 43 base64url characters, no padding.
  const token = base64url(crypto.getRandomValues(new Uint8Array(32)));
  await chrome.storage.local.set({ [TOKEN_KEY]: token });
  return token;
}

export function clientToken() {
  tokenPromise ??= loadOrMakeToken().catch((error) => {
    tokenPromise = null; // let the next call try again
    throw error;
  });
  return tokenPromise;
}

// Routes an unpaired client may use: their answers say nothing about our pairing either.
const OPEN_ROUTES = new Set(["/v1/status", "/v1/pairing"]);

// Keeps the badge's "pair me" mark in step with what the daemon says (fire and forget).
function notePairing(path, code) {
  // An unavailable vault (no answer from the daemon) says nothing about our pairing either.
  if (OPEN_ROUTES.has(path) || UNAVAILABLE.includes(code)) return;
  const update = code === NOT_PAIRED ? setPairingNeeded(true) : clearPairingNeeded();
  update.catch(() => {});
}

// One daemon call as this client: api("GET", "/v1/status"), api("POST", "/v1/unlock", {passphrase}).
export async function api(method, path, body, timeoutMs) {
  const frame = { method, path, client: await clientToken() };
  if (body !== undefined) frame.body = body;
  try {
    const answer = await call(frame, timeoutMs);
    notePairing(path, null);
    return answer;
  } catch (error) {
    notePairing(path, error.code);
    throw error;
  }
}

const OS_NAMES = { linux: "Linux", mac: "macOS", win: "Windows", cros: "ChromeOS", openbsd: "OpenBSD" };

// "<browser> on <platform>", shown by `vault pair list` so the user knows which browser is which.
async function clientName() {
  let browser = "Chromium";
  const brands = navigator.userAgentData?.brands?.map((b) => b.brand) ?? [];
  const named = brands.find((b) => !/not.a.brand|^chromium$|headless/i.test(b));
  if (named) browser = named;
  else if (/firefox\//i.test(navigator.userAgent)) browser = "Firefox";
  let os = "unknown platform";
  try {
    const info = await chrome.runtime.getPlatformInfo();
    os = OS_NAMES[info.os] ?? info.os;
  } catch {
    // keep "unknown platform"
  }
  return `${browser} on ${os}`.slice(0, 80);
}

// Asks to pair (the daemon answers the same code while the request is pending): {state, code?}.
export async function requestPairing() {
  return api("POST", "/v1/pairing", { name: await clientName() });
}

// GET /v1/status, and a pairing request when the daemon does not know us: the popup then shows the code.
export async function statusAndPairing() {
  const status = await api("GET", "/v1/status");
  if (status.client === "unpaired") {
    const pairing = await requestPairing();
    if (pairing.state === "pending") return { ...status, client: "pending", pairing_code: pairing.code };
    return { ...status, client: "paired" };
  }
  return status;
}
