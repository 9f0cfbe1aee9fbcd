/**
 * The shared Store: one PostgreSQL database (pg; the only importer of it) that any number of
 * identical replicas use at once. Its schema is migrated at open from POSTGRES_MIGRATIONS under
 * an advisory lock, so replicas that start together migrate once.
 *
 * Durability: every write is one transaction (or one statement) committed before its method
 * resolves, with synchronous_commit at least `local`, so an acknowledged write survives a
 * crash of the database server. Concurrency between replicas is left to the database:
 * feedback and token claims rely on unique indexes and ON CONFLICT, never on read-then-write.
 *
 * Failure: no call waits longer than connectionTimeoutMs (for a connection) plus
 * statementTimeoutMs and one second (for its statements); when the database is unreachable,
 * restarting, out of resources or too slow, calls reject with StoreUnavailableError and the
 * pool reconnects by itself once it is back. Messages never hold the password, SQL parameters
 * or record content.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, Pool, type ClientConfig, type PoolClient } from 'pg';
import type { Logger } from '../log';
import { POSTGRES_MIGRATIONS } from './postgres-migrations';
import {
  StoreUnavailableError,
  type AcceptanceReport,
  type AuditRecord,
  type BulkDocumentResult,
  type BulkJobCounts,
  type BulkJobRecord,
  type NewBulkJob,
  type CacheEntry,
  type CodeAcceptance,
  type FeedbackRecord,
  type FeedbackResult,
  type Store,
  type StoredFeedback,
  type TokenClaim,
} from './store';

/** TLS settings beyond what `sslmode` says (Node's tls.connect options of the same names). */
export interface PostgresTlsOptions {
  /** PEM of the certificate authorities to trust instead of Node's bundled ones (the URL's `sslrootcert` reads one from a file). */
  ca?: string | Buffer;
  /** Client certificate and key (PEM), when the server asks for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** false accepts any server certificate (libpq's `sslmode=require`); default true. */
  rejectUnauthorized?: boolean;
}

export interface PostgresStoreOptions {
  /** Connections this process keeps to the database at most (default 10). */
  poolSize?: number;
  /**
   * Longest wait for a connection: opening one (TCP, TLS, authentication) or waiting for a free
   * one when all are busy (default 5000 ms; the URL's `connect_timeout`, in seconds, sets it too).
   */
  connectionTimeoutMs?: number;
  /**
   * The server's `statement_timeout`, and (plus one second) the client's bound on all the
   * statements of one call, for a server that no longer answers at all (default 5000 ms).
   */
  statementTimeoutMs?: number;
  /** Bound on each statement of the migration at open, waiting for another replica's included (default 60000 ms). */
  migrationTimeoutMs?: number;
  /** An idle connection is closed after this long (default 30000 ms). */
  idleTimeoutMs?: number;
  /** TLS settings; given without `sslmode` in the URL, they mean `verify-full`. */
  ssl?: PostgresTlsOptions;
  /** `application_name` the server shows in pg_stat_activity (default `icd10-cds`; the URL's `application_name` sets it too). */
  applicationName?: string;
  /** Least time between two sweeps of expired token claims by this process (default 60000 ms). */
  tokenSweepIntervalMs?: number;
  /** Where lost connections and schema changes are logged (without credentials). */
  log?: Logger;
}

/** Everything openPostgresStore needs, resolved from the URL, the options and the defaults. */
export interface PostgresSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The URL without its password, for messages. */
  location: string;
  sslmode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  ssl: false | ConnectionOptions;
  poolSize: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  migrationTimeoutMs: number;
  idleTimeoutMs: number;
  applicationName: string;
  tokenSweepIntervalMs: number;
}

export const POSTGRES_DEFAULTS = Object.freeze({
  port: 5432,
  poolSize: 10,
  connectionTimeoutMs: 5000,
  statementTimeoutMs: 5000,
  migrationTimeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  applicationName: 'icd10-cds',
  tokenSweepIntervalMs: 60_000,
});

/** What a call may take beyond the server's statement_timeout before the client gives up on the connection. */
const CLIENT_GRACE_MS = 1000;
/** Query parameters of the URL this store understands (libpq's names); any other is refused. */
const URL_PARAMETERS = ['sslmode', 'sslrootcert', 'connect_timeout', 'application_name'];
/** Serialises migrations of one database across processes (pg_advisory_lock is per database). */
const MIGRATION_LOCK = `hashtextextended('icd10-cds schema migrations', 0)`;
/** Oldest server this schema and its SQL run on (identity columns, EXECUTE FUNCTION, hashtextextended). */
const MIN_SERVER_VERSION = 120000;

/**
 * Reads a STORE_URL and the options into settings, checking everything and reporting all
 * problems at once (config.ts may call it at startup to fail fast).
 *
 * TLS (`sslmode`): `disable` (the default without `options.ssl`) is plaintext; `require` and
 * `verify-full` verify the certificate chain and the host name, like pg 8 and unlike libpq,
 * whose `require` checks nothing (`ssl.rejectUnauthorized: false` gives that); `verify-ca`
 * verifies the chain only. `prefer` and `allow` are refused: they fall back to plaintext.
 * @param url - `postgres://user:password@host:5432/database?sslmode=verify-full`
 * @param options - explicit settings; they win over the URL's parameters
 * @throws Error naming every problem, never the password
 */
export function resolvePostgresSettings(url: string, options: Omit<PostgresStoreOptions, 'log'> = {}): PostgresSettings {
  const problems: string[] = [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('store URL is not a URL (expected postgres://user:password@host:5432/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') problems.push(`scheme ${parsed.protocol} is not postgres: or postgresql:`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) problems.push('names no host');
  const port = parsed.port === '' ? POSTGRES_DEFAULTS.port : Number(parsed.port);
  const user = decodeURIComponent(parsed.username);
  if (!user) problems.push('names no user');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) problems.push('names no database');
  const location = `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}`;

  const params = new Map<string, string>();
  for (const [key, value] of parsed.searchParams) {
    if (!URL_PARAMETERS.includes(key)) problems.push(`parameter ${key} is not supported (supported: ${URL_PARAMETERS.join(', ')})`);
    else params.set(key, value);
  }
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value <= 0) problems.push(`${name} must be a positive integer, not ${String(value)}`);
    return value;
  };
  // libpq's connect_timeout is in whole seconds (0, "wait forever", is refused below as not positive).
  const connectTimeout = params.get('connect_timeout');
  let connectTimeoutMs: number | undefined;
  if (connectTimeout !== undefined) {
    if (/^\d+$/.test(connectTimeout)) connectTimeoutMs = Number(connectTimeout) * 1000;
    else problems.push(`connect_timeout must be whole seconds, not ${connectTimeout}`);
  }

  const sslmode = params.get('sslmode') ?? (options.ssl ? 'verify-full' : 'disable');
  let ssl: false | ConnectionOptions = false;
  if (sslmode === 'disable') {
    if (options.ssl) problems.push('TLS options are given but sslmode is disable');
  } else if (sslmode === 'require' || sslmode === 'verify-ca' || sslmode === 'verify-full') {
    let ca = options.ssl?.ca;
    const rootCert = params.get('sslrootcert');
    if (ca === undefined && rootCert !== undefined) {
      try {
        ca = readFileSync(rootCert);
      } catch (error) {
        problems.push(`sslrootcert ${rootCert} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    ssl = {
      rejectUnauthorized: options.ssl?.rejectUnauthorized ?? true,
      ...(ca !== undefined ? { ca } : {}),
      ...(options.ssl?.cert !== undefined ? { cert: options.ssl.cert } : {}),
      ...(options.ssl?.key !== undefined ? { key: options.ssl.key } : {}),
      // verify-ca: the chain is checked, the name is not (libpq's meaning).
      ...(sslmode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
    };
  } else if (sslmode === 'prefer' || sslmode === 'allow') {
    problems.push(`sslmode ${sslmode} is refused: it falls back to plaintext (use verify-full, verify-ca, require or disable)`);
  } else {
    problems.push(`sslmode ${sslmode} is not one of disable, require, verify-ca, verify-full`);
  }

  const settings: PostgresSettings = {
    host,
    port,
    user,
    password: decodeURIComponent(parsed.password),
    database,
    location,
    sslmode: sslmode as PostgresSettings['sslmode'],
    ssl,
    poolSize: positive('poolSize', options.poolSize, POSTGRES_DEFAULTS.poolSize),
    connectionTimeoutMs: positive('connectionTimeoutMs', options.connectionTimeoutMs ?? connectTimeoutMs, POSTGRES_DEFAULTS.connectionTimeoutMs),
    statementTimeoutMs: positive('statementTimeoutMs', options.statementTimeoutMs, POSTGRES_DEFAULTS.statementTimeoutMs),
    migrationTimeoutMs: positive('migrationTimeoutMs', options.migrationTimeoutMs, POSTGRES_DEFAULTS.migrationTimeoutMs),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, POSTGRES_DEFAULTS.idleTimeoutMs),
    applicationName: options.applicationName ?? params.get('application_name') ?? POSTGRES_DEFAULTS.applicationName,
    tokenSweepIntervalMs: options.tokenSweepIntervalMs ?? POSTGRES_DEFAULTS.tokenSweepIntervalMs,
  };
  if (!Number.isInteger(port) || port <= 0 || port > 65535) problems.push(`port ${parsed.port} is not a TCP port`);
  if (!(settings.tokenSweepIntervalMs >= 0)) problems.push('tokenSweepIntervalMs must be 0 or more');
  if (problems.length) throw new Error(`store URL ${location}: ${problems.join('; ')}`);
  return settings;
}

/** The driver's connection settings common to the migration client and the pool. */
function connectionOf(settings: PostgresSettings): ClientConfig {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    ssl: settings.ssl,
    application_name: settings.applicationName,
    connectionTimeoutMillis: settings.connectionTimeoutMs,
    // Notices a dead peer on an idle connection instead of waiting for the next call to time out.
    keepAlive: true,
  };
}

/** SQLSTATEs that may clear by themselves (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const TRANSIENT_SQLSTATE = /^(08...|53...|40001|40P01|55P03|57014|57P0[1235]|58000|58030|25006)$/;
/** Socket errors of an unreachable or vanished server. */
const TRANSIENT_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
/** pg's own messages when a connection times out or breaks (they carry no code). */
const TRANSIENT_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|timeout expired|Query read timeout|Client has encountered a connection error)/;

/** Whether a driver error means "try again later" rather than a bug or a configuration error. */
function isTransient(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const { code, message, errors } = (error ?? {}) as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_SOCKET.has(code))) return true;
  if (typeof message === 'string' && TRANSIENT_MESSAGE.test(message)) return true;
  // Node's connect to a name with several addresses fails with all their errors.
  return Array.isArray(errors) && errors.length > 0 && errors.every(isTransient);
}

/**
 * A driver error as StoreUnavailableError when transient, unchanged otherwise.
 * @param error - what pg threw
 * @param what - the store method, for the message
 */
function translated(error: unknown, what: string): unknown {
  if (error instanceof StoreUnavailableError || !isTransient(error)) return error;
  const { code, message } = error as { code?: string; message?: string };
  return new StoreUnavailableError(`postgresql store: ${what} failed: ${message || code || 'unknown error'}`, { cause: error });
}

/**
 * Applies the migrations the database lacks, under an advisory lock held by this session, so
 * that of two replicas starting at once one migrates and the other then finds nothing to do.
 * @returns the server's synchronous_commit and fsync settings
 * @throws Error when the database was migrated by a newer version of this software, or has a
 *   history this software does not know
 */
async function migrate(settings: PostgresSettings, log?: Logger): Promise<{ synchronousCommit: string; fsync: string }> {
  const client = new Client({
    ...connectionOf(settings),
    statement_timeout: settings.migrationTimeoutMs,
    query_timeout: settings.migrationTimeoutMs + CLIENT_GRACE_MS,
  });
  // A broken connection also fails the query in flight, which reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const {
      rows: [server],
    } = await client.query<{ version: number; sync: string; fsync: string }>(`SELECT
      current_setting('server_version_num')::int AS version, current_setting('synchronous_commit') AS sync, current_setting('fsync') AS fsync`);
    if (server.version < MIN_SERVER_VERSION) throw new Error(`store ${settings.location} runs PostgreSQL ${server.version}, older than 12`);
    await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows: applied } = await client.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    const latest = POSTGRES_MIGRATIONS.length;
    if (applied.length > latest) {
      throw new Error(`store ${settings.location} has schema version ${applied[applied.length - 1].version}, newer than this software's ${latest}`);
    }
    for (const [i, row] of applied.entries()) {
      const known = POSTGRES_MIGRATIONS[i];
      if (row.version !== known.version || row.name !== known.name) {
        throw new Error(`store ${settings.location} records migration ${row.version} ${row.name} where this software has ${known.version} ${known.name}`);
      }
    }
    for (const migration of POSTGRES_MIGRATIONS.slice(applied.length)) {
      await client.query('BEGIN');
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      await client.query('COMMIT');
      log?.info({ store: 'postgresql', version: migration.version, migration: migration.name }, 'store schema migrated');
    }
    await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
    return { synchronousCommit: server.sync, fsync: server.fsync };
  } catch (error) {
    throw translated(error, 'open');
  } finally {
    // Ending the session also releases the lock when something above failed.
    await client.end().catch(() => undefined);
  }
}

/**
 * Opens the PostgreSQL store: resolves the settings, migrates the schema (waiting for another
 * replica doing the same) and returns a store over a connection pool.
 * @param url - `postgres://user:password@host:5432/database?sslmode=verify-full`; query
 *   parameters `sslmode`, `sslrootcert`, `connect_timeout` (seconds), `application_name`
 * @param options - pool size, timeouts, TLS, logger (defaults in POSTGRES_DEFAULTS)
 * @throws StoreUnavailableError when the database cannot be reached; Error for bad settings,
 *   refused authentication or TLS, or a schema this software does not know
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const settings = resolvePostgresSettings(url, options);
  const server = await migrate(settings, options.log);
  if (server.fsync === 'off') options.log?.warn({ store: 'postgresql' }, 'the database runs with fsync off: a power loss may lose acknowledged records');
  const pool = new Pool({
    ...connectionOf(settings),
    max: settings.poolSize,
    idleTimeoutMillis: settings.idleTimeoutMs,
    // A command-line tool exits once its work is done, without closing the store first.
    allowExitOnIdle: true,
    statement_timeout: settings.statementTimeoutMs,
    // A transaction left open by a vanished client would hold its locks until TCP notices.
    idle_in_transaction_session_timeout: Math.max(10_000, 2 * settings.statementTimeoutMs),
    // Acknowledged means durable: raise `off` (which may lose the last commits on a server
    // crash); `local`, `on` and the synchronous-standby levels are kept as the DBA set them.
    ...(server.synchronousCommit === 'off' ? { options: '-c synchronous_commit=local' } : {}),
  });
  // An idle connection the server closed (restart, failover) is dropped from the pool and
  // replaced on demand; without a listener the event would crash the process.
  pool.on('error', (error: Error & { code?: string }) => {
    options.log?.warn({ store: 'postgresql', err: { message: error.message, code: error.code } }, 'store connection lost');
  });
  return new PostgresStore(pool, settings);
}

type Row = Record<string, unknown>;
const opt = <T>(value: T | null): T | undefined => value ?? undefined;
const iso = (value: unknown) => (value as Date).toISOString();
/** Rounds a rate for the report; null when nothing to divide by (as in the SQLite store). */
const rate = (n: number, of: number) => (of === 0 ? null : Number((n / of).toFixed(4)));

/**
 * One audit record in one statement (so committed or not as a whole): the call, its
 * documents, suggestions and their evidence, from the record as JSON. Data-modifying CTEs
 * run exactly once, and foreign keys are checked at the end of the statement.
 */
const INSERT_AUDIT = `WITH r AS (SELECT $1::jsonb AS j),
  call AS (
    INSERT INTO audit_call (request_id, edge, service, call_id, user_ref, patient_ref, encounter_ref,
      model_name, model_version, outcome, analysis, recorded_at)
    SELECT j->>'requestId', j->>'edge', j->>'service', j->>'callId', j->>'user', j->>'patient', j->>'encounter',
      j#>>'{model,name}', j#>>'{model,version}', j->>'outcome', coalesce(j->>'analysis', 'computed'), (j->>'recordedAt')::timestamptz
    FROM r
    RETURNING id),
  documents AS (
    INSERT INTO audit_document (call, note, reference, content_index, content_type, sha256, length)
    SELECT call.id, d.ord - 1, d.v->>'reference', (d.v->>'contentIndex')::integer, d.v->>'contentType', d.v->>'sha256', (d.v->>'length')::integer
    FROM call, r, jsonb_array_elements(r.j->'documents') WITH ORDINALITY AS d(v, ord)),
  suggestions AS (
    INSERT INTO audit_suggestion (call, rank, code, score, threshold, status, card_uuid, suggestion_id, refines)
    SELECT call.id, s.ord - 1, s.v->>'code', (s.v->>'score')::float8, (s.v->>'threshold')::float8, s.v->>'status',
      s.v->>'cardUuid', s.v->>'suggestionId',
      CASE WHEN jsonb_array_length(coalesce(s.v->'refines', '[]')) > 0 THEN ARRAY(SELECT jsonb_array_elements_text(s.v->'refines')) END
    FROM call, r, jsonb_array_elements(r.j->'suggestions') WITH ORDINALITY AS s(v, ord)
    RETURNING id, rank)
  INSERT INTO audit_evidence (suggestion, rank, note, start, "end", status)
  SELECT suggestions.id, e.ord - 1, (e.v->>'note')::integer, (e.v->>'start')::integer, (e.v->>'end')::integer, e.v->>'status'
  FROM suggestions, r, jsonb_array_elements(r.j->'suggestions'->suggestions.rank->'evidence') WITH ORDINALITY AS e(v, ord)`;

/**
 * One feedback entry: linked to the latest suggestion shown on its card, stored unless the
 * same entry is (the unique index feedback_entry; a concurrent insert of it waits, then does nothing).
 */
const INSERT_FEEDBACK = `WITH card AS (SELECT id FROM audit_suggestion WHERE card_uuid = $3 ORDER BY id DESC LIMIT 1),
  stored AS (
    INSERT INTO feedback (request_id, service, card_uuid, suggestion, outcome, accepted_suggestions, reason_system, reason_code,
      reason_display, user_comment, outcome_timestamp, outcome_at, received_at)
    VALUES ($1, $2, $3, (SELECT id FROM card), $4, $5, $6, $7, $8, $9, $10, $11::timestamptz, $12::timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM card) AS known, NOT EXISTS (SELECT 1 FROM stored) AS duplicate`;

class PostgresStore implements Store {
  readonly kind = 'postgresql';
  private closed = false;
  private lastTokenSweep = 0;
  /** The client's bound on one call's statements, once it holds a connection. */
  private readonly callTimeoutMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly settings: PostgresSettings,
  ) {
    this.callTimeoutMs = settings.statementTimeoutMs + CLIENT_GRACE_MS;
  }

  /**
   * Runs `work` on a pooled connection within the call's bound. A connection that failed or
   * timed out is discarded, not returned to the pool (its state is unknown; closing it makes
   * the server roll back whatever it had open). A deadlock or serialization failure, which the
   * server rolled back entirely, is tried once more.
   * @param what - the method, for messages
   * @param work - the statements
   */
  private async run<T>(what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('The store is closed');
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(what, work);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt === 1 && (code === '40001' || code === '40P01')) continue;
        throw translated(error, what);
      }
    }
  }

  private async once<T>(what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // While checked out, a connection error has no pool listener; the query in flight reports it.
    const ignore = () => undefined;
    client.on('error', ignore);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`postgresql store: ${what} got no answer within ${this.callTimeoutMs} ms`)),
        this.callTimeoutMs,
      );
    });
    const attempt = work(client);
    try {
      const result = await Promise.race([attempt, deadline]);
      client.off('error', ignore);
      client.release();
      return result;
    } catch (error) {
      attempt.catch(() => undefined);
      client.off('error', ignore);
      // With an error the pool ends the connection (destroying it when a query hangs on it).
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `work` in one transaction, committed before it resolves. */
  private transaction<T>(what: string, work: (client: PoolClient) => Promise<T>, mode = ''): Promise<T> {
    return this.run(what, async (client) => {
      await client.query(`BEGIN${mode}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    });
  }

  /** Several reads that see one snapshot. */
  private snapshot<T>(what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.transaction(what, work, ' ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async recordAudit(record: AuditRecord): Promise<void> {
    await this.run('recordAudit', (client) => client.query(INSERT_AUDIT, [JSON.stringify(record)]));
  }

  async recordFeedback(entries: readonly FeedbackRecord[]): Promise<FeedbackResult[]> {
    const rows = entries.map((entry, index) => ({
      index,
      entry,
      accepted: JSON.stringify([...entry.acceptedSuggestions].sort()),
    }));
    // Every replica inserts a batch's entries in one order (the unique index's), so two
    // batches sharing entries wait for each other instead of deadlocking. The sort is stable:
    // of two equal entries in one batch the first is stored, the second is the duplicate.
    const key = (r: (typeof rows)[number]) => [r.entry.card, r.entry.outcome, r.accepted, r.entry.outcomeTimestamp];
    const ordered = [...rows].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
      return 0;
    });
    return this.transaction('recordFeedback', async (client) => {
      const results: FeedbackResult[] = new Array(rows.length);
      for (const { index, entry, accepted } of ordered) {
        const {
          rows: [r],
        } = await client.query<{ known: boolean; duplicate: boolean }>(INSERT_FEEDBACK, [
          entry.requestId,
          entry.service,
          entry.card,
          entry.outcome,
          accepted,
          entry.reason?.system ?? null,
          entry.reason?.code ?? null,
          entry.reason?.display ?? null,
          entry.userComment ?? null,
          entry.outcomeTimestamp,
          entry.outcomeAt,
          entry.receivedAt,
        ]);
        results[index] = { card: entry.card, known: r.known, duplicate: r.duplicate };
      }
      return results;
    });
  }

  async auditRecords(filter: { since?: Date; requestId?: string } = {}): Promise<AuditRecord[]> {
    return this.snapshot('auditRecords', async (client) => {
      const { rows: calls } = await client.query<Row>(
        `SELECT * FROM audit_call
        WHERE ($1::timestamptz IS NULL OR recorded_at >= $1::timestamptz) AND ($2::text IS NULL OR request_id = $2::text) ORDER BY id`,
        [filter.since ?? null, filter.requestId ?? null],
      );
      const callIds = calls.map((c) => c.id);
      const { rows: documents } = await client.query<Row>('SELECT * FROM audit_document WHERE call = ANY($1::bigint[]) ORDER BY call, note', [callIds]);
      const { rows: suggestions } = await client.query<Row>('SELECT * FROM audit_suggestion WHERE call = ANY($1::bigint[]) ORDER BY call, rank', [callIds]);
      const { rows: evidence } = await client.query<Row>('SELECT * FROM audit_evidence WHERE suggestion = ANY($1::bigint[]) ORDER BY suggestion, rank', [
        suggestions.map((s) => s.id),
      ]);
      const groupBy = (rows: Row[], column: string) => {
        const groups = new Map<unknown, Row[]>();
        for (const row of rows) groups.set(row[column], [...(groups.get(row[column]) ?? []), row]);
        return (id: unknown) => groups.get(id) ?? [];
      };
      const documentsOf = groupBy(documents, 'call');
      const suggestionsOf = groupBy(suggestions, 'call');
      const evidenceOf = groupBy(evidence, 'suggestion');
      // The same shape as the SQLite store builds, absent fields included.
      return calls.map((c): AuditRecord => ({
        requestId: c.request_id as string,
        edge: c.edge as AuditRecord['edge'],
        service: c.service as string,
        callId: c.call_id as string,
        user: opt(c.user_ref as string | null),
        patient: opt(c.patient_ref as string | null),
        encounter: opt(c.encounter_ref as string | null),
        model: { name: c.model_name as string, version: c.model_version as string },
        outcome: c.outcome as AuditRecord['outcome'],
        recordedAt: iso(c.recorded_at),
        ...(c.analysis !== 'computed' ? { analysis: c.analysis as AuditRecord['analysis'] } : {}),
        documents: documentsOf(c.id).map((d) => ({
          reference: opt(d.reference as string | null),
          contentIndex: d.content_index as number,
          contentType: d.content_type as string,
          sha256: d.sha256 as string,
          length: d.length as number,
        })),
        suggestions: suggestionsOf(c.id).map((s) => ({
          code: s.code as string,
          score: s.score as number,
          threshold: s.threshold as number,
          cardUuid: opt(s.card_uuid as string | null),
          suggestionId: s.suggestion_id as string,
          status: opt(s.status as string | null),
          refines: opt(s.refines as string[] | null),
          evidence: evidenceOf(s.id).map((e) => ({
            note: e.note as number,
            start: e.start as number,
            end: e.end as number,
            status: opt(e.status as string | null),
          })),
        })),
      }));
    });
  }

  async feedbackRecords(filter: { card?: string } = {}): Promise<StoredFeedback[]> {
    const { rows } = await this.run('feedbackRecords', (client) =>
      client.query<Row>(
        `SELECT f.*, s.code
      FROM feedback f LEFT JOIN audit_suggestion s ON s.id = f.suggestion
      WHERE $1::text IS NULL OR f.card_uuid = $1::text ORDER BY f.id`,
        [filter.card ?? null],
      ),
    );
    return rows.map((f) => ({
      requestId: f.request_id as string,
      service: f.service as string,
      card: f.card_uuid as string,
      outcome: f.outcome as StoredFeedback['outcome'],
      acceptedSuggestions: JSON.parse(f.accepted_suggestions as string) as string[],
      ...(f.reason_code ? { reason: { system: f.reason_system as string, code: f.reason_code as string, display: f.reason_display as string } } : {}),
      ...(f.user_comment !== null ? { userComment: f.user_comment as string } : {}),
      outcomeTimestamp: f.outcome_timestamp as string,
      outcomeAt: iso(f.outcome_at),
      receivedAt: iso(f.received_at),
      known: f.suggestion !== null,
      ...(f.code ? { code: f.code as string } : {}),
    }));
  }

  async acceptanceReport(options: { since?: Date } = {}): Promise<AcceptanceReport> {
    const since = options.since ?? null;
    const { calls, models, made, decided, unknownCards } = await this.snapshot('acceptanceReport', async (client) => {
      const [calls] = (
        await client.query<{ calls: number; without: number; pending: number }>(
          `SELECT count(*)::int AS calls,
          (count(*) FILTER (WHERE outcome <> 'suggestions' AND analysis <> 'pending'))::int AS without,
          (count(*) FILTER (WHERE analysis = 'pending'))::int AS pending
        FROM audit_call WHERE $1::timestamptz IS NULL OR recorded_at >= $1::timestamptz`,
          [since],
        )
      ).rows;
      // Byte order, as SQLite sorts, whatever the database's collation.
      const models = (
        await client.query<AcceptanceReport['models'][number]>(
          `SELECT model_name AS name, model_version AS version, count(*)::int AS calls
        FROM audit_call WHERE $1::timestamptz IS NULL OR recorded_at >= $1::timestamptz
        GROUP BY model_name, model_version ORDER BY model_name COLLATE "C", model_version COLLATE "C"`,
          [since],
        )
      ).rows;
      const made = (
        await client.query<{ code: string; suggestions: number; cards: number }>(
          `SELECT s.code,
          count(*)::int AS suggestions, count(s.card_uuid)::int AS cards
        FROM audit_suggestion s JOIN audit_call c ON c.id = s.call
        WHERE $1::timestamptz IS NULL OR c.recorded_at >= $1::timestamptz GROUP BY s.code`,
          [since],
        )
      ).rows;
      // The latest feedback per card decides its outcome (a card may be overridden, then accepted).
      const decided = (
        await client.query<{ code: string; outcome: 'accepted' | 'overridden'; reason: string | null }>(
          `WITH ranked AS (
          SELECT f.suggestion, f.outcome, f.reason_code,
            row_number() OVER (PARTITION BY f.suggestion ORDER BY f.outcome_at DESC, f.id DESC) AS n
          FROM feedback f JOIN audit_suggestion s ON s.id = f.suggestion JOIN audit_call c ON c.id = s.call
          WHERE $1::timestamptz IS NULL OR c.recorded_at >= $1::timestamptz)
        SELECT s.code, r.outcome, r.reason_code AS reason FROM ranked r JOIN audit_suggestion s ON s.id = r.suggestion WHERE r.n = 1`,
          [since],
        )
      ).rows;
      const [{ unknown }] = (
        await client.query<{ unknown: number }>(
          `SELECT count(DISTINCT card_uuid)::int AS unknown
        FROM feedback WHERE suggestion IS NULL AND ($1::timestamptz IS NULL OR received_at >= $1::timestamptz)`,
          [since],
        )
      ).rows;
      return { calls, models, made, decided, unknownCards: unknown };
    });

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
      ...(options.since ? { since: options.since.toISOString() } : {}),
      calls: calls.calls,
      callsWithoutSuggestion: calls.without,
      callsPending: calls.pending,
      models,
      codes,
      unknownCards,
    };
  }

  async writable(): Promise<boolean> {
    try {
      await this.run('writable', (client) =>
        client.query(`INSERT INTO store_health (id, checked_at) VALUES (1, now())
        ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`),
      );
      return true;
    } catch {
      return false;
    }
  }

  async cachedSuggestions(key: string, notBefore: string): Promise<string | undefined> {
    const { rows } = await this.run('cachedSuggestions', (client) =>
      client.query<{ value: string }>('SELECT value FROM suggestion_cache WHERE key = $1 AND created_at >= $2::timestamptz', [key, notBefore]),
    );
    return rows[0]?.value;
  }

  async cacheSuggestions(entry: CacheEntry, expireBefore: string): Promise<void> {
    await this.transaction('cacheSuggestions', async (client) => {
      await client.query('DELETE FROM suggestion_cache WHERE created_at < $1::timestamptz', [expireBefore]);
      await client.query(
        `INSERT INTO suggestion_cache (key, model_name, model_version, value, created_at) VALUES ($1, $2, $3, $4, $5::timestamptz)
        ON CONFLICT (key) DO UPDATE SET model_name = excluded.model_name, model_version = excluded.model_version,
          value = excluded.value, created_at = excluded.created_at`,
        [entry.key, entry.model.name, entry.model.version, entry.value, entry.createdAt],
      );
    });
  }

  async claimTokenId(issuer: string, jti: string, keepUntil: Date, now: Date = new Date()): Promise<TokenClaim> {
    const sweep = now.getTime() - this.lastTokenSweep >= this.settings.tokenSweepIntervalMs;
    if (sweep) this.lastTokenSweep = now.getTime();
    return this.run('claimTokenId', async (client) => {
      if (sweep) await client.query('DELETE FROM token_claim WHERE keep_until < $1', [now]);
      // One statement: a second replica's insert of the same id waits for the first, then
      // finds a live claim and changes nothing; an expired claim is taken over.
      const { rowCount } = await client.query(
        `INSERT INTO token_claim (issuer, jti, keep_until) VALUES ($1, $2, $3)
        ON CONFLICT (issuer, jti) DO UPDATE SET keep_until = excluded.keep_until WHERE token_claim.keep_until < $4
        RETURNING 1`,
        [issuer, jti, keepUntil, now],
      );
      return rowCount === 1 ? 'fresh' : 'replayed';
    });
  }

  async createJob(job: NewBulkJob, documents: readonly string[]): Promise<void> {
    await this.transaction('createJob', async (client) => {
      await client.query(
        `INSERT INTO bulk_job (id, owner, request, setting, status, total, created_at, expires_at) VALUES ($1, $2, $3, $4, 'in-progress', $5, $6, $7)`,
        [job.id, job.owner, job.request, job.setting ?? null, documents.length, job.createdAt, job.expiresAt],
      );
      await client.query('INSERT INTO bulk_input (job, idx, document) SELECT $1, i - 1, d FROM unnest($2::text[]) WITH ORDINALITY AS t (d, i)', [
        job.id,
        documents,
      ]);
    });
  }

  async bulkJob(id: string): Promise<BulkJobRecord | undefined> {
    const { rows } = await this.run('bulkJob', (client) =>
      client.query<Row>(
        `SELECT j.*, (SELECT count(*) FILTER (WHERE error IS NULL) FROM bulk_result WHERE job = j.id)::int AS done,
          (SELECT count(*) FILTER (WHERE error IS NOT NULL) FROM bulk_result WHERE job = j.id)::int AS failed
        FROM bulk_job j WHERE j.id = $1`,
        [id],
      ),
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id as string,
      owner: row.owner as string,
      request: row.request as string,
      ...(row.setting ? { setting: row.setting as string } : {}),
      status: row.status as BulkJobRecord['status'],
      total: row.total as number,
      done: row.done as number,
      failed: row.failed as number,
      createdAt: (row.created_at as Date).toISOString(),
      ...(row.completed_at ? { completedAt: (row.completed_at as Date).toISOString() } : {}),
      expiresAt: (row.expires_at as Date).toISOString(),
    };
  }

  async jobDocument(id: string, index: number): Promise<{ document: string; setting?: string } | undefined> {
    const { rows } = await this.run('jobDocument', (client) =>
      client.query<{ document: string; setting: string | null }>(
        'SELECT i.document, j.setting FROM bulk_input i JOIN bulk_job j ON j.id = i.job WHERE i.job = $1 AND i.idx = $2',
        [id, index],
      ),
    );
    return rows[0] ? { document: rows[0].document, ...(rows[0].setting ? { setting: rows[0].setting } : {}) } : undefined;
  }

  async recordJobResult(id: string, result: BulkDocumentResult, at: { now: string; expiresAt: string }): Promise<{ stored: boolean; completed: boolean }> {
    return this.transaction('recordJobResult', async (client) => {
      // The job's row lock orders this against a concurrent cancel and the other documents' results.
      const job = await client.query<{ status: string }>('SELECT status FROM bulk_job WHERE id = $1 FOR UPDATE', [id]);
      if (job.rows[0]?.status !== 'in-progress') return { stored: false, completed: false };
      const inserted = await client.query('INSERT INTO bulk_result (job, idx, conditions, count, error) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        id,
        result.index,
        result.conditions,
        result.count,
        result.error ?? null,
      ]);
      await client.query('DELETE FROM bulk_input WHERE job = $1 AND idx = $2', [id, result.index]);
      const left = await client.query('SELECT 1 FROM bulk_input WHERE job = $1 LIMIT 1', [id]);
      const stored = inserted.rowCount === 1;
      if ((left.rowCount ?? 0) > 0) return { stored, completed: false };
      await client.query(`UPDATE bulk_job SET status = 'completed', completed_at = $2, expires_at = $3 WHERE id = $1`, [id, at.now, at.expiresAt]);
      return { stored, completed: true };
    });
  }

  async jobResults(id: string): Promise<BulkDocumentResult[]> {
    const { rows } = await this.run('jobResults', (client) =>
      client.query<Row>('SELECT idx, conditions, count, error FROM bulk_result WHERE job = $1 ORDER BY idx', [id]),
    );
    return rows.map((r) => ({
      index: r.idx as number,
      conditions: r.conditions as string,
      count: r.count as number,
      ...(r.error !== null ? { error: r.error as string } : {}),
    }));
  }

  async deleteJob(id: string): Promise<boolean> {
    const { rowCount } = await this.run('deleteJob', (client) => client.query('DELETE FROM bulk_job WHERE id = $1', [id]));
    return rowCount === 1;
  }

  async leaseJobDocument(leaseUntil: string, now: string): Promise<{ id: string; index: number; attempts: number } | undefined> {
    const { rows } = await this.run('leaseJobDocument', (client) =>
      client.query<{ job: string; idx: number; attempts: number }>(
        `UPDATE bulk_input SET lease_until = $1, attempts = attempts + 1
        WHERE (job, idx) = (SELECT i.job, i.idx FROM bulk_input i JOIN bulk_job j ON j.id = i.job
          WHERE i.lease_until IS NULL OR i.lease_until < $2 ORDER BY j.created_at, i.job, i.idx LIMIT 1 FOR UPDATE OF i SKIP LOCKED)
        RETURNING job, idx, attempts`,
        [leaseUntil, now],
      ),
    );
    return rows[0] ? { id: rows[0].job, index: rows[0].idx, attempts: rows[0].attempts } : undefined;
  }

  async expireJobs(now: string): Promise<number> {
    const { rowCount } = await this.run('expireJobs', (client) => client.query('DELETE FROM bulk_job WHERE expires_at < $1', [now]));
    return rowCount ?? 0;
  }

  async jobCounts(): Promise<BulkJobCounts> {
    const { rows } = await this.run('jobCounts', (client) =>
      client.query<Row>(
        `SELECT (SELECT count(*) FILTER (WHERE status = 'in-progress') FROM bulk_job)::int AS running,
          (SELECT count(*) FILTER (WHERE status = 'completed') FROM bulk_job)::int AS completed,
          (SELECT count(*) FROM bulk_input)::int AS queued,
          (SELECT count(*) FILTER (WHERE error IS NULL) FROM bulk_result)::int AS done,
          (SELECT count(*) FILTER (WHERE error IS NOT NULL) FROM bulk_result)::int AS failed`,
      ),
    );
    const r = rows[0];
    return {
      jobs: { 'in-progress': r.running as number, completed: r.completed as number },
      documents: { queued: r.queued as number, done: r.done as number, failed: r.failed as number },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** The pg-boss database adapter (jobs/pg-boss-queue.ts): its own small pool on the store's database, with the store's TLS and timeouts. */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  close(): Promise<void>;
}

/**
 * A pool for the job queue on the store's database, so its connections use the same URL
 * checks and TLS as the store's. No statement timeout: the queue's maintenance may lock.
 * @param url - STORE_URL
 * @param options - pool size and timeouts, as for the store
 */
export function openSqlExecutor(url: string, options: PostgresStoreOptions = {}): SqlExecutor {
  const settings = resolvePostgresSettings(url, options);
  const pool = new Pool({ ...connectionOf(settings), max: settings.poolSize, idleTimeoutMillis: settings.idleTimeoutMs, allowExitOnIdle: true });
  pool.on('error', (error: Error & { code?: string }) => {
    options.log?.warn({ store: 'postgresql', err: { message: error.message, code: error.code } }, 'job queue connection lost');
  });
  return {
    // As pg-boss's own adapter: the driver's result (an array for a multi-statement text) and its errors unchanged.
    executeSql: (text, values) => pool.query(text, values as unknown[] | undefined) as Promise<{ rows: unknown[] }>,
    close: () => pool.end(),
  };
}
