// Plain words for the things the pages show: durations, dates, claim names and values. Pure functions
// (tests/extension/unit/format.test.mjs runs them in Node).

const UNITS = { Y: ["year", "years"], M: ["month", "months"], W: ["week", "weeks"], D: ["day", "days"] };
const TIME_UNITS = { H: ["hour", "hours"], M: ["minute", "minutes"], S: ["second", "seconds"] };

function listWords(parts) {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

// "P30D" -> "30 days", "P1Y6M" -> "1 year and 6 months", "PT12H" -> "12 hours". Unknown forms are
// returned as they are: better the site's own words than a wrong translation.
export function retentionWords(duration) {
  const match = /^P(?:(\d+)W|(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)$/.exec(duration ?? "");
  if (!match || duration === "P" || duration.endsWith("T")) return String(duration ?? "");
  const [, weeks, years, months, days, hours, minutes, seconds] = match;
  const parts = [];
  const add = (value, [one, many]) => {
    if (value === undefined) return;
    const n = Number(value);
    parts.push(`${n} ${n === 1 ? one : many}`);
  };
  add(weeks, UNITS.W);
  add(years, UNITS.Y);
  add(months, UNITS.M);
  add(days, UNITS.D);
  add(hours, TIME_UNITS.H);
  add(minutes, TIME_UNITS.M);
  add(seconds, TIME_UNITS.S);
  return listWords(parts);
}

const CLAIM_LABELS = {
  age_range: "Age range",
  "location.country": "Country",
  "location.region": "Region",
  "location.postal_prefix": "Start of your postal code",
  "location.postal_code": "Postal code",
  interests: "Interests",
  "sizes.shoe": "Shoe size",
  "sizes.clothing": "Clothing size",
  languages: "Languages",
  diet: "Diet",
  accessibility: "Accessibility needs",
  email: "Email address",
  given_name: "Given name",
  family_name: "Family name",
};

// "age_over_18" -> "18 or older", "sizes.shoe" -> "Shoe size", "custom.pet_name" -> "Pet name".
export function claimLabel(name) {
  const age = /^age_over_(\d+)$/.exec(name);
  if (age) return `${age[1]} or older`;
  if (Object.hasOwn(CLAIM_LABELS, name)) return CLAIM_LABELS[name];
  const last = String(name).split(".").at(-1).replace(/_/g, " ");
  return last.charAt(0).toUpperCase() + last.slice(1);
}

// The value exactly as it would be sent, readable: true -> "Yes", ["jazz", "hiking"] -> "jazz, hiking".
export function valueText(value) {
  if (value === true) return "Yes";
  if (value === false) return "No";
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// An extra hint for a value that is a code: "NL" -> "Netherlands".
export function valueHint(claim, value) {
  if (claim === "location.country" && typeof value === "string") {
    try {
      const name = new Intl.DisplayNames(["en"], { type: "region" }).of(value);
      return name && name !== value ? name : "";
    } catch {
      return "";
    }
  }
  return "";
}

// Unix seconds -> "21 Sep 2026" (or with the time).
export function dateText(seconds, { time = false } = {}) {
  if (typeof seconds !== "number") return "";
  const options = { day: "numeric", month: "short", year: "numeric" };
  if (time) Object.assign(options, { hour: "2-digit", minute: "2-digit" });
  return new Intl.DateTimeFormat("en-GB", options).format(new Date(seconds * 1000));
}

// "https://shop.example:8443" -> "shop.example:8443"
export function siteName(origin) {
  try {
    return new URL(origin).host;
  } catch {
    return String(origin);
  }
}

// Unix seconds -> "14:05"
export function timeText(seconds) {
  if (typeof seconds !== "number") return "";
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" }).format(new Date(seconds * 1000));
}

// "the vault is locked" -> "The vault is locked" (daemon messages start in lower case).
export function sentence(text) {
  const value = String(text ?? "");
  return value.charAt(0).toUpperCase() + value.slice(1);
}

// The prompt's one-line summary of how long and with whom: "Kept 30 days · shared with 2 third parties".
export function keptAndSharedWords(retention, thirdParties = []) {
  const n = thirdParties.length;
  const shared = n === 0 ? "no third parties" : `shared with ${n} third ${n === 1 ? "party" : "parties"}`;
  return `Kept ${retentionWords(retention)} · ${shared}`;
}

// When the company behind a site changed since the user decided: "This site is now run by B (before: A)".
export function controllerChangeWords(controller, before) {
  return `This site is now run by ${controller?.name ?? "someone else"} (before: ${before?.name ?? "someone else"})`;
}
