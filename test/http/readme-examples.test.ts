/**
 * The README's curl examples, sent as the README sends them: they must keep working.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Condition } from '@medplum/fhirtypes';
import request from 'supertest';
import { PROJECT_ROOT } from '../../src/paths';
import { createTestApp } from '../helpers/app';
import { expectSuggestedCondition, expectValidCds, expectValidFhir } from '../helpers/expect-valid';
import { SAMPLE_NOTE } from '../helpers/resources';

const README = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
const fixture = (name: string) => readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'requests', name), 'utf8');

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
beforeAll(async () => {
  ({ app } = await createTestApp());
});

test('the README shows both examples with these files', () => {
  expect(README).toContain("-H 'Content-Type: application/fhir+json' --data @test/fixtures/requests/suggest-conditions.json");
  expect(README).toContain('http://localhost:8080/fhir/DocumentReference/$suggest-conditions');
  expect(README).toContain("-H 'Content-Type: application/json' --data @test/fixtures/requests/encounter-discharge.json");
  expect(README).toContain('http://localhost:8080/cds-services/icd10cm-suggestions');
});

test('the README starts the service with authentication off for these examples, and says it is for local development only', () => {
  expect(README).toContain('AUTH=off npm start');
  expect(README).toMatch(/AUTH=off[^\n]*\n?[^\n]*local development only/i);
});

test('FHIR example with a static token, as the README shows it', async () => {
  const token = 'a'.repeat(64);
  expect(README).toContain('FHIR_TOKENS=$FHIR_TOKEN npm start');
  expect(README).toContain('-H "Authorization: Bearer $FHIR_TOKEN"');
  const { app: secured } = await createTestApp({ auth: 'on', fhirTokens: [token] });
  const post = () => request(secured).post('/fhir/DocumentReference/$suggest-conditions').set('Content-Type', 'application/fhir+json');
  expect((await post().send(fixture('suggest-conditions.json'))).status).toBe(401);
  expect((await post().set('Authorization', `Bearer ${token}`).send(fixture('suggest-conditions.json'))).status).toBe(200);
});

test('the example files carry the sample discharge summary', () => {
  const parameters = JSON.parse(fixture('suggest-conditions.json'));
  expect(Buffer.from(parameters.parameter[0].resource.content[0].attachment.data, 'base64').toString('utf8')).toBe(SAMPLE_NOTE);
  const hook = JSON.parse(fixture('encounter-discharge.json'));
  expect(hook.prefetch.dischargeSummaries.entry[0].resource).toEqual(parameters.parameter[0].resource);
});

test('FHIR example: a Bundle whose every Condition is provisional, with confidence and quoted source text', async () => {
  const res = await request(app)
    .post('/fhir/DocumentReference/$suggest-conditions')
    .set('Content-Type', 'application/fhir+json')
    .send(fixture('suggest-conditions.json'));
  expect(res.status).toBe(200);
  const bundle = res.body as Bundle;
  expectValidFhir(bundle);
  const conditions = bundle.entry!.map((e) => e.resource!).filter((r): r is Condition => r.resourceType === 'Condition');
  expect(conditions.length).toBeGreaterThan(0);
  for (const c of conditions) {
    expectSuggestedCondition(c);
    expect(c.note!.some((n) => n.text.startsWith('Source text: "'))).toBe(true);
  }
});

test('CDS Hooks example: cards with quoted evidence', async () => {
  const res = await request(app).post('/cds-services/icd10cm-suggestions').set('Content-Type', 'application/json').send(fixture('encounter-discharge.json'));
  expect(res.status).toBe(200);
  expectValidCds('response', res.body);
  expect(res.body.cards.length).toBeGreaterThan(0);
  for (const card of res.body.cards) expect(card.detail).toContain('**Supporting text**');
});
