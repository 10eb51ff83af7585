"""The export's `access_requests` section: each access request with the site's statement and the
discrepancies found, read from the access_requests table and the ledger entries about it."""

from collections.abc import Iterator

import msgspec

from vault.consent import ledger
from vault.consent.export_format import AccessRequestExport
from vault.consent.ledger_records import AccessAnswered, AccessUnanswered, RecordInvalid
from vault.store import Vault


def access_requests(vault: Vault) -> Iterator[AccessRequestExport]:
    """Oldest first."""
    rows = vault.conn.execute(
        "SELECT id, origin, reason, endpoint, epoch, presentations, created_at, attempts, next_attempt_at, "
        "last_error, answered_at, gave_up_at, identity FROM access_requests ORDER BY created_at, id"
    ).fetchall()
    for row in rows:
        statement = answers = None
        found: list = []
        for entry in ledger.entries(vault, ref=row[0], kinds=("access_answer", "access_unanswered")):
            try:
                record = entry.record
            except RecordInvalid:  # a damaged row is left out; ledger_verification says so
                continue
            if isinstance(record, AccessAnswered):
                statement, answers = record.token, record.request
            if isinstance(record, AccessAnswered | AccessUnanswered):
                found = list(record.discrepancies)
        yield AccessRequestExport(
            id=row[0],
            origin=row[1],
            reason=row[2],
            endpoint=row[3],
            epoch=row[4],
            presentations=list(msgspec.json.decode(row[5])),
            created_at=row[6],
            attempts=row[7],
            next_attempt_at=row[8],
            last_error=row[9],
            answered_at=row[10],
            gave_up_at=row[11],
            statement=statement,
            answers_request=answers,
            discrepancies=found,
            identity=row[12],
        )
