/**
 * The README's example answers are what the service answers with its defaults (ENGINE=both:
 * the committed code set, ranker and default model) to the README's example requests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Condition } from '@medplum/fhirtypes';
import request from 'supertest';
import { inlineAnalyzer } from '../../src/analysis/analyzer';
import { PROJECT_ROOT } from '../../src/paths';
import { createTestApp } from '../helpers/app';
import { fullEngine } from '../helpers/engine';
import { expectValidCds, expectValidFhir, resourcesOf } from '../helpers/expect-valid';

jest.setTimeout(60_000);

const README = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
const fixture = (name: string) => readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'requests', name), 'utf8');

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
beforeAll(async () => {
  const { engine, info } = await fullEngine('both');
  ({ app } = await createTestApp({ engine: 'both' }, inlineAnalyzer(engine, info)));
});

test("the README's example card is the default engine's answer to the example hook call", async () => {
  const res = await request(app).post('/cds-services/icd10cm-suggestions').set('Content-Type', 'application/json').send(fixture('encounter-discharge.json'));
  expect(res.status).toBe(200);
  expectValidCds('response', res.body);
  const card = res.body.cards.find((c: { summary: string }) => c.summary.includes(' J18.9: '));
  expect(card).toBeDefined();
  expect(README).toContain(JSON.stringify(card.summary));
  expect(README).toContain(JSON.stringify(card.detail).slice(1, 100));
  expect(README).toContain(JSON.stringify(card.source.label));
  expect(README).toContain(`"indicator": ${JSON.stringify(card.indicator)}`);
});

test("the README's codes and example Condition are the default engine's answer to the example operation", async () => {
  const res = await request(app)
    .post('/fhir/DocumentReference/$suggest-conditions')
    .set('Content-Type', 'application/fhir+json')
    .send(fixture('suggest-conditions.json'));
  expect(res.status).toBe(200);
  expectValidFhir(res.body);
  const conditions = resourcesOf(res.body as Bundle).filter((r): r is Condition => r.resourceType === 'Condition');
  const codes = conditions.map((c) => c.code!.coding![0].code!);
  expect(README).toContain(`suggests ${codes.map((c) => `\`${c}\``).join(', ')}`);
  const pneumonia = conditions.find((c) => c.code!.coding![0].code === 'J18.9')!;
  const confidence = pneumonia.extension!.find((e) => e.url.endsWith('AIconfidence'))!.valueDecimal;
  expect(README).toContain(`"valueDecimal": ${confidence}`);
  expect(README).toContain(JSON.stringify(pneumonia.note![0].text));
});
