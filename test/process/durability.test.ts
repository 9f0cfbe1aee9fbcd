/**
 * Durability of the audit trail and feedback as `npm start` runs it (dist/main.js, built by
 * `pretest`): a hook call and its feedback are answered, the process is killed with SIGKILL
 * (no shutdown code runs), and a new process on the same store file finds every record and
 * takes new writes.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Card } from '../../src/cds/types';
import { PROJECT_ROOT } from '../../src/paths';
import { OVERRIDE_REASON_SYSTEM } from '../../src/fhir/constants';
import { openSqliteStore } from '../../src/store/sqlite';
import { reportOf } from '../../src/cli/report';
import { spawnServer, type ServerProcess } from '../helpers/server-process';

const HOOK_REQUEST = readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'requests', 'encounter-discharge.json'));

const running: ServerProcess[] = [];
/** The server with the default model on a free port, authentication off (not what is tested here). */
function start(storePath: string): ServerProcess {
  const server = spawnServer({ PORT: '0', AUTH: 'off', LOG_LEVEL: 'info', STORE_PATH: storePath });
  running.push(server);
  return server;
}
/** The base URL once the process listens. */
const listening = async (server: ServerProcess) => `http://127.0.0.1:${(await server.logged('listening')).port}`;
const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'icd10-durability-'));
});
afterAll(() => {
  // A failed assertion must not leave a server running (jest would wait for it).
  for (const server of running) server.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('audit and feedback records answered before a kill -9 are there after a restart', async () => {
  const storePath = path.join(dir, 'data', 'icd10-cds.sqlite');
  const first = start(storePath);
  let base = await listening(first);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);

  const hook = await post(`${base}/cds-services/icd10cm-suggestions`, HOOK_REQUEST);
  expect(hook.status).toBe(200);
  const requestId = hook.headers.get('x-request-id')!;
  const cards = ((await hook.json()) as { cards: Card[] }).cards;
  expect(cards.length).toBeGreaterThanOrEqual(2);
  const fb = await post(`${base}/cds-services/icd10cm-suggestions/feedback`, {
    feedback: [
      { card: cards[0].uuid, outcome: 'accepted', acceptedSuggestions: [{ id: cards[0].suggestions![0].uuid }], outcomeTimestamp: '2026-11-25T12:05:00Z' },
      {
        card: cards[1].uuid,
        outcome: 'overridden',
        overrideReason: { reason: { system: OVERRIDE_REASON_SYSTEM, code: 'already-coded' } },
        outcomeTimestamp: '2026-11-25T12:06:00Z',
      },
    ],
  });
  expect(fb.status).toBe(200);

  first.child.kill('SIGKILL');
  expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
  // The records are in the write-ahead log, not yet checkpointed: the restart must recover them.
  expect(statSync(`${storePath}-wal`).size).toBeGreaterThan(0);

  const second = start(storePath);
  base = await listening(second);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);

  // Read while the new process holds the file (WAL readers do not block it).
  const store = openSqliteStore(storePath, { fileMustExist: true });
  try {
    const [audit] = await store.auditRecords({ requestId });
    expect(audit).toMatchObject({ edge: 'cds-hooks', callId: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea', outcome: 'suggestions' });
    expect(audit.suggestions.map((s) => s.cardUuid)).toEqual(cards.map((c) => c.uuid));
    const stored = await store.feedbackRecords();
    expect(stored.map((f) => [f.card, f.outcome, f.reason?.code, f.known])).toEqual([
      [cards[0].uuid, 'accepted', undefined, true],
      [cards[1].uuid, 'overridden', 'already-coded', true],
    ]);
  } finally {
    await store.close();
  }
  const report = await reportOf(storePath);
  expect(report.calls).toBe(1);
  expect(report.codes.reduce((n, c) => n + c.accepted, 0)).toBe(1);
  expect(report.codes.reduce((n, c) => n + c.overridden, 0)).toBe(1);

  // The restarted process writes on the same store.
  expect((await post(`${base}/cds-services/icd10cm-suggestions`, HOOK_REQUEST)).status).toBe(200);
  second.child.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
  expect((await reportOf(storePath)).calls).toBe(2);
}, 60_000);
