/**
 * Every response carries the privacy headers (http/standard-headers.ts): answers hold note
 * text, quoted evidence and suggested diagnoses, which no cache may keep and no browser may
 * sniff into another type. Errors and answers of every route alike.
 */
import request from 'supertest';
import { createTestApp } from '../helpers/app';
import { documentReference, hookRequest, parametersOf, SAMPLE_NOTE, searchset } from '../helpers/resources';

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
beforeAll(async () => {
  ({ app } = await createTestApp());
});

test.each<[string, () => request.Test, number]>([
  [
    'hook call with suggestions',
    () =>
      request(app)
        .post('/cds-services/icd10cm-suggestions')
        .send(hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(SAMPLE_NOTE)) } })),
    200,
  ],
  ['hook call refused (412)', () => request(app).post('/cds-services/icd10cm-suggestions').send(hookRequest()), 412],
  ['hook call malformed (400)', () => request(app).post('/cds-services/icd10cm-suggestions').set('Content-Type', 'application/json').send('{'), 400],
  [
    '$suggest-conditions',
    () =>
      request(app)
        .post('/fhir/DocumentReference/$suggest-conditions')
        .set('Content-Type', 'application/fhir+json')
        .send(JSON.stringify(parametersOf(documentReference(SAMPLE_NOTE)))),
    200,
  ],
  ['discovery', () => request(app).get('/cds-services'), 200],
  ['metadata', () => request(app).get('/fhir/metadata'), 200],
  ['unknown route (404)', () => request(app).get('/nowhere'), 404],
  ['health', () => request(app).get('/healthz'), 200],
])('%s: Cache-Control no-store, nosniff, no referrer', async (_name, send, status) => {
  const res = await send();
  expect(res.status).toBe(status);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
});
