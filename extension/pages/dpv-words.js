// The W3C Data Privacy Vocabulary (DPV) concepts the vault meets, in plain words: the purpose kinds sites
// declare (and standing rules refuse), and the roles of the third parties a purpose names. Pure (tests/
// extension/unit/dpv-words.test.mjs runs it in Node). A concept missing here is shown by its own name,
// split into words, and said to be a kind the extension has no words for: never a wrong translation.

// Purpose kinds: a short label and what it means for the user.
const PURPOSES = {
  "dpv:ProvidePersonalisedRecommendations": ["Personal recommendations", "suggestions chosen for you from what you share"],
  "dpv:ServicePersonalisation": ["Personalising the service", "the site adapts what it shows and does to you"],
  "dpv:AgeVerification": ["Checking your age", "to confirm you are old enough for something"],
  "dpv:IdentityVerification": ["Checking who you are", "to confirm you are the person you say you are"],
  "dpv:ServiceProvision": ["Providing the service", "what the site needs to do what you asked of it"],
  "dpv:CommunicationForCustomerCare": ["Writing to you as a customer", "messages about the service you use"],
  "dpv:CustomerCare": ["Customer care", "helping you when you need support"],
  "dpv:Marketing": ["Marketing", "promoting products or services to you"],
  "dpv:DirectMarketing": ["Direct marketing", "promotions sent to you personally, such as emails"],
  "dpv:Advertising": ["Advertising", "showing you adverts"],
  "dpv:TargetedAdvertising": ["Targeted advertising", "adverts chosen for you from what is known about you"],
  "dpv:PersonalisedAdvertising": ["Personalised advertising", "adverts tailored to you personally"],
  "dpv:SellDataToThirdParties": ["Selling your data", "passing your data to other companies for money"],
  "dpv:ResearchAndDevelopment": ["Research and development", "using your data to build or improve products"],
  "dpv:ServiceOptimisation": ["Improving the service", "measuring how the service is used, to make it better"],
  "dpv:FraudPreventionAndDetection": ["Preventing fraud", "spotting and stopping fraud"],
  "dpv:LegalCompliance": ["Obeying the law", "what the site must do by law"],
};

// The concepts the standing rules editor offers to refuse, most asked-for first.
export const REFUSABLE_CONCEPTS = Object.freeze([
  "dpv:TargetedAdvertising",
  "dpv:PersonalisedAdvertising",
  "dpv:Advertising",
  "dpv:DirectMarketing",
  "dpv:Marketing",
  "dpv:SellDataToThirdParties",
  "dpv:ResearchAndDevelopment",
  "dpv:ServiceOptimisation",
  "dpv:ProvidePersonalisedRecommendations",
  "dpv:ServicePersonalisation",
]);

// Third parties' roles (the manifest's `role`): who they are to the site, in words.
const ROLES = {
  "dpv:Processor": ["Processor", "works for the site, on its instructions"],
  "dpv:ThirdParty": ["Third party", "uses it for its own purposes"],
  "dpv:JointDataControllers": ["Joint controller", "decides with the site how it is used"],
};

// "dpv:SomethingNew" -> "Something new"
function splitName(concept) {
  const name = String(concept ?? "").replace(/^dpv:/, "");
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// {label, meaning, known}: "dpv:TargetedAdvertising" -> {label: "Targeted advertising", meaning: "adverts
// chosen for you ...", known: true}.
export function conceptWords(concept) {
  if (Object.hasOwn(PURPOSES, concept)) {
    const [label, meaning] = PURPOSES[concept];
    return { label, meaning, known: true };
  }
  return { label: splitName(concept), meaning: "a kind of purpose this extension has no words for yet", known: false };
}

// {label, meaning}: "dpv:Processor" -> {label: "Processor", meaning: "works for the site, on its instructions"}.
export function roleWords(role) {
  if (Object.hasOwn(ROLES, role)) {
    const [label, meaning] = ROLES[role];
    return { label, meaning };
  }
  return { label: splitName(role), meaning: "its role has no words here yet" };
}

// "IE" -> "Ireland"; an unknown code comes back as it is.
export function countryName(code) {
  try {
    const name = new Intl.DisplayNames(["en"], { type: "region" }).of(String(code));
    return name || String(code);
  } catch {
    return String(code ?? "");
  }
}

// A purpose's title from GET /v1/purposes ({origin: {id: {title, concept}}}), else its id.
export function purposeTitle(purposes, origin, id) {
  return purposes?.[origin]?.[id]?.title ?? id;
}
