/**
 * The embedded Store: one SQLite file (better-sqlite3; the only importer of it), in WAL mode
 * with synchronous=FULL, its schema created and migrated at open from MIGRATIONS by
 * `PRAGMA user_version`. Its transient failures (locked past the busy timeout, disk full, I/O
 * errors) reject with StoreUnavailableError, like the PostgreSQL store's outages.
 *
 * Durability: every record is written in one transaction before the response is sent. WAL
 * with synchronous=NORMAL already survives a killed process (a committed transaction is in
 * the WAL file, which the OS holds), but may lose the last transactions on power loss or an
 * OS crash; FULL syncs the WAL at every commit, so an answered call is on disk. Measured cost
 * of an audit transaction on the build machine: 0.4 ms median when quiet, 4–8 ms under heavy
 * load (NORMAL: under 0.1 ms), against about 50 ms for a hook call.
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  StoreUnavailableError,
  type AcceptanceReport,
  type AuditRecord,
  type BulkDocumentResult,
  type BulkJobCounts,
  type BulkJobRecord,
  type CacheEntry,
  type NewBulkJob,
  type CodeAcceptance,
  type FeedbackRecord,
  type FeedbackResult,
  type Store,
  type StoredFeedback,
  type TokenClaim,
} from './store';

/** The in-memory database (tests): nothing survives close. */
export const MEMORY = ':memory:';

/**
 * Schema versions, oldest first: version n is MIGRATIONS[n - 1]. Append, never edit a
 * released entry. Audit and feedback rows are append-only (triggers); purging old records
 * for retention would be a deliberate, separate tool.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE audit_call (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    edge TEXT NOT NULL CHECK (edge IN ('cds-hooks', 'fhir')),
    service TEXT NOT NULL,
    call_id TEXT NOT NULL,
    user_ref TEXT,
    patient_ref TEXT,
    encounter_ref TEXT,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('suggestions', 'no-suggestion', 'no-document')),
    recorded_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_call_recorded_at ON audit_call (recorded_at);
  CREATE INDEX audit_call_request_id ON audit_call (request_id);

  CREATE TABLE audit_document (
    call INTEGER NOT NULL REFERENCES audit_call (id),
    note INTEGER NOT NULL,
    reference TEXT,
    content_index INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    length INTEGER NOT NULL,
    PRIMARY KEY (call, note)
  ) STRICT;

  CREATE TABLE audit_suggestion (
    id INTEGER PRIMARY KEY,
    call INTEGER NOT NULL REFERENCES audit_call (id),
    rank INTEGER NOT NULL,
    code TEXT NOT NULL,
    score REAL NOT NULL,
    threshold REAL NOT NULL,
    status TEXT,
    card_uuid TEXT,
    suggestion_id TEXT NOT NULL,
    refines TEXT,
    UNIQUE (call, rank)
  ) STRICT;
  CREATE INDEX audit_suggestion_card ON audit_suggestion (card_uuid) WHERE card_uuid IS NOT NULL;
  CREATE INDEX audit_suggestion_code ON audit_suggestion (code);

  CREATE TABLE audit_evidence (
    suggestion INTEGER NOT NULL REFERENCES audit_suggestion (id),
    rank INTEGER NOT NULL,
    note INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    status TEXT,
    PRIMARY KEY (suggestion, rank)
  ) STRICT;

  CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    service TEXT NOT NULL,
    card_uuid TEXT NOT NULL,
    suggestion INTEGER REFERENCES audit_suggestion (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    accepted_suggestions TEXT NOT NULL,
    reason_system TEXT,
    reason_code TEXT,
    reason_display TEXT,
    user_comment TEXT,
    outcome_timestamp TEXT NOT NULL,
    outcome_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (card_uuid, outcome, accepted_suggestions, outcome_timestamp)
  ) STRICT;
  CREATE INDEX feedback_suggestion ON feedback (suggestion);
  CREATE INDEX feedback_received_at ON feedback (received_at);

  CREATE TABLE store_health (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at TEXT NOT NULL) STRICT;
  ${['audit_call', 'audit_document', 'audit_suggestion', 'audit_evidence', 'feedback']
    .map(
      (table) => `
  CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
  CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`,
    )
    .join('')}
  `,
  // 2: the result cache (offsets only, never note text: analysis/cache-value.ts; not
  // append-only: entries are replaced and expire), and how each audited call was answered.
  `
  CREATE TABLE suggestion_cache (
    key TEXT PRIMARY KEY CHECK (length(key) = 64),
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX suggestion_cache_created_at ON suggestion_cache (created_at);
  ALTER TABLE audit_call ADD COLUMN analysis TEXT NOT NULL DEFAULT 'computed' CHECK (analysis IN ('computed', 'cached', 'pending'));
  `,
  // 3: client-token ids already used (replay protection shared by the processes on one file);
  // a claim past keep_until may be taken again, and is swept.
  `
  CREATE TABLE token_claim (
    issuer TEXT NOT NULL,
    jti TEXT NOT NULL,
    keep_until TEXT NOT NULL,
    PRIMARY KEY (issuer, jti)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX token_claim_keep_until ON token_claim (keep_until);
  `,
  // 4: bulk coding jobs (docs/jobs.md). Inputs hold note text until coded and results hold
  // evidence quotes until the job expires: PHI at rest, deleted with the job.
  `
  CREATE TABLE bulk_job (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    request TEXT NOT NULL,
    setting TEXT,
    status TEXT NOT NULL CHECK (status IN ('in-progress', 'completed')),
    total INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    expires_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX bulk_job_expires_at ON bulk_job (expires_at);

  CREATE TABLE bulk_input (
    job TEXT NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    document TEXT NOT NULL,
    lease_until TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job, idx)
  ) STRICT;

  CREATE TABLE bulk_result (
    job TEXT NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    conditions TEXT NOT NULL,
    count INTEGER NOT NULL,
    error TEXT,
    PRIMARY KEY (job, idx)
  ) STRICT;
  `,
];

export interface OpenOptions {
  /** Refuse to create a new store (the report command reads an existing one). */
  fileMustExist?: boolean;
  /** How long a write waits for another process's write lock before StoreUnavailableError (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Least time between two sweeps of expired token claims (default 60000 ms). */
  tokenSweepIntervalMs?: number;
}

/** SQLite result codes that may clear by themselves (https://www.sqlite.org/rescode.html). */
const TRANSIENT_CODES = /^SQLITE_(BUSY|FULL|IOERR)/;

/**
 * SQLite's transient failures as StoreUnavailableError, anything else unchanged. By code,
 * not by class: better-sqlite3 builds its errors in the realm that first loaded it.
 * @param error - what better-sqlite3 threw
 * @param what - the store method, for the message
 */
function translated(error: unknown, what: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.test(code)) {
    return new StoreUnavailableError(`sqlite store: ${what} failed (${code})`, { cause: error });
  }
  return error;
}

/**
 * Applies the migrations the store lacks, each in its own write transaction (IMMEDIATE, so
 * two processes opening one file do not both migrate).
 * @throws Error when the store was written by a newer version of this software
 */
function migrate(db: Database.Database, file: string): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  for (;;) {
    const step = db.transaction(() => {
      const current = version();
      if (current > MIGRATIONS.length) {
        throw new Error(`store ${file} has schema version ${current}, newer than this software's ${MIGRATIONS.length}`);
      }
      if (current === MIGRATIONS.length) return false;
      db.exec(MIGRATIONS[current]);
      db.pragma(`user_version = ${current + 1}`);
      return true;
    });
    if (!step.immediate()) return;
  }
}

/** Rounds a rate for the report; null when nothing to divide by. */
const rate = (n: number, of: number) => (of === 0 ? null : Number((n / of).toFixed(4)));

/**
 * Opens (creating and migrating as needed) the SQLite store.
 * @param file - database path, or `:memory:`; a missing directory is created (mode 700) and
 *   a new file is created readable by its owner only (it holds patient references)
 * @param options - fileMustExist
 */
export function openSqliteStore(file: string, options: OpenOptions = {}): Store {
  if (file !== MEMORY) {
    if (options.fileMustExist && !existsSync(file)) throw new Error(`store ${file} does not exist`);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // SQLite gives its -wal and -shm files the main file's permissions.
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  }
  const db = new Database(file, { fileMustExist: options.fileMustExist ?? false });
  try {
    if (file !== MEMORY) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`store ${file} cannot use write-ahead logging (journal_mode ${String(mode)})`);
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // The report command may read while the service writes.
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    migrate(db, file);
  } catch (error) {
    db.close();
    throw translated(error, 'open');
  }
  return new SqliteStore(db, options.tokenSweepIntervalMs ?? 60_000);
}

class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly insertCall;
  private readonly insertDocument;
  private readonly insertSuggestion;
  private readonly insertEvidence;
  private readonly cardSuggestion;
  private readonly insertFeedback;
  private readonly touchHealth;
  private readonly getCache;
  private readonly putCache;
  private readonly expireCache;
  private readonly claimToken;
  private readonly sweepTokens;
  private lastTokenSweep = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly tokenSweepIntervalMs: number,
  ) {
    this.insertCall = db.prepare(`INSERT INTO audit_call
      (request_id, edge, service, call_id, user_ref, patient_ref, encounter_ref, model_name, model_version, outcome, recorded_at, analysis)
      VALUES (@requestId, @edge, @service, @callId, @user, @patient, @encounter, @modelName, @modelVersion, @outcome, @recordedAt, @analysis)`);
    this.insertDocument = db.prepare(`INSERT INTO audit_document (call, note, reference, content_index, content_type, sha256, length)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.insertSuggestion = db.prepare(`INSERT INTO audit_suggestion
      (call, rank, code, score, threshold, status, card_uuid, suggestion_id, refines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertEvidence = db.prepare('INSERT INTO audit_evidence (suggestion, rank, note, start, "end", status) VALUES (?, ?, ?, ?, ?, ?)');
    this.cardSuggestion = db.prepare('SELECT id FROM audit_suggestion WHERE card_uuid = ? ORDER BY id DESC LIMIT 1').pluck();
    this.insertFeedback = db.prepare(`INSERT INTO feedback
      (request_id, service, card_uuid, suggestion, outcome, accepted_suggestions, reason_system, reason_code, reason_display,
       user_comment, outcome_timestamp, outcome_at, received_at)
      VALUES (@requestId, @service, @card, @suggestion, @outcome, @accepted, @reasonSystem, @reasonCode, @reasonDisplay,
       @userComment, @outcomeTimestamp, @outcomeAt, @receivedAt)
      ON CONFLICT DO NOTHING`);
    this.getCache = db.prepare('SELECT value FROM suggestion_cache WHERE key = ? AND created_at >= ?').pluck();
    this.putCache = db.prepare(`INSERT INTO suggestion_cache (key, model_name, model_version, value, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at`);
    this.expireCache = db.prepare('DELETE FROM suggestion_cache WHERE created_at < ?');
    this.touchHealth = db.prepare(`INSERT INTO store_health (id, checked_at) VALUES (1, ?)
      ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`);
    // One statement: the claim is taken, or an expired one retaken, or nothing changes.
    this.claimToken = db.prepare(`INSERT INTO token_claim (issuer, jti, keep_until) VALUES (@issuer, @jti, @keepUntil)
      ON CONFLICT (issuer, jti) DO UPDATE SET keep_until = excluded.keep_until WHERE token_claim.keep_until < @now`);
    this.sweepTokens = db.prepare('DELETE FROM token_claim WHERE keep_until < ?');
  }

  async recordAudit(record: AuditRecord): Promise<void> {
    try {
      this.db.transaction(() => {
        const call = this.insertCall.run({
          requestId: record.requestId,
          edge: record.edge,
          service: record.service,
          callId: record.callId,
          user: record.user ?? null,
          patient: record.patient ?? null,
          encounter: record.encounter ?? null,
          modelName: record.model.name,
          modelVersion: record.model.version,
          outcome: record.outcome,
          recordedAt: record.recordedAt,
          analysis: record.analysis ?? 'computed',
        }).lastInsertRowid;
        for (const [note, d] of record.documents.entries()) {
          this.insertDocument.run(call, note, d.reference ?? null, d.contentIndex, d.contentType, d.sha256, d.length);
        }
        for (const [rank, s] of record.suggestions.entries()) {
          const suggestion = this.insertSuggestion.run(
            call,
            rank,
            s.code,
            s.score,
            s.threshold,
            s.status ?? null,
            s.cardUuid ?? null,
            s.suggestionId,
            s.refines?.length ? s.refines.join(',') : null,
          ).lastInsertRowid;
          for (const [i, e] of s.evidence.entries()) this.insertEvidence.run(suggestion, i, e.note, e.start, e.end, e.status ?? null);
        }
      })();
    } catch (error) {
      throw translated(error, 'recordAudit');
    }
  }

  async recordFeedback(entries: readonly FeedbackRecord[]): Promise<FeedbackResult[]> {
    try {
      return this.db.transaction(() =>
        entries.map((entry): FeedbackResult => {
          const suggestion = this.cardSuggestion.get(entry.card) as number | bigint | undefined;
          const changes = this.insertFeedback.run({
            requestId: entry.requestId,
            service: entry.service,
            card: entry.card,
            suggestion: suggestion ?? null,
            outcome: entry.outcome,
            accepted: JSON.stringify([...entry.acceptedSuggestions].sort()),
            reasonSystem: entry.reason?.system ?? null,
            reasonCode: entry.reason?.code ?? null,
            reasonDisplay: entry.reason?.display ?? null,
            userComment: entry.userComment ?? null,
            outcomeTimestamp: entry.outcomeTimestamp,
            outcomeAt: entry.outcomeAt,
            receivedAt: entry.receivedAt,
          }).changes;
          return { card: entry.card, known: suggestion !== undefined, duplicate: changes === 0 };
        }),
      )();
    } catch (error) {
      throw translated(error, 'recordFeedback');
    }
  }

  async auditRecords(filter: { since?: Date; requestId?: string } = {}): Promise<AuditRecord[]> {
    try {
      const calls = this.db
        .prepare(`SELECT * FROM audit_call WHERE recorded_at >= ? AND (? IS NULL OR request_id = ?) ORDER BY id`)
        .all(filter.since?.toISOString() ?? '', filter.requestId ?? null, filter.requestId ?? null) as Record<string, string | number | null>[];
      const documents = this.db.prepare('SELECT * FROM audit_document WHERE call = ? ORDER BY note');
      const suggestions = this.db.prepare('SELECT * FROM audit_suggestion WHERE call = ? ORDER BY rank');
      const evidence = this.db.prepare('SELECT * FROM audit_evidence WHERE suggestion = ? ORDER BY rank');
      const opt = <T>(value: T | null): T | undefined => value ?? undefined;
      return calls.map((c) => ({
        requestId: c.request_id as string,
        edge: c.edge as AuditRecord['edge'],
        service: c.service as string,
        callId: c.call_id as string,
        user: opt(c.user_ref as string | null),
        patient: opt(c.patient_ref as string | null),
        encounter: opt(c.encounter_ref as string | null),
        model: { name: c.model_name as string, version: c.model_version as string },
        outcome: c.outcome as AuditRecord['outcome'],
        recordedAt: c.recorded_at as string,
        ...(c.analysis !== 'computed' ? { analysis: c.analysis as AuditRecord['analysis'] } : {}),
        documents: (documents.all(c.id) as Record<string, string | number | null>[]).map((d) => ({
          reference: opt(d.reference as string | null),
          contentIndex: d.content_index as number,
          contentType: d.content_type as string,
          sha256: d.sha256 as string,
          length: d.length as number,
        })),
        suggestions: (suggestions.all(c.id) as Record<string, string | number | null>[]).map((s) => ({
          code: s.code as string,
          score: s.score as number,
          threshold: s.threshold as number,
          cardUuid: opt(s.card_uuid as string | null),
          suggestionId: s.suggestion_id as string,
          status: opt(s.status as string | null),
          refines: s.refines ? (s.refines as string).split(',') : undefined,
          evidence: (evidence.all(s.id) as Record<string, string | number | null>[]).map((e) => ({
            note: e.note as number,
            start: e.start as number,
            end: e.end as number,
            status: opt(e.status as string | null),
          })),
        })),
      }));
    } catch (error) {
      throw translated(error, 'auditRecords');
    }
  }

  async feedbackRecords(filter: { card?: string } = {}): Promise<StoredFeedback[]> {
    try {
      const rows = this.db
        .prepare(
          `SELECT f.*, s.code FROM feedback f LEFT JOIN audit_suggestion s ON s.id = f.suggestion
        WHERE ? IS NULL OR f.card_uuid = ? ORDER BY f.id`,
        )
        .all(filter.card ?? null, filter.card ?? null) as Record<string, string | number | null>[];
      return rows.map((f) => ({
        requestId: f.request_id as string,
        service: f.service as string,
        card: f.card_uuid as string,
        outcome: f.outcome as StoredFeedback['outcome'],
        acceptedSuggestions: JSON.parse(f.accepted_suggestions as string) as string[],
        ...(f.reason_code ? { reason: { system: f.reason_system as string, code: f.reason_code as string, display: f.reason_display as string } } : {}),
        ...(f.user_comment !== null ? { userComment: f.user_comment as string } : {}),
        outcomeTimestamp: f.outcome_timestamp as string,
        outcomeAt: f.outcome_at as string,
        receivedAt: f.received_at as string,
        known: f.suggestion !== null,
        ...(f.code ? { code: f.code as string } : {}),
      }));
    } catch (error) {
      throw translated(error, 'feedbackRecords');
    }
  }

  async acceptanceReport(options: { since?: Date } = {}): Promise<AcceptanceReport> {
    try {
      const since = options.since?.toISOString() ?? '';
      // A hook answered over its time budget showed no suggestion yet: it is counted apart.
      const calls = this.db
        .prepare(
          `SELECT count(*) AS calls,
          coalesce(sum(outcome <> 'suggestions' AND analysis <> 'pending'), 0) AS without,
          coalesce(sum(analysis = 'pending'), 0) AS pending
        FROM audit_call WHERE recorded_at >= ?`,
        )
        .get(since) as { calls: number; without: number; pending: number };
      const models = this.db
        .prepare(
          `SELECT model_name AS name, model_version AS version, count(*) AS calls
        FROM audit_call WHERE recorded_at >= ? GROUP BY model_name, model_version ORDER BY name, version`,
        )
        .all(since) as AcceptanceReport['models'];
      const made = this.db
        .prepare(
          `SELECT s.code, count(*) AS suggestions, count(s.card_uuid) AS cards
        FROM audit_suggestion s JOIN audit_call c ON c.id = s.call WHERE c.recorded_at >= ? GROUP BY s.code`,
        )
        .all(since) as { code: string; suggestions: number; cards: number }[];
      // The latest feedback per card decides its outcome (a card may be overridden, then accepted).
      const decided = this.db
        .prepare(
          `WITH ranked AS (
          SELECT f.suggestion, f.outcome, f.reason_code,
            row_number() OVER (PARTITION BY f.suggestion ORDER BY f.outcome_at DESC, f.id DESC) AS n
          FROM feedback f JOIN audit_suggestion s ON s.id = f.suggestion JOIN audit_call c ON c.id = s.call
          WHERE c.recorded_at >= ?)
        SELECT s.code, r.outcome, r.reason_code AS reason FROM ranked r JOIN audit_suggestion s ON s.id = r.suggestion WHERE r.n = 1`,
        )
        .all(since) as { code: string; outcome: 'accepted' | 'overridden'; reason: string | null }[];
      const unknownCards = this.db
        .prepare(`SELECT count(DISTINCT card_uuid) FROM feedback WHERE suggestion IS NULL AND received_at >= ?`)
        .pluck()
        .get(since) as number;

      const byCode = new Map<string, CodeAcceptance>(
        made.map((m) => [
          m.code,
          {
            code: m.code,
            suggestions: m.suggestions,
            cards: m.cards,
            cardsWithFeedback: 0,
            accepted: 0,
            overridden: 0,
            acceptanceRate: null,
            overrideRate: null,
            overrideReasons: {},
          },
        ]),
      );
      for (const d of decided) {
        const figures = byCode.get(d.code)!;
        figures.cardsWithFeedback++;
        if (d.outcome === 'accepted') figures.accepted++;
        else {
          figures.overridden++;
          const reason = d.reason ?? 'none';
          figures.overrideReasons[reason] = (figures.overrideReasons[reason] ?? 0) + 1;
        }
      }
      const codes = [...byCode.values()]
        .map((f) => ({ ...f, acceptanceRate: rate(f.accepted, f.cardsWithFeedback), overrideRate: rate(f.overridden, f.cardsWithFeedback) }))
        .sort((a, b) => b.suggestions - a.suggestions || a.code.localeCompare(b.code));
      return {
        ...(options.since ? { since } : {}),
        calls: calls.calls,
        callsWithoutSuggestion: calls.without,
        callsPending: calls.pending,
        models,
        codes,
        unknownCards,
      };
    } catch (error) {
      throw translated(error, 'acceptanceReport');
    }
  }

  async writable(): Promise<boolean> {
    try {
      this.touchHealth.run(new Date().toISOString());
      return true;
    } catch {
      return false;
    }
  }

  async cachedSuggestions(key: string, notBefore: string): Promise<string | undefined> {
    try {
      return (this.getCache.get(key, notBefore) as string | undefined) ?? undefined;
    } catch (error) {
      throw translated(error, 'cachedSuggestions');
    }
  }

  async cacheSuggestions(entry: CacheEntry, expireBefore: string): Promise<void> {
    try {
      this.db.transaction(() => {
        this.expireCache.run(expireBefore);
        this.putCache.run(entry.key, entry.model.name, entry.model.version, entry.value, entry.createdAt);
      })();
    } catch (error) {
      throw translated(error, 'cacheSuggestions');
    }
  }

  async claimTokenId(issuer: string, jti: string, keepUntil: Date, now: Date = new Date()): Promise<TokenClaim> {
    try {
      return this.db
        .transaction(() => {
          if (now.getTime() - this.lastTokenSweep >= this.tokenSweepIntervalMs) {
            this.sweepTokens.run(now.toISOString());
            this.lastTokenSweep = now.getTime();
          }
          const { changes } = this.claimToken.run({ issuer, jti, keepUntil: keepUntil.toISOString(), now: now.toISOString() });
          return changes === 1 ? 'fresh' : 'replayed';
        })
        .immediate();
    } catch (error) {
      throw translated(error, 'claimTokenId');
    }
  }

  /** Runs `work` in one write transaction (IMMEDIATE: no lock upgrade to wait for), translating failures. */
  private write<T>(what: string, work: () => T): T {
    try {
      return this.db.transaction(work).immediate();
    } catch (error) {
      throw translated(error, what);
    }
  }

  private read<T>(what: string, work: () => T): T {
    try {
      return this.db.transaction(work)();
    } catch (error) {
      throw translated(error, what);
    }
  }

  async createJob(job: NewBulkJob, documents: readonly string[]): Promise<void> {
    this.write('createJob', () => {
      this.db
        .prepare(`INSERT INTO bulk_job (id, owner, request, setting, status, total, created_at, expires_at) VALUES (?, ?, ?, ?, 'in-progress', ?, ?, ?)`)
        .run(job.id, job.owner, job.request, job.setting ?? null, documents.length, job.createdAt, job.expiresAt);
      const insert = this.db.prepare('INSERT INTO bulk_input (job, idx, document) VALUES (?, ?, ?)');
      for (const [i, document] of documents.entries()) insert.run(job.id, i, document);
    });
  }

  async bulkJob(id: string): Promise<BulkJobRecord | undefined> {
    return this.read('bulkJob', () => {
      const row = this.db.prepare('SELECT * FROM bulk_job WHERE id = ?').get(id) as Record<string, string | number | null> | undefined;
      if (!row) return undefined;
      const counts = this.db
        .prepare('SELECT count(*) FILTER (WHERE error IS NULL) AS done, count(*) FILTER (WHERE error IS NOT NULL) AS failed FROM bulk_result WHERE job = ?')
        .get(id) as { done: number; failed: number };
      return {
        id: row.id as string,
        owner: row.owner as string,
        request: row.request as string,
        ...(row.setting ? { setting: row.setting as string } : {}),
        status: row.status as BulkJobRecord['status'],
        total: row.total as number,
        done: counts.done,
        failed: counts.failed,
        createdAt: row.created_at as string,
        ...(row.completed_at ? { completedAt: row.completed_at as string } : {}),
        expiresAt: row.expires_at as string,
      };
    });
  }

  async jobDocument(id: string, index: number): Promise<{ document: string; setting?: string } | undefined> {
    return this.read('jobDocument', () => {
      const row = this.db
        .prepare('SELECT i.document, j.setting FROM bulk_input i JOIN bulk_job j ON j.id = i.job WHERE i.job = ? AND i.idx = ?')
        .get(id, index) as { document: string; setting: string | null } | undefined;
      return row ? { document: row.document, ...(row.setting ? { setting: row.setting } : {}) } : undefined;
    });
  }

  async recordJobResult(id: string, result: BulkDocumentResult, at: { now: string; expiresAt: string }): Promise<{ stored: boolean; completed: boolean }> {
    return this.write('recordJobResult', () => {
      const status = this.db.prepare('SELECT status FROM bulk_job WHERE id = ?').pluck().get(id);
      if (status !== 'in-progress') return { stored: false, completed: false };
      const { changes } = this.db
        .prepare('INSERT INTO bulk_result (job, idx, conditions, count, error) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(id, result.index, result.conditions, result.count, result.error ?? null);
      this.db.prepare('DELETE FROM bulk_input WHERE job = ? AND idx = ?').run(id, result.index);
      const left = this.db.prepare('SELECT count(*) FROM bulk_input WHERE job = ?').pluck().get(id) as number;
      if (left > 0) return { stored: changes === 1, completed: false };
      this.db.prepare(`UPDATE bulk_job SET status = 'completed', completed_at = ?, expires_at = ? WHERE id = ?`).run(at.now, at.expiresAt, id);
      return { stored: changes === 1, completed: true };
    });
  }

  async jobResults(id: string): Promise<BulkDocumentResult[]> {
    return this.read('jobResults', () =>
      (
        this.db.prepare('SELECT idx, conditions, count, error FROM bulk_result WHERE job = ? ORDER BY idx').all(id) as Record<string, string | number | null>[]
      ).map((r) => ({
        index: r.idx as number,
        conditions: r.conditions as string,
        count: r.count as number,
        ...(r.error !== null ? { error: r.error as string } : {}),
      })),
    );
  }

  async deleteJob(id: string): Promise<boolean> {
    return this.write('deleteJob', () => this.db.prepare('DELETE FROM bulk_job WHERE id = ?').run(id).changes === 1);
  }

  async leaseJobDocument(leaseUntil: string, now: string): Promise<{ id: string; index: number; attempts: number } | undefined> {
    return this.write('leaseJobDocument', () => {
      const row = this.db
        .prepare(
          `UPDATE bulk_input SET lease_until = @leaseUntil, attempts = attempts + 1
          WHERE rowid = (SELECT i.rowid FROM bulk_input i JOIN bulk_job j ON j.id = i.job
            WHERE i.lease_until IS NULL OR i.lease_until < @now ORDER BY j.created_at, i.job, i.idx LIMIT 1)
          RETURNING job, idx, attempts`,
        )
        .get({ leaseUntil, now }) as { job: string; idx: number; attempts: number } | undefined;
      return row ? { id: row.job, index: row.idx, attempts: row.attempts } : undefined;
    });
  }

  async expireJobs(now: string): Promise<number> {
    return this.write('expireJobs', () => this.db.prepare('DELETE FROM bulk_job WHERE expires_at < ?').run(now).changes);
  }

  async jobCounts(): Promise<BulkJobCounts> {
    return this.read('jobCounts', () => {
      const jobs = { 'in-progress': 0, completed: 0 };
      for (const r of this.db.prepare('SELECT status, count(*) AS n FROM bulk_job GROUP BY status').all() as { status: keyof typeof jobs; n: number }[]) {
        jobs[r.status] = r.n;
      }
      const queued = this.db.prepare('SELECT count(*) FROM bulk_input').pluck().get() as number;
      const results = this.db
        .prepare('SELECT count(*) FILTER (WHERE error IS NULL) AS done, count(*) FILTER (WHERE error IS NOT NULL) AS failed FROM bulk_result')
        .get() as { done: number; failed: number };
      return { jobs, documents: { queued, done: results.done, failed: results.failed } };
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
