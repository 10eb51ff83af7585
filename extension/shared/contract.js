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

// The profile editor's inputs, one per attribute (vault/claims/attributes.py), and what a custom
// attribute's name and value may be; the country codes the vault accepts (ISO 3166-1 alpha-2).
export const PROFILE_INPUTS = Object.freeze({"given_name": {"kind": "text", "maxLength": 100}, "family_name": {"kind": "text", "maxLength": 100}, "email": {"kind": "email"}, "birthdate": {"kind": "date", "min": "1900-01-01"}, "country": {"kind": "country"}, "region": {"kind": "text", "maxLength": 100}, "city": {"kind": "text", "maxLength": 100}, "postal_code": {"kind": "text", "maxLength": 12}, "languages": {"kind": "languages", "maxItems": 16}, "interests": {"kind": "list", "maxItems": 50, "maxLength": 40}, "sizes.shoe": {"kind": "number", "min": 15, "max": 52, "step": 0.5}, "sizes.clothing": {"kind": "choice", "choices": ["XXS", "XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL"]}, "diet": {"kind": "choices", "choices": ["vegetarian", "vegan", "pescatarian", "halal", "kosher", "gluten-free", "lactose-free", "nut-free", "low-sugar", "low-salt"], "maxItems": 10}, "accessibility": {"kind": "choices", "choices": ["screen-reader", "high-contrast", "large-text", "reduced-motion", "captions", "audio-description", "sign-language", "keyboard-only", "dyslexia-friendly", "simple-language", "wheelchair-access"], "maxItems": 11}});
export const CUSTOM_ATTRIBUTE = /^custom\.[a-z][a-z0-9_]{0,39}$/;
export const CUSTOM_INPUT = Object.freeze({"kind": "text", "maxLength": 1000});
export const COUNTRIES = Object.freeze(["AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"]);
