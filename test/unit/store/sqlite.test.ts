/**
 * The SQLite store on its own: file creation and permissions, the user_version migration
 * list, refusal of a newer schema, write-ahead logging, records read back as written, and a
 * lock held by another process as StoreUnavailableError. (The schema version is read from the
 * SQLite header, bytes 60–63 big-endian; the other process is a second better-sqlite3 handle.)
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, openSqliteStore } from '../../../src/store/sqlite';
import { StoreUnavailableError, type AuditRecord } from '../../../src/store/store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'icd10-sqlite-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const userVersion = (file: string) => readFileSync(file).readUInt32BE(60);

const record = (requestId: string, recordedAt: string): AuditRecord => ({
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
  documents: [{ reference: 'DocumentReference/d', contentIndex: 0, contentType: 'text/plain', sha256: 'a'.repeat(64), length: 120 }],
  suggestions: [
    {
      code: 'J18.9',
      score: 0.9,
      threshold: 0.5,
      cardUuid: `card-${requestId}`,
      suggestionId: `s-${requestId}`,
      status: 'present',
      refines: ['J18'],
      evidence: [
        { note: 0, start: 3, end: 40, status: 'present' },
        { note: 0, start: 50, end: 60 },
      ],
    },
  ],
});

test('creates the directory and an owner-only file, in WAL mode, at the latest schema version', async () => {
  const file = path.join(dir, 'nested', 'store.sqlite');
  const store = openSqliteStore(file);
  await store.recordAudit(record('r1', '2026-11-25T12:00:00.000Z'));
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
  await store.close();
  expect(userVersion(file)).toBe(MIGRATIONS.length);
  // Reopening migrates nothing and keeps the records.
  const again = openSqliteStore(file);
  expect(await again.auditRecords()).toEqual([record('r1', '2026-11-25T12:00:00.000Z')]);
  await again.close();
});

test('refuses a store written by a newer version of the software', async () => {
  const file = path.join(dir, 'store.sqlite');
  await openSqliteStore(file).close();
  const bytes = readFileSync(file);
  bytes.writeUInt32BE(MIGRATIONS.length + 1, 60);
  writeFileSync(file, bytes);
  expect(() => openSqliteStore(file)).toThrow(`store ${file} has schema version ${MIGRATIONS.length + 1}, newer than this software's ${MIGRATIONS.length}`);
});

test('audit records filtered by time and request id; feedback stored once per (card, outcome, suggestions, timestamp)', async () => {
  const store = openSqliteStore(':memory:');
  await store.recordAudit(record('r1', '2026-11-01T00:00:00.000Z'));
  await store.recordAudit(record('r2', '2026-11-20T00:00:00.000Z'));
  expect((await store.auditRecords({ since: new Date('2026-11-10') })).map((r) => r.requestId)).toEqual(['r2']);
  expect((await store.auditRecords({ requestId: 'r1' })).map((r) => r.callId)).toEqual(['hook-r1']);

  const entry = {
    requestId: 'f',
    service: 'icd10cm-suggestions',
    card: 'card-r1',
    outcome: 'accepted' as const,
    acceptedSuggestions: ['s-r1'],
    outcomeTimestamp: '2026-11-02T00:00:00Z',
    outcomeAt: '2026-11-02T00:00:00.000Z',
    receivedAt: '2026-11-02T00:00:01.000Z',
  };
  expect(await store.recordFeedback([entry, { ...entry, card: 'card-zz' }])).toEqual([
    { card: 'card-r1', known: true, duplicate: false },
    { card: 'card-zz', known: false, duplicate: false },
  ]);
  expect(await store.recordFeedback([{ ...entry, requestId: 'again' }])).toEqual([{ card: 'card-r1', known: true, duplicate: true }]);
  // --since counts the suggestions made since then, with their feedback whenever it came.
  expect((await store.acceptanceReport({ since: new Date('2026-11-10') })).codes).toEqual([
    expect.objectContaining({ code: 'J18.9', suggestions: 1, cardsWithFeedback: 0 }),
  ]);
  expect((await store.acceptanceReport()).codes).toEqual([
    expect.objectContaining({ code: 'J18.9', suggestions: 2, cardsWithFeedback: 1, accepted: 1, acceptanceRate: 1 }),
  ]);
  expect(await store.writable()).toBe(true);
  await store.close();
  expect(await store.writable()).toBe(false);
  await expect(store.recordAudit(record('r3', '2026-11-21T00:00:00.000Z'))).rejects.toHaveProperty('message', 'The database connection is not open');
});

test('an audit record is all or nothing', async () => {
  const store = openSqliteStore(':memory:');
  const bad = record('r1', '2026-11-01T00:00:00.000Z');
  bad.documents[0].sha256 = 'not a hash';
  // (Not toThrow: better-sqlite3 builds its errors in the realm of the first test file that loaded it.)
  await expect(store.recordAudit(bad)).rejects.toHaveProperty('message', expect.stringMatching(/CHECK constraint failed/));
  expect(await store.auditRecords()).toEqual([]);
  await store.close();
});

test('a write locked out past the busy timeout rejects with StoreUnavailableError; the store works once the lock is released', async () => {
  const file = path.join(dir, 'store.sqlite');
  const store = openSqliteStore(file, { busyTimeoutMs: 50 });
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  try {
    await expect(store.recordAudit(record('r1', '2026-11-01T00:00:00.000Z'))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.claimTokenId('https://ehr', 'j1', new Date(Date.now() + 60_000))).rejects.toHaveProperty(
      'message',
      'sqlite store: claimTokenId failed (SQLITE_BUSY)',
    );
    expect(await store.writable()).toBe(false);
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
  await store.recordAudit(record('r1', '2026-11-01T00:00:00.000Z'));
  expect(await store.claimTokenId('https://ehr', 'j1', new Date(Date.now() + 60_000))).toBe('fresh');
  expect(await store.writable()).toBe(true);
  await store.close();
});
