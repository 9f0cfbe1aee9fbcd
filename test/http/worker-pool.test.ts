/**
 * The worker pool under faults, over HTTP, with the real worker running the tiny model
 * (test/fixtures/analysis/faulty-worker.js wraps it to hold the thread or end it on request):
 * a full analysis queue is refused at once with 503 while the queued work completes, and a
 * worker that dies fails its call with 503 (transient) and is replaced, so the next call is
 * answered. /healthz answers throughout.
 */
import path from 'node:path';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { serveWithWorkers, TINY_MODEL_DIR } from '../helpers/app';
import { expectValidCds, expectValidFhir } from '../helpers/expect-valid';
import { documentReference, hookRequest, SAMPLE_NOTE, searchset } from '../helpers/resources';

const FAULTY_WORKER = path.join(__dirname, '..', 'fixtures', 'analysis', 'faulty-worker.js');

let served: Awaited<ReturnType<typeof serveWithWorkers>> | undefined;
let base: string;

beforeAll(async () => {
  served = await serveWithWorkers(
    { modelDir: TINY_MODEL_DIR, intraOpThreads: 1, workers: 1, maxQueue: 1, script: FAULTY_WORKER },
    { hookTimeBudgetMs: 60_000 },
  );
  ({ base } = served);
}, 60_000);

afterAll(async () => {
  await served?.close();
});

interface Answer {
  status: number;
  body: unknown;
}

async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${base}${url}`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
const operation = (text: string) => post('/fhir/DocumentReference/$suggest-conditions', documentReference(text));
const hook = (text: string) =>
  post(
    '/cds-services/icd10cm-suggestions',
    hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(text)), encounterConditions: searchset() } }),
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectTransient(answer: Answer): void {
  expect(answer.status).toBe(503);
  expectValidFhir(answer.body);
  const outcome = answer.body as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue?.[0]).toMatchObject({ severity: 'error', code: 'transient' });
}

test('a full analysis queue is refused at once with 503; the running and the queued calls complete', async () => {
  let heldDone = false;
  // Holds the only worker for 2 s, as a long inference would.
  const held = operation(`${SAMPLE_NOTE}\nHOLD_WORKER_MS=2000`).finally(() => {
    heldDone = true;
  });
  await sleep(400);
  const queued = operation(`${SAMPLE_NOTE}\nQueued behind the held one.`);
  await sleep(200);

  // The queue (1) is full: both edges refuse before the held analysis ends.
  expectTransient(await operation(`${SAMPLE_NOTE}\nOne too many.`));
  expectTransient(await hook(`${SAMPLE_NOTE}\nOne too many, at the hook.`));
  const health = await fetch(`${base}/healthz`);
  expect(health.status).toBe(200);
  expect(heldDone).toBe(false);

  for (const answer of [await held, await queued]) {
    expect(answer.status).toBe(200);
    expectValidFhir(answer.body);
    expect((answer.body as { entry?: unknown[] }).entry?.length).toBeGreaterThan(0);
  }
}, 30_000);

test('a worker that dies fails its call with 503 and is replaced: the next calls are answered', async () => {
  expectTransient(await operation(`${SAMPLE_NOTE}\nCRASH_WORKER`));
  expect((await fetch(`${base}/healthz`)).status).toBe(200);

  // The replacement loads the model (about a second); a call meanwhile waits in the queue.
  const after = await operation(`${SAMPLE_NOTE}\nAfter the crash.`);
  expect(after.status).toBe(200);
  expectValidFhir(after.body);
  expect((after.body as { entry?: unknown[] }).entry?.length).toBeGreaterThan(0);

  const cards = await hook(`${SAMPLE_NOTE}\nAfter the crash, at the hook.`);
  expect(cards.status).toBe(200);
  expectValidCds('response', cards.body);
  expect((cards.body as { cards: unknown[] }).cards.length).toBeGreaterThan(0);
}, 30_000);

test('a request that reaches a closed analyzer (the process is stopping) is answered 503 transient, not 500', async () => {
  const stopping = await serveWithWorkers({ modelDir: TINY_MODEL_DIR, intraOpThreads: 1, workers: 1, maxQueue: 1 });
  try {
    await stopping.analyzer.dispose();
    const res = await fetch(`${stopping.base}/fhir/DocumentReference/$suggest-conditions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify(documentReference(`${SAMPLE_NOTE}\nAfter the stop.`)),
    });
    expectTransient({ status: res.status, body: await res.json() });
  } finally {
    await stopping.close();
  }
}, 30_000);
