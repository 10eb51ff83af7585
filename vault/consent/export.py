"""`vault export`: everything in the vault as one JSON document, consent records shaped after ISO/IEC TS
27560:2023. Its JSON Schema (draft 2020-12) is generated from the Structs below and committed beside this
module as export-schema.json; a test keeps the two equal. The export is NOT encrypted.

Top level, in this order: `format` ("personal-vault-export"), `version` (1), `exported_at`, `vault` (id,
creation, schema version), `profile` (the raw attributes), `sites` (origin, epoch, the pairwise subject the
site knows, the last stored manifest, and the disclosures exactly as `vault site ORIGIN` reports them),
`rules`, `consent_records`, `ledger_verification`, `ledger` (every row: seq, at, kind, origin, purpose_id,
ref, body, hash), `outbox` (revocation notices: signed statements meant for the site), `prompts` and
`access_requests` (each "what do you hold about me?" request, the site's signed statement and the
discrepancies found, or the `no_answer` after the last retry), `messages` (the inbox: each site message
with its state, read, accepted or hidden), `muted_sites`, then the standing settings of contexts and Global
Privacy Control (vault.consent.export_contexts): `contexts` (every context ever made, removed ones with
`removed_at`), `context_choices` (browser-wide, timed with its end, per site), `gpc_sites` (the per-site
switches) and `gpc_default` (whether GPC is sent to sites without a setting of their own, at export time).

Contexts: rules, remembered decisions and disclosures carry their context (`context`, and on consent
records `context_name`). A site's `subjects` list every pairwise identity the vault used there (per epoch:
the shared one, and each context's own); a record's `subject.identity` names a context's own identity
(null: the shared one).

Times: the raw sections keep the stored Unix seconds, so they can be checked against the ledger; consent
records use RFC 3339 UTC date-times, as 27560 expects. A ledger `body` is the stored JSON text embedded
byte for byte, so a reader can recompute each row's hash: SHA-256(previous hash || compact JSON of
[seq, at, kind, origin, purpose_id, ref] || "\\n" || body), starting from vault/consent/ledger.py's genesis.

Left out on purpose: the master seed (every pairwise key derives from it), the copies of recently issued
tokens and the signed result of each prompt (bearer tokens, valid for minutes), the passphrase header.

Consent records (27560 field -> ours): record id -> `record_id` (a URN with the vault id, stable across
exports and restores); PII principal -> `subject` (the pairwise subject the site knows); PII controller
-> `controller`; privacy notice -> `notice`; purpose -> `purpose` (with its DPV concept); lawful basis ->
`lawful_basis` (always dpv:Consent); PII information -> `personal_data`; retention period -> `retention`
(ISO 8601 duration); recipients / third parties -> `recipients`; withdrawal method -> `withdrawal_method`;
event time / validity duration / event state -> `event_time`, `validity`, `state` (with the DPV status)
and the full `events` history. There is one record per row of the decisions table (`record_kind`
"decision": a remembered answer about one claim), one per row of recipient_decisions (`record_kind`
"recipient_decision": a remembered answer about one third party, named in `recipient`) and one per
disclosure (`record_kind` "disclosure": what was actually sent, with the values, under a one-time or a
remembered consent). A disclosure record's `recipients` are the controller and the third parties the user
allowed, each with the claims it received and its withdrawals (asked when, the site's answer for it).
Refusals made "once" leave no decision row and no disclosure; they are in the ledger (kind "consent").
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import IO, Any

import msgspec

from vault.consent import ledger
from vault.consent.contexts import names
from vault.consent.export_access import access_requests
from vault.consent.export_contexts import context_choices, contexts, gpc_default, gpc_switches, site_subjects
from vault.consent.export_format import (
    FORMAT,
    SCHEMA_PATH,
    VERSION,
    Attribute,
    ConsentRecord,
    InboxMessageExport,
    LedgerEntry,
    LedgerVerification,
    MutedSite,
    OutboxNotice,
    Prompt,
    Rule,
    Site,
    Subject,
    Validity,
    VaultExport,
    VaultInfo,
    schema_text,
)
from vault.consent.export_parties import iso_text as _iso
from vault.consent.export_parties import utc_time as _time
from vault.consent.export_records import consent_record, events_of, received_by
from vault.consent.ledger_records import Disclosed, RecordInvalid
from vault.consent.report import Disclosure, site_report, withdrawal_words
from vault.protocol.errors import ManifestInvalid
from vault.protocol.jwk import key_subject
from vault.protocol.keys import derive_pairwise_key
from vault.protocol.manifest import decode_manifest
from vault.store import Vault

# -- reading the vault -------------------------------------------------------------------------------


def _raw(text: str) -> msgspec.Raw:
    return msgspec.Raw(text.encode())


@contextmanager
def _snapshot(vault: Vault) -> Iterator[None]:
    """One read transaction, so every section comes from the same state (WAL lets writers carry on)."""
    if vault.conn.in_transaction:
        yield
        return
    vault.conn.execute("BEGIN")
    try:
        yield
    finally:
        vault.conn.execute("ROLLBACK")


class _Reader:
    def __init__(self, vault: Vault, now: int) -> None:
        self.vault, self.conn, self.now = vault, vault.conn, now
        self.vault_id = str(vault.meta("vault_id"))
        self._seed = vault.master_seed()
        self.site = lru_cache(maxsize=4096)(self._site)
        self.context_names = names(vault)
        # context id -> the identity its keys derive with now (None: the shared one)
        self.identities = {c.id: c.id if c.separate_identity else None for c in contexts(vault)}

    def _site(self, origin: str) -> Site:
        """A site without its disclosures (cached: every consent record needs its manifest)."""
        row = self.conn.execute(
            "SELECT epoch, first_seen, manifest, manifest_seen_at FROM sites WHERE origin = ?", (origin,)
        ).fetchone()
        epoch, first_seen, text, seen_at = (0, None, None, None) if row is None else row
        manifest = problem = None
        try:
            manifest = None if text is None else decode_manifest(text.encode())
        except ManifestInvalid as e:
            problem = str(e)
        subject = key_subject(derive_pairwise_key(self._seed, origin, epoch).public_jwk)
        return Site(
            origin=origin,
            epoch=epoch,
            subject=subject,
            first_seen=first_seen,
            manifest_seen_at=seen_at,
            manifest=manifest,
            manifest_problem=problem,
            disclosures=[],
        )

    def _rows(self, cls: type, sql: str, **convert: Callable[[Any], Any]) -> Iterator[Any]:
        """Rows whose columns are, in order, the fields of `cls`."""
        names = cls.__struct_fields__
        for row in self.conn.execute(sql):
            values = dict(zip(names, row, strict=True))
            for name, function in convert.items():
                values[name] = function(values[name])
            yield cls(**values)

    def origins(self) -> list[str]:
        sql = "SELECT origin FROM sites UNION SELECT origin FROM ledger WHERE origin IS NOT NULL ORDER BY 1"
        return [origin for (origin,) in self.conn.execute(sql)]

    def sites(self) -> Iterator[Site]:
        for origin in self.origins():
            report = site_report(self.vault, origin)
            site = self.site(origin)
            subjects = list(site_subjects(self.vault, self._seed, origin, site.epoch))
            yield msgspec.structs.replace(
                site, disclosures=report.disclosures, changes=report.changes, subjects=subjects
            )

    def consent_records(self) -> Iterator[ConsentRecord]:
        yield from self._decision_records()
        for origin in self.origins():
            records = {}
            for entry in ledger.entries(self.vault, origin=origin, kinds=("disclosure",)):
                with suppress(RecordInvalid):  # a damaged row is left out; ledger_verification says so
                    records[entry.ref] = entry.record
            for disclosure in site_report(self.vault, origin).disclosures:
                yield self._disclosure_record(origin, disclosure, records.get(disclosure.jti))

    def _decision_records(self) -> Iterator[ConsentRecord]:
        """One record per remembered answer about a claim, then per answer about a third party."""
        for table, column, kind in (
            ("decisions", "claim", "decision"),
            ("recipient_decisions", "recipient", "recipient_decision"),
        ):
            urn = f"urn:personal-vault:{self.vault_id}:{kind.replace('_', '-')}:"
            rows = self.conn.execute(
                f"SELECT id, origin, purpose_id, {column}, effect, decided_at, expires_at, revoked_at, "  # noqa: S608
                "context, "
                # The newer answer about the same thing that replaced this one, if that is why it was revoked.
                f"(SELECT n.id FROM {table} n WHERE n.origin = d.origin AND n.context = d.context "
                f" AND n.purpose_id = d.purpose_id"
                f" AND n.{column} = d.{column} AND n.id > d.id AND n.decided_at = d.revoked_at "
                f" ORDER BY n.id LIMIT 1) FROM {table} d ORDER BY id"
            )
            for row in rows:
                id_, origin, purpose_id, about, effect, decided_at, expires_at, revoked_at, ctx, newer = row
                site = self.site(origin)
                # Only a standing allow of a claim has an identity: the key the site sees on its next request
                # (its context's own identity's, for a context that keeps one).
                standing = (
                    kind == "decision" and effect == "allow" and revoked_at is None and expires_at > self.now
                )
                identity = self.identities.get(ctx)
                yield consent_record(
                    site.manifest,
                    origin,
                    purpose_id,
                    None,
                    events_of(
                        decided_at,
                        "given" if effect == "allow" else "refused",
                        revoked_at,
                        expires_at,
                        self.now,
                    ),
                    {about: None} if kind == "decision" else received_by(site, purpose_id, about),
                    record_id=f"{urn}{id_}",
                    record_kind=kind,
                    subject=Subject(
                        pairwise_id=self._subject(origin, site.epoch, identity) if standing else None,
                        epoch=site.epoch if standing else None,
                        identity=identity if standing else None,
                    ),
                    validity=Validity(valid_from=_time(decided_at), until=_time(expires_at)),
                    replaced_by=None if newer is None else f"{urn}{newer}",
                    recipient=None if kind == "decision" else about,
                    context=ctx,
                    context_name=self.context_names.get(ctx, ctx),
                )

    def _subject(self, origin: str, epoch: int, identity: str | None) -> str:
        if identity is None:
            return self.site(origin).subject
        return key_subject(derive_pairwise_key(self._seed, origin, epoch, identity).public_jwk)

    def _disclosure_record(
        self, origin: str, disclosure: Disclosure, disclosed: Disclosed | None
    ) -> ConsentRecord:
        start, until = disclosure.disclosed_at, disclosure.keep_until
        return consent_record(
            self.site(origin).manifest,
            origin,
            disclosure.purpose,
            disclosed.purpose_digest if disclosed else None,
            events_of(start, "given", disclosure.withdrawn_at, until, self.now),
            disclosure.claims,
            record_id=f"urn:personal-vault:{self.vault_id}:disclosure:{disclosure.jti}",
            record_kind="disclosure",
            subject=Subject(
                pairwise_id=disclosed.subject if disclosed else None,
                epoch=disclosed.epoch if disclosed else None,
                identity=disclosed.identity if disclosed else disclosure.identity,
            ),
            retention=disclosed.retention if disclosed else None,
            validity=Validity(valid_from=_time(start), until=_time(until)),
            disclosure=disclosure.jti,
            prompt=disclosed.prompt if disclosed else None,
            withdrawal=withdrawal_words(disclosure, _iso),
            allowed=disclosure.recipients,
            context=disclosure.context,
            context_name=disclosure.context_name,
        )

    def verification(self) -> LedgerVerification:
        result = ledger.verify(self.vault)
        head = self.vault.meta("ledger_head")
        head = None if head is None else bytes(head)
        return LedgerVerification(
            ok=result.ok,
            entries=result.entries,
            bad_seq=result.bad_seq,
            problem=result.problem,
            head_seq=None if head is None else int.from_bytes(head[:8], "big"),
            head_hash=None if head is None else head[8:].hex(),
        )

    def sections(self) -> Iterator[tuple[str, Any]]:
        """(field, value) in VaultExport's order; list sections come as iterators, so they can stream."""
        yield "format", FORMAT
        yield "version", VERSION
        yield "exported_at", _time(self.now)
        created_at, version = int(self.vault.meta("created_at")), self.vault.schema_version
        yield "vault", VaultInfo(vault_id=self.vault_id, created_at=created_at, schema_version=version)
        yield (
            "profile",
            self._rows(
                Attribute,
                "SELECT name, value, updated_at FROM attributes ORDER BY name",
                value=msgspec.json.decode,
            ),
        )
        yield "sites", self.sites()
        # The Everyday context's first, then each other's.
        rules = "SELECT kind, target, created_at, context FROM rules ORDER BY context != 'everyday', context"
        yield "rules", self._rows(Rule, rules + ", kind, target")
        yield "consent_records", self.consent_records()
        yield "ledger_verification", self.verification()
        yield (
            "ledger",
            self._rows(
                LedgerEntry,
                "SELECT seq, at, kind, origin, purpose_id, ref, body, hash FROM ledger ORDER BY seq",
                body=_raw,
                hash=lambda h: bytes(h).hex(),
            ),
        )
        outbox = (
            "SELECT id, origin, purpose_id, endpoint, notice, created_at, attempts, next_attempt_at, "
            "last_error, delivered_at, acknowledgement FROM outbox ORDER BY created_at, id"
        )
        yield "outbox", self._rows(OutboxNotice, outbox)
        # Not `outcome`: it holds the token the prompt's answer produced.
        columns = "id, origin, purpose_id, state, created_at, expires_at, decided_at, request"
        prompts = f"SELECT {columns} FROM prompts ORDER BY created_at, id"  # noqa: S608 (fixed names)
        yield "prompts", self._rows(Prompt, prompts, request=_raw)
        yield "access_requests", access_requests(self.vault)
        columns = ", ".join(InboxMessageExport.__struct_fields__)
        messages = f"SELECT {columns} FROM inbox ORDER BY received_at, jti"  # noqa: S608 (fixed names)
        yield "messages", self._rows(InboxMessageExport, messages, claims=msgspec.json.decode)
        yield "muted_sites", self._rows(MutedSite, "SELECT origin, muted_at FROM muted_sites ORDER BY origin")
        yield "contexts", iter(contexts(self.vault))
        yield "context_choices", context_choices(self.vault)
        yield "gpc_sites", iter(gpc_switches(self.vault))
        yield "gpc_default", gpc_default(self.vault, self.now)


def export_vault(vault: Vault, *, now: int) -> VaultExport:
    """The whole export in memory (fine for tens of thousands of disclosures; write_export streams)."""
    with _snapshot(vault):
        sections = _Reader(vault, now).sections()
        return VaultExport(**{name: list(v) if isinstance(v, Iterator) else v for name, v in sections})


def write_export(vault: Vault, out: IO[bytes], *, now: int, chunk_bytes: int = 1 << 20) -> None:
    """Streams the export to `out`, one list item per line; memory is bounded by the largest site."""
    encoder, buffer = msgspec.json.Encoder(), bytearray(b"{")
    with _snapshot(vault):
        for index, (name, value) in enumerate(_Reader(vault, now).sections()):
            buffer += (b",\n" if index else b"") + encoder.encode(name) + b":"
            if not isinstance(value, Iterator):
                buffer += encoder.encode(value)
                continue
            buffer += b"["
            for count, item in enumerate(value):
                buffer += b",\n" if count else b"\n"
                encoder.encode_into(item, buffer, -1)
                if len(buffer) >= chunk_bytes:
                    out.write(buffer)
                    buffer.clear()
            buffer += b"\n]"
        out.write(buffer + b"}\n")


if __name__ == "__main__":
    # Regenerates the committed schema: python -m vault.consent.export
    SCHEMA_PATH.write_bytes(schema_text())
    print(f"wrote {SCHEMA_PATH}")
