"""`vault ledger` in words: one line for each entry, from its record. An entry this version cannot read is
left blank (`vault ledger --json` shows its body as it is)."""

from collections.abc import Iterable, Mapping

from vault.cli.context import when
from vault.consent.access_compare import claim_label
from vault.consent.ledger import Entry
from vault.consent.ledger_records import (
    AccessAnswered,
    AccessRequested,
    AccessUnanswered,
    Acknowledged,
    BrokenPromise,
    ConsentRevoked,
    ContextChanged,
    Decided,
    DecisionChanged,
    Disclosed,
    Forgotten,
    MessageReceived,
    NoticeAcknowledged,
    NoticeDelivered,
    NoticeNotDelivered,
    NoticeQueued,
    RecipientDecided,
    Record,
    RecordInvalid,
    RuleAdded,
    RuleRemoved,
    SiteChanged,
)
from vault.consent.sites import stored_manifest
from vault.store import Vault
from vault.store.migration_contexts import DEFAULT_CONTEXT
from vault.words import count


def purpose_titles(vault: Vault, origins: Iterable[str | None]) -> dict[tuple[str, str], str]:
    """(origin, purpose id) -> the purpose's title in the site's stored manifest, for people; an id whose
    purpose the manifest no longer has is shown as it is."""
    titles: dict[tuple[str, str], str] = {}
    for origin in {o for o in origins if o}:
        manifest = stored_manifest(vault, origin)
        if manifest is not None:
            titles |= {(origin, p.id): p.title for p in manifest.purposes}
    return titles


def value_words(value: object) -> str:
    """A claim's value for people: yes/no, lists as `a, b`, nothing as a dash."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(map(value_words, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_words(v)}" for k, v in value.items())
    return str(value)


def summary(entry: Entry, names: Mapping[str, str] | None = None) -> str:
    """One entry in words; `names`: context id -> name (contexts.names), for the entries that name one."""
    try:
        record = entry.record
    except RecordInvalid:
        return ""  # not a record this version knows; `vault ledger --json` shows the body as it is
    names = names or {}
    if isinstance(record, ContextChanged):
        return context_words(record, names)
    words = _record_words(record)
    words = words[:1].upper() + words[1:]  # a sentence for people
    # Everyday is named nowhere: it is the only context most people have, and every entry from before
    # contexts existed was made in it.
    context = getattr(record, "context", None)
    if words and context is not None and context != DEFAULT_CONTEXT:
        words += f" (in {names.get(context, context)})"
    return words


def context_words(record: ContextChanged, names: Mapping[str, str]) -> str:
    identity = "its own identity" if record.separate_identity else "the shared identity"
    gpc = "" if record.gpc else ", GPC off"
    match record.action:
        case "added":
            copied = (
                ""
                if record.copied_from is None
                else f"a copy of {names.get(record.copied_from, record.copied_from)}, "
            )
            return f"Added the context {record.name} ({copied}{identity}{gpc})"
        case "renamed":
            return f"Renamed the context {record.old_name} to {record.name}"
        case "removed":
            return f"Removed the context {record.name}"
    return f"Changed the context {record.name}: {identity}, GPC {'on' if record.gpc else 'off'}"


def _record_words(record: Record) -> str:
    match record:
        case Disclosed(claims=claims, recipients=recipients):
            shared = "; ".join(f"{claim_label(k)}: {value_words(v)}" for k, v in claims.items())
            return f"shared {shared}" + (f"; may pass on to {', '.join(recipients)}" if recipients else "")
        case Decided(claim=claim, effect=effect, mode=mode, expires_at=expires_at):
            verb = "agreed to share" if effect == "allow" else "refused to share"
            return f"{verb} {claim_label(claim)}, {_mode(mode, expires_at)}"
        case Acknowledged(keep_until=keep_until, recipients=recipients):
            passed = f"; passed on to {', '.join(recipients)}" if recipients else ""
            return f"the site keeps it until {when(keep_until)}{passed}"
        case RecipientDecided(recipient=recipient, effect=effect, mode=mode, expires_at=expires_at):
            verb = "agreed" if effect == "allow" else "refused"
            return f"{verb} to let the site pass it on to {recipient}, {_mode(mode, expires_at)}"
        case DecisionChanged(claim=claim, recipient=recipient, effect=effect):
            what = claim_label(claim) if claim else f"passing it on to {recipient}"
            if effect == "forgotten":
                return f"forgot the remembered answer about {what}"
            return f"changed the remembered answer about {what} to {'yes' if effect == 'allow' else 'no'}"
        case RuleAdded(rule=rule, target=target):
            return f"added the rule: {_rule_words(rule, target)}"
        case RuleRemoved(rule=rule, target=target):
            return f"removed the rule: {_rule_words(rule, target)}"
        case ConsentRevoked(claim=claim, recipient=recipient, decisions=decisions):
            what = f" to share {claim_label(claim)}" if claim else ""
            whom = f" to pass it on to {recipient}" if recipient else ""
            answers = f" ({count(decisions, 'remembered answer')})" if decisions else ""
            return f"took back consent{what}{whom}{answers}"
        case NoticeQueued(
            presentations=presentations, erasure=erasure, claims=claims, site=site, recipients=to
        ):
            # From the site alone (every notice before third parties): said as it always was.
            whom = "" if site and not to else " from " + ", ".join((["the site"] if site else []) + list(to))
            what = f" ({', '.join(map(claim_label, claims))})" if claims else ""
            withdrawn = f"withdrew {count(len(presentations), 'disclosure')}{what}{whom}"
            return withdrawn + (", and asked for erasure" if erasure else "")
        case NoticeAcknowledged(erased=erased, recipients=answers):
            told = "".join(f"; {a.id}: {a.outcome.replace('_', ' ')}" for a in answers)
            return ("the site erased its copy" if erased else "the site confirmed") + told
        case BrokenPromise(recipients=recipients):
            return f"the site says it passed it to {', '.join(recipients)}, which you did not allow"
        case NoticeDelivered(attempt=attempt):
            return f"delivered at attempt {attempt}"
        case NoticeNotDelivered(attempt=attempt, error=error):
            return f"attempt {attempt} failed ({error})" if error else f"attempt {attempt} failed"
        case Forgotten():
            return "forgot you at this site: it knows you by a new identity from now on"
        case SiteChanged(field=field, before=before, after=after):
            return f"the site's {field.replace('_', ' ')} changed from {before} to {after}"
        case AccessRequested(reason="retention_end", presentations=presentations):
            return f"asked the site to confirm it no longer holds {count(len(presentations), 'disclosure')}"
        case AccessRequested():
            return "asked the site what it holds"
        case AccessAnswered(discrepancies=found) | AccessUnanswered(discrepancies=found) if found:
            head = "no answer" if isinstance(record, AccessUnanswered) else "the site answered"
            return f"{head}: " + " ".join(d.text for d in found)
        case AccessAnswered():
            return "the site answered; nothing differs from what it was given"
        case AccessUnanswered(attempts=attempts, error=error):
            return f"no answer after {count(attempts, 'attempt')} ({error})"
        case MessageReceived(message_kind=kind, via=via):
            return f"{MESSAGE_WORDS.get(kind, kind)} received" + ("" if via == "page" else f" with its {via}")
    return ""


MESSAGE_WORDS = {
    "proposal": "a proposal",
    "change": "a change notice",
    "deletion": "a deletion confirmation",
    "breach": "a breach notice",
}


def _mode(mode: str, expires_at: int | None) -> str:
    if mode != "remember":
        return "this once"
    return "remembered" if expires_at is None else f"remembered until {when(expires_at)}"


def _rule_words(rule: str, target: str) -> str:
    match rule:
        case "never":
            return f"never share {claim_label(target)}"
        case "ask":
            return f"always ask before sharing {claim_label(target)}"
        case "deny_concept":
            return f"refuse every purpose of the kind {target}"
        case "remember":
            return f"remembered answers may cover {claim_label(target)}"
    return f"{rule.replace('_', ' ')} {target}"
