/**
 * The Store contract, run against every engine: SQLite in memory and in a file, and
 * PostgreSQL (a throwaway cluster; skipped with a warning when its binaries are missing).
 * The same calls must give the same answers: records read back as written, append-only
 * tables, feedback stored once (also when two stores on one database receive it at once),
 * the acceptance report's figures, the cache's expiry, token claims shared by replicas, and
 * bulk job results stored once per document with leases that run out.
 * Engine-specific behaviour (migrations, outages, TLS, SQLite's lock) is in sqlite.test.ts
 * and postgres.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openPostgresStore } from '../../../src/store/postgres';
import { MEMORY, openSqliteStore } from '../../../src/store/sqlite';
import type { AcceptanceReport, AuditRecord, FeedbackRecord, Store } from '../../../src/store/store';
import { describeWithPostgres, usePostgres, type TestPostgres } from '../../helpers/postgres';

/** One empty database of an engine, and ways to reach it around the store. */
interface Database_ {
  /** A store on this database; several may be open at once where the engine allows (`replicas`). */
  open(): Promise<Store>;
  /** Runs a statement directly, bypassing the store; resolves to the error message, if any. */
  raw?(sql: string): Promise<string | undefined>;
  count?(table: string): Promise<number>;
}

interface Engine {
  name: string;
  /** Two stores may share one database (processes on one SQLite file, PostgreSQL replicas). */
  replicas: boolean;
  /** Something other than the store can reach the database (`raw`, `count`); not in memory. */
  direct: boolean;
  fresh(): Promise<Database_>;
}

let opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.map((s) => s.close()));
  opened = [];
});
const track = (store: Store) => {
  opened.push(store);
  return store;
};

const sqliteMemory: Engine = {
  name: 'sqlite (memory)',
  replicas: false,
  direct: false,
  async fresh() {
    return { open: async () => track(openSqliteStore(MEMORY, { tokenSweepIntervalMs: 0 })) };
  },
};

let sqliteDir: string;
beforeAll(() => {
  sqliteDir = mkdtempSync(path.join(tmpdir(), 'icd10-contract-'));
});
afterAll(() => rmSync(sqliteDir, { recursive: true, force: true }));
let sqliteFiles = 0;

/** Runs raw SQL on a file and returns the error message, if any (never the error object: see sqlite.test.ts). */
function sqliteRaw(file: string, sql: string): string | undefined {
  const db = new Database(file);
  try {
    db.prepare(sql).run();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    db.close();
  }
}

const sqliteFile: Engine = {
  name: 'sqlite (file)',
  replicas: true,
  direct: true,
  async fresh() {
    const file = path.join(sqliteDir, `store-${++sqliteFiles}.sqlite`);
    return {
      open: async () => track(openSqliteStore(file, { tokenSweepIntervalMs: 0 })),
      raw: async (sql) => sqliteRaw(file, sql),
      count: async (table) => {
        const db = new Database(file, { readonly: true });
        try {
          return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
        } finally {
          db.close();
        }
      },
    };
  },
};

/** The PostgreSQL engine over a cluster: a new database per test. */
const postgres = (cluster: () => TestPostgres): Engine => ({
  name: 'postgresql',
  replicas: true,
  direct: true,
  async fresh() {
    const url = await cluster().createDatabase();
    return {
      open: async () => track(await openPostgresStore(url, { connectionTimeoutMs: 2000, statementTimeoutMs: 2000, tokenSweepIntervalMs: 0 })),
      raw: async (sql) =>
        cluster()
          .query(sql, [], url)
          .then(
            () => undefined,
            (error: Error) => error.message,
          ),
      count: async (table) => Number((await cluster().query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`, [], url))[0].n),
    };
  },
});

const record = (requestId: string, recordedAt: string, overrides: Partial<AuditRecord> = {}): AuditRecord => ({
  requestId,
  edge: 'cds-hooks',
  service: 'icd10cm-suggestions',
  callId: `hook-${requestId}`,
  user: 'Practitioner/1',
  patient: 'Patient/1',
  encounter: 'Encounter/1',
  model: { name: 'm', version: '1' },
  outcome: 'suggestions',
  recordedAt,
  documents: [
    { reference: 'DocumentReference/d', contentIndex: 0, contentType: 'text/plain', sha256: 'a'.repeat(64), length: 120 },
    { contentIndex: 2, contentType: 'text/html', sha256: 'b'.repeat(64), length: 7 },
  ],
  suggestions: [
    {
      code: 'J18.9',
      score: 0.123456789012345,
      threshold: 1 / 3,
      cardUuid: `card-${requestId}`,
      suggestionId: `s-${requestId}`,
      status: 'present',
      refines: ['J18', 'J18.0'],
      evidence: [
        { note: 0, start: 3, end: 40, status: 'present' },
        { note: 1, start: 0, end: 7 },
      ],
    },
    { code: 'I10', score: 0.5, threshold: 0.5, suggestionId: `t-${requestId}`, evidence: [] },
  ],
  ...overrides,
});

const feedback = (card: string, overrides: Partial<FeedbackRecord> = {}): FeedbackRecord => ({
  requestId: 'f',
  service: 'icd10cm-suggestions',
  card,
  outcome: 'accepted',
  acceptedSuggestions: [`s-${card.slice(5)}`],
  outcomeTimestamp: '2026-11-02T01:00:00+01:00',
  outcomeAt: '2026-11-02T00:00:00.000Z',
  receivedAt: '2026-11-02T00:00:01.000Z',
  ...overrides,
});

/** The suite every engine passes. */
function contract(engine: Engine): void {
  // Not declared at all where the engine cannot do it (an in-memory database has no second connection).
  const direct = engine.direct ? test : () => undefined;
  const replicas = engine.replicas ? test : () => undefined;

  test('audit records read back as written, filtered by time and request id', async () => {
    const store = await (await engine.fresh()).open();
    const full = record('r1', '2026-11-01T00:00:00.000Z');
    // Optional fields absent, another analysis, no documents or suggestions, text beyond ASCII.
    const minimal: AuditRecord = {
      requestId: 'r2',
      edge: 'fhir',
      service: 'DocumentReference/$suggest-conditions',
      callId: 'bündel-ß',
      model: { name: 'm', version: '2' },
      outcome: 'no-document',
      analysis: 'cached',
      recordedAt: '2026-11-20T00:00:00.123Z',
      documents: [],
      suggestions: [],
    };
    await store.recordAudit(full);
    await store.recordAudit(minimal);
    expect(await store.auditRecords()).toEqual([full, minimal]);
    expect(await store.auditRecords({ since: new Date('2026-11-20T00:00:00.123Z') })).toEqual([minimal]);
    expect((await store.auditRecords({ requestId: 'r1' })).map((r) => r.callId)).toEqual(['hook-r1']);
    expect(await store.auditRecords({ requestId: 'none' })).toEqual([]);
  });

  test('an audit record is all or nothing', async () => {
    const store = await (await engine.fresh()).open();
    const bad = record('r1', '2026-11-01T00:00:00.000Z');
    bad.suggestions[1].evidence = [{ note: 0, start: 1, end: 2 }];
    bad.documents[1].sha256 = 'not a hash';
    await expect(store.recordAudit(bad)).rejects.toHaveProperty('message', expect.stringMatching(/check constraint/i));
    expect(await store.auditRecords()).toEqual([]);
    expect(await store.writable()).toBe(true);
  });

  direct('audit and feedback rows cannot be changed or removed, even around the store', async () => {
    const db = await engine.fresh();
    if (!db.raw || !db.count) throw new Error(`${engine.name} offers no direct access`);
    const store = await db.open();
    await store.recordAudit(record('r1', '2026-11-01T00:00:00.000Z'));
    await store.recordFeedback([feedback('card-r1')]);
    const tables = { audit_call: 'request_id', audit_document: 'reference', audit_suggestion: 'code', audit_evidence: 'status', feedback: 'service' };
    for (const [table, column] of Object.entries(tables)) {
      const before = await db.count(table);
      expect(before).toBeGreaterThan(0);
      expect(await db.raw(`UPDATE ${table} SET ${column} = 'changed'`)).toMatch(`${table} is append-only`);
      expect(await db.raw(`DELETE FROM ${table}`)).toMatch(`${table} is append-only`);
      expect(await db.count(table)).toBe(before);
    }
    expect((await store.auditRecords())[0].requestId).toBe('r1');
  });

  test('feedback is linked to its card and stored once per (card, outcome, suggestions, timestamp)', async () => {
    const store = await (await engine.fresh()).open();
    await store.recordAudit(record('r1', '2026-11-01T00:00:00.000Z'));
    const entry = feedback('card-r1', { acceptedSuggestions: ['s-r1', 'a-other'] });
    expect(await store.recordFeedback([entry, feedback('card-zz'), { ...entry, requestId: 'same-batch' }])).toEqual([
      { card: 'card-r1', known: true, duplicate: false },
      { card: 'card-zz', known: false, duplicate: false },
      { card: 'card-r1', known: true, duplicate: true },
    ]);
    // Sent again, suggestions in another order: the same entry.
    expect(await store.recordFeedback([{ ...entry, requestId: 'again', acceptedSuggestions: ['a-other', 's-r1'] }])).toEqual([
      { card: 'card-r1', known: true, duplicate: true },
    ]);
    const overridden = feedback('card-r1', {
      outcome: 'overridden',
      acceptedSuggestions: [],
      reason: { system: 'urn:reasons', code: 'wrong', display: 'Wrong code' },
      userComment: 'not this one — ß',
      outcomeTimestamp: '2026-11-03T00:00:00Z',
      outcomeAt: '2026-11-03T00:00:00.000Z',
      receivedAt: '2026-11-03T00:00:02.000Z',
    });
    expect(await store.recordFeedback([overridden])).toEqual([{ card: 'card-r1', known: true, duplicate: false }]);
    expect(await store.feedbackRecords({ card: 'card-r1' })).toEqual([
      { ...entry, acceptedSuggestions: ['a-other', 's-r1'], known: true, code: 'J18.9' },
      { ...overridden, known: true, code: 'J18.9' },
    ]);
    expect((await store.feedbackRecords()).map((f) => [f.card, f.known])).toEqual([
      ['card-r1', true],
      ['card-zz', false],
      ['card-r1', true],
    ]);
  });

  test('the acceptance report: calls, models, codes, the latest feedback per card, unknown cards', async () => {
    const store = await (await engine.fresh()).open();
    await store.recordAudit(record('r1', '2026-11-01T00:00:00.000Z'));
    await store.recordAudit(record('r2', '2026-11-20T00:00:00.000Z', { model: { name: 'm', version: '10' } }));
    await store.recordAudit(
      record('r3', '2026-11-21T00:00:00.000Z', {
        model: { name: 'M', version: '1' },
        edge: 'fhir',
        suggestions: [{ code: 'I10', score: 0.9, threshold: 0.5, suggestionId: 'x', evidence: [] }],
      }),
    );
    await store.recordAudit(record('r4', '2026-11-22T00:00:00.000Z', { outcome: 'no-suggestion', suggestions: [] }));
    await store.recordAudit(record('r5', '2026-11-22T00:00:01.000Z', { outcome: 'no-suggestion', analysis: 'pending', suggestions: [] }));
    await store.recordFeedback([
      // r1: overridden, then accepted (the later outcome decides, whatever the order received).
      feedback('card-r1', { outcomeAt: '2026-11-02T00:00:00.000Z' }),
      feedback('card-r1', { outcome: 'overridden', acceptedSuggestions: [], outcomeTimestamp: '2026-11-01T12:00:00Z', outcomeAt: '2026-11-01T12:00:00.000Z' }),
      // r2: overridden without a reason.
      feedback('card-r2', { outcome: 'overridden', acceptedSuggestions: [], receivedAt: '2026-11-20T01:00:00.000Z' }),
      feedback('card-gone', { receivedAt: '2026-11-25T00:00:00.000Z' }),
      feedback('card-old', { receivedAt: '2026-10-01T00:00:00.000Z' }),
    ]);
    const expected: AcceptanceReport = {
      calls: 5,
      callsWithoutSuggestion: 1,
      callsPending: 1,
      models: [
        { name: 'M', version: '1', calls: 1 },
        { name: 'm', version: '1', calls: 3 },
        { name: 'm', version: '10', calls: 1 },
      ],
      codes: [
        {
          code: 'I10',
          suggestions: 3,
          cards: 0,
          cardsWithFeedback: 0,
          accepted: 0,
          overridden: 0,
          acceptanceRate: null,
          overrideRate: null,
          overrideReasons: {},
        },
        {
          code: 'J18.9',
          suggestions: 2,
          cards: 2,
          cardsWithFeedback: 2,
          accepted: 1,
          overridden: 1,
          acceptanceRate: 0.5,
          overrideRate: 0.5,
          overrideReasons: { none: 1 },
        },
      ],
      unknownCards: 2,
    };
    expect(await store.acceptanceReport()).toEqual(expected);
    expect(await store.acceptanceReport({ since: new Date('2026-11-20T00:00:00.000Z') })).toEqual({
      since: '2026-11-20T00:00:00.000Z',
      calls: 4,
      callsWithoutSuggestion: 1,
      callsPending: 1,
      models: [
        { name: 'M', version: '1', calls: 1 },
        { name: 'm', version: '1', calls: 2 },
        { name: 'm', version: '10', calls: 1 },
      ],
      codes: [
        {
          code: 'I10',
          suggestions: 2,
          cards: 0,
          cardsWithFeedback: 0,
          accepted: 0,
          overridden: 0,
          acceptanceRate: null,
          overrideRate: null,
          overrideReasons: {},
        },
        {
          code: 'J18.9',
          suggestions: 1,
          cards: 1,
          cardsWithFeedback: 1,
          accepted: 0,
          overridden: 1,
          acceptanceRate: 0,
          overrideRate: 1,
          overrideReasons: { none: 1 },
        },
      ],
      unknownCards: 1,
    });
  });

  test('the result cache: read when fresh enough, replaced, expired entries deleted', async () => {
    const db = await engine.fresh();
    const store = await db.open();
    const model = { name: 'm', version: '1' };
    const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
    await store.cacheSuggestions({ key: a, model, value: '[1]', createdAt: '2026-11-25T10:00:00.000Z' }, '2026-11-24T00:00:00.000Z');
    expect(await store.cachedSuggestions(a, '2026-11-25T10:00:00.000Z')).toBe('[1]');
    expect(await store.cachedSuggestions(a, '2026-11-25T10:00:00.001Z')).toBeUndefined();
    await store.cacheSuggestions({ key: a, model, value: '[2]', createdAt: '2026-11-25T12:00:00.000Z' }, '2026-11-24T00:00:00.000Z');
    expect(await store.cachedSuggestions(a, '2026-11-25T11:00:00.000Z')).toBe('[2]');
    // Storing b a day later expires a.
    await store.cacheSuggestions({ key: b, model, value: '[3]', createdAt: '2026-11-27T12:00:00.000Z' }, '2026-11-26T00:00:00.000Z');
    expect(await store.cachedSuggestions(a, '2000-01-01T00:00:00.000Z')).toBeUndefined();
    expect(await store.cachedSuggestions(b, '2026-11-27T00:00:00.000Z')).toBe('[3]');
    if (db.count) expect(await db.count('suggestion_cache')).toBe(1);
  });

  test('token ids: fresh once per issuer, replayed while the claim lives, fresh again once it expired; expired claims swept', async () => {
    const db = await engine.fresh();
    const store = await db.open();
    const now = new Date('2026-11-25T12:00:00.000Z');
    const later = (s: number) => new Date(now.getTime() + s * 1000);
    expect(await store.claimTokenId('https://ehr', 'j1', later(60), now)).toBe('fresh');
    expect(await store.claimTokenId('https://ehr', 'j1', later(60), later(30))).toBe('replayed');
    expect(await store.claimTokenId('https://other', 'j1', later(60), now)).toBe('fresh');
    // Kept until (inclusive) its last acceptable instant, then free again.
    expect(await store.claimTokenId('https://ehr', 'j1', later(120), later(60))).toBe('replayed');
    expect(await store.claimTokenId('https://ehr', 'j1', later(120), later(61))).toBe('fresh');
    expect(await store.claimTokenId('https://ehr', 'j1', later(180), later(62))).toBe('replayed');
    // That call swept (interval 0 in these tests) https://other's expired claim.
    if (db.count) expect(await db.count('token_claim')).toBe(1);
    // The default clock is the current time: a claim kept until the past has expired already.
    expect(await store.claimTokenId('https://ehr', 'j2', new Date(Date.now() - 1000))).toBe('fresh');
    expect(await store.claimTokenId('https://ehr', 'j2', new Date(Date.now() + 60_000))).toBe('fresh');
    expect(await store.claimTokenId('https://ehr', 'j2', new Date(Date.now() + 60_000))).toBe('replayed');
  });

  test('bulk jobs: a result stored once per (job, document), its input deleted, the job completed by its last document, counts', async () => {
    const store = await (await engine.fresh()).open();
    const job = {
      id: 'job-1',
      owner: 'static-token:1',
      request: 'https://x/fhir/op',
      setting: 'outpatient',
      createdAt: '2026-11-01T00:00:00.000Z',
      expiresAt: '2026-11-02T00:00:00.000Z',
    };
    await store.createJob(job, ['{"d":0}', '{"d":1}']);
    expect(await store.bulkJob('job-1')).toEqual({ ...job, status: 'in-progress', total: 2, done: 0, failed: 0 });
    expect(await store.jobDocument('job-1', 1)).toEqual({ document: '{"d":1}', setting: 'outpatient' });
    const at = { now: '2026-11-01T01:00:00.000Z', expiresAt: '2026-11-03T00:00:00.000Z' };
    expect(await store.recordJobResult('job-1', { index: 1, conditions: '{"c":1}\n', count: 1 }, at)).toEqual({ stored: true, completed: false });
    // Coded again after a redelivery: the first result stays.
    expect(await store.recordJobResult('job-1', { index: 1, conditions: '{"c":2}\n', count: 1 }, at)).toEqual({ stored: false, completed: false });
    expect(await store.jobDocument('job-1', 1)).toBeUndefined();
    expect(await store.jobCounts()).toEqual({ jobs: { 'in-progress': 1, completed: 0 }, documents: { queued: 1, done: 1, failed: 0 } });
    expect(await store.recordJobResult('job-1', { index: 0, conditions: '', count: 0, error: '{"resourceType":"OperationOutcome"}' }, at)).toEqual({
      stored: true,
      completed: true,
    });
    expect(await store.bulkJob('job-1')).toMatchObject({ status: 'completed', done: 1, failed: 1, completedAt: at.now, expiresAt: at.expiresAt });
    expect(await store.jobResults('job-1')).toEqual([
      { index: 0, conditions: '', count: 0, error: '{"resourceType":"OperationOutcome"}' },
      { index: 1, conditions: '{"c":1}\n', count: 1 },
    ]);
    expect(await store.expireJobs('2026-11-02T12:00:00.000Z')).toBe(0);
    expect(await store.expireJobs('2026-11-03T00:00:01.000Z')).toBe(1);
    expect(await store.bulkJob('job-1')).toBeUndefined();
    expect(await store.jobCounts()).toEqual({ jobs: { 'in-progress': 0, completed: 0 }, documents: { queued: 0, done: 0, failed: 0 } });
  });

  test('bulk jobs: a deleted (cancelled) job takes no result; leases are given once until they run out', async () => {
    const store = await (await engine.fresh()).open();
    await store.createJob({ id: 'job-2', owner: 'o', request: 'r', createdAt: '2026-11-01T00:00:00.000Z', expiresAt: '2026-11-02T00:00:00.000Z' }, ['a', 'b']);
    const lease = (until: string, now: string) => store.leaseJobDocument(until, now);
    expect(await lease('2026-11-01T00:00:30.000Z', '2026-11-01T00:00:00.000Z')).toEqual({ id: 'job-2', index: 0, attempts: 1 });
    expect(await lease('2026-11-01T00:00:30.000Z', '2026-11-01T00:00:00.000Z')).toEqual({ id: 'job-2', index: 1, attempts: 1 });
    expect(await lease('2026-11-01T00:00:40.000Z', '2026-11-01T00:00:10.000Z')).toBeUndefined();
    // The first worker died: its lease ran out, the document is leased again.
    expect(await lease('2026-11-01T00:01:10.000Z', '2026-11-01T00:00:40.000Z')).toEqual({ id: 'job-2', index: 0, attempts: 2 });
    expect(await store.deleteJob('job-2')).toBe(true);
    expect(await store.deleteJob('job-2')).toBe(false);
    expect(await store.recordJobResult('job-2', { index: 0, conditions: '', count: 0 }, { now: 'x', expiresAt: 'x' })).toEqual({
      stored: false,
      completed: false,
    });
    expect(await lease('2026-11-01T00:05:00.000Z', '2026-11-01T00:04:00.000Z')).toBeUndefined();
  });

  test('writable while open; closed, it refuses writes', async () => {
    const store = await (await engine.fresh()).open();
    expect(await store.writable()).toBe(true);
    await store.close();
    expect(await store.writable()).toBe(false);
    await expect(store.recordAudit(record('r1', '2026-11-01T00:00:00.000Z'))).rejects.toThrow();
  });

  describe('two stores on one database (replicas)', () => {
    replicas('a token id claimed through one is refused by the other, also when both claim it at once', async () => {
      const db = await engine.fresh();
      const [a, b] = [await db.open(), await db.open()];
      const keepUntil = new Date(Date.now() + 60_000);
      expect(await a.claimTokenId('https://ehr', 'j1', keepUntil)).toBe('fresh');
      expect(await b.claimTokenId('https://ehr', 'j1', keepUntil)).toBe('replayed');
      for (let round = 0; round < 5; round++) {
        const verdicts = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claimTokenId('https://ehr', `race-${round}`, keepUntil)));
        expect(verdicts.filter((v) => v === 'fresh')).toHaveLength(1);
      }
    });

    replicas('the same feedback sent to both at once is stored once', async () => {
      const db = await engine.fresh();
      const [a, b] = [await db.open(), await db.open()];
      await a.recordAudit(record('r1', '2026-11-01T00:00:00.000Z'));
      const entries = Array.from({ length: 10 }, (_, i) => feedback('card-r1', { outcomeTimestamp: `2026-11-02T00:00:0${i}Z` }));
      // Each replica receives the batch in another order.
      const [fromA, fromB] = await Promise.all([a.recordFeedback(entries), b.recordFeedback([...entries].reverse())]);
      const storedBy = entries.map((_, i) => [fromA[i].duplicate, fromB[entries.length - 1 - i].duplicate]);
      for (const pair of storedBy) expect(pair.filter((duplicate) => !duplicate)).toHaveLength(1);
      expect(await b.feedbackRecords()).toHaveLength(10);
      expect((await a.acceptanceReport()).codes.find((c) => c.code === 'J18.9')).toMatchObject({ cardsWithFeedback: 1, accepted: 1 });
    });

    replicas('records written through one are read through the other', async () => {
      const db = await engine.fresh();
      const [a, b] = [await db.open(), await db.open()];
      await Promise.all([a.recordAudit(record('r1', '2026-11-01T00:00:00.000Z')), b.recordAudit(record('r2', '2026-11-01T00:00:01.000Z'))]);
      expect((await b.auditRecords()).map((r) => r.requestId).sort()).toEqual(['r1', 'r2']);
      expect(await a.acceptanceReport()).toEqual(await b.acceptanceReport());
    });
  });
}

describe.each([sqliteMemory, sqliteFile])('Store contract: $name', (engine) => contract(engine));

describeWithPostgres('Store contract: postgresql', () => contract(postgres(usePostgres())));
