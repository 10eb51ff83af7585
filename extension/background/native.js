// The native messaging channel to the vault daemon: one port, frames with ids, timeouts, errors.
//
// One persistent connectNative port (about 1 ms a round trip) rather than sendNativeMessage (a new host
// process per message, about 90 ms). The port is opened lazily and reopened after a disconnect: the
// host may exit, and a restarted service worker starts with no port at all.
//
// Frame out: {id, method, path, body?, client?}; frame in: {id, status, body} (vault/daemon/native_host.py).

import { Command, installBrowserName } from "../shared/commands.js";

export const HOST_NAME = "org.personal_vault";
export const DEFAULT_TIMEOUT_MS = 30_000;

// Any failure of a vault call. `code` is the daemon's or host's error code (not_paired, vault_locked,
// daemon_unavailable, ...) or one of ours: not_available (no host), timeout.
export class NativeCallError extends Error {
  constructor(code, message, { status = 0, hint = "", problems = [] } = {}) {
    super(message);
    this.name = "NativeCallError";
    this.code = code;
    this.status = status;
    this.hint = hint;
    this.problems = problems; // a refused request that names several entries: each one's words
  }
}

// The daemon's `problems` (POST /v1/attributes/changes): [{name, message, hint}], strings only, bounded.
function problemsOf(list) {
  if (!Array.isArray(list)) return [];
  const words = (p) => typeof p?.name === "string" && typeof p?.message === "string";
  return list.filter(words).slice(0, 64).map((p) => ({ name: p.name, message: p.message, hint: typeof p.hint === "string" ? p.hint : "" }));
}

// What the user can do about a missing host: the commands for this browser.
function noHostHint() {
  return `install the native host (${Command.installBrowser(installBrowserName())}) and start the daemon (${Command.serve()})`;
}

let port = null;
let nextId = 1;
const waiting = new Map(); // id -> {resolve, reject, timer, port}

function connect() {
  if (port) return port;
  const opened = chrome.runtime.connectNative(HOST_NAME);
  opened.onMessage.addListener(onFrame);
  opened.onDisconnect.addListener(() => {
    // Chrome explains why in lastError ("Specified native messaging host not found.", "Native host has
    // exited."); reading it also keeps Chrome from logging it as unchecked.
    const why = chrome.runtime.lastError?.message ?? opened.error?.message ?? "the native host went away";
    if (port === opened) port = null;
    for (const [id, entry] of waiting) {
      if (entry.port !== opened) continue;
      waiting.delete(id);
      clearTimeout(entry.timer);
      entry.reject(new NativeCallError("not_available", `cannot reach the vault: ${why}`, { hint: noHostHint() }));
    }
  });
  port = opened;
  return opened;
}

function onFrame(frame) {
  const entry = waiting.get(frame?.id);
  if (!entry) return; // an answer after its timeout: nobody waits for it any more
  waiting.delete(frame.id);
  clearTimeout(entry.timer);
  if (typeof frame.status !== "number") {
    entry.reject(new NativeCallError("bad_response", "the native host sent a frame without a status"));
  } else {
    entry.resolve({ status: frame.status, body: frame.body ?? null });
  }
}

// Sends one frame; resolves {status, body} (any status), rejects NativeCallError when there is no answer.
export function send(frame, timeoutMs = DEFAULT_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    let current;
    try {
      current = connect();
      current.postMessage({ id, ...frame });
    } catch (error) {
      // A port that died between connect() and postMessage: drop it so the next call opens a new one.
      if (port === current) port = null;
      reject(new NativeCallError("not_available", `cannot reach the vault: ${error.message}`, { hint: noHostHint() }));
      return;
    }
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new NativeCallError("timeout", `the vault did not answer within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    waiting.set(id, { resolve, reject, timer, port: current });
  });
}

// A daemon call: resolves the body of a 2xx answer, rejects NativeCallError with the daemon's (or the
// host's) error code otherwise.
export async function call(frame, timeoutMs) {
  const { status, body } = await send(frame, timeoutMs);
  if (status >= 200 && status < 300) return body;
  const error = body !== null && typeof body === "object" ? body : {};
  throw new NativeCallError(
    typeof error.error === "string" ? error.error : `http_${status}`,
    typeof error.message === "string" ? error.message : `the vault answered with status ${status}`,
    { status, hint: typeof error.hint === "string" ? error.hint : "", problems: problemsOf(error.problems) },
  );
}
