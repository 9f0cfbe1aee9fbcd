/**
 * HOOK_TIME_BUDGET_MS with a slow model (the heavy-model generator's timing-test size, about
 * 0.2 s per window, in worker threads as main.ts runs it): the hook answers within its budget
 * with one information card, /healthz stays quick during the analysis, the analysis goes on
 * into the cache, and a later call gets the real cards from it. The FHIR operation waits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Analyzer } from '../../src/analysis/analyzer';
import type { Card, HookResponse } from '../../src/cds/types';
import type { Store } from '../../src/store/store';
import { generateHeavyModel, TIMING_TEST_SIZE } from '../../src/tools/generate-heavy-model';
import { serveWithWorkers } from '../helpers/app';
import { expectValidCds, expectValidFhir } from '../helpers/expect-valid';
import { documentReference, hookRequest, SAMPLE_NOTE, searchset } from '../helpers/resources';

const BUDGET_MS = 100;
// Generous for a shared two-core machine; the analysis itself takes seconds.
const MARGIN_MS = 250;

let root: string;
let served: Awaited<ReturnType<typeof serveWithWorkers>> | undefined;
let analyzer: Analyzer;
let store: Store;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'slow-model-'));
  generateHeavyModel(root, TIMING_TEST_SIZE);
  served = await serveWithWorkers({ modelDir: root, intraOpThreads: 1, workers: 1, maxQueue: 8 }, { hookTimeBudgetMs: BUDGET_MS });
  ({ analyzer, store, base } = served);
}, 180_000);

afterAll(async () => {
  await served?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const hookBody = (text: string) =>
  JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(text)), encounterConditions: searchset() } }));

async function timed(url: string, init?: RequestInit): Promise<{ ms: number; status: number; body: unknown }> {
  const started = performance.now();
  const res = await fetch(url, init);
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  return { ms: performance.now() - started, status: res.status, body };
}
const hook = (text: string) =>
  timed(`${base}/cds-services/icd10cm-suggestions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: hookBody(text) });
const isPending = (cards: Card[]) => cards.length === 1 && cards[0].summary === 'ICD-10-CM suggestions are being prepared';

test('over budget: an information card in time, /healthz quick meanwhile, then the real cards from the cache', async () => {
  const note = `${SAMPLE_NOTE}\nBudget test.`;
  const first = await hook(note);
  expect(first.status).toBe(200);
  expectValidCds('response', first.body);
  const cards = (first.body as HookResponse).cards;
  expect(isPending(cards)).toBe(true);
  expect(cards[0]).toMatchObject({ indicator: 'info', source: { label: expect.stringContaining(analyzer.info.name) } });
  expect(cards[0].detail).toMatch(/reopen|refresh/i);
  expect(cards[0].suggestions).toBeUndefined();
  expect(first.ms).toBeLessThan(BUDGET_MS + MARGIN_MS);

  // The analysis runs in a worker: the event loop answers meanwhile.
  const health = await timed(`${base}/healthz`);
  expect(health.status).toBe(200);
  expect(health.ms).toBeLessThan(100);

  // Calls while it runs join it (still pending within budget); then it lands in the cache.
  let answer = first;
  const until = Date.now() + 120_000;
  while (isPending((answer.body as HookResponse).cards) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    answer = await hook(note);
    expect(answer.ms).toBeLessThan(BUDGET_MS + MARGIN_MS);
    expectValidCds('response', answer.body);
  }
  const cached = await hook(note);
  expectValidCds('response', cached.body);
  expect(isPending((cached.body as HookResponse).cards)).toBe(false);
  expect(cached.ms).toBeLessThan(BUDGET_MS + MARGIN_MS);
  const audit = await store.auditRecords();
  expect(audit[0]).toMatchObject({ analysis: 'pending', outcome: 'no-suggestion', suggestions: [] });
  expect(audit.at(-1)!.analysis).toBe('cached');
  const pending = audit.filter((r) => r.analysis === 'pending').length;
  expect(pending).toBeGreaterThanOrEqual(1);
  // The report counts them apart from calls that found nothing to suggest.
  expect(await store.acceptanceReport()).toMatchObject({ calls: audit.length, callsPending: pending, callsWithoutSuggestion: 0 });
}, 180_000);

test('the FHIR operation waits for a slow analysis and fills the cache for the hook', async () => {
  const note = `${SAMPLE_NOTE}\nOperation test.`;
  const op = await timed(`${base}/fhir/DocumentReference/$suggest-conditions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'document', resource: documentReference(note) }] }),
  });
  expect(op.status).toBe(200);
  expectValidFhir(op.body);
  expect(op.ms).toBeGreaterThan(BUDGET_MS);
  const after = await hook(note);
  expectValidCds('response', after.body);
  expect(isPending((after.body as HookResponse).cards)).toBe(false);
  expect((await store.auditRecords()).at(-1)!.analysis).toBe('cached');
}, 180_000);
