"""The parties of an export's consent record: a third party as the manifest declares it, or as a
disclosure's allowed recipient, with what it received and the withdrawals asked of it."""

import datetime as dt

from vault.consent.export_format import Party, RecipientWithdrawal
from vault.consent.report import RecipientHolding, recipient_words
from vault.protocol.manifest import ThirdParty


def utc_time(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def iso_text(seconds: int) -> str:
    return utc_time(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def declared_party(party: ThirdParty) -> Party:
    return Party(
        name=party.name,
        role="third_party",
        privacy_policy=party.privacy_policy,
        why=party.why,
        id=party.id,
        dpv_role=party.role,
        country=party.country,
        required=party.required,
        claims=list(party.claims),
    )


def holding_party(holding: RecipientHolding, party: ThirdParty | None) -> Party:
    withdrawals = []
    if holding.withdrawn_at is not None and holding.withdrawal_state != "none":
        withdrawals.append(
            RecipientWithdrawal(
                claims=holding.withdrawn_claims,
                asked_at=utc_time(holding.withdrawn_at),
                erasure=holding.erasure_requested,
                state=holding.withdrawal_state,
                outcome=holding.outcome,  # type: ignore[arg-type]
                outcome_at=None if holding.outcome_at is None else utc_time(holding.outcome_at),
                words=recipient_words(holding, iso_text) or "",
            )
        )
    return Party(
        name=holding.name,
        role="third_party",
        privacy_policy=None if party is None else party.privacy_policy,
        why=None if party is None else party.why,
        id=holding.id,
        dpv_role=holding.role,
        country=holding.country,
        required=None if party is None else party.required,
        claims=holding.claims,
        allowed=True,
        withdrawals=withdrawals,
    )
