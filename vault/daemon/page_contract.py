"""The page contract, defined once: what a web page may send the vault through the extension, what it may
be told, and how the extension sorts the error codes it meets on the way.

The extension does not type any of this again: `python -m vault.daemon.page_contract` writes it to
extension/shared/contract.js, and tests/extension/test_contract.py fails when that file is stale or when
a code listed here is no longer one the daemon, the native host or the extension really uses.

The patterns come from vault.protocol (the manifest's purpose ids and claim names, the presentation's
nonce); everything else here is about the page channel, which only the daemon and the extension share.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from vault.claims.attributes import ATTRIBUTES, CUSTOM_NAME_PATTERN, CUSTOM_PREFIX, lookup
from vault.claims.types import BirthDate, Choice, Country, Email, LanguageTag, ListOf, Number, Text, ValueType
from vault.consent.reasons import PageReason
from vault.protocol.countries import ISO_3166_ALPHA2
from vault.protocol.jws import MAX_TOKEN_LENGTH
from vault.protocol.manifest import (
    CLAIM_NAME_PATTERN,
    MAX_CLAIM_NAME,
    MAX_CLAIMS_PER_PURPOSE,
    MAX_PURPOSE_ID,
    PURPOSE_ID_PATTERN,
)
from vault.protocol.presentation import NONCE_PATTERN

CONTRACT_JS = Path(__file__).resolve().parents[2] / "extension" / "shared" / "contract.js"


# What a page may send (personalVault.request / acknowledge) and how much of the answer it may read.
LIMITS = {
    "purposes": 16,  # purpose ids in one request() call
    "purposeLength": MAX_PURPOSE_ID,
    "claims": MAX_CLAIMS_PER_PURPOSE,  # claim names in one request() call
    "claimLength": MAX_CLAIM_NAME,
    "ackToken": 16 * 1024,  # vault/daemon/messages.py AcknowledgementRequest.token
    "notifyToken": MAX_TOKEN_LENGTH,  # personalVault.notify(token): a site message (vault-message+jwt)
    "message": 300,  # characters of a message shown to the page
}

# The reasons a page may see for a denial: coarse on purpose (vault/consent/reasons.py: which denial is shown
# to a page as which, DenialReason.for_page).
PAGE_REASONS = tuple(PageReason)

# The codes a page call may be rejected with (extension/README.md has the table).
PAGE_ERRORS = ("not_available", "not_paired", "bad_request", "busy", "timeout")

# The daemon's codes for a mistake of the site's own (its manifest, nonce or acknowledgement): a page sees
# them as `bad_request` with the daemon's message (vault/daemon/errors.py).
SITE_MISTAKES = ("manifest_invalid", "invalid_input", "bad_request", "acknowledgement_invalid")

# "The vault did not answer": the call never reached the daemon, or its answer never came back. None of
# these says anything about the vault itself (locked, paired, what a prompt became), so the extension
# keeps what it knew and tells the user to start the vault. Who makes each code:
#   the native host (vault/daemon/native_host.py): daemon_unavailable, bad_response, response_too_large,
#     host_error, bad_frame;
#   the worker (background/native.js): not_available (no native host), timeout (no answer in time),
#     bad_response (a frame without a status);
#   an extension page (pages/api.js): no_worker (the service worker did not answer).
HOST_ERRORS = ("daemon_unavailable", "bad_response", "response_too_large", "host_error", "bad_frame")
UNAVAILABLE = ("not_available", "timeout", *HOST_ERRORS, "no_worker")

VAULT_LOCKED = "vault_locked"
NOT_PAIRED = "not_paired"


# The profile editor (options page) draws each attribute's input from its type in vault/claims/attributes.py:
# a date picker bounded like BirthDate, the choices of a Choice, the bounds of a Number. The daemon still
# checks every value it is given; these only let the page offer what it would accept.
def profile_input(value_type: ValueType) -> dict[str, object]:
    if isinstance(value_type, BirthDate):
        return {"kind": "date", "min": value_type.earliest.isoformat()}
    if isinstance(value_type, Country):
        return {"kind": "country"}
    if isinstance(value_type, Email):
        return {"kind": "email"}
    if isinstance(value_type, Number):
        return {"kind": "number", "min": value_type.low, "max": value_type.high, "step": value_type.step}
    if isinstance(value_type, Choice):
        return {"kind": "choice", "choices": list(value_type.choices)}
    if isinstance(value_type, ListOf):
        item, most = value_type.item, value_type.max_items
        if isinstance(item, Choice):
            return {"kind": "choices", "choices": list(item.choices), "maxItems": most}
        if isinstance(item, LanguageTag):
            return {"kind": "languages", "maxItems": most}
        if isinstance(item, Text):
            return {"kind": "list", "maxItems": most, "maxLength": item.max_chars}
    if isinstance(value_type, Text):
        return {"kind": "text", "maxLength": value_type.max_chars}
    raise ValueError(f"no profile input for {type(value_type).__name__}: add one here")


PROFILE_INPUTS = {name: profile_input(spec.type) for name, spec in ATTRIBUTES.items()}
CUSTOM_INPUT = profile_input(lookup(CUSTOM_PREFIX + "x").type)

_HEADER = """\
// GENERATED from vault/daemon/page_contract.py by `python -m vault.daemon.page_contract`: do not edit.
// tests/extension/test_contract.py fails when this file is stale.
"""


def _regex(pattern: str) -> str:
    # The patterns are plain ASCII classes and anchors, which JavaScript reads the same way.
    if "/" in pattern or re.search(r"\\[AZz]|\(\?P?[<=!]", pattern):
        raise ValueError(f"not portable to JavaScript: {pattern}")
    return f"/{pattern}/"


def _list(values: tuple[str, ...]) -> str:
    return f"Object.freeze({json.dumps(list(values))})"


def contract_js() -> bytes:
    """The text of extension/shared/contract.js."""
    limits = ", ".join(f"{key}: {value}" for key, value in LIMITS.items())
    lines = [
        _HEADER,
        "// Patterns (vault/protocol): a purpose id and a claim name (each at most LIMITS.purposeLength and",
        "// LIMITS.claimLength characters), a nonce.",
        f"export const PURPOSE_ID = {_regex(PURPOSE_ID_PATTERN)};",
        f"export const CLAIM_NAME = {_regex(CLAIM_NAME_PATTERN)};",
        f"export const NONCE = {_regex(NONCE_PATTERN)};",
        "",
        f"export const LIMITS = Object.freeze({{ {limits} }});",
        "",
        "// The reasons a page may see for a denial, and the codes a page call may be rejected with.",
        f"export const PAGE_REASONS = {_list(PAGE_REASONS)};",
        f"export const PAGE_ERRORS = {_list(PAGE_ERRORS)};",
        "",
        "// Daemon codes for the site's own mistakes: the page sees bad_request.",
        f"export const SITE_MISTAKES = {_list(SITE_MISTAKES)};",
        "",
        "// The vault did not answer (no host, no daemon, no answer in time, a broken channel): says nothing",
        "// about the vault's state or our pairing.",
        f"export const UNAVAILABLE = {_list(UNAVAILABLE)};",
        "",
        f"export const VAULT_LOCKED = {json.dumps(VAULT_LOCKED)};",
        f"export const NOT_PAIRED = {json.dumps(NOT_PAIRED)};",
        "",
        "// The profile editor's inputs, one per attribute (vault/claims/attributes.py), and what a custom",
        "// attribute's name and value may be; the country codes the vault accepts (ISO 3166-1 alpha-2).",
        f"export const PROFILE_INPUTS = Object.freeze({json.dumps(PROFILE_INPUTS)});",
        f"export const CUSTOM_ATTRIBUTE = {_regex(f'^{CUSTOM_NAME_PATTERN}$')};",
        f"export const CUSTOM_INPUT = Object.freeze({json.dumps(CUSTOM_INPUT)});",
        f"export const COUNTRIES = {_list(tuple(sorted(ISO_3166_ALPHA2)))};",
        "",
    ]
    return "\n".join(lines).encode()


if __name__ == "__main__":
    # Regenerates the extension's copy: python -m vault.daemon.page_contract
    CONTRACT_JS.write_bytes(contract_js())
    print(f"wrote {CONTRACT_JS}")
