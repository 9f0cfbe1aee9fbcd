/**
 * Which FHIR servers a CDS client may send the service to (auth/fhir-server-policy.ts): a
 * trusted client's own `fhirServers`; with AUTH=off, no loopback or private address unless
 * ALLOW_PRIVATE_FHIR_SERVERS=on. A refused server is never contacted: the hook answers as if
 * the prefetch could not be completed (412 when the note is missing), and logs why.
 */
import request from 'supertest';
import { createTestApp } from '../helpers/app';
import { expectValidCds } from '../helpers/expect-valid';
import { json, startFhirServer, type FakeFhirServer } from '../helpers/fhir-server';
import { documentReference, hookRequest, SAMPLE_NOTE, searchset } from '../helpers/resources';
import { clientClaims, signedToken, testSigner, type TestSigner } from '../helpers/tokens';

const BASE = 'https://cds.example.org';
const SERVICE = '/cds-services/icd10cm-suggestions';
const EHR = 'https://ehr.example.org';
const OTHER = 'https://other.example.org';
const fhirAuthorization = { access_token: 'hook-token-123', token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'icd10-cds' };

let ehr: FakeFhirServer;
let signer: TestSigner;
beforeAll(async () => {
  signer = await testSigner('ES384', 'es-1');
  ehr = await startFhirServer([
    ['/DocumentReference', json(searchset(documentReference(SAMPLE_NOTE)))],
    ['/Condition', json(searchset())],
  ]);
});
afterAll(() => ehr.close());
beforeEach(() => ehr.requests.splice(0));

const refusalLogged = (logs: string[]) => logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'fhirServer refused: nothing is fetched from it');

describe('AUTH=on: each client names the FHIR servers it may send us to', () => {
  let app: Awaited<ReturnType<typeof createTestApp>>['app'];
  let logs: string[];
  beforeAll(async () => {
    ({ app, logs } = await createTestApp({
      auth: 'on',
      publicBaseUrl: BASE,
      cdsClients: [
        { iss: EHR, jwks: { keys: [signer.publicJwk] }, fhirServers: [ehr.base] },
        { iss: OTHER, jwks: { keys: [signer.publicJwk] } },
      ],
    }));
  });
  const call = async (iss: string, fhirServer: string) =>
    request(app)
      .post(SERVICE)
      .set('Authorization', `Bearer ${await signedToken(signer, clientClaims(iss, `${BASE}${SERVICE}`))}`)
      .send(hookRequest({ fhirServer, fhirAuthorization }));

  test('its own FHIR server is read, with the hook token', async () => {
    const res = await call(EHR, `${ehr.base}/`);
    expect(res.status).toBe(200);
    expectValidCds('response', res.body);
    expect(res.body.cards.length).toBeGreaterThan(0);
    expect(ehr.requests.some((r) => r.url.startsWith('/fhir/DocumentReference') && r.authorization === 'Bearer hook-token-123')).toBe(true);
  });

  test('another server is never contacted: 412 without a prefetched note, the reason logged', async () => {
    const res = await call(EHR, 'http://169.254.169.254/latest/meta-data');
    expect(res.status).toBe(412);
    expect(res.body.resourceType).toBe('OperationOutcome');
    // The answer says a server may be refused, without naming it or the reason (the log has that).
    expect(res.body.issue[0].details.text).toMatch(/no fhirServer .* this client may send the service to/);
    expect(refusalLogged(logs)).toMatchObject({ reason: "fhirServer is not among the client's fhirServers" });
  });

  test("a client without fhirServers may not send us to another client's server", async () => {
    const res = await call(OTHER, ehr.base);
    expect(res.status).toBe(412);
    expect(ehr.requests).toHaveLength(0);
  });

  test('a prefetched note is still coded when the named server is refused', async () => {
    const token = await signedToken(signer, clientClaims(OTHER, `${BASE}${SERVICE}`));
    const res = await request(app)
      .post(SERVICE)
      .set('Authorization', `Bearer ${token}`)
      .send(hookRequest({ fhirServer: ehr.base, fhirAuthorization, prefetch: { dischargeSummaries: searchset(documentReference(SAMPLE_NOTE)) } }));
    expect(res.status).toBe(200);
    expect(res.body.cards.length).toBeGreaterThan(0);
    expect(ehr.requests).toHaveLength(0);
  });
});

describe('AUTH=off: loopback and private servers only with ALLOW_PRIVATE_FHIR_SERVERS=on', () => {
  test('off: the loopback EHR is not contacted (412)', async () => {
    const { app, logs } = await createTestApp({ auth: 'off', allowPrivateFhirServers: 'off' });
    const res = await request(app)
      .post(SERVICE)
      .send(hookRequest({ fhirServer: ehr.base, fhirAuthorization }));
    expect(res.status).toBe(412);
    expect(ehr.requests).toHaveLength(0);
    expect(refusalLogged(logs)).toMatchObject({ reason: expect.stringContaining('loopback or private address') });
  });

  test('on: it is read', async () => {
    const { app } = await createTestApp({ auth: 'off', allowPrivateFhirServers: 'on' });
    const res = await request(app)
      .post(SERVICE)
      .send(hookRequest({ fhirServer: ehr.base, fhirAuthorization }));
    expect(res.status).toBe(200);
    expect(ehr.requests.length).toBeGreaterThan(0);
  });
});
