/**
 * The result cache (tiny model, in-process): a repeated note is answered from the cache with
 * the same suggestions and quotes, the audit marks it cached, the cache row holds no note
 * text, and every answer carries Server-Timing without content.
 */
import request from 'supertest';
import type { HookResponse } from '../../src/cds/types';
import { createTestApp } from '../helpers/app';
import { expectValidCds, expectValidFhir } from '../helpers/expect-valid';
import { documentReference, hookRequest, SAMPLE_NOTE, searchset } from '../helpers/resources';

const HOOK = '/cds-services/icd10cm-suggestions';
const OPERATION = '/fhir/DocumentReference/$suggest-conditions';

function hookBody(text: string) {
  return hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(text)), encounterConditions: searchset() } });
}
/** Cards without their uuids (new ones on every call). */
const withoutIds = (body: HookResponse) =>
  JSON.parse(JSON.stringify(body.cards).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'id'));

test('a repeated hook call is answered from the cache, identically, and audited as cached', async () => {
  const { app, store, settled } = await createTestApp();
  const first = await request(app).post(HOOK).send(hookBody(SAMPLE_NOTE)).expect(200);
  await settled();
  const second = await request(app).post(HOOK).send(hookBody(SAMPLE_NOTE)).expect(200);
  expectValidCds('response', first.body);
  expectValidCds('response', second.body);
  expect(first.body.cards.length).toBeGreaterThan(0);
  expect(withoutIds(second.body)).toEqual(withoutIds(first.body));

  const audit = await store.auditRecords();
  expect(audit.map((r) => r.analysis)).toEqual([undefined, 'cached']);
  expect(audit[1].suggestions.map((s) => s.evidence)).toEqual(audit[0].suggestions.map((s) => s.evidence));
  for (const res of [first, second]) {
    expect(res.headers['server-timing']).toMatch(/^(?:[a-z]+;dur=\d+\.\d\d(?:, |$))+$/);
    expect(res.headers['server-timing']).toContain('serialize;dur=');
  }
  expect(first.headers['server-timing']).toMatch(/tokenize;dur=.*infer;dur=.*evidence;dur=/);
});

test('the cache holds offsets, never note text', async () => {
  const { app, store, settled } = await createTestApp({ storePath: ':memory:' });
  await request(app).post(HOOK).send(hookBody(SAMPLE_NOTE)).expect(200);
  await settled();
  const rows = (store as unknown as { db: { prepare(sql: string): { all(): { value: string }[] } } }).db.prepare('SELECT value FROM suggestion_cache').all();
  expect(rows).toHaveLength(1);
  // Strings only under keys that hold the service's own vocabulary (codes, label displays,
  // statuses, section kinds); passages, triggers and headings are offsets.
  const stringKeys = new Set<string>();
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'string') stringKeys.add(key);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(JSON.parse(rows[0].value), '');
  expect([...stringKeys].sort()).toEqual(expect.arrayContaining(['code', 'display']));
  for (const k of stringKeys) expect(['code', 'display', 'status', 'kind', 'bySection']).toContain(k);
  expect(rows[0].value).toMatch(/"trigger":\[\d+,\d+\]|"heading":\[\d+,\d+\]/);
});

test('the FHIR operation fills the cache the hook reads, and a changed note or setting misses it', async () => {
  const { app, store, settled } = await createTestApp();
  const op = await request(app)
    .post(OPERATION)
    .set('Content-Type', 'application/fhir+json')
    .send({ resourceType: 'Parameters', parameter: [{ name: 'document', resource: documentReference(SAMPLE_NOTE) }] })
    .expect(200);
  expectValidFhir(op.body);
  await settled();
  await request(app).post(HOOK).send(hookBody(SAMPLE_NOTE)).expect(200);
  await request(app)
    .post(HOOK)
    .send(hookBody(`${SAMPLE_NOTE}\nSigned.`))
    .expect(200);
  expect((await store.auditRecords()).map((r) => r.analysis)).toEqual([undefined, 'cached', undefined]);

  const other = await createTestApp({ suppressAssertions: [] });
  await request(other.app).post(HOOK).send(hookBody(SAMPLE_NOTE)).expect(200);
  expect((await other.store.auditRecords()).map((r) => r.analysis)).toEqual([undefined]);
});

test('RESULT_CACHE=off computes every call', async () => {
  const { app, store } = await createTestApp({ resultCache: 'off' });
  await request(app).post(HOOK).send(hookBody(SAMPLE_NOTE)).expect(200);
  await request(app).post(HOOK).send(hookBody(SAMPLE_NOTE)).expect(200);
  expect((await store.auditRecords()).map((r) => r.analysis)).toEqual([undefined, undefined]);
});
