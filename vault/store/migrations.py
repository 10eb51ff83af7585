"""Forward-only schema migrations. The version lives in SQLite's user_version, changed in the same
transaction as the schema, so a crash leaves either the old or the new version, never a mixture.

Rules (so old vaults keep opening): never edit a migration that has shipped; add a new one. New columns
get defaults. A vault written by a newer version is refused rather than guessed at.
"""

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import rfc8785
import sqlcipher3

from vault.errors import VaultError
from vault.store.database import Connection, schema_version, transaction
from vault.store.migration_contexts import v7_contexts


@dataclass(frozen=True)
class MigrationContext:
    """What a migration may need besides SQL: randomness and time are passed in, never fetched."""

    now: int
    random_bytes: Callable[[int], bytes]


Migration = Callable[[Connection, MigrationContext], None]


def _v1_profile(conn: Connection, ctx: MigrationContext) -> None:
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
    conn.execute(
        """CREATE TABLE attributes (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,          -- JSON, validated by the attribute catalogue before storing
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID"""
    )
    conn.execute("INSERT INTO meta (key, value) VALUES ('vault_id', ?)", (ctx.random_bytes(16).hex(),))
    conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?)", (ctx.now,))


def _v2_pairwise_identities(conn: Connection, ctx: MigrationContext) -> None:
    # The root of every per-site signing key (HKDF with the origin and the site's epoch). It never leaves
    # the vault; "forget me on this site" bumps the epoch, giving the site a new, unlinkable identity.
    conn.execute("INSERT INTO meta (key, value) VALUES ('master_seed', ?)", (ctx.random_bytes(32),))
    conn.execute(
        """CREATE TABLE sites (
            origin TEXT PRIMARY KEY,
            epoch INTEGER NOT NULL DEFAULT 0,
            first_seen INTEGER NOT NULL
        ) WITHOUT ROWID"""
    )


def _run_script(conn: Connection, script: str) -> None:
    """Statement by statement: executescript() would COMMIT first and break the migration's transaction."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlcipher3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError("migration script ends with an incomplete statement")


def _v3_consent(conn: Connection, ctx: MigrationContext) -> None:
    _run_script(
        conn,
        """
        ALTER TABLE sites ADD COLUMN manifest TEXT;            -- the last validated manifest, JSON
        ALTER TABLE sites ADD COLUMN manifest_seen_at INTEGER;

        -- One row per (origin, purpose, claim) answer. `claim_digest` binds it to exactly what was asked
        -- (the purpose entry without its claim list, plus this claim's request), so a changed purpose asks
        -- again about what changed, and only that.
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            origin TEXT NOT NULL,
            purpose_id TEXT NOT NULL,
            claim TEXT NOT NULL,
            claim_digest TEXT NOT NULL,
            effect TEXT NOT NULL CHECK (effect IN ('allow', 'deny')),
            decided_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE INDEX decisions_standing ON decisions (origin, purpose_id, claim) WHERE revoked_at IS NULL;

        CREATE TABLE rules (
            kind TEXT NOT NULL CHECK (kind IN ('never', 'ask', 'deny_concept', 'remember')),
            target TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (kind, target)
        ) WITHOUT ROWID;

        CREATE TABLE prompts (
            id TEXT PRIMARY KEY,
            origin TEXT NOT NULL,
            purpose_id TEXT NOT NULL,
            request TEXT NOT NULL,                 -- JSON: manifest, nonce, claims asked and already allowed
            state TEXT NOT NULL CHECK (state IN ('pending', 'decided', 'expired')),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            decided_at INTEGER,
            outcome TEXT                           -- JSON: the decision and its result (token or refusal)
        ) WITHOUT ROWID;
        CREATE INDEX prompts_pending ON prompts (created_at) WHERE state = 'pending';

        -- Append-only and hash-chained: each row's hash commits to the previous row's hash and its own
        -- columns; meta.ledger_head holds the last (seq, hash) so a truncated tail is noticed too.
        CREATE TABLE ledger (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            origin TEXT,
            purpose_id TEXT,
            ref TEXT,                              -- the presentation's or notice's jti
            body TEXT NOT NULL,                    -- JSON
            hash BLOB NOT NULL
        );
        CREATE INDEX ledger_by_site ON ledger (origin, kind, seq);
        -- Defence in depth against our own bugs; the hash chain is what detects edits made around us.
        CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE INDEX ledger_by_ref ON ledger (ref) WHERE ref IS NOT NULL;

        -- Each disclosure again, clustered by site: "what does this site know" reads a few pages instead of
        -- one page per disclosure (SQLCipher decrypts every page it reads). Derived from the ledger, written
        -- in the same transaction, and checked against it by ledger verification.
        CREATE TABLE disclosures (
            origin TEXT NOT NULL,
            seq INTEGER NOT NULL,                  -- the ledger entry that records it
            jti TEXT NOT NULL,
            purpose_id TEXT NOT NULL,
            claims TEXT NOT NULL,                  -- JSON, exactly as in the ledger entry's body
            disclosed_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            keep_until INTEGER NOT NULL,
            PRIMARY KEY (origin, seq)
        ) WITHOUT ROWID;

        -- Issued tokens, kept only long enough to check the site's acknowledgement against them.
        CREATE TABLE recent_tokens (
            jti TEXT PRIMARY KEY,
            token TEXT NOT NULL,
            keep_until INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX recent_tokens_expiry ON recent_tokens (keep_until);

        -- Revocation notices waiting for (or done with) delivery to the site's revocation_endpoint.
        CREATE TABLE outbox (
            id TEXT PRIMARY KEY,                   -- the notice's jti
            origin TEXT NOT NULL,
            purpose_id TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            notice TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            delivered_at INTEGER,
            acknowledgement TEXT
        ) WITHOUT ROWID;
        CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
        """,
    )


def _v4_decisions_bound_to_controller(conn: Connection, ctx: MigrationContext) -> None:
    # A remembered "allow" is given to a company as well as to a purpose: the controller (RFC 8785 JSON
    # of the manifest's `controller`) it was given to. Decisions made before this column existed are
    # bound to the controller of the site's stored manifest, the best record of whom they were made with.
    conn.execute("ALTER TABLE decisions ADD COLUMN controller TEXT")
    rows = conn.execute("SELECT origin, manifest FROM sites WHERE manifest IS NOT NULL").fetchall()
    for origin, manifest in rows:
        controller = rfc8785.dumps(json.loads(manifest)["controller"]).decode()
        conn.execute("UPDATE decisions SET controller = ? WHERE origin = ?", (controller, origin))


def _v5_third_parties(conn: Connection, ctx: MigrationContext) -> None:
    """Third parties become recipients the user decides about one by one (protocol: each has an id, role,
    country, policy and claims). Stored manifests from before listed them by name only, which the new
    format cannot hold: they are dropped from the stored copy (the site's next manifest brings them back,
    with ids, and the user is asked about each). Claim decisions were bound to the purpose including its
    third parties; they are re-bound to the purpose without them when they match the stored manifest, so
    nobody is asked again because of this upgrade. Prompts are short-lived (their answers are in the
    ledger) and their stored requests have the old form: they are dropped."""
    _run_script(
        conn,
        """
        -- One row per (origin, purpose, third party) answer, bound like a claim decision: `digest` covers
        -- the purpose entry without its claims and third parties, plus this third party's entry.
        CREATE TABLE recipient_decisions (
            id INTEGER PRIMARY KEY,
            origin TEXT NOT NULL,
            purpose_id TEXT NOT NULL,
            recipient TEXT NOT NULL,
            digest TEXT NOT NULL,
            effect TEXT NOT NULL CHECK (effect IN ('allow', 'deny')),
            decided_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER,
            controller TEXT
        );
        CREATE INDEX recipient_decisions_standing ON recipient_decisions (origin, purpose_id, recipient)
            WHERE revoked_at IS NULL;
        -- The recipients each disclosure allowed (JSON: id -> the claims it may receive), as in its
        -- ledger entry.
        ALTER TABLE disclosures ADD COLUMN recipients TEXT NOT NULL DEFAULT '{}';
        DELETE FROM prompts;
        """,
    )
    rows = conn.execute("SELECT origin, manifest FROM sites WHERE manifest IS NOT NULL").fetchall()
    for origin, text in rows:
        manifest = json.loads(text)
        for purpose in manifest.get("purposes", []):
            without_recipients = {k: v for k, v in purpose.items() if k not in ("claims", "third_parties")}
            for claim in purpose.get("claims", []):
                old = _digest(
                    {"purpose": {k: v for k, v in purpose.items() if k != "claims"}, "claim": claim}
                )
                new = _digest({"purpose": without_recipients, "claim": claim})
                conn.execute(
                    "UPDATE decisions SET claim_digest = ? WHERE origin = ? AND purpose_id = ? AND claim = ? "
                    "AND claim_digest = ?",
                    (new, origin, purpose["id"], claim["name"], old),
                )
            purpose["third_parties"] = []
        conn.execute("UPDATE sites SET manifest = ? WHERE origin = ?", (json.dumps(manifest), origin))


def _v6_relationship(conn: Connection, ctx: MigrationContext) -> None:
    _run_script(
        conn,
        """
        -- Messages from sites (proposals, change notices, deletion confirmations, breach notices). The
        -- token is also in the ledger (kind `message`); this table holds what the inbox shows and its state.
        CREATE TABLE inbox (
            jti TEXT PRIMARY KEY,
            origin TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            purpose_id TEXT,
            effective_at INTEGER,
            claims TEXT NOT NULL DEFAULT '[]',     -- JSON list of claim names
            url TEXT,
            via TEXT NOT NULL,                     -- page | acknowledgement | statement
            received_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,           -- the token's exp: a replay is refused until then
            read_at INTEGER,
            accepted_at INTEGER,                   -- a proposal the user chose to look at
            deleted_at INTEGER,                    -- hidden; kept as a replay guard until expires_at
            token TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX inbox_by_site ON inbox (origin, received_at);

        CREATE TABLE muted_sites (
            origin TEXT PRIMARY KEY,
            muted_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- Access requests ("what do you hold about me?") waiting for (or done with) the site's statement.
        CREATE TABLE access_requests (
            id TEXT PRIMARY KEY,                   -- the request's jti
            origin TEXT NOT NULL,
            reason TEXT NOT NULL CHECK (reason IN ('ask', 'retention_end')),
            endpoint TEXT NOT NULL,
            epoch INTEGER NOT NULL,                -- the pairwise epoch whose key signs it
            presentations TEXT NOT NULL DEFAULT '[]',  -- retention_end: the disclosures checked
            created_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            answered_at INTEGER,
            gave_up_at INTEGER                     -- no answer after the last retry: flagged
        ) WITHOUT ROWID;
        CREATE INDEX access_requests_due ON access_requests (next_attempt_at)
            WHERE answered_at IS NULL AND gave_up_at IS NULL;

        -- When the end of a disclosure's retention was handled: the vault asked the site to confirm it is
        -- gone, or there was no one to ask (no access endpoint, or an identity the site no longer has).
        -- The index holds only those still to handle, so each pass reads the newly expired ones alone.
        ALTER TABLE disclosures ADD COLUMN retention_checked_at INTEGER;
        CREATE INDEX disclosures_retention_due ON disclosures (keep_until, origin)
            WHERE retention_checked_at IS NULL;

        -- Every manifest a site served that the vault acted on, for the evidence in `vault report`.
        CREATE TABLE manifest_versions (
            origin TEXT NOT NULL,
            digest TEXT NOT NULL,                  -- base64url SHA-256 of the manifest text
            manifest TEXT NOT NULL,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            PRIMARY KEY (origin, digest)
        ) WITHOUT ROWID;
        """,
    )
    rows = conn.execute("SELECT origin, manifest FROM sites WHERE manifest IS NOT NULL").fetchall()
    for origin, text in rows:
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        conn.execute(
            "INSERT INTO manifest_versions (origin, digest, manifest, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?)",
            (origin, digest, text, ctx.now, ctx.now),
        )


def _digest(value: object) -> str:
    # Written out here, not imported: a shipped migration must not change when the policy code does.
    return base64.urlsafe_b64encode(hashlib.sha256(rfc8785.dumps(value)).digest()).rstrip(b"=").decode()


def _v7_contexts(conn: Connection, ctx: MigrationContext) -> None:
    v7_contexts(conn, ctx.now)


def _v8_tokens_by_seq(conn: Connection, ctx: MigrationContext) -> None:
    # The token copies were keyed by their random jti: each disclosure wrote a ~1 KB row into a random
    # page of that tree (most of the pages a group commit wrote). Keyed by the ledger entry that records
    # the disclosure, they are appended; the jti is found through the entry (its ref, ledger_by_ref).
    _run_script(
        conn,
        """
        CREATE TABLE recent_tokens_by_seq (
            seq INTEGER PRIMARY KEY,               -- the disclosure's ledger entry; its ref is the jti
            token TEXT NOT NULL,
            keep_until INTEGER NOT NULL
        );
        INSERT INTO recent_tokens_by_seq (seq, token, keep_until)
            SELECT l.seq, t.token, t.keep_until FROM recent_tokens t
            JOIN ledger l ON l.ref = t.jti AND l.kind = 'disclosure';
        DROP TABLE recent_tokens;
        ALTER TABLE recent_tokens_by_seq RENAME TO recent_tokens;
        CREATE INDEX recent_tokens_expiry ON recent_tokens (keep_until);
        """,
    )


def _v9_no_token_copies(conn: Connection, ctx: MigrationContext) -> None:
    # An acknowledgement is checked against the disclosure's ledger entry, which records every member of the
    # presentation it needs: the copies of issued tokens (bearer credentials, ~1 KB each and two pages
    # written per disclosure) are no longer kept.
    _run_script(conn, "DROP TABLE recent_tokens;")


MIGRATIONS: list[Migration] = [
    _v1_profile,
    _v2_pairwise_identities,
    _v3_consent,
    _v4_decisions_bound_to_controller,
    _v5_third_parties,
    _v6_relationship,
    _v7_contexts,
    _v8_tokens_by_seq,
    _v9_no_token_copies,
]
LATEST_VERSION = len(MIGRATIONS)


def migrate(conn: Connection, ctx: MigrationContext, target: int = LATEST_VERSION) -> int:
    """Brings the schema to `target`, one transaction per step. Returns the version it started from."""
    start = schema_version(conn)
    if start > LATEST_VERSION:
        raise VaultError(
            f"this vault uses schema version {start}, newer than this program knows ({LATEST_VERSION})",
            "upgrade the vault program",
        )
    for version in range(start + 1, target + 1):
        with transaction(conn):
            MIGRATIONS[version - 1](conn, ctx)
            conn.execute(f"PRAGMA user_version = {version:d}")
    return start
