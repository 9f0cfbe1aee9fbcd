/**
 * The PostgreSQL store on its own: its settings (URL, options, TLS modes), versioned
 * migrations applied once when replicas open at the same time, TLS against a real server, and
 * its failure behaviour: an unreachable, stopped, crashed, frozen or locked database makes
 * calls reject with StoreUnavailableError within their bounds, and the same store works again
 * once the database is back, with every acknowledged write still there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { POSTGRES_MIGRATIONS } from '../../../src/store/postgres-migrations';
import { POSTGRES_DEFAULTS, openPostgresStore, resolvePostgresSettings } from '../../../src/store/postgres';
import { StoreUnavailableError, type AuditRecord, type Store } from '../../../src/store/store';
import { describeWithPostgres, postgresAvailable, usePostgres } from '../../helpers/postgres';

const record = (requestId: string): AuditRecord => ({
  requestId,
  edge: 'cds-hooks',
  service: 'icd10cm-suggestions',
  callId: `hook-${requestId}`,
  model: { name: 'm', version: '1' },
  outcome: 'suggestions',
  recordedAt: '2026-11-25T12:00:00.000Z',
  documents: [{ contentIndex: 0, contentType: 'text/plain', sha256: 'a'.repeat(64), length: 10 }],
  suggestions: [
    { code: 'J18.9', score: 0.9, threshold: 0.5, cardUuid: `card-${requestId}`, suggestionId: `s-${requestId}`, evidence: [{ note: 0, start: 0, end: 4 }] },
  ],
});

/** Short bounds, so that outages are detected quickly: no call may take longer than this. */
const FAST = { connectionTimeoutMs: 1000, statementTimeoutMs: 1000 };
const BOUND_MS = FAST.connectionTimeoutMs + FAST.statementTimeoutMs + 1000;

/** How long `call` took to settle, and its error (it must fail). */
async function failure(call: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await call;
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
  throw new Error('the call succeeded');
}

describe('settings from the URL and the options', () => {
  test('defaults, the parts of the URL and libpq parameters', () => {
    const settings = resolvePostgresSettings('postgresql://icd%40x:p%40ss%2Fw@db.example:6543/icd10?connect_timeout=3&application_name=replica-1');
    expect(settings).toMatchObject({
      host: 'db.example',
      port: 6543,
      user: 'icd@x',
      password: 'p@ss/w',
      database: 'icd10',
      sslmode: 'disable',
      ssl: false,
      location: 'postgresql://icd%40x@db.example:6543/icd10',
      poolSize: POSTGRES_DEFAULTS.poolSize,
      connectionTimeoutMs: 3000,
      statementTimeoutMs: 5000,
      migrationTimeoutMs: 60_000,
      idleTimeoutMs: 30_000,
      applicationName: 'replica-1',
      tokenSweepIntervalMs: 60_000,
    });
    expect(resolvePostgresSettings('postgres://u@[::1]/db')).toMatchObject({ host: '::1', port: 5432, password: '' });
    // Explicit options win over the URL.
    expect(
      resolvePostgresSettings('postgres://u@h/db?connect_timeout=3&application_name=a', {
        connectionTimeoutMs: 700,
        applicationName: 'b',
        poolSize: 3,
        statementTimeoutMs: 900,
      }),
    ).toMatchObject({ connectionTimeoutMs: 700, applicationName: 'b', poolSize: 3, statementTimeoutMs: 900 });
  });

  test.each([
    ['sslmode=disable', {}, 'disable', false],
    ['sslmode=require', {}, 'require', { rejectUnauthorized: true }],
    ['sslmode=verify-full', {}, 'verify-full', { rejectUnauthorized: true }],
    ['sslmode=require', { ssl: { rejectUnauthorized: false } }, 'require', { rejectUnauthorized: false }],
    ['', { ssl: { ca: 'PEM' } }, 'verify-full', { rejectUnauthorized: true, ca: 'PEM' }],
  ])('TLS: %s with %j → %s', (query, options, sslmode, ssl) => {
    const settings = resolvePostgresSettings(`postgres://u@h/db?${query}`, options);
    expect(settings.sslmode).toBe(sslmode);
    expect(settings.ssl).toEqual(ssl);
  });

  test('verify-ca checks the chain, not the name; sslrootcert is read at open', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'icd10-ca-'));
    try {
      writeFileSync(path.join(dir, 'ca.pem'), 'PEM FROM FILE');
      const settings = resolvePostgresSettings(`postgres://u@h/db?sslmode=verify-ca&sslrootcert=${encodeURIComponent(path.join(dir, 'ca.pem'))}`);
      expect(settings.ssl).toMatchObject({ rejectUnauthorized: true, ca: Buffer.from('PEM FROM FILE') });
      expect((settings.ssl as { checkServerIdentity: () => unknown }).checkServerIdentity()).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every problem at once, without the password', () => {
    let message = '';
    try {
      resolvePostgresSettings('postgres://u:secret@h:0/?sslmode=prefer&sslmdoe=verify-full&connect_timeout=soon', { poolSize: 0 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'store URL postgres://u@h:0/: names no database; parameter sslmdoe is not supported ' +
        '(supported: sslmode, sslrootcert, connect_timeout, application_name); connect_timeout must be whole seconds, not soon; ' +
        'sslmode prefer is refused: it falls back to plaintext (use verify-full, verify-ca, require or disable); ' +
        'poolSize must be a positive integer, not 0; port 0 is not a TCP port',
    );
    expect(() => resolvePostgresSettings('mysql://u@h/db')).toThrow('store URL mysql://u@h/db: scheme mysql: is not postgres: or postgresql:');
    expect(() => resolvePostgresSettings('postgres://u@h/db?sslmode=disable', { ssl: { ca: 'x' } })).toThrow('TLS options are given but sslmode is disable');
    expect(() => resolvePostgresSettings('not a url')).toThrow('store URL is not a URL');
  });
});

test('the migrations are numbered 1, 2, … with distinct kebab-case names', () => {
  expect(POSTGRES_MIGRATIONS.map((m) => m.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
  for (const m of POSTGRES_MIGRATIONS) expect(m.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  expect(new Set(POSTGRES_MIGRATIONS.map((m) => m.name)).size).toBe(POSTGRES_MIGRATIONS.length);
});

test('without PostgreSQL binaries the harness says what is missing and how to install it', () => {
  expect(postgresAvailable(['/nonexistent'])).toEqual({
    available: false,
    reason: 'PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in /nonexistent',
  });
});

test('a database nobody listens on: StoreUnavailableError at open, at once', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  const { ms, error } = await failure(openPostgresStore(`postgres://u:secret@127.0.0.1:${port}/db`, FAST));
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect((error as Error).message).toMatch(/^postgresql store: open failed: connect ECONNREFUSED/);
  expect((error as Error).message).not.toContain('secret');
  expect(ms).toBeLessThan(BOUND_MS);
});

describeWithPostgres('PostgreSQL store', () => {
  const cluster = usePostgres();
  let stores: Store[] = [];
  const open = async (url: string, options = {}) => {
    const store = await openPostgresStore(url, { ...FAST, ...options });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    stores = [];
  });

  describe('migrations', () => {
    test('replicas opening a new database at once all succeed, and each version is applied once', async () => {
      const url = await cluster().createDatabase();
      const replicas = await Promise.all([open(url), open(url), open(url)]);
      expect(await Promise.all(replicas.map((s) => s.writable()))).toEqual([true, true, true]);
      const applied = await cluster().query<{ version: number; name: string; applied_at: Date }>('SELECT * FROM schema_migrations ORDER BY version', [], url);
      expect(applied.map(({ version, name }) => ({ version, name }))).toEqual(POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })));
      // Opening again applies nothing.
      await open(url);
      expect(await cluster().query('SELECT * FROM schema_migrations ORDER BY version', [], url)).toEqual(applied);
    });

    test('a database migrated by newer software, or with another history, is refused', async () => {
      const url = await cluster().createDatabase();
      await (await open(url)).close();
      const latest = POSTGRES_MIGRATIONS.length;
      await cluster().query(`INSERT INTO schema_migrations (version, name) VALUES (${latest + 1}, 'future')`, [], url);
      const where = new URL(url);
      const location = `postgres://icd10@127.0.0.1:${where.port}${where.pathname}`;
      await expect(open(url)).rejects.toThrow(`store ${location} has schema version ${latest + 1}, newer than this software's ${latest}`);
      await cluster().query(`DELETE FROM schema_migrations WHERE version = ${latest + 1}`, [], url);
      await cluster().query(`UPDATE schema_migrations SET name = 'renamed' WHERE version = ${latest}`, [], url);
      await expect(open(url)).rejects.toThrow(
        `store ${location} records migration ${latest} renamed where this software has ${latest} ${POSTGRES_MIGRATIONS[latest - 1].name}`,
      );
    });

    test('a wrong password is a configuration error, not an outage, and is not echoed', async () => {
      const url = new URL(cluster().url);
      url.password = 'not-the-password';
      const { error } = await failure(open(url.toString()));
      expect(error).not.toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toMatch(/password authentication failed/);
      expect((error as Error).message).not.toContain('not-the-password');
    });
  });

  describe('outages', () => {
    test('database stopped: calls reject quickly, writable() is false; started again: the same store works, acknowledged writes are there', async () => {
      const url = await cluster().createDatabase();
      const store = await open(url);
      await store.recordAudit(record('before'));
      await store.recordFeedback([
        {
          requestId: 'f',
          service: 's',
          card: 'card-before',
          outcome: 'accepted',
          acceptedSuggestions: ['s-before'],
          outcomeTimestamp: '2026-11-25T12:00:01Z',
          outcomeAt: '2026-11-25T12:00:01.000Z',
          receivedAt: '2026-11-25T12:00:02.000Z',
        },
      ]);
      expect(await store.claimTokenId('https://ehr', 'j1', new Date(Date.now() + 600_000))).toBe('fresh');

      await cluster().shutdown('fast');
      try {
        for (const call of [
          store.recordAudit(record('during')),
          store.claimTokenId('https://ehr', 'j2', new Date(Date.now() + 600_000)),
          store.auditRecords(),
          store.acceptanceReport(),
          store.cachedSuggestions('a'.repeat(64), '2026-01-01T00:00:00.000Z'),
        ]) {
          const { ms, error } = await failure(call);
          expect(error).toBeInstanceOf(StoreUnavailableError);
          expect(ms).toBeLessThan(BOUND_MS);
        }
        expect(await store.writable()).toBe(false);
      } finally {
        await cluster().start();
      }

      expect(await store.writable()).toBe(true);
      expect((await store.auditRecords()).map((r) => r.requestId)).toEqual(['before']);
      expect(await store.feedbackRecords()).toEqual([expect.objectContaining({ card: 'card-before', known: true, code: 'J18.9' })]);
      expect(await store.claimTokenId('https://ehr', 'j1', new Date(Date.now() + 600_000))).toBe('replayed');
      await store.recordAudit(record('after'));
      expect((await store.auditRecords()).map((r) => r.requestId)).toEqual(['before', 'after']);
    });

    test('database crashed (immediate stop, no checkpoint): every acknowledged write survives', async () => {
      const url = await cluster().createDatabase();
      const store = await open(url);
      const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
      await Promise.all(ids.map((id) => store.recordAudit(record(id))));
      await cluster().shutdown('immediate');
      await cluster().start();
      expect((await store.auditRecords()).map((r) => r.requestId).sort()).toEqual([...ids].sort());
    });

    test('database frozen (accepts connections, answers nothing): calls reject within their bound instead of hanging', async () => {
      const url = await cluster().createDatabase();
      const store = await open(url);
      await store.recordAudit(record('before'));
      cluster().pause();
      try {
        // One call on the pooled connection (the client's deadline), one needing a new
        // connection (the connection timeout).
        const results = await Promise.all([failure(store.recordAudit(record('during'))), failure(store.feedbackRecords())]);
        for (const { ms, error } of results) {
          expect(error).toBeInstanceOf(StoreUnavailableError);
          expect(ms).toBeLessThan(BOUND_MS + 500);
        }
        expect(await store.writable()).toBe(false);
      } finally {
        cluster().resume();
      }
      expect(await store.writable()).toBe(true);
      // (A write that timed out may still have been committed: the server read it before freezing.)
      expect((await store.auditRecords()).map((r) => r.requestId)).toContain('before');
    });

    test('a statement past statement_timeout (a table locked by someone else) is cancelled by the server: StoreUnavailableError', async () => {
      const url = await cluster().createDatabase();
      const store = await open(url);
      const locker = await cluster().connect(url);
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE token_claim IN ACCESS EXCLUSIVE MODE');
        const { ms, error } = await failure(store.claimTokenId('https://ehr', 'j1', new Date(Date.now() + 60_000)));
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as Error).message).toBe('postgresql store: claimTokenId failed: canceling statement due to statement timeout');
        expect(ms).toBeGreaterThanOrEqual(FAST.statementTimeoutMs - 50);
        expect(ms).toBeLessThan(FAST.statementTimeoutMs + 1000);
      } finally {
        await locker.end();
      }
      expect(await store.claimTokenId('https://ehr', 'j1', new Date(Date.now() + 60_000))).toBe('fresh');
    });

    test('every connection busy: a call waits connectionTimeoutMs for one, then StoreUnavailableError', async () => {
      const url = await cluster().createDatabase();
      const store = await open(url, { poolSize: 1, connectionTimeoutMs: 300, statementTimeoutMs: 3000 });
      const locker = await cluster().connect(url);
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE token_claim IN ACCESS EXCLUSIVE MODE');
        // The pool's one connection waits on the lock …
        const blocked = store.claimTokenId('https://ehr', 'j1', new Date(Date.now() + 60_000));
        // … so this call gets none.
        const { ms, error } = await failure(store.cachedSuggestions('a'.repeat(64), '2026-01-01T00:00:00.000Z'));
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as Error).message).toBe('postgresql store: cachedSuggestions failed: timeout exceeded when trying to connect');
        expect(ms).toBeLessThan(1000);
        await locker.query('COMMIT');
        expect(await blocked).toBe('fresh');
      } finally {
        await locker.end();
      }
    });
  });
});

describeWithPostgres('PostgreSQL store over TLS', () => {
  // The store's role may connect only over TLS; the certificate names `localhost`, not 127.0.0.1.
  const cluster = usePostgres({ tls: true });
  const withMode = (mode: string) => `${cluster().url}?sslmode=${mode}`;

  test('verify-ca with the CA connects (over TLS: the server refuses plaintext for this role)', async () => {
    const store = await openPostgresStore(withMode('verify-ca'), { ...FAST, ssl: { ca: cluster().ca } });
    try {
      expect(await store.writable()).toBe(true);
    } finally {
      await store.close();
    }
  });

  test.each([
    ['verify-full with the CA: the name does not match', 'verify-full', true, /does not match certificate's altnames/],
    ['verify-full without the CA: the certificate is not trusted', 'verify-full', false, /self[- ]signed certificate/],
    ['plaintext: refused by the server', 'disable', false, /pg_hba\.conf rejects connection .* no encryption/],
  ])('%s, and not taken for an outage', async (_, mode, withCa, message) => {
    const { error } = await failure(openPostgresStore(withMode(mode), { ...FAST, ...(withCa ? { ssl: { ca: cluster().ca } } : {}) }));
    expect(error).not.toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(message);
  });
});
