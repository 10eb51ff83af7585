// How the extension's pages talk to the service worker: one message per action (shared/actions.js).

import { UNAVAILABLE } from "../shared/contract.js";

export { Action } from "../shared/actions.js";

export class ActionError extends Error {
  constructor({ code = "failed", message = "the extension did not answer", hint = "", problems = [] } = {}) {
    super(message);
    this.name = "ActionError";
    this.code = code;
    this.hint = hint;
    this.problems = problems; // [{name, message, hint}]: each refused entry of a batch
  }
}

// Resolves the handler's value; rejects ActionError {code, message, hint, problems}.
export async function ask(action, args = {}) {
  let reply;
  try {
    reply = await chrome.runtime.sendMessage({ ...args, action });
  } catch (error) {
    throw new ActionError({ code: "no_worker", message: `the extension's background did not answer: ${error.message}` });
  }
  if (reply?.ok) return reply.value;
  throw new ActionError(reply?.error);
}

// Errors that mean "the vault did not answer" (no worker, no native host, no daemon, a broken channel)
// rather than a refusal: the page tells the user to start the vault.
export function isUnavailable(error) {
  return UNAVAILABLE.includes(error?.code);
}
