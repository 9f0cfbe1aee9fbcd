/**
 * Authentication at the FHIR edge: $suggest-conditions takes a configured static token or a
 * trusted client's JWT (aud = the URL invoked); the CapabilityStatement and the service's own
 * definitions stay public and say what is required.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import request from 'supertest';
import { createTestApp } from '../helpers/app';
import { expectValidFhir } from '../helpers/expect-valid';
import { clientClaims, signedToken, testSigner, type TestSigner } from '../helpers/tokens';

const BASE = 'https://cds.example.org';
const OPERATION = '/fhir/DocumentReference/$suggest-conditions';
const EHR = 'https://ehr.example.org';
const STATIC = ['s3cr3t-token-for-the-ehr-integration-0001', 'another-static-token-for-batch-coding-0002'];
const BODY = readFileSync(path.join(__dirname, '..', 'fixtures', 'requests', 'suggest-conditions.json'), 'utf8');
const REFUSAL = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', details: { text: 'Authentication failed' } }] };

let es: TestSigner;
let app: Awaited<ReturnType<typeof createTestApp>>['app'];
let logs: string[];
beforeAll(async () => {
  es = await testSigner('ES384', 'es-1');
  ({ app, logs } = await createTestApp({ auth: 'on', publicBaseUrl: BASE, fhirTokens: STATIC, cdsClients: [{ iss: EHR, jwks: { keys: [es.publicJwk] } }] }));
});

const suggest = (authorization?: string, path = OPERATION) => {
  const req = request(app).post(path).set('Content-Type', 'application/fhir+json');
  return (authorization ? req.set('Authorization', authorization) : req).send(BODY);
};

function expectRefused(res: request.Response) {
  expect(res.status).toBe(401);
  expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(res.body).toEqual(REFUSAL);
  expectValidFhir(res.body);
}

test('a configured static token (either of them; scheme name in any case)', async () => {
  const res = await suggest(`Bearer ${STATIC[1]}`);
  expect(res.status).toBe(200);
  expect(res.body.resourceType).toBe('Bundle');
  expect((await suggest(`bearer ${STATIC[0]}`)).status).toBe(200);
  const accepted = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'caller authenticated' && l.requestId === res.headers['x-request-id']);
  expect(accepted).toMatchObject({ scheme: 'static-token', position: 2 });
  expect(logs.some((l) => STATIC.some((t) => l.includes(t)))).toBe(false);
});

test('a trusted client JWT whose aud is the URL invoked ($ or %24, as sent)', async () => {
  expect((await suggest(`Bearer ${await signedToken(es, clientClaims(EHR, `${BASE}${OPERATION}`))}`)).status).toBe(200);
  const encoded = '/fhir/DocumentReference/%24suggest-conditions';
  expect((await suggest(`Bearer ${await signedToken(es, clientClaims(EHR, `${BASE}${encoded}`))}`, encoded)).status).toBe(200);
});

test.each<[string, () => Promise<string | undefined>]>([
  ['no token', async () => undefined],
  ['an unknown static token', async () => `Bearer ${STATIC[0].replace('0001', '0009')}`],
  ['a prefix of a static token', async () => `Bearer ${STATIC[0].slice(0, 32)}`],
  ['a JWT for the CDS service', async () => `Bearer ${await signedToken(es, clientClaims(EHR, `${BASE}/cds-services/icd10cm-suggestions`))}`],
  ['a JWT of an untrusted issuer', async () => `Bearer ${await signedToken(es, clientClaims('https://evil.example.org', `${BASE}${OPERATION}`))}`],
  ['an expired JWT', async () => `Bearer ${await signedToken(es, clientClaims(EHR, `${BASE}${OPERATION}`, { exp: Math.floor(Date.now() / 1000) - 600 }))}`],
])('refused: %s', async (_name, authorization) => {
  expectRefused(await suggest(await authorization()));
});

test('a static token is not accepted at the CDS Hooks edge (JWT only there)', async () => {
  const res = await request(app)
    .post('/cds-services/icd10cm-suggestions')
    .set('Content-Type', 'application/json')
    .set('Authorization', `Bearer ${STATIC[0]}`)
    .send({});
  expect(res.status).toBe(401);
});

test('metadata and the service definitions are public; the CapabilityStatement states the requirement', async () => {
  const res = await request(app).get('/fhir/metadata');
  expect(res.status).toBe(200);
  const cs = res.body as CapabilityStatement;
  expectValidFhir(cs);
  expect(cs.rest![0].security).toEqual({ cors: true, description: expect.stringContaining('requires `Authorization: Bearer <token>`') });
  expect((await request(app).get('/fhir/OperationDefinition/DocumentReference-suggest-conditions')).status).toBe(200);
});

test('AUTH=off: served without a token; the CapabilityStatement says so', async () => {
  const { app: open } = await createTestApp({ auth: 'off' });
  expect((await request(open).post(OPERATION).set('Content-Type', 'application/fhir+json').send(BODY)).status).toBe(200);
  const cs = (await request(open).get('/fhir/metadata')).body as CapabilityStatement;
  expect(cs.rest![0].security?.description).toContain('AUTH=off');
});

test('the body is read only after authentication: without a token, a malformed or oversized body is still a 401', async () => {
  const send = (body: string, authorization?: string) => {
    const req = request(app).post(OPERATION).set('Content-Type', 'application/fhir+json');
    return (authorization ? req.set('Authorization', authorization) : req).send(body);
  };
  const malformed = '{"resourceType": "Parameters", ';
  const oversized = JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'note', valueString: 'x'.repeat(6 * 1024 * 1024) }] });
  expectRefused(await send(malformed));
  expectRefused(await send(oversized));
  // The same bodies from an authenticated caller are parsed, and refused for what they are.
  expect((await send(malformed, `Bearer ${STATIC[0]}`)).status).toBe(400);
  expect((await send(oversized, `Bearer ${STATIC[0]}`)).status).toBe(413);
});
