"""Every case `vault conformance` plays, in the order it plays them, and the reasons each one exercises.

A case is one exchange with the site (the acknowledgement's, which checks the answer to the valid
presentation, is none). `reasons` are the `Reason`s of vault/protocol/errors.py that the case makes the
site's verifier raise, or that the vault's own verifier raises when it checks what the site signed.
Every reason has a case or a line in NOT_TESTABLE saying why no outside client can provoke it, and
SPEC.md ("Conformance") lists the same (tests/conformance/test_catalogue.py keeps the three in step).
"""

from __future__ import annotations

from dataclasses import dataclass

from vault.protocol.errors import Reason as R


@dataclass(frozen=True)
class Case:
    id: str
    title: str  # what the vault sends, in words
    reasons: tuple[R, ...] = ()
    fix: str = ""  # what to change on the site when it fails


_VERIFY = "verify every token with vault.site.verify_presentation before using it"
_REFUSE = "refuse it (4xx); " + _VERIFY
_NONCE = "check the token's nonce against the one this session was given, and spend it once per purpose"
_ACK = "sign with the site key the manifest publishes (vault.site.acknowledge_presentation)"

CASES: tuple[Case, ...] = (
    Case("manifest", "the manifest, fetched as the extension fetches it", (),
         "serve valid manifest JSON at /.well-known/vault-manifest.json, 200, application/json, no redirect"),
    Case("nonce", "a nonce for this cookie session", (),
         "answer 200 {\"nonce\": ...} with Cache-Control: no-store and a session cookie"),
    Case("presentation.valid", "a valid presentation", (),
         "accept a valid presentation (2xx); the site's refusal says why"),
    Case("presentation.acknowledgement", "the acknowledgement of the valid presentation",
         (R.WRONG_ISSUER, R.WRONG_AUDIENCE, R.NOT_YET_VALID, R.WRONG_PRESENTATION, R.PURPOSE_MISMATCH,
          R.CLAIMS_MISMATCH, R.RETENTION_EXCEEDED, R.BAD_KEY, R.BAD_SIGNATURE),
         _ACK + ", about exactly the presentation received"),
    Case("presentation.nonce_reused", "a new presentation with the nonce already spent for this purpose",
         (R.WRONG_NONCE,), _NONCE),
    Case("presentation.replayed", "the valid presentation again", (R.REPLAYED,),
         "keep a replay store (vault.site.InMemoryReplayStore, RedisReplayStore for many processes)"),
    Case("presentation.other_session_nonce", "a nonce given to another cookie session", (R.WRONG_NONCE,),
         _NONCE),
    Case("presentation.made_up_nonce", "a nonce the site never gave", (R.WRONG_NONCE,), _NONCE),
    Case("presentation.wrong_audience", "a presentation for another site", (R.WRONG_AUDIENCE,),
         "check aud against the manifest's origin: " + _VERIFY),
    Case("presentation.expired", "a presentation that expired 10 minutes ago", (R.EXPIRED,), _REFUSE),
    Case("presentation.not_yet_valid", "a presentation issued 10 minutes in the future", (R.NOT_YET_VALID,),
         _REFUSE),
    Case("presentation.lifetime_too_long", "a presentation valid for an hour", (R.BAD_LIFETIME,), _REFUSE),
    Case("presentation.expires_before_issued", "a presentation whose exp is before its iat",
         (R.BAD_LIFETIME,), _REFUSE),
    Case("presentation.wrong_issuer", "iss and sub naming another key than the one that signed",
         (R.WRONG_ISSUER,), _REFUSE),
    Case("presentation.unknown_purpose", "a purpose the manifest does not declare", (R.UNKNOWN_PURPOSE,),
         _REFUSE),
    Case("presentation.changed_digest", "a purpose digest that is not the manifest's",
         (R.PURPOSE_DIGEST_MISMATCH,), _REFUSE),
    Case("presentation.changed_retention", "the purpose with another retention", (R.PURPOSE_MISMATCH,),
         _REFUSE),
    Case("presentation.undeclared_claim", "a claim the purpose does not declare", (R.UNDECLARED_CLAIM,),
         _REFUSE),
    Case("presentation.missing_claim", "without a claim the purpose requires", (R.MISSING_CLAIM,), _REFUSE),
    Case("presentation.wrong_claim_type", "a claim value of the wrong type", (R.BAD_CLAIM_VALUE,), _REFUSE),
    Case("presentation.claim_outside_vocabulary", "a claim name outside the claim vocabulary",
         (R.BAD_CLAIM_VALUE, R.UNDECLARED_CLAIM), _REFUSE),
    Case("presentation.undeclared_recipient", "a recipient the purpose does not declare",
         (R.UNDECLARED_RECIPIENT,), _REFUSE),
    Case("presentation.missing_recipient", "without a required recipient", (R.MISSING_RECIPIENT,), _REFUSE),
    Case("presentation.alg_none", "alg none, unsigned", (R.UNSUPPORTED_ALG,), _REFUSE),
    Case("presentation.alg_hs256", "alg HS256, an HMAC keyed with the public key's bytes",
         (R.UNSUPPORTED_ALG,), _REFUSE),
    Case("presentation.swapped_key", "signed by one key, with another key's jwk and thumbprint",
         (R.BAD_SIGNATURE,), _REFUSE),
    Case("presentation.changed_payload", "a payload changed after signing", (R.BAD_SIGNATURE,), _REFUSE),
    Case("presentation.wrong_typ", "typ JWT instead of vault-presentation+jwt", (R.WRONG_TYP,), _REFUSE),
    Case("presentation.crit", "a crit header", (R.UNSUPPORTED_CRIT,), _REFUSE),
    Case("presentation.not_ed25519", "a jwk that is not an Ed25519 key (crv X25519)", (R.BAD_KEY,), _REFUSE),
    Case("presentation.too_large", "a signed token longer than 8192 characters", (R.TOO_LARGE,), _REFUSE),
    Case("presentation.padded_base64url", "a signature segment with base64 padding", (R.MALFORMED,), _REFUSE),
    Case("presentation.duplicate_keys", "a payload that repeats a member", (R.MALFORMED,), _REFUSE),
    Case("presentation.payload_not_json", "a signed token whose payload is not JSON", (R.MALFORMED,),
         _REFUSE),
    Case("presentation.not_a_token", "a token that is not a JWS at all", (R.MALFORMED,), _REFUSE),
    Case("presentation.body_not_json", "a request body that is not JSON", (),
         "decode the body strictly and answer 400 with a JSON error; never 5xx"),
    Case("presentation.body_wrong_shape", "a JSON body without purpose and token", (),
         "decode the body strictly and answer 400 with a JSON error; never 5xx"),
    Case("presentation.body_not_declared_json", "the body sent as text/plain", (),
         "accept only Content-Type: application/json (415 otherwise)"),
    Case("revocation.other_signer", "a notice withdrawing the presentation, signed by another user's key",
         (R.WRONG_SUBJECT,), "verify notices with vault.site.verify_revocation and the subject you stored"),
    Case("revocation.changed_payload", "a notice changed after signing", (R.BAD_SIGNATURE,),
         "verify notices with vault.site.verify_revocation"),
    Case("revocation.wrong_audience", "a notice for another site", (R.WRONG_AUDIENCE,),
         "verify notices with vault.site.verify_revocation"),
    Case("revocation.expired", "a captured notice replayed after its exp", (R.EXPIRED,),
         "verify notices with vault.site.verify_revocation"),
    Case("revocation.body_not_json", "a request body that is not JSON", (),
         "decode the body strictly and answer 400 with a JSON error; never 5xx"),
    Case("revocation.valid", "a valid notice withdrawing the accepted presentation", (R.WRONG_NOTICE,),
         "answer exactly {\"acknowledgement\": ...} signed by vault.site.acknowledge_revocation"),
    Case("revocation.repeated", "the same notice again (notices are idempotent)", (R.WRONG_NOTICE,),
         "answer a repeated notice again: verify_revocation accepts presentations it no longer holds"),
    Case("access.valid", "an access request", (R.WRONG_REQUEST,),
         "answer exactly {\"statement\": ...} signed by vault.site.answer_access_request"),
    Case("access.repeated", "the same access request again", (R.REPLAYED,),
         "verify requests with vault.site.verify_access_request and a replay store: answer each once"),
    Case("access.wrong_audience", "an access request for another site", (R.WRONG_AUDIENCE,),
         "verify requests with vault.site.verify_access_request"),
    Case("access.body_not_json", "a request body that is not JSON", (),
         "decode the body strictly and answer 400 with a JSON error; never 5xx"),
)  # fmt: skip

NOT_TESTABLE: dict[R, str] = {
    R.REPLAY_CHECK_FAILED: "the site's own replay store would have to fail, which no client can cause; a "
    "site that fails closed answers 503 (tests/site/test_replay.py shows vault.site does)",
}

BY_ID = {case.id: case for case in CASES}

# Why a vault refuses what a site signed (an acknowledgement, a revocation answer, a statement), in words.
VAULT_REFUSES: dict[R, str] = {
    R.MALFORMED: "it is not a well-formed token of its kind",
    R.WRONG_TYP: "its typ is not this message's",
    R.UNSUPPORTED_ALG: "it is not signed with EdDSA",
    R.UNSUPPORTED_CRIT: "it has a crit header",
    R.BAD_KEY: "its kid names another key than the manifest's site_key",
    R.BAD_SIGNATURE: "its signature does not verify with the manifest's site_key",
    R.TOO_LARGE: "it is too long",
    R.WRONG_ISSUER: "its iss is not the site's origin",
    R.WRONG_AUDIENCE: "it is addressed to someone other than the visitor (aud is not their sub)",
    R.NOT_YET_VALID: "it is dated in the future",
    R.WRONG_PRESENTATION: "it names another presentation",
    R.PURPOSE_MISMATCH: "it names another purpose or purpose digest",
    R.CLAIMS_MISMATCH: "it names other claims than those presented",
    R.RETENTION_EXCEEDED: "it promises to keep the claims longer than the purpose's retention",
    R.WRONG_NOTICE: "it does not answer the notice sent (its jti, presentations or recipients' outcomes)",
    R.WRONG_REQUEST: "it does not answer the request sent (its jti, date or purposes)",
}


def vault_refuses(what: str, reason: R) -> str:
    return f"a vault refuses {what} ({reason.value}): {VAULT_REFUSES.get(reason, 'see SPEC.md, Reasons')}"


def covered_reasons() -> set[R]:
    return {reason for case in CASES for reason in case.reasons}
