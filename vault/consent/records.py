"""Reading and writing decisions, rules and settings. Writers run inside the caller's transaction.

Decisions and rules belong to a context (vault.consent.contexts; `context` is its id, callers resolve a
name with contexts.find): a request is answered by its context's rules and remembered decisions only.
In the ledger, a rule or decision of the everyday context carries no `context` (None), exactly as every
one written before contexts existed; any other context is named by its id."""

import re
from typing import TypeVar

import msgspec

from vault.claims.catalogue import CLAIMS
from vault.consent import ledger
from vault.consent.ledger_records import Decided, RecipientDecided, RuleAdded, RuleRemoved
from vault.consent.policy import Effect, Question, RecipientQuestion, RecipientStanding, Rules, Standing
from vault.consent.sites import stored_manifest
from vault.errors import InvalidInput
from vault.protocol.manifest import Manifest
from vault.store import Vault
from vault.store.database import Connection
from vault.store.migration_contexts import DEFAULT_CONTEXT
from vault.store.read_model import cached

DAY = 86400
DEFAULT_REMEMBER_DAYS = 180
DEFAULT_REMEMBER_MAX_DAYS = 365
RULE_KINDS = ("never", "ask", "deny_concept", "remember")
T = TypeVar("T")
_DPV_CONCEPT = re.compile(r"dpv:[A-Z][A-Za-z0-9]{1,79}")


# Where each kind of remembered answer is kept: about -> (table, the column naming what it is about,
# its digest column).
DECISION_TABLES = {
    "claim": ("decisions", "claim", "claim_digest"),
    "recipient": ("recipient_decisions", "recipient", "digest"),
}


def ledger_context(context: str) -> str | None:
    """How a ledger record names a rule's or decision's context: None for the everyday one."""
    return None if context == DEFAULT_CONTEXT else context


def standing_decisions(
    vault: Vault, origin: str, purpose_id: str, context: str = DEFAULT_CONTEXT
) -> list[Standing]:
    return _standing(vault, "claim", Standing, origin, purpose_id, context)


def recipient_standing(
    vault: Vault, origin: str, purpose_id: str, context: str = DEFAULT_CONTEXT
) -> list[RecipientStanding]:
    return _standing(vault, "recipient", RecipientStanding, origin, purpose_id, context)


def _standing(vault: Vault, about: str, kind: type[T], origin: str, purpose_id: str, context: str) -> list[T]:
    # Expired ones are kept: policy.evaluate drops them against each request's own time.
    key = ("standing", about, origin, purpose_id, context)
    return list(
        cached(vault.reads, key, lambda: _load_standing(vault, about, kind, origin, purpose_id, context))
    )


def _load_standing(
    vault: Vault, about: str, kind: type[T], origin: str, purpose_id: str, context: str
) -> tuple[T, ...]:
    table, column, digest = DECISION_TABLES[about]
    rows = vault.conn.execute(
        f"SELECT {column}, {digest}, effect, expires_at, controller FROM {table} "  # noqa: S608 (fixed names)
        "WHERE origin = ? AND context = ? AND purpose_id = ? AND revoked_at IS NULL ORDER BY id",
        (origin, context, purpose_id),
    )
    # Later rows win: a new answer about the same claim (or third party) replaces the old one.
    latest = {row[0]: kind(*row) for row in rows}
    return tuple(latest.values())


def insert_decision(
    conn: Connection,
    about: str,
    row: tuple[str, str, str],
    *,
    digest: str,
    effect: str,
    now: int,
    expires_at: int,
    controller: str | None,
    context: str,
) -> None:
    """A standing decision about `row` = (origin, purpose id, claim or third party id), in `context`."""
    table, column, digest_column = DECISION_TABLES[about]
    conn.execute(
        f"INSERT INTO {table} (origin, purpose_id, {column}, {digest_column}, effect, decided_at, "  # noqa: S608
        "expires_at, controller, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*row, digest, effect, now, expires_at, controller, context),
    )


class RememberedDecision(msgspec.Struct, frozen=True, kw_only=True):
    """A standing ("remember") decision about one claim, or one third party (`recipient`; then `claim` is
    None), for one site and purpose, not revoked. It may have expired: policy ignores it then, but the
    user still sees it until it is revoked or replaced."""

    origin: str
    purpose: str  # the purpose's id, named as report.Disclosure, `vault consents` and GET /consents name it
    claim: str | None
    effect: str
    decided_at: int
    expires_at: int
    recipient: str | None = None
    purpose_title: str | None = None  # from the site's stored manifest, while it declares the purpose
    recipient_name: str | None = None
    context: str = DEFAULT_CONTEXT  # the context it answers requests in (contexts.id)
    context_name: str = "Everyday"


def remembered_decisions(vault: Vault, context: str | None = None) -> list[RememberedDecision]:
    """Every remembered decision not revoked, of one `context` (None: of all of them), by site, purpose,
    context, and claim then third party (`vault consents`, GET /consents)."""
    rows = vault.conn.execute(
        "SELECT origin, purpose_id, claim, NULL, effect, decided_at, expires_at, 0, id, context "
        "FROM decisions WHERE revoked_at IS NULL AND (?1 IS NULL OR context = ?1) UNION ALL "
        "SELECT origin, purpose_id, NULL, recipient, effect, decided_at, expires_at, 1, id, context "
        "FROM recipient_decisions WHERE revoked_at IS NULL AND (?1 IS NULL OR context = ?1) "
        "ORDER BY 1, 2, 10, 8, 3, 4, 9",
        (context,),
    )
    names = dict(vault.conn.execute("SELECT id, name FROM contexts"))
    manifests: dict[str, Manifest | None] = {}
    result = []
    for origin, purpose_id, claim, recipient, effect, decided_at, expires_at, _, _, in_context in rows:
        if origin not in manifests:
            manifests[origin] = stored_manifest(vault, origin)
        manifest = manifests[origin]
        purpose = None if manifest is None else manifest.purpose(purpose_id)
        party = next((p for p in purpose.third_parties if p.id == recipient), None) if purpose else None
        result.append(
            RememberedDecision(
                origin=origin,
                purpose=purpose_id,
                claim=claim,
                recipient=recipient,
                effect=effect,
                decided_at=decided_at,
                expires_at=expires_at,
                purpose_title=None if purpose is None else purpose.title,
                recipient_name=None if party is None else party.name,
                context=in_context,
                context_name=names.get(in_context, in_context),
            )
        )
    return result


def store_decisions(
    conn: Connection,
    *,
    origin: str,
    purpose_id: str,
    decisions: tuple[tuple[Question | RecipientQuestion, Effect], ...],
    controller: str,
    remember: bool,
    now: int,
    expires_at: int,
    prompt_id: str,
    context: str = DEFAULT_CONTEXT,
) -> None:
    """Every answer (about a claim, or a third party) goes to the ledger; only remembered ones become
    standing decisions of `context`, bound to the `controller` (policy.controller_binding) they were
    given to. A remembered answer replaces the one about the same thing in that context only."""
    for question, effect in decisions:
        kind = "claim" if isinstance(question, Question) else "recipient"
        about = question.claim if isinstance(question, Question) else question.recipient
        if remember:
            table, column, _ = DECISION_TABLES[kind]
            # Fixed table and column names only; every value is a bound parameter.
            conn.execute(
                f"UPDATE {table} SET revoked_at = ? WHERE origin = ? AND purpose_id = ? AND {column} = ? "  # noqa: S608
                "AND context = ? AND revoked_at IS NULL",
                (now, origin, purpose_id, about, context),
            )
            insert_decision(
                conn,
                kind,
                (origin, purpose_id, about),
                digest=question.digest,
                effect=effect,
                now=now,
                expires_at=expires_at,
                controller=controller,
                context=context,
            )
        mode, until = ("remember", expires_at) if remember else ("once", None)
        named = ledger_context(context)
        body = (
            Decided(claim=about, effect=effect, mode=mode, expires_at=until, context=named)
            if isinstance(question, Question)
            else RecipientDecided(recipient=about, effect=effect, mode=mode, expires_at=until, context=named)
        )
        ledger.append(conn, at=now, origin=origin, purpose_id=purpose_id, ref=prompt_id, body=body)


def load_rules(vault: Vault, context: str = DEFAULT_CONTEXT) -> Rules:
    return cached(vault.reads, ("rules", context), lambda: _load_rules(vault, context))


def _load_rules(vault: Vault, context: str) -> Rules:
    sets: dict[str, set[str]] = {kind: set() for kind in RULE_KINDS}
    for kind, target in vault.conn.execute("SELECT kind, target FROM rules WHERE context = ?", (context,)):
        sets[kind].add(target)
    return Rules(
        never=frozenset(sets["never"]),
        ask=frozenset(sets["ask"]),
        deny_concepts=frozenset(sets["deny_concept"]),
        remember=frozenset(sets["remember"]),
    )


def check_rule(kind: str, target: str) -> str:
    """The rule's target, checked against its kind: a known claim, or a DPV concept (dpv:Name)."""
    if kind not in RULE_KINDS:
        raise InvalidInput(f"unknown rule kind {kind[:40]!r}", f"one of: {', '.join(RULE_KINDS)}")
    if kind == "deny_concept":
        if not _DPV_CONCEPT.fullmatch(target):
            raise InvalidInput(f"{target[:80]!r} is not a DPV concept", "for example dpv:TargetedAdvertising")
    elif target not in CLAIMS:
        raise InvalidInput(f"unknown claim {target[:80]!r}", "claims: " + ", ".join(sorted(CLAIMS)))
    return target


def add_rule(vault: Vault, kind: str, target: str, *, now: int, context: str = DEFAULT_CONTEXT) -> bool:
    target = check_rule(kind, target)
    with vault.transaction() as conn:
        added = (
            conn.execute(
                "INSERT INTO rules (context, kind, target, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (context, kind, target, now),
            ).rowcount
            > 0
        )
        if added:
            ledger.append(
                conn, at=now, body=RuleAdded(rule=kind, target=target, context=ledger_context(context))
            )
    return added


def remove_rule(vault: Vault, kind: str, target: str, *, now: int, context: str = DEFAULT_CONTEXT) -> bool:
    with vault.transaction() as conn:
        removed = (
            conn.execute(
                "DELETE FROM rules WHERE context = ? AND kind = ? AND target = ?", (context, kind, target)
            ).rowcount
            > 0
        )
        if removed:
            ledger.append(
                conn, at=now, body=RuleRemoved(rule=kind, target=target, context=ledger_context(context))
            )
    return removed


def remember_days(vault: Vault) -> tuple[int, int]:
    """(default, maximum) length of a remembered decision, in days."""
    return cached(vault.reads, "remember_days", lambda: _load_remember_days(vault))


def _load_remember_days(vault: Vault) -> tuple[int, int]:
    default = vault.meta("remember_default_days")
    maximum = vault.meta("remember_max_days")
    return (
        DEFAULT_REMEMBER_DAYS if default is None else int(default),
        DEFAULT_REMEMBER_MAX_DAYS if maximum is None else int(maximum),
    )


def set_remember_days(vault: Vault, *, default: int, maximum: int) -> None:
    if not 1 <= default <= maximum <= 3650:
        raise InvalidInput("remembered decisions need 1 <= default <= maximum <= 3650 days")
    with vault.transaction() as conn:
        for key, value in (("remember_default_days", default), ("remember_max_days", maximum)):
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
