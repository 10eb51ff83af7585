"""The complaint draft in words (Markdown), for the user to complete, sign and send to their data
protection authority, with the JSON bundle (vault.consent.complaint) attached as the evidence.

Every string the site wrote (its controller's name, purpose titles, message titles) is the site's: it is
escaped, so it reads as text and cannot add links, headings or tables to the user's letter.
"""

import datetime as dt
import re
from typing import Any

from vault.consent.complaint import Complaint
from vault.protocol.jws import recorded_payload
from vault.protocol.manifest import Manifest
from vault.words import count

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+|!~])")
RECIPIENT_OUTCOMES = {
    "erased": "erased it",
    "not_held": "never held it",
    "forwarded": "was told, no answer yet",
}


def md(text: object) -> str:
    """Site-written text as one line of literal Markdown text."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def day(timestamp: int) -> str:
    """A date as people write it: 3 March 2027 (UTC)."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return f"{moment.day} {moment.strftime('%B %Y')}"


def moment(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def purpose_title(manifest: Manifest, purpose_id: str | None) -> str:
    purpose = None if purpose_id is None else manifest.purpose(purpose_id)
    return f"“{md(purpose.title)}”" if purpose is not None else f"purpose {md(purpose_id)}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _claims(claims: dict[str, Any]) -> str:
    return "; ".join(f"{md(name)} = {md(_value(value))}" for name, value in claims.items())


def _payload(token: str) -> dict[str, Any]:
    """A recorded token's payload, unverified (check-report verifies every token in a bundle)."""
    return recorded_payload(token) or {}


def _event(item: dict[str, Any], manifest: Manifest) -> str | None:
    """One line of the timeline for one piece of evidence (None: shown elsewhere)."""
    kind, record, title = item["kind"], item["record"], purpose_title(manifest, item.get("purpose"))
    if kind == "disclosure":
        allowed = ", ".join(md(r) for r in record.get("recipients", {})) or "nobody"
        return (
            f"I shared, for {title}: {_claims(record['claims'])}. It may keep this until "
            f"{day(record['keep_until'])} (retention {md(record['retention'])}); it may pass it on to: "
            f"{allowed}."
        )
    if kind == "acknowledgement":
        passed = ", ".join(md(r) for r in record.get("recipients", ())) or "nobody"
        return (
            f"The site acknowledged (signed) receiving {', '.join(md(c) for c in record['claims'])} for "
            f"{title}, promising to keep it until {day(record['keep_until'])}; it says it passed it to: "
            f"{passed}."
        )
    if kind == "broken_promise":
        return (
            f"The site's signed acknowledgement names third parties I did not allow for {title}: "
            f"{', '.join(md(r) for r in record['recipients'])}."
        )
    if kind == "revocation":
        scope = f" (only {', '.join(md(c) for c in record['claims'])})" if record.get("claims") else ""
        erase = " and asked the site to erase it" if record.get("erasure") else ""
        return (
            f"I withdrew my consent for {title}{scope}, covering "
            f"{count(len(record['presentations']), 'disclosure')}, in a notice I signed{erase}."
        )
    if kind == "delivery":
        if record.get("outcome") == "delivered":
            return f"My notice {md(item['ref'])} was delivered (attempt {record['attempt']})."
        times = f"{record['attempt']} times" if record["attempt"] > 1 else "once"
        failed = f"failed {times} (the last time: {md(record['error'])})"
        return f"Delivering my notice {md(item['ref'])} {failed}."
    if kind == "delivery_ack":
        erased = "says it erased the data" if record.get("erased") else "says it did NOT erase the data"
        parties = "".join(
            f"; {md(r['id'])} {RECIPIENT_OUTCOMES.get(r['outcome'], md(r['outcome']))}"
            for r in record.get("recipients", ())
        )
        return f"The site answered my notice {md(item['ref'])} (signed): it {erased}{parties}."
    if kind == "site_changed":
        return (
            f"The site changed its {md(record['field'])} from {md(record['before'])} "
            f"to {md(record['after'])}."
        )
    if kind == "access_request":
        why = "its retention had ended" if record.get("reason") == "retention_end" else "I wanted to know"
        return f"I asked the site what it holds about me (signed request; {why})."
    if kind == "access_answer":
        holdings = _payload(record["token"]).get("holdings", [])
        held = "; ".join(
            f"{md(h.get('purpose'))}: {', '.join(md(c) for c in h.get('claims', []))} until "
            f"{day(h['until']) if isinstance(h.get('until'), int) else '-'}"
            + (f", passed to {', '.join(md(r) for r in h['recipients'])}" if h.get("recipients") else "")
            for h in holdings
            if isinstance(h, dict)
        )
        found = len(record.get("discrepancies", []))
        return f"The site answered (signed statement): it holds {held or 'nothing'}. Discrepancies: {found}."
    if kind == "access_unanswered":
        attempts, error = record["attempts"], md(record["error"])
        return f"The site did not answer my access request after {attempts} attempts ({error})."
    if kind == "message":
        payload = _payload(record["token"])
        title = md(payload.get("title", ""))
        return f"The site sent me a signed {md(record['message_kind'])} message: “{title}”."
    return None


def _declared(complaint: Complaint) -> list[str]:
    lines = []
    for version, manifest in complaint.versions:
        lines.append(
            f"- Version `{version.digest[:12]}`, first seen {moment(version.first_seen)}, last seen "
            f"{moment(version.last_seen)}; controller {md(manifest.controller.name)}:"
        )
        for purpose in manifest.purposes:
            claims = ", ".join(md(c.name) + ("" if c.required else " (optional)") for c in purpose.claims)
            lines.append(
                f"  - {md(purpose.title)} (`{purpose.id}`, {md(purpose.concept)}): asks for {claims}; "
                f"kept for {md(purpose.retention)}."
            )
            for party in purpose.third_parties:
                lines.append(
                    f"    - passed to {md(party.name)} (`{party.id}`, {md(party.role)}, "
                    f"{md(party.country)}): "
                    f"{', '.join(md(c) for c in party.claims)}"
                )
    return lines


def _counts(bundle: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in bundle["evidence"]:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    return counts


def render(complaint: Complaint, bundle_name: str) -> str:
    bundle, manifest = complaint.bundle, complaint.manifest
    controller = manifest.controller
    lines = [
        f"# Complaint about {md(controller.name)} ({bundle['origin']})",
        "",
        f"*Draft prepared on {day(bundle['generated_at'])} from my personal data vault. Read it, complete "
        "the blanks, and sign it before sending it to your data protection authority.*",
        "",
        "To: the data protection authority ______________________________",
        "",
        "## The controller",
        "",
        f"- Name: {md(controller.name)}",
        f"- Contact: {md(controller.contact)}",
        f"- Privacy policy: {md(controller.privacy_policy)}",
        f"- Website: {bundle['origin']}",
        "",
        "## Who I am at this site",
        "",
        "The site knows me only by a pseudonymous identifier (a key of my own that I use with this site "
        f"alone): `{bundle['subject']}`. Every signed item in the evidence is addressed to it or signed "
        "with it, so the controller can find my records with it.",
    ]
    if complaint.other_identities:
        others = count(complaint.other_identities, "other identity", "other identities", spelled=True)
        lines += [
            "",
            f"(The vault also holds evidence under {others} at this site. It is left out so that this "
            "complaint does not tell the site they are the same person.)",
        ]
    lines += ["", "## What the site declared", "", *_declared(complaint)]
    lines += ["", "## Timeline", ""]
    # A site that stays unreachable fails every retry: one line per notice, at its latest failure.
    last_failure = {
        item["ref"]: n
        for n, item in enumerate(bundle["evidence"])
        if item["kind"] == "delivery" and item["record"].get("outcome") == "failed"
    }
    for n, item in enumerate(bundle["evidence"]):
        failure = item["kind"] == "delivery" and item["record"].get("outcome") == "failed"
        text = None if failure and last_failure[item["ref"]] != n else _event(item, manifest)
        if text is not None:
            lines.append(f"- {moment(item['at'])}: {text}")
    lines += ["", "## What is wrong", ""]
    if bundle["discrepancies"]:
        lines += ["As my vault found them (“you” is me):", ""]
        for n, found in enumerate(bundle["discrepancies"], 1):
            lines.append(f"{n}. {md(found['text'])} (found {day(found['at'])})")
    else:
        lines.append("The vault found no discrepancy itself; my own statement below says what is wrong.")
    lines += [
        "",
        "## What I ask for",
        "",
        "- That you examine whether the controller processes my personal data lawfully, in line with what "
        "it declared and with my consent as I gave and withdrew it.",
        "- That the controller erases what it holds without my consent or beyond the retention it promised, "
        "and confirms this to me.",
        "- That the controller tells me what it holds about me and to whom it passed it.",
        "- ______________________________ (anything else you ask for)",
    ]
    if bundle.get("note"):
        paragraphs = [md(p) for p in re.split(r"\n\s*\n", bundle["note"]) if p.strip()]
        lines += ["", "## My own statement", "", "\n\n".join(paragraphs)]
    lines += [
        "",
        "## Signature",
        "",
        "Name: ______________________________",
        "",
        "Address: ______________________________",
        "",
        "Date: ______________  Signature: ______________________________",
        "",
        "## Evidence attached",
        "",
        f"`{bundle_name}` holds, as my vault recorded them:",
    ]
    counts = _counts(bundle)
    versions = count(len(bundle["manifests"]), "version", "versions")
    lines.append(f"- {versions} of the site's manifest, with its signing keys;")
    for kind in EVIDENCE_WORDS:
        if counts.get(kind):
            lines.append(f"- {evidence_words(kind, counts[kind])};")
    lines.append(
        f"- {len(bundle['ledger']['entries'])} entries of my vault's tamper-evident ledger, "
        "with their hashes."
    )
    for attachment in bundle.get("attachments", []):
        lines.append(
            f"- my own file {md(attachment['name'])} ({attachment['bytes']} bytes, SHA-256 "
            f"{attachment['sha256']})."
        )
    lines += [
        "",
        "Anyone can check every signature in it, and the ledger hashes, with the free `vault` program: "
        f"`vault check-report {bundle_name}` (no vault or password needed).",
        "",
    ]
    return "\n".join(lines)


# kind -> (one, several): what each kind of evidence is, in words.
EVIDENCE_WORDS = {
    "disclosure": ("record of what I shared", "records of what I shared", "with the values sent"),
    "acknowledgement": ("acknowledgement", "acknowledgements", "signed by the site"),
    "broken_promise": (
        "signed acknowledgement",
        "signed acknowledgements",
        "naming third parties I did not allow",
    ),
    "notice": (
        "withdrawal or erasure notice",
        "withdrawal or erasure notices",
        "signed by me, with their delivery state",
    ),
    "delivery_ack": ("answer to my notices", "answers to my notices", "signed by the site"),
    "access_answer": ("statement of what it holds", "statements of what it holds", "signed by the site"),
    "access_unanswered": ("access request left unanswered", "access requests left unanswered", ""),
    "message": ("message", "messages", "signed by the site"),
}


def evidence_words(kind: str, n: int, *, spelled: bool = False) -> str:
    one, several, rest = EVIDENCE_WORDS[kind]
    return count(n, one, several, spelled=spelled) + (f" {rest}" if rest else "")
