"""Schema version 7: contexts (named sets of rules and remembered decisions), the identity a disclosure
was made under, and the standing Global Privacy Control settings. Kept apart from migrations.py only for
its length; the rules there apply (a shipped migration is never edited)."""

from vault.store.database import Connection

DEFAULT_CONTEXT = "everyday"

# A fresh vault refuses, in its first context, the two kinds of purpose Global Privacy Control speaks for:
# privacy by default, and so GPC is sent from the first run. Written out here (not imported) for the same
# reason migrations.py writes out its digests.
_FRESH_VAULT_REFUSALS = ("dpv:SellDataToThirdParties", "dpv:TargetedAdvertising")

_STATEMENTS = (
    """CREATE TABLE contexts (
        id TEXT PRIMARY KEY,                   -- stable: rules, decisions and disclosures name it
        name TEXT NOT NULL,                    -- what the user calls it; renaming changes only this
        separate_identity INTEGER NOT NULL DEFAULT 0,  -- 1: sites see this context's own pairwise keys
        gpc INTEGER NOT NULL DEFAULT 1,        -- 0: the user turned Global Privacy Control off here
        created_at INTEGER NOT NULL,
        removed_at INTEGER                     -- kept: old disclosures still name it, keys still derive
    ) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX contexts_by_name ON contexts (name COLLATE NOCASE) WHERE removed_at IS NULL",
    # "Always use Work on this site" (until: NULL), or for a while.
    """CREATE TABLE site_contexts (
        origin TEXT PRIMARY KEY,
        context TEXT NOT NULL,
        until INTEGER,
        set_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    # The user's per-site Global Privacy Control switch; no row: follow the context.
    """CREATE TABLE gpc_sites (
        origin TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,
        set_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "ALTER TABLE decisions ADD COLUMN context TEXT NOT NULL DEFAULT 'everyday'",
    "ALTER TABLE recipient_decisions ADD COLUMN context TEXT NOT NULL DEFAULT 'everyday'",
    "DROP INDEX decisions_standing",
    """CREATE INDEX decisions_standing ON decisions (origin, context, purpose_id, claim)
        WHERE revoked_at IS NULL""",
    "DROP INDEX recipient_decisions_standing",
    """CREATE INDEX recipient_decisions_standing
        ON recipient_decisions (origin, context, purpose_id, recipient) WHERE revoked_at IS NULL""",
    # A rule belongs to a context: the primary key grows, so the table is rebuilt (SQLite cannot alter one).
    """CREATE TABLE rules_by_context (
        context TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('never', 'ask', 'deny_concept', 'remember')),
        target TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (context, kind, target)
    ) WITHOUT ROWID""",
    "INSERT INTO rules_by_context SELECT 'everyday', kind, target, created_at FROM rules",
    "DROP TABLE rules",
    "ALTER TABLE rules_by_context RENAME TO rules",
    # NULL context: made before contexts existed (the everyday one). NULL identity: the shared pairwise
    # identity; otherwise the label its keys were derived with (keys.derive_pairwise_key).
    "ALTER TABLE disclosures ADD COLUMN context TEXT",
    "ALTER TABLE disclosures ADD COLUMN identity TEXT",
    "ALTER TABLE access_requests ADD COLUMN identity TEXT",
)


def v7_contexts(conn: Connection, now: int) -> None:
    for statement in _STATEMENTS:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO contexts (id, name, created_at) VALUES (?, 'Everyday', ?)", (DEFAULT_CONTEXT, now)
    )
    fresh = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM ledger) AND NOT EXISTS (SELECT 1 FROM rules)")
    if fresh.fetchone()[0]:
        for concept in _FRESH_VAULT_REFUSALS:
            conn.execute(
                "INSERT INTO rules (context, kind, target, created_at) VALUES (?, 'deny_concept', ?, ?)",
                (DEFAULT_CONTEXT, concept, now),
            )
