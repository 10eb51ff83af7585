// A second implementation of the site's verifiers (presentation, revocation notice, access request), the
// vault's verifiers of the site's acknowledgements, access statements and messages, the manifest rules and
// the pairwise key derivation, written
// from vault/protocol/SPEC.md alone, to check that the test vectors mean what the spec says rather than
// what the Python code does. Signatures are checked by `jose`, JCS (RFC 8785) is
// `canonicalize`, hashing and HKDF are node:crypto; everything else follows the spec's numbered steps.
//
// Usage: node vectors.mjs PROTOCOL_DIR    (the folder holding SPEC.md, vectors/, vectors_notice/, ...)
// Output on stdout: [{"folder", "name", "outcome": "valid" | <reason> | "refused", ...what it returned}].
import { createHash, createPrivateKey, hkdfSync } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import canonicalize from "canonicalize";
import { calculateJwkThumbprint, compactVerify, importJWK } from "jose";

const MAX_TOKEN = 8192;
const MAX_STATEMENT = 32768; // "Access statement": the one token allowed to be longer
const THUMBPRINT_URI = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:";
const B64URL = /^[A-Za-z0-9_-]*$/;
const JTI = /^[A-Za-z0-9_-]{16,64}$/;
const NONCE = /^[A-Za-z0-9_-]{22,128}$/;
const PURPOSE_ID = /^[a-z][a-z0-9-]{0,63}$/;
const CLAIM_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const DPV = /^dpv:[A-Za-z][A-Za-z0-9]*$/;
// "Retention": P, then nY nM nD and an optional T with nH nM nS (at least one overall, and one after T),
// or nW alone.
const DURATION = /^P(?:\d+W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)$/;
const MAX_NUMERIC_DATE = 2 ** 40;
const MAX_THIRD_PARTIES = 16;
const RECIPIENT_ROLES = ["dpv:Processor", "dpv:ThirdParty", "dpv:JointDataControllers"];
const OUTCOMES = ["erased", "not_held", "forwarded"];

class Refused extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

function refuse(reason) {
  throw new Refused(reason);
}

function require(condition, reason) {
  if (!condition) refuse(reason);
}

// --- Conventions ------------------------------------------------------------------------------------------

function b64urlDecode(text) {
  require(typeof text === "string" && B64URL.test(text) && text.length % 4 !== 1, "malformed");
  const bytes = Buffer.from(text, "base64url");
  require(bytes.toString("base64url") === text, "malformed"); // one spelling per byte string
  return bytes;
}

// Strict JSON (RFC 8259): no repeated member names after unescaping, integers within 2^53 - 1.
function strictJson(bytes) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    refuse("malformed");
  }
  let at = 0;
  const fail = () => refuse("malformed");
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at])) at++;
  };
  const expect = (char) => {
    if (text[at] !== char) fail();
    at++;
  };
  function string() {
    expect('"');
    let out = "";
    for (;;) {
      if (at >= text.length) fail();
      const char = text[at++];
      if (char === '"') return out;
      if (char.charCodeAt(0) < 0x20) fail();
      if (char !== "\\") {
        out += char;
        continue;
      }
      const escape = text[at++];
      const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (escape in simple) out += simple[escape];
      else if (escape === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(at, at + 4))) {
        out += String.fromCharCode(parseInt(text.slice(at, at + 4), 16));
        at += 4;
      } else fail();
    }
  }
  function value() {
    space();
    const char = text[at];
    if (char === "{") {
      at++;
      const object = Object.create(null);
      space();
      if (text[at] === "}") {
        at++;
        return object;
      }
      for (;;) {
        space();
        const name = string();
        if (name in object) fail();
        space();
        expect(":");
        object[name] = value();
        space();
        if (text[at] === ",") at++;
        else {
          expect("}");
          return object;
        }
      }
    }
    if (char === "[") {
      at++;
      const array = [];
      space();
      if (text[at] === "]") {
        at++;
        return array;
      }
      for (;;) {
        array.push(value());
        space();
        if (text[at] === ",") at++;
        else {
          expect("]");
          return array;
        }
      }
    }
    if (char === '"') return string();
    for (const [literal, result] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(literal, at)) {
        at += literal.length;
        return result;
      }
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!number) fail();
    at += number[0].length;
    const parsed = Number(number[0]);
    if (!number[2] && !number[3] && !Number.isSafeInteger(parsed)) fail();
    return parsed;
  }
  const result = value();
  space();
  if (at !== text.length) fail();
  return result;
}

const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const isString = (value, max = 1e9) => typeof value === "string" && [...value].length <= max;
const isNumericDate = (value) => Number.isInteger(value) && value >= 0 && value <= MAX_NUMERIC_DATE;

const isDistinct = (list) => new Set(list).size === list.length;
// A list of at most `max` distinct strings, each matching `pattern` (at most 64 characters).
const isIdList = (value, max, pattern) =>
  Array.isArray(value) &&
  value.length <= max &&
  value.every((item) => typeof item === "string" && item.length <= 64 && pattern.test(item)) &&
  isDistinct(value);

function exactMembers(object, required, optional = []) {
  require(isObject(object), "malformed");
  for (const name of Object.keys(object)) require(required.includes(name) || optional.includes(name), "malformed");
  for (const name of required) require(name in object, "malformed");
  for (const name of optional) require(!(name in object) || object[name] !== null, "malformed");
}


// --- Compact JWS profile: "Verifying a token", steps 1 to 10 -----------------------------------------------

// `siteKey` is null for messages that embed their key (`jwk`), else the site key they name by `kid`.
async function openToken(token, typ, siteKey = null, maxLength = MAX_TOKEN) {
  require(typeof token === "string", "malformed");
  require(token.length <= maxLength, "too_large"); // 1
  require(/^[\x21-\x7e]*$/.test(token), "malformed"); // 2: ASCII, no white space
  const segments = token.split(".");
  require(segments.length === 3, "malformed");
  const header = strictJson(b64urlDecode(segments[0]));
  exactMembers(header, ["alg"], ["typ", "crit", "jwk", "kid"]);
  require(typeof header.alg === "string", "malformed");
  for (const name of ["typ", "kid"]) require(!(name in header) || typeof header[name] === "string", "malformed");
  if ("crit" in header) require(Array.isArray(header.crit) && header.crit.every((item) => typeof item === "string"), "malformed");
  if ("jwk" in header) {
    exactMembers(header.jwk, ["kty", "crv", "x"]);
    require(["kty", "crv", "x"].every((name) => typeof header.jwk[name] === "string"), "malformed");
    require(/^[A-Za-z0-9_-]{43}$/.test(header.jwk.x), "malformed");
  }
  require(header.alg === "EdDSA", "unsupported_alg"); // 3
  require(header.typ === typ, "wrong_typ"); // 4
  require(!("crit" in header), "unsupported_crit"); // 5
  // 6: presentations and notices embed `jwk`, acknowledgements name the site key by `kid`
  require(siteKey === null ? "jwk" in header && !("kid" in header) : "kid" in header && !("jwk" in header), "malformed");
  const jwk = siteKey ?? header.jwk;
  require(jwk.kty === "OKP" && jwk.crv === "Ed25519", "bad_key"); // 7
  if (siteKey !== null) require(header.kid === (await calculateJwkThumbprint(jwk, "sha256")), "bad_key");
  let key;
  try {
    key = await importJWK({ kty: "OKP", crv: "Ed25519", x: jwk.x }, "EdDSA");
  } catch {
    refuse("bad_key");
  }
  const payload = b64urlDecode(segments[1]); // 8
  require(b64urlDecode(segments[2]).length === 64, "malformed");
  try {
    await compactVerify(token, key, { algorithms: ["EdDSA"] }); // 9
  } catch (error) {
    refuse(error.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" ? "bad_signature" : "malformed");
  }
  const subject = THUMBPRINT_URI + (await calculateJwkThumbprint(jwk, "sha256"));
  return { header, payload: strictJson(payload), subject }; // 10 continues in each message's schema
}

// --- Claim value types ---------------------------------------------------------------------------------------

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const WHITE = /^\p{White_Space}|\p{White_Space}$/u;
const isText = (value, max) =>
  typeof value === "string" && [...value].length >= 1 && [...value].length <= max && !CONTROL.test(value) && !WHITE.test(value);
const LANGUAGE = new RegExp(
  "^(?:(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-(?:[a-z]{4}))?(?:-(?:[a-z]{2}|\\d{3}))?" +
    "(?:(?:-(?:[a-z0-9]{5,8}|\\d[a-z0-9]{3}))*(?:-[a-wy-z0-9](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?))$",
  "i",
);
const EMAIL = /^[^@\p{White_Space}]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/u;
const AGE_RANGES = ["under 13", "13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
const CLOTHING = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL"];
const DIETS = ["vegetarian", "vegan", "pescatarian", "halal", "kosher", "gluten-free", "lactose-free", "nut-free", "low-sugar", "low-salt"];
const ACCESSIBILITY = [
  "screen-reader", "high-contrast", "large-text", "reduced-motion", "captions", "audio-description",
  "sign-language", "keyboard-only", "dyslexia-friendly", "simple-language", "wheelchair-access",
];

function distinctList(max, item) {
  return (value) =>
    Array.isArray(value) && value.length >= 1 && value.length <= max && new Set(value).size === value.length && value.every(item);
}

function claimTypes(countries) {
  const bool = (value) => typeof value === "boolean";
  return {
    age_over_13: bool,
    age_over_16: bool,
    age_over_18: bool,
    age_over_21: bool,
    age_over_65: bool,
    age_range: (value) => AGE_RANGES.includes(value),
    "location.country": (value) => countries.has(value),
    "location.region": (value) => isText(value, 100),
    "location.postal_prefix": (value) => typeof value === "string" && /^[A-Z0-9]{1,3}$/.test(value),
    "location.postal_code": (value) => typeof value === "string" && /^[A-Z0-9](?:[A-Z0-9 -]{0,10}[A-Z0-9])?$/.test(value),
    interests: distinctList(5, (topic) => isText(topic, 40) && !/[,[\]{}<>]/.test(topic)),
    "sizes.shoe": (value) => typeof value === "number" && value >= 15 && value <= 52 && Number.isInteger(2 * value),
    "sizes.clothing": (value) => CLOTHING.includes(value),
    languages: distinctList(16, (tag) => typeof tag === "string" && tag.length <= 64 && LANGUAGE.test(tag)),
    diet: distinctList(10, (item) => DIETS.includes(item)),
    accessibility: distinctList(11, (item) => ACCESSIBILITY.includes(item)),
    email: (value) => isText(value, 254) && EMAIL.test(value),
    given_name: (value) => isText(value, 100),
    family_name: (value) => isText(value, 100),
  };
}

// A claim value of any claim: a boolean, a number, a string of at most 256 characters, or a list of at
// most 32 strings of at most 128 characters.
function isClaimValue(value) {
  if (typeof value === "boolean" || typeof value === "number") return true;
  if (typeof value === "string") return isString(value, 256);
  return Array.isArray(value) && value.length <= 32 && value.every((item) => isString(item, 128));
}

// --- Presentation -------------------------------------------------------------------------------------------

function purposeDigest(entry) {
  return createHash("sha256").update(canonicalize(entry), "utf8").digest("base64url");
}

async function verifyPresentation(inputs, types) {
  const { manifest, audience, nonce, now, max_skew: skew, max_lifetime: maxLifetime } = inputs;
  const { payload, subject } = await openToken(inputs.token, "vault-presentation+jwt");
  const members = ["iss", "sub", "aud", "nonce", "iat", "exp", "jti", "purpose", "retention", "purpose_digest", "claims", "recipients"];
  exactMembers(payload, members);
  require(["iss", "sub", "aud"].every((name) => isString(payload[name], 300)), "malformed");
  require(NONCE.test(payload.nonce) && JTI.test(payload.jti), "malformed");
  require(isNumericDate(payload.iat) && isNumericDate(payload.exp), "malformed");
  exactMembers(payload.purpose, ["id", "concept"]);
  require(PURPOSE_ID.test(payload.purpose.id) && DPV.test(payload.purpose.concept), "malformed");
  require(typeof payload.retention === "string" && DURATION.test(payload.retention), "malformed");
  require(typeof payload.purpose_digest === "string" && /^[A-Za-z0-9_-]{43}$/.test(payload.purpose_digest), "malformed");
  require(isObject(payload.claims) && Object.keys(payload.claims).length <= 32, "malformed");
  for (const [name, value] of Object.entries(payload.claims)) {
    require(name.length <= 64 && CLAIM_NAME.test(name) && isClaimValue(value), "malformed");
  }
  // The third parties the user allows: at most 16 distinct strings of at most 64 characters.
  require(isIdList(payload.recipients, MAX_THIRD_PARTIES, /^/), "malformed");

  require(payload.iss === subject && payload.sub === subject, "wrong_issuer"); // 1
  require(payload.aud === audience, "wrong_audience"); // 2
  require(payload.iat <= now + skew, "not_yet_valid"); // 3
  require(payload.iat < payload.exp && payload.exp <= payload.iat + maxLifetime, "bad_lifetime"); // 4
  require(payload.exp + skew > now, "expired"); // 5
  require(payload.nonce === nonce, "wrong_nonce"); // 6
  const entry = manifest.purposes.find((purpose) => purpose.id === payload.purpose.id);
  require(entry !== undefined, "unknown_purpose"); // 7
  require(payload.purpose_digest === purposeDigest(entry), "purpose_digest_mismatch"); // 8
  require(payload.purpose.concept === entry.concept && payload.retention === entry.retention, "purpose_mismatch"); // 9
  const declared = new Map(entry.claims.map((request) => [request.name, request.required]));
  require(Object.keys(payload.claims).every((name) => declared.has(name)), "undeclared_claim"); // 10
  for (const [name, required] of declared) require(!required || name in payload.claims, "missing_claim"); // 11
  for (const [name, value] of Object.entries(payload.claims)) {
    require(name in types && types[name](value), "bad_claim_value"); // 12
  }
  const parties = new Map(entry.third_parties.map((party) => [party.id, party]));
  require(payload.recipients.every((id) => parties.has(id)), "undeclared_recipient"); // 13
  for (const party of entry.third_parties) {
    const receives = party.claims.some((name) => name in payload.claims);
    require(!party.required || !receives || payload.recipients.includes(party.id), "missing_recipient"); // 14
  }
  const replayKey = `${subject.slice(THUMBPRINT_URI.length)}.${payload.jti}`;
  require(!inputs.seen.some((record) => record.key === replayKey && record.expires_at > now), "replayed"); // 16
  return { subject, claims: payload.claims, recipients: payload.recipients };
}

// --- Revocation / erasure notice -------------------------------------------------------------------------

async function verifyNotice(inputs) {
  const { audience, now, max_skew: skew, stored_subjects: stored } = inputs;
  const { payload, subject } = await openToken(inputs.token, "vault-revocation+jwt");
  const members = ["iss", "sub", "aud", "iat", "exp", "jti", "purpose", "presentations", "erasure", "claims", "site", "recipients"];
  exactMembers(payload, members);
  require(["iss", "sub", "aud"].every((name) => isString(payload[name], 300)), "malformed");
  require(isNumericDate(payload.iat) && isNumericDate(payload.exp), "malformed");
  require(JTI.test(payload.jti) && PURPOSE_ID.test(payload.purpose), "malformed");
  const withdrawn = payload.presentations;
  require(Array.isArray(withdrawn) && withdrawn.length >= 1 && withdrawn.length <= 256, "malformed");
  require(withdrawn.every((jti) => typeof jti === "string" && JTI.test(jti)), "malformed");
  require(new Set(withdrawn).size === withdrawn.length, "malformed");
  require(typeof payload.erasure === "boolean", "malformed");
  // What is withdrawn (these claims, or all when empty) and from whom (the site, these third parties).
  require(isIdList(payload.claims, 32, CLAIM_NAME), "malformed");
  require(isIdList(payload.recipients, MAX_THIRD_PARTIES, PURPOSE_ID), "malformed");
  require(typeof payload.site === "boolean" && (payload.site || payload.recipients.length > 0), "malformed");

  require(payload.iss === subject && payload.sub === subject, "wrong_issuer"); // 1
  require(payload.aud === audience, "wrong_audience"); // 2
  require(payload.iat <= now + skew, "not_yet_valid"); // 3
  require(payload.iat < payload.exp && payload.exp <= payload.iat + 7 * 86400, "bad_lifetime"); // 4
  require(payload.exp + skew > now, "expired"); // 5
  const unknown = [];
  for (const jti of withdrawn) {
    if (!(jti in stored)) unknown.push(jti);
    else require(stored[jti] === payload.sub, "wrong_subject"); // 6
  }
  return {
    subject: payload.sub,
    jti: payload.jti,
    purpose: payload.purpose,
    presentations: withdrawn,
    unknown,
    erasure: payload.erasure,
    issued_at: payload.iat,
    claims: payload.claims,
    site: payload.site,
    recipients: payload.recipients,
    // Whom the site forwards it to: the named third parties its manifest declares, in the manifest's order.
    tell: (inputs.manifest.purposes.find((purpose) => purpose.id === payload.purpose)?.third_parties ?? [])
      .filter((party) => payload.recipients.includes(party.id))
      .map((party) => party.id),
  };
}

// --- Acknowledgements (the vault's side) -------------------------------------------------------------------

// The vault's own token (a presentation it issued, a notice it sent): only its payload is read.
const payloadOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
// "Retention": a year is 365 days, a month 30, a week 7.
function retentionSeconds(duration) {
  const units = { Y: 365 * 86400, M: 30 * 86400, W: 7 * 86400, D: 86400 };
  const [date, time = ""] = duration.slice(1).split("T");
  let total = 0;
  for (const [, count, unit] of date.matchAll(/(\d+)([YMWD])/g)) total += Number(count) * units[unit];
  for (const [, count, unit] of time.matchAll(/(\d+)([HMS])/g)) total += Number(count) * { H: 3600, M: 60, S: 1 }[unit];
  return total;
}

function checkAckCommon(payload, sent, now, skew) {
  require(typeof payload.iss === "string" && typeof payload.aud === "string" && isNumericDate(payload.iat), "malformed");
  require(payload.iss === sent.aud, "wrong_issuer");
  require(payload.aud === sent.sub, "wrong_audience");
  require(payload.iat <= now + skew, "not_yet_valid");
}

// "Carried messages": one or two message tokens (each verified on its own, never failing the carrier).
const isCarried = (value) =>
  Array.isArray(value) && value.length >= 1 && value.length <= 2 && value.every((token) => isString(token, MAX_TOKEN));

async function verifyAcknowledgement(inputs) {
  const { payload } = await openToken(inputs.token, "vault-ack+jwt", inputs.site_key);
  const members = ["iss", "aud", "iat", "presentation", "purpose", "purpose_digest", "claims", "keep_until", "recipients"];
  exactMembers(payload, members, ["messages"]);
  require(!("messages" in payload) || isCarried(payload.messages), "malformed");
  require(isIdList(payload.recipients, MAX_THIRD_PARTIES, PURPOSE_ID), "malformed");
  require(JTI.test(payload.presentation) && PURPOSE_ID.test(payload.purpose), "malformed");
  require(typeof payload.purpose_digest === "string" && isNumericDate(payload.keep_until), "malformed");
  require(Array.isArray(payload.claims) && payload.claims.every((name) => typeof name === "string" && CLAIM_NAME.test(name)), "malformed");
  const issued = payloadOf(inputs.presentation);
  checkAckCommon(payload, issued, inputs.now, inputs.max_skew); // 1 to 3
  require(payload.presentation === issued.jti, "wrong_presentation"); // 4
  require(payload.purpose === issued.purpose.id && payload.purpose_digest === issued.purpose_digest, "purpose_mismatch"); // 5
  const names = Object.keys(issued.claims);
  const same = new Set(payload.claims).size === payload.claims.length && payload.claims.length === names.length;
  require(same && names.every((name) => payload.claims.includes(name)), "claims_mismatch"); // 6
  require(payload.keep_until <= issued.iat + retentionSeconds(issued.retention), "retention_exceeded"); // 7
  // Recipients the presentation did not allow are not refused: the vault records a broken promise.
  return {
    acknowledgement: payload,
    unallowed_recipients: payload.recipients.filter((id) => !issued.recipients.includes(id)),
  };
}

async function verifyRevocationAck(inputs) {
  const { payload } = await openToken(inputs.token, "vault-revocation-ack+jwt", inputs.site_key);
  exactMembers(payload, ["iss", "aud", "iat", "notice", "presentations", "erased", "recipients"]);
  require(Array.isArray(payload.recipients) && payload.recipients.length <= MAX_THIRD_PARTIES, "malformed");
  for (const outcome of payload.recipients) {
    exactMembers(outcome, ["id", "outcome", "at"]);
    require(typeof outcome.id === "string" && outcome.id.length <= 64 && PURPOSE_ID.test(outcome.id), "malformed");
    require(OUTCOMES.includes(outcome.outcome) && isNumericDate(outcome.at), "malformed");
  }
  const answered = payload.presentations;
  require(JTI.test(payload.notice) && typeof payload.erased === "boolean", "malformed");
  require(Array.isArray(answered) && answered.length >= 1 && answered.length <= 256, "malformed");
  require(answered.every((jti) => typeof jti === "string" && JTI.test(jti)), "malformed");
  const sent = payloadOf(inputs.notice);
  checkAckCommon(payload, sent, inputs.now, inputs.max_skew);
  const same = new Set(answered).size === new Set(sent.presentations).size && answered.every((jti) => sent.presentations.includes(jti));
  require(payload.notice === sent.jti && same, "wrong_notice");
  // Exactly one outcome for each recipient the notice names.
  const outcomesFor = payload.recipients.map((outcome) => outcome.id);
  const told = sent.recipients;
  const oneEach = isDistinct(outcomesFor) && outcomesFor.length === told.length && told.every((id) => outcomesFor.includes(id));
  require(oneEach, "wrong_notice");
  return { acknowledgement: payload };
}

// --- Access request (the site's side) ---------------------------------------------------------------------

async function verifyAccessRequest(inputs) {
  const { audience, now, max_skew: skew } = inputs;
  const { payload, subject } = await openToken(inputs.token, "vault-access+jwt");
  exactMembers(payload, ["iss", "sub", "aud", "iat", "exp", "jti", "purposes"]);
  require(isString(payload.iss, 128) && isString(payload.sub, 128) && isString(payload.aud, 300), "malformed");
  require(isNumericDate(payload.iat) && isNumericDate(payload.exp) && JTI.test(payload.jti), "malformed");
  require(isIdList(payload.purposes, 32, PURPOSE_ID), "malformed"); // distinct; empty asks about every one

  require(payload.iss === subject && payload.sub === subject, "wrong_issuer"); // 1
  require(payload.aud === audience, "wrong_audience"); // 2
  require(payload.iat <= now + skew, "not_yet_valid"); // 3
  require(payload.iat < payload.exp && payload.exp <= payload.iat + 600, "bad_lifetime"); // 4
  require(payload.exp + skew > now, "expired"); // 5
  const replayKey = `access.${subject.slice(THUMBPRINT_URI.length)}.${payload.jti}`;
  require(!inputs.seen.some((record) => record.key === replayKey && record.expires_at > now), "replayed"); // 6
  return { subject, jti: payload.jti, purposes: payload.purposes, issued_at: payload.iat };
}

// --- Access statement (the vault's side) -------------------------------------------------------------------

function checkHolding(holding) {
  exactMembers(holding, ["purpose", "claims", "since", "until", "recipients", "presentations"], ["values"]);
  require(typeof holding.purpose === "string" && PURPOSE_ID.test(holding.purpose), "malformed");
  require(isIdList(holding.claims, 32, CLAIM_NAME) && holding.claims.length >= 1, "malformed");
  require(isNumericDate(holding.since) && isNumericDate(holding.until), "malformed");
  require(holding.since <= holding.until, "malformed");
  require(isIdList(holding.recipients, MAX_THIRD_PARTIES, PURPOSE_ID), "malformed");
  require(isIdList(holding.presentations, 64, JTI), "malformed");
  if ("values" in holding) {
    require(isObject(holding.values), "malformed");
    for (const [name, value] of Object.entries(holding.values)) {
      // Only for claims the holding lists, and shaped as a presentation's claim values.
      require(holding.claims.includes(name) && isClaimValue(value), "malformed");
    }
  }
}

async function verifyAccessStatement(inputs) {
  const { payload } = await openToken(inputs.token, "vault-access-statement+jwt", inputs.site_key, MAX_STATEMENT);
  exactMembers(payload, ["iss", "aud", "iat", "request", "holdings"], ["messages"]);
  require(isString(payload.iss, 300) && isString(payload.aud, 128) && isNumericDate(payload.iat), "malformed");
  require(typeof payload.request === "string" && JTI.test(payload.request), "malformed");
  require(Array.isArray(payload.holdings) && payload.holdings.length <= 32, "malformed");
  payload.holdings.forEach(checkHolding);
  require(isDistinct(payload.holdings.map((holding) => holding.purpose)), "malformed"); // one per purpose
  require(!("messages" in payload) || isCarried(payload.messages), "malformed");
  const sent = payloadOf(inputs.request);
  require(payload.iss === sent.aud, "wrong_issuer"); // 1
  require(payload.aud === sent.sub, "wrong_audience"); // 2
  require(payload.iat <= inputs.now + inputs.max_skew, "not_yet_valid"); // 3
  const asked = sent.purposes;
  const outside = asked.length > 0 && payload.holdings.some((holding) => !asked.includes(holding.purpose));
  const answers = payload.request === sent.jti && payload.iat + inputs.max_skew >= sent.iat && !outside;
  require(answers, "wrong_request"); // 4
  return { statement: payload };
}

// --- Site message (the vault's side) -----------------------------------------------------------------------

const KINDS = ["proposal", "change", "deletion", "breach"];
// "Plain text": bidirectional controls and the line / paragraph separators, then any other control,
// surrogate, private-use or unassigned code point (a line feed is allowed in the body only).
const TRICKY = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;
const NOT_TEXT = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}]/u;
const EDGE_SPACE = /^\p{White_Space}|\p{White_Space}$/u;
// A URL on the site's own origin: the origin followed by an absolute path (no query, no fragment).
const SITE_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;
const isSiteUrl = (url, origin) => url.startsWith(origin + "/") && SITE_PATH.test(url.slice(origin.length));

function isPlainText(text, min, max, multiline) {
  if (!isSized(text, min, max) || TRICKY.test(text) || EDGE_SPACE.test(text)) return false;
  return !NOT_TEXT.test(multiline ? text.replaceAll("\n", "") : text);
}

async function verifyMessage(inputs) {
  const { payload } = await openToken(inputs.token, "vault-message+jwt", inputs.site_key);
  exactMembers(payload, ["iss", "aud", "iat", "exp", "jti", "kind", "title", "body"], ["purpose", "effective_at", "claims", "url"]);
  require(isString(payload.iss, 300) && isString(payload.aud, 128), "malformed");
  require(isNumericDate(payload.iat) && isNumericDate(payload.exp) && JTI.test(payload.jti), "malformed");
  require(KINDS.includes(payload.kind), "malformed");
  require(isPlainText(payload.title, 1, 100, false) && isPlainText(payload.body, 1, 1000, true), "malformed");
  require(!("purpose" in payload) || (typeof payload.purpose === "string" && PURPOSE_ID.test(payload.purpose)), "malformed");
  require(!("effective_at" in payload) || isNumericDate(payload.effective_at), "malformed");
  require(!("claims" in payload) || isIdList(payload.claims, 32, CLAIM_NAME), "malformed");
  require(!("url" in payload) || isUrl(payload.url), "malformed");
  require(payload.iat < payload.exp && payload.exp <= payload.iat + 30 * 86400, "malformed"); // no reason of its own
  if (payload.kind === "proposal") {
    // The purpose offered, and the page on the site itself where the user can accept it.
    require("purpose" in payload && "url" in payload, "malformed");
    require(isSiteUrl(payload.url, payload.iss), "malformed");
  }
  require(payload.kind !== "change" || "effective_at" in payload, "malformed");
  require(payload.iss === inputs.origin, "wrong_issuer"); // 1
  require(payload.aud === inputs.subject, "wrong_audience"); // 2
  require(payload.iat <= inputs.now + inputs.max_skew, "not_yet_valid"); // 3
  require(payload.exp + inputs.max_skew > inputs.now, "expired"); // 4
  return { message: payload };
}

// --- Site manifest ------------------------------------------------------------------------------------------

// An origin (Conventions): https with a lower-case host of non-empty labels (no default port written), or
// http on a loopback host.
function isOrigin(text) {
  const match = /^https:\/\/([a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*)(?::([1-9][0-9]{0,4}))?$/.exec(text);
  if (match) return match[2] === undefined || (Number(match[2]) <= 65535 && match[2] !== "443");
  return /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:[1-9][0-9]{0,4})?$/.test(text);
}

// An absolute https (or loopback http) URL without spaces: an origin, then nothing or a path.
function isUrl(text) {
  if (typeof text !== "string" || text.length < 8 || text.length > 2048) return false;
  const scheme = text.indexOf("://");
  const pathStart = scheme < 0 ? -1 : text.indexOf("/", scheme + 3);
  const origin = pathStart < 0 ? text : text.slice(0, pathStart);
  return isOrigin(origin) && /^[\x21-\x7e]*$/.test(text.slice(origin.length));
}

const isSized = (value, min, max) => typeof value === "string" && [...value].length >= min && [...value].length <= max;

function checkThirdParty(party, declared, countries) {
  exactMembers(party, ["id", "name", "role", "country", "privacy_policy", "claims", "required", "why"]);
  require(typeof party.id === "string" && PURPOSE_ID.test(party.id), "invalid");
  require(isSized(party.name, 1, 200) && isSized(party.why, 1, 500), "invalid");
  require(RECIPIENT_ROLES.includes(party.role), "invalid");
  require(countries.has(party.country), "invalid"); // ISO 3166-1 alpha-2, upper case
  require(isUrl(party.privacy_policy), "invalid");
  require(typeof party.required === "boolean", "invalid");
  require(isIdList(party.claims, 32, CLAIM_NAME) && party.claims.length >= 1, "invalid");
  require(party.claims.every((name) => declared.has(name)), "invalid"); // only claims the purpose asks for
}

function checkPurpose(purpose, countries) {
  const members = ["id", "title", "description", "benefit", "concept", "claims", "retention", "third_parties"];
  exactMembers(purpose, members);
  require(typeof purpose.id === "string" && PURPOSE_ID.test(purpose.id), "invalid");
  require(isSized(purpose.title, 1, 120) && isSized(purpose.description, 1, 2000), "invalid");
  require(isSized(purpose.benefit, 1, 1000), "invalid");
  require(isSized(purpose.concept, 1, 128) && DPV.test(purpose.concept), "invalid");
  require(isSized(purpose.retention, 1, 40) && DURATION.test(purpose.retention), "invalid");
  const claims = purpose.claims;
  require(Array.isArray(claims) && claims.length >= 1 && claims.length <= 32, "invalid");
  for (const request of claims) {
    exactMembers(request, ["name", "required", "why"]);
    require(typeof request.name === "string" && request.name.length <= 64 && CLAIM_NAME.test(request.name), "invalid");
    require(typeof request.required === "boolean" && isSized(request.why, 1, 500), "invalid");
  }
  const declared = new Set(claims.map((request) => request.name));
  require(declared.size === claims.length, "invalid");
  const parties = purpose.third_parties;
  require(Array.isArray(parties) && parties.length <= MAX_THIRD_PARTIES, "invalid");
  for (const party of parties) checkThirdParty(party, declared, countries);
  require(isDistinct(parties.map((party) => party.id)), "invalid"); // unique within the purpose
}

async function verifyManifest(inputs, countries) {
  const text = inputs.manifest;
  require(Buffer.byteLength(text, "utf8") <= 65536, "invalid");
  let manifest;
  try {
    manifest = strictJson(Buffer.from(text, "utf8"));
    const members = ["version", "origin", "controller", "site_key", "revocation_endpoint", "purposes"];
    exactMembers(manifest, members, ["access_endpoint"]);
    exactMembers(manifest.controller, ["name", "contact", "privacy_policy"]);
    exactMembers(manifest.site_key, ["kty", "crv", "x"]);
  } catch (error) {
    if (error instanceof Refused) refuse("invalid");
    throw error;
  }
  require(manifest.version === 1 && typeof manifest.origin === "string" && isOrigin(manifest.origin), "invalid");
  const { controller, site_key: siteKey } = manifest;
  require(isSized(controller.name, 1, 200) && isSized(controller.contact, 1, 320), "invalid");
  require(isUrl(controller.privacy_policy), "invalid");
  require(siteKey.kty === "OKP" && siteKey.crv === "Ed25519" && /^[A-Za-z0-9_-]{43}$/.test(siteKey.x), "invalid");
  try {
    await importJWK({ kty: "OKP", crv: "Ed25519", x: siteKey.x }, "EdDSA");
  } catch {
    refuse("invalid");
  }
  const endpoint = manifest.revocation_endpoint;
  require(isUrl(endpoint) && isSiteUrl(endpoint, manifest.origin), "invalid"); // on its own origin
  const access = manifest.access_endpoint; // optional, and on the manifest's own origin too
  require(access === undefined || (isUrl(access) && isSiteUrl(access, manifest.origin)), "invalid");
  const purposes = manifest.purposes;
  require(Array.isArray(purposes) && purposes.length >= 1 && purposes.length <= 32, "invalid");
  try {
    for (const purpose of purposes) checkPurpose(purpose, countries);
  } catch (error) {
    if (error instanceof Refused) refuse("invalid");
    throw error;
  }
  require(isDistinct(purposes.map((purpose) => purpose.id)), "invalid");
  return { purpose_digests: Object.fromEntries(purposes.map((purpose) => [purpose.id, purposeDigest(purpose)])) };
}

// --- Pairwise keys ----------------------------------------------------------------------------------------

const ORIGIN = /^(https:\/\/[a-z0-9.-]+(:[0-9]+)?|http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?)$/;

// SPEC.md, "Contexts and identities": a context's own identity label.
const IDENTITY = /^[a-z0-9][a-z0-9-]{0,63}$/;

async function derivePairwiseKey({ master_seed: masterSeed, origin, epoch, identity }) {
  require(ORIGIN.test(origin) && Number.isInteger(epoch) && epoch >= 0 && epoch < 2 ** 32, "refused");
  require(identity === undefined || (typeof identity === "string" && IDENTITY.test(identity)), "refused");
  const encoded = Buffer.from(origin, "utf8");
  const shared = Buffer.alloc(2 + encoded.length + 4);
  shared.writeUInt16BE(encoded.length, 0);
  encoded.copy(shared, 2);
  shared.writeUInt32BE(epoch, 2 + encoded.length);
  // With an identity: "identity", its length in one byte, its ASCII bytes; without one, the info as before.
  const info =
    identity === undefined
      ? shared
      : Buffer.concat([shared, Buffer.from("identity", "ascii"), Buffer.from([identity.length]), Buffer.from(identity, "ascii")]);
  const seed = Buffer.from(hkdfSync("sha256", Buffer.from(masterSeed, "hex"), "vault/pairwise-ed25519/v1", info, 32));
  // An RFC 8032 seed as PKCS #8 (RFC 8410): the fixed Ed25519 prefix, then the 32 bytes.
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const { kty, crv, x } = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ format: "jwk" });
  const thumbprint = await calculateJwkThumbprint({ kty, crv, x }, "sha256");
  return {
    info: info.toString("hex"),
    private_seed: seed.toString("hex"),
    public_jwk: { kty, crv, x },
    thumbprint,
    subject: THUMBPRINT_URI + thumbprint,
  };
}

// --- Running the vectors ----------------------------------------------------------------------------------

function readCountries(protocolDir) {
  // SPEC.md: "countries.py beside this document lists them" (the upper-case pairs of its table).
  const source = readFileSync(join(protocolDir, "countries.py"), "utf8");
  const table = source.slice(source.indexOf('"""', source.indexOf("frozenset(")));
  return new Set(table.match(/\b[A-Z]{2}\b/g));
}

async function runFolder(protocolDir, folder, verify) {
  const results = [];
  for (const file of readdirSync(join(protocolDir, folder)).filter((name) => name.endsWith(".json")).sort()) {
    const item = JSON.parse(readFileSync(join(protocolDir, folder, file), "utf8"));
    try {
      results.push({ folder, name: item.name, outcome: "valid", ...(await verify(item.inputs)) });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      results.push({ folder, name: item.name, outcome: error.reason });
    }
  }
  return results;
}

const protocolDir = process.argv[2];
const countries = readCountries(protocolDir);
const types = claimTypes(countries);
const results = [
  ...(await runFolder(protocolDir, "vectors", (inputs) => verifyPresentation(inputs, types))),
  ...(await runFolder(protocolDir, "vectors_notice", verifyNotice)),
  ...(await runFolder(protocolDir, "vectors_acknowledgement", verifyAcknowledgement)),
  ...(await runFolder(protocolDir, "vectors_revocation_ack", verifyRevocationAck)),
  ...(await runFolder(protocolDir, "vectors_pairwise_key", derivePairwiseKey)),
  ...(await runFolder(protocolDir, "vectors_manifest", (inputs) => verifyManifest(inputs, countries))),
  ...(await runFolder(protocolDir, "vectors_access_request", verifyAccessRequest)),
  ...(await runFolder(protocolDir, "vectors_access_statement", verifyAccessStatement)),
  ...(await runFolder(protocolDir, "vectors_message", verifyMessage)),
];
process.stdout.write(JSON.stringify(results));
