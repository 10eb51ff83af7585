"""`vault ledger` in words: one line for each entry, from its record. An entry this version cannot read is
left blank (`vault ledger --json` shows its body as it is)."""

from collections.abc import Iterable, Mapping

from vault.cli.context import when
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
            shared = ", ".join(f"{k}={value_words(v)}" for k, v in claims.items())
            return shared + (f"; may pass on to {', '.join(recipients)}" if recipients else "")
        case Decided(claim=claim, effect=effect, mode=mode):
            return _words("decided", claim, effect, mode)
        case Acknowledged(keep_until=keep_until, recipients=recipients):
            passed = f"; passed on to {', '.join(recipients)}" if recipients else ""
            return f"the site keeps it until {when(keep_until)}{passed}"
        case RecipientDecided(recipient=recipient, effect=effect, mode=mode):
            return _words("decided", "third party", recipient, effect, mode)
        case DecisionChanged(claim=claim, recipient=recipient, effect=effect):
            return _words("changed", claim or f"third party {recipient}", "to", effect)
        case RuleAdded(rule=rule, target=target):
            return _words("rule_added", rule, target)
        case RuleRemoved(rule=rule, target=target):
            return _words("rule_removed", rule, target)
        case ConsentRevoked(claim=claim, recipient=recipient):
            return _words("revoked", claim or "", f"third party {recipient}" if recipient else "")
        case NoticeQueued(
            presentations=presentations, erasure=erasure, claims=claims, site=site, recipients=to
        ):
            # From the site alone (every notice before third parties): said as it always was.
            whom = "" if site and not to else " from " + ", ".join((["the site"] if site else []) + list(to))
            what = f" ({', '.join(claims)})" if claims else ""
            return f"{len(presentations)} withdrawn{what}{whom}" + (", erasure asked" if erasure else "")
        case NoticeAcknowledged(erased=erased, recipients=answers):
            told = "".join(f"; {a.id}: {a.outcome.replace('_', ' ')}" for a in answers)
            return ("the site erased its copy" if erased else "the site confirmed") + told
        case BrokenPromise(recipients=recipients):
            return f"the site says it passed it to {', '.join(recipients)}, which you did not allow"
        case (
            NoticeDelivered(attempt=attempt, outcome=outcome)
            | NoticeNotDelivered(attempt=attempt, outcome=outcome)
        ):
            return f"attempt {attempt}: {outcome}"
        case SiteChanged(field=field, before=before, after=after):
            return f"{field}: {before} -> {after}"
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


def _words(*words: str) -> str:
    return " ".join(word for word in words if word)
