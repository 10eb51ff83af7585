#!/usr/bin/env python3
"""The ceilings scripts/bench_daemon.py measures the daemon against, each a server process of its own:

    scripts/bench_daemon_ceiling.py sign SOCKET            # a bare Litestar endpoint that signs
    scripts/bench_daemon_ceiling.py durable SOCKET DB      # ... and appends one hash-chained row, durably

Both are the same minimal Litestar app, served by uvicorn (httptools, uvloop) on a Unix socket, whose
handler decodes the request body and calls vault.protocol.issue_presentation with the example key and
manifest: everything an HTTP service must do at the least, and none of the vault.

The durable one also does what the design requires of every disclosure and nothing else (issue 17 §1):
before the token is answered, one hash-chained row recording it is appended to a SQLCipher database and
committed. The database is opened as the vault opens its own (vault.store.database.connect: SQLCipher 4,
a raw 256-bit key, WAL, synchronous=FULL, temp_store=MEMORY), and its ledger table is the vault's (same
columns and indexes). Each row's hash is SHA-256 over the previous row's hash, the row's columns and its
JSON body (as vault.consent.ledger does); the head (seq, hash) is kept in memory and written to meta once
per commit. Group commit: one writer thread takes every row queued while it was committing and commits
them together (BEGIN IMMEDIATE, the inserts, the head, COMMIT: one fsync of the WAL), at most MAX_BATCH at
a time, then releases their answers; no token leaves before its row is committed. As in the daemon, the
writer's connection has automatic checkpoints off and a background thread checkpoints (PASSIVE, on a
second connection) when the WAL passes 4 MiB. Signing runs on the event loop, overlapping the commit.
"""

import asyncio
import hashlib
import os
import queue
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# What the daemon discloses for the example shop's "recommendations" purpose, given bench_daemon's PROFILE.
CLAIMS = {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42, "interests": ["jazz", "running"]}
MAX_BATCH = 64  # as vault.daemon.worker
CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024  # as vault.daemon.state
TICK = 2.0
LEDGER_SCHEMA = """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE ledger (
        seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, origin TEXT, purpose_id TEXT,
        ref TEXT, body TEXT NOT NULL, hash BLOB NOT NULL
    );
    CREATE INDEX ledger_by_site ON ledger (origin, kind, seq);
    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE INDEX ledger_by_ref ON ledger (ref) WHERE ref IS NOT NULL;
"""
INSERT = (
    "INSERT INTO ledger (seq, at, kind, origin, purpose_id, ref, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
HEAD = "INSERT INTO meta (key, value) VALUES ('ledger_head', ?) ON CONFLICT (key) DO UPDATE SET value = ?"


class DurableLedger:
    """One writer thread that appends hash-chained rows with group commit. `append` is awaited on the
    event loop and returns once the row is committed (its seq)."""

    def __init__(self, path: Path) -> None:
        from vault.store.database import connect

        self.path, self.key = path, secrets.token_bytes(32)
        self.conn = connect(path, self.key)
        self.conn.executescript(LEDGER_SCHEMA)
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")
        self.genesis = hashlib.sha256(b"personal-vault ledger v1\nceiling").digest()
        self.seq, self.previous = 0, self.genesis
        self.batches = 0
        self._queue: queue.SimpleQueue[tuple[tuple, asyncio.Future, asyncio.AbstractEventLoop]] = (
            queue.SimpleQueue()
        )
        threading.Thread(target=self._write, name="ceiling-writer", daemon=True).start()
        self._checkpoints = connect(path, self.key)
        threading.Thread(target=self._checkpoint, name="ceiling-checkpoint", daemon=True).start()

    async def append(self, at: int, origin: str, purpose_id: str, ref: str, body: str) -> int:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put(((at, "disclosure", origin, purpose_id, ref, body), future, loop))
        return await future

    def _write(self) -> None:
        import msgspec

        encode, sha256 = msgspec.json.encode, hashlib.sha256
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            seq, previous, rows = self.seq, self.previous, []
            for (at, kind, origin, purpose_id, ref, body), _, _ in batch:
                seq += 1
                columns = encode([seq, at, kind, origin, purpose_id, ref])
                previous = sha256(previous + columns + b"\n" + body.encode()).digest()
                rows.append((seq, at, kind, origin, purpose_id, ref, body, previous))
            head = seq.to_bytes(8, "big") + previous
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.executemany(INSERT, rows)
                self.conn.execute(HEAD, (head, head))
                self.conn.execute("COMMIT")
            except BaseException as e:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                for _, future, loop in batch:
                    loop.call_soon_threadsafe(_settle, future, e, None)
                continue
            self.seq, self.previous, self.batches = seq, previous, self.batches + 1
            loop = batch[0][2]  # one event loop serves every request
            loop.call_soon_threadsafe(
                _release, [(future, row[0]) for (_, future, _), row in zip(batch, rows, strict=True)]
            )

    def verify(self) -> dict[str, Any]:
        """Walks the chain on a connection of its own (once the load is over): entries, commits, ok."""
        import msgspec

        from vault.store.database import connect

        conn = connect(self.path, self.key)
        try:
            previous, expected, ok = self.genesis, 1, True
            for seq, at, kind, origin, purpose_id, ref, body, stored in conn.execute(
                "SELECT seq, at, kind, origin, purpose_id, ref, body, hash FROM ledger ORDER BY seq"
            ):
                columns = msgspec.json.encode([seq, at, kind, origin, purpose_id, ref])
                previous = hashlib.sha256(previous + columns + b"\n" + body.encode()).digest()
                ok = ok and seq == expected and previous == bytes(stored)
                expected += 1
            head = conn.execute("SELECT value FROM meta WHERE key = 'ledger_head'").fetchone()
            ok = ok and (head is None or bytes(head[0]) == (expected - 1).to_bytes(8, "big") + previous)
        finally:
            conn.close()
        return {"entries": expected - 1, "commits": self.batches, "ok": ok}

    def _checkpoint(self) -> None:
        wal = Path(f"{self.path}-wal")
        while True:
            time.sleep(TICK)
            try:
                if wal.stat().st_size >= CHECKPOINT_WAL_BYTES:
                    self._checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except FileNotFoundError:
                pass


def _release(done: list[tuple[asyncio.Future, int]]) -> None:
    for future, seq in done:
        if not future.done():
            future.set_result(seq)


def _settle(future: asyncio.Future, error: BaseException | None, result: Any) -> None:
    if not future.done():
        future.set_exception(error) if error is not None else future.set_result(result)


def serve(socket_path: str, database: str | None = None) -> int:
    """A ceiling's server process: uvicorn (httptools, uvloop) on a Unix socket, until SIGTERM. With
    `database`, the durable ceiling."""
    import msgspec
    import uvicorn
    from litestar import Litestar, get, post
    from litestar.params import JSONBody

    from tests import example
    from vault.protocol import issue_presentation

    key = example.pairwise_key()
    manifest = example.manifest()
    subject = "ceiling"
    ledger = DurableLedger(Path(database)) if database else None

    class Request(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
        origin: str
        manifest: str
        purpose: str
        nonce: str
        claims: list[str] | None = None

    class Answer(msgspec.Struct, kw_only=True, omit_defaults=True):
        outcome: str
        token: str
        jti: str
        claims: dict[str, Any]
        expires_at: int

    def sign(data: Request) -> tuple[int, str, str]:
        now, jti = int(time.time()), secrets.token_urlsafe(16)
        # The recipients the daemon signs for the bench's remembered answer: the required one.
        token = issue_presentation(
            key, manifest, data.purpose, data.origin, data.nonce, CLAIMS, now, jti, recipients=("stock",)
        )
        return now, jti, token

    if ledger is None:

        @post("/v1/presentations", status_code=200)
        async def presentations(data: JSONBody[Request]) -> Answer:
            now, jti, token = sign(data)
            return Answer(outcome="granted", token=token, jti=jti, claims=CLAIMS, expires_at=now + 300)

    else:

        @post("/v1/presentations", status_code=200)
        async def presentations(data: JSONBody[Request]) -> Answer:
            now, jti, token = sign(data)
            # About what the daemon's disclosure entry holds (ledger_records.Disclosed).
            body = msgspec.json.encode(
                {
                    "claims": CLAIMS,
                    "expires_at": now + 300,
                    "keep_until": now + 30 * 86400,
                    "retention": "P30D",
                    "epoch": 0,
                    "subject": subject,
                    "recipients": {"stock": ["location.country"]},
                }
            ).decode()
            await ledger.append(now, data.origin, data.purpose, jti, body)
            return Answer(outcome="granted", token=token, jti=jti, claims=CLAIMS, expires_at=now + 300)

    @get("/v1/ledger/head", sync_to_thread=False)
    def head() -> dict[str, int]:  # rows and commits so far: the bench's rows per commit
        return {"entries": ledger.seq, "commits": ledger.batches} if ledger else {"entries": 0, "commits": 0}

    @get("/v1/ledger/verify", sync_to_thread=True)
    def verify() -> dict[str, Any]:  # after the load: the chain the durable ceiling wrote
        return ledger.verify() if ledger is not None else {"entries": 0, "commits": 0, "ok": True}

    app = Litestar([presentations, head, verify], logging_config=None, openapi_config=None, debug=False)
    config = uvicorn.Config(
        app,
        uds=socket_path,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_keep_alive=3600,
    )
    uvicorn.Server(config).run()
    return 0


def command(kind: str, socket_path: Path, database: Path | None = None) -> list[str]:
    """The command line that starts a ceiling process."""
    return [sys.executable, __file__, kind, str(socket_path), *([str(database)] if database else [])]


if __name__ == "__main__":
    kind, socket_arg, *rest = sys.argv[1:]
    if kind not in ("sign", "durable") or (kind == "durable") != bool(rest):
        raise SystemExit(__doc__)
    os.umask(0o077)
    sys.exit(serve(socket_arg, rest[0] if rest else None))
