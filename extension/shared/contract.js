// GENERATED from vault/daemon/page_contract.py by `python -m vault.daemon.page_contract`: do not edit.
// tests/extension/test_contract.py fails when this file is stale.

// Patterns (vault/protocol): a purpose id and a claim name (each at most LIMITS.purposeLength and
// LIMITS.claimLength characters), a nonce.
export const PURPOSE_ID = /^[a-z][a-z0-9-]*$/;
export const CLAIM_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
export const NONCE = /^[A-Za-z0-9_-]{22,128}$/;

export const LIMITS = Object.freeze({ purposes: 16, purposeLength: 64, claims: 32, claimLength: 64, ackToken: 16384, notifyToken: 8192, message: 300 });

// The reasons a page may see for a denial, and the codes a page call may be rejected with.
export const PAGE_REASONS = Object.freeze(["denied", "bad_request", "expired"]);
export const PAGE_ERRORS = Object.freeze(["not_available", "not_paired", "bad_request", "busy", "timeout"]);

// Daemon codes for the site's own mistakes: the page sees bad_request.
export const SITE_MISTAKES = Object.freeze(["manifest_invalid", "invalid_input", "bad_request", "acknowledgement_invalid"]);

// The vault did not answer (no host, no daemon, no answer in time, a broken channel): says nothing
// about the vault's state or our pairing.
export const UNAVAILABLE = Object.freeze(["not_available", "timeout", "daemon_unavailable", "bad_response", "response_too_large", "host_error", "bad_frame", "no_worker"]);

export const VAULT_LOCKED = "vault_locked";
export const NOT_PAIRED = "not_paired";
