"""The decision engine: given a site's request, the user's standing decisions and global rules, and the
values the profile yields, answer exactly one of granted, consent_required or denied. Pure: no I/O, the
clock is an argument.

Decisions are per (origin, purpose, claim) and bound to a claim digest: the purpose entry without its
claims and third parties, plus that one claim's request. So when a site edits a purpose, only the
claims whose context changed are asked about again: a new optional claim asks about that claim alone, a
longer retention asks about every claim (each was agreed to under the old retention). Each third party
that would receive a claim is decided the same way, per (origin, purpose, third party), bound to the
same context plus its own entry: a new or changed third party is asked about alone, optional ones start
off, and refusing a required one is refusing the purpose.

A remembered "allow" is also bound to the controller it was given to (the manifest's `controller`:
name, contact, privacy policy): consent is given to a company, so when another one runs the site, every
claim is asked about again and the prompt says who it was before. A remembered "deny" holds whoever runs
the site: refusing needs nobody's agreement.
"""

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import msgspec
import rfc8785

from vault.claims.catalogue import CLAIMS, ClaimValue, Derived
from vault.consent.reasons import DenialReason
from vault.protocol.manifest import ClaimRequest, Controller, Manifest, Purpose, ThirdParty, manifest_index

Effect = Literal["allow", "deny"]


@lru_cache(maxsize=1024)  # pure, and asked for every claim of every request: canonical JSON is slow
def claim_digest(purpose: Purpose, claim: ClaimRequest) -> str:
    """What a claim decision is bound to: the purpose without its claims and third parties (so adding a
    third party asks about it alone), plus this claim's request."""
    return _bound_digest(purpose, "claim", msgspec.to_builtins(claim))


@lru_cache(maxsize=1024)
def recipient_digest(purpose: Purpose, party: ThirdParty) -> str:
    """What a third-party decision is bound to: the same purpose context, plus that third party's entry."""
    return _bound_digest(purpose, "recipient", msgspec.to_builtins(party))


def _bound_digest(purpose: Purpose, member: str, value: object) -> str:
    context = msgspec.to_builtins(purpose)
    context.pop("claims")
    context.pop("third_parties")
    canonical = rfc8785.dumps({"purpose": context, member: value})
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


@lru_cache(maxsize=64)
def controller_binding(controller: Controller) -> str:
    """What a decision is bound to besides the purpose: the controller as RFC 8785 JSON."""
    return rfc8785.dumps(msgspec.to_builtins(controller)).decode()


@dataclass(frozen=True)
class Standing:
    """A remembered answer, as stored."""

    claim: str
    claim_digest: str
    effect: Effect
    expires_at: int
    controller: str | None = None  # controller_binding() of whom it was given to; None: not recorded


@dataclass(frozen=True)
class RecipientStanding:
    """A remembered answer about one third party of a purpose, as stored."""

    recipient: str
    digest: str
    effect: Effect
    expires_at: int
    controller: str | None = None


@dataclass(frozen=True)
class Rules:
    never: frozenset[str] = frozenset()  # claims never shared with anyone
    ask: frozenset[str] = frozenset()  # claims asked about every time, whatever was remembered
    deny_concepts: frozenset[str] = frozenset()  # DPV purpose concepts refused outright
    remember: frozenset[str] = frozenset()  # sensitive claims the user lets a "remember" cover

    def always_ask(self, claim: str) -> bool:
        spec = CLAIMS.get(claim)
        sensitive = spec is not None and spec.sensitivity == "high"
        return claim in self.ask or (sensitive and claim not in self.remember)


@dataclass(frozen=True)
class Question:
    """One claim the user is asked about, with the exact value that would be sent."""

    claim: str
    value: ClaimValue
    required: bool
    why: str  # the site's reason, from its manifest
    reveals: str  # what the value reveals, from our catalogue
    sensitivity: str
    digest: str
    asked_because: Literal["new", "changed", "expired", "always_ask", "controller_changed"]


@dataclass(frozen=True)
class RecipientQuestion:
    """One third party the user is asked about: may it receive its claims of this purpose?"""

    recipient: str
    required: bool  # needed for the service: switching it off is not sharing at all
    digest: str
    asked_because: Literal["new", "changed", "expired", "controller_changed"]


@dataclass(frozen=True)
class Granted:
    claims: dict[str, ClaimValue]
    dropped: dict[str, str] = field(default_factory=dict)  # optional claim -> why it is left out
    outcome: Literal["granted"] = "granted"
    recipients: tuple[str, ...] = ()  # the third parties allowed to receive (some of) the claims


@dataclass(frozen=True)
class ConsentRequired:
    questions: tuple[Question, ...]
    already_allowed: dict[str, ClaimValue]
    dropped: dict[str, str] = field(default_factory=dict)
    previous_controller: str | None = None  # whom earlier answers were given to, if someone else
    outcome: Literal["consent_required"] = "consent_required"
    recipient_questions: tuple[RecipientQuestion, ...] = ()
    recipients_allowed: tuple[str, ...] = ()  # remembered "allow"s that still hold
    recipients_refused: tuple[str, ...] = ()  # remembered "deny"s that still hold


@dataclass(frozen=True)
class Denied:
    reason: DenialReason  # machine-readable; what a page may learn of it: DenialReason.for_page
    message: str  # plain words for the user and the site's page
    outcome: Literal["denied"] = "denied"


Evaluation = Granted | ConsentRequired | Denied


def evaluate(
    manifest: Manifest,
    purpose_id: str,
    derived: Derived,
    standing: Iterable[Standing],
    rules: Rules,
    now: int,
    requested: Iterable[str] | None = None,
    recipient_standing: Iterable[RecipientStanding] = (),
) -> Evaluation:
    entry = manifest_index(manifest).get(purpose_id)
    if entry is None:
        return Denied(DenialReason.UNKNOWN_PURPOSE, f"{manifest.origin} has no purpose {purpose_id!r}")
    purpose = entry.purpose
    if purpose.concept in rules.deny_concepts:
        return Denied(DenialReason.PURPOSE_KIND_DENIED, f"you refuse every purpose of kind {purpose.concept}")
    names = [claim.name for claim in purpose.claims] if requested is None else list(requested)
    undeclared = [name for name in names if name not in entry.declared]
    if undeclared:
        return Denied(
            DenialReason.UNDECLARED_CLAIM, f"purpose {purpose_id!r} does not declare {', '.join(undeclared)}"
        )
    not_requested = sorted(entry.required - set(names))
    if not_requested:
        return Denied(
            DenialReason.MISSING_REQUIRED, f"purpose {purpose_id!r} requires {', '.join(not_requested)}"
        )
    controller = controller_binding(manifest.controller)
    remembered = {s.claim: s for s in standing if s.expires_at > now}
    expired = {s.claim for s in standing if s.expires_at <= now}
    requests = {claim.name: claim for claim in purpose.claims}
    covered: dict[str, ClaimValue] = {}
    dropped: dict[str, str] = {}
    questions: list[Question] = []
    previous_controller: str | None = None

    def refuse(name: str, reason: DenialReason, message: str) -> Denied | None:
        if requests[name].required:
            return Denied(reason, message)
        dropped[name] = message
        return None

    for name in names:
        if name not in CLAIMS:
            denial = refuse(name, DenialReason.UNKNOWN_CLAIM, f"the vault cannot provide {name}")
        elif name in derived.missing or name not in derived.values:
            denial = refuse(
                name,
                DenialReason.CLAIM_UNAVAILABLE,
                f"your profile has no {CLAIMS[name].attribute} (needed for {name})",
            )
        elif name in rules.never:
            denial = refuse(name, DenialReason.NEVER_SHARED, f"you never share {name}")
        else:
            digest = claim_digest(purpose, requests[name])
            decision = remembered.get(name)
            same_request = decision is not None and decision.claim_digest == digest
            other_controller = decision is not None and decision.controller not in (None, controller)
            denial = None
            if same_request and decision.effect == "deny":
                denial = refuse(name, DenialReason.DECLINED, f"you declined to share {name} with this site")
            elif same_request and not other_controller and not rules.always_ask(name):
                covered[name] = derived.values[name]
            else:
                why: Literal["new", "changed", "expired", "always_ask", "controller_changed"]
                if other_controller and decision.effect == "allow":
                    previous_controller = decision.controller
                if same_request and other_controller:
                    why = "controller_changed"
                elif same_request:
                    why = "always_ask"
                elif decision is not None:
                    why = "changed"
                else:
                    why = "expired" if name in expired else "new"
                spec = CLAIMS[name]
                questions.append(
                    Question(
                        claim=name,
                        value=derived.values[name],
                        required=requests[name].required,
                        why=requests[name].why,
                        reveals=spec.describe,
                        sensitivity=spec.sensitivity,
                        digest=digest,
                        asked_because=why,
                    )
                )
        if denial is not None:
            return denial
    considered = frozenset(covered) | {q.claim for q in questions}
    parties = _evaluate_recipients(purpose, considered, recipient_standing, controller, now)
    if isinstance(parties, Denied):
        return parties
    allowed, refused, recipient_questions, earlier = parties
    if questions or recipient_questions:
        return ConsentRequired(
            tuple(questions),
            covered,
            dropped,
            previous_controller or earlier,
            recipient_questions=recipient_questions,
            recipients_allowed=allowed,
            recipients_refused=refused,
        )
    if not covered:
        return Denied(DenialReason.NOTHING_TO_SHARE, "nothing is left to share for this purpose")
    return Granted(covered, dropped, recipients=receiving(purpose, allowed, covered.keys()))


def receiving(purpose: Purpose, allowed: Iterable[str], claims: Iterable[str]) -> tuple[str, ...]:
    """The allowed third parties that receive at least one of `claims`, in manifest order."""
    allowed, claims = set(allowed), set(claims)
    return tuple(p.id for p in purpose.third_parties if p.id in allowed and claims & set(p.claims))


def _evaluate_recipients(
    purpose: Purpose,
    considered: frozenset[str],
    standing: Iterable[RecipientStanding],
    controller: str,
    now: int,
) -> Denied | tuple[tuple[str, ...], tuple[str, ...], tuple[RecipientQuestion, ...], str | None]:
    """Each third party that would receive one of the `considered` claims: allowed or refused by a
    remembered answer, or asked about. A remembered "deny" of a required one denies the purpose."""
    remembered = {s.recipient: s for s in standing if s.expires_at > now}
    expired = {s.recipient for s in standing if s.expires_at <= now}
    allowed: list[str] = []
    refused: list[str] = []
    questions: list[RecipientQuestion] = []
    previous_controller: str | None = None
    for party in purpose.third_parties:
        if not considered & set(party.claims):
            continue
        digest = recipient_digest(purpose, party)
        decision = remembered.get(party.id)
        same = decision is not None and decision.digest == digest
        other_controller = decision is not None and decision.controller not in (None, controller)
        if same and decision.effect == "deny":
            if party.required:
                return Denied(
                    DenialReason.DECLINED,
                    f"you declined to let {party.name} receive your data, and this purpose needs it",
                )
            refused.append(party.id)
        elif same and not other_controller:
            allowed.append(party.id)
        else:
            why: Literal["new", "changed", "expired", "controller_changed"]
            if same:
                why = "controller_changed"
                previous_controller = decision.controller
            elif decision is not None:
                why = "changed"
            else:
                why = "expired" if party.id in expired else "new"
            questions.append(RecipientQuestion(party.id, party.required, digest, why))
    return tuple(allowed), tuple(refused), tuple(questions), previous_controller


@dataclass(frozen=True)
class Answer:
    """The user's answer to a prompt: share (some of) the asked claims, or deny; once or remember."""

    share: bool
    claims: frozenset[str]  # the asked claims the user left ticked
    remember: bool
    # The asked third parties the user switched on. None (a client that does not show third parties):
    # the required ones only, which sharing at all implies; the optional ones stay off.
    recipients: frozenset[str] | None = None


@dataclass(frozen=True)
class Resolution:
    """What an answer means: the claims to send (or a denial), and the decisions to store."""

    result: Granted | Denied
    decisions: tuple[tuple[Question, Effect], ...]  # stored as standing only when remembered
    recipient_decisions: tuple[tuple[RecipientQuestion, Effect], ...] = ()


def resolve(prompt: ConsentRequired, answer: Answer, purpose: Purpose) -> Resolution:
    """`purpose`: the manifest entry the prompt was made for (which claims each third party gets)."""
    asked = {q.claim for q in prompt.questions}
    switched_on = answer.recipients
    if switched_on is None:
        switched_on = frozenset(q.recipient for q in prompt.recipient_questions if q.required)
    unknown = sorted(answer.claims - asked) + sorted(
        switched_on - {q.recipient for q in prompt.recipient_questions}
    )
    if unknown:
        return Resolution(Denied(DenialReason.BAD_ANSWER, f"{', '.join(unknown)} was not asked about"), ())
    if not answer.share:
        decisions = tuple((q, "deny") for q in prompt.questions)
        parties = tuple((q, "deny") for q in prompt.recipient_questions)
        return Resolution(
            Denied(DenialReason.USER_DENIED, "you chose not to share anything for this purpose"),
            decisions,
            parties,
        )
    decisions = tuple((q, "allow" if q.claim in answer.claims else "deny") for q in prompt.questions)
    parties = tuple(
        (q, "allow" if q.recipient in switched_on else "deny") for q in prompt.recipient_questions
    )
    dropped_required = [q.claim for q in prompt.questions if q.required and q.claim not in answer.claims]
    if dropped_required:
        return Resolution(
            Denied(
                DenialReason.REQUIRED_CLAIM_DROPPED,
                f"you chose not to share {', '.join(dropped_required)}, which this purpose requires, "
                "so nothing was shared",
            ),
            decisions,
            parties,
        )
    claims = dict(prompt.already_allowed)
    claims.update({q.claim: q.value for q in prompt.questions if q.claim in answer.claims})
    dropped = dict(prompt.dropped)
    dropped.update(
        {q.claim: "you chose not to share it" for q in prompt.questions if q.claim not in answer.claims}
    )
    if not claims:
        return Resolution(
            Denied(DenialReason.NOTHING_TO_SHARE, "nothing is left to share for this purpose"),
            decisions,
            parties,
        )
    parties_by_id = {p.id: p for p in purpose.third_parties}
    refused_required = [
        parties_by_id[q.recipient].name
        for q, effect in parties
        if q.required and effect == "deny" and set(claims) & set(parties_by_id[q.recipient].claims)
    ]
    if refused_required:
        return Resolution(
            Denied(
                DenialReason.REQUIRED_RECIPIENT_DROPPED,
                f"you chose not to let {', '.join(refused_required)} receive your data, which this purpose "
                "needs, so nothing was shared",
            ),
            decisions,
            parties,
        )
    allowed = [*prompt.recipients_allowed, *(q.recipient for q, effect in parties if effect == "allow")]
    return Resolution(
        Granted(claims, dropped, recipients=receiving(purpose, allowed, claims)), decisions, parties
    )
