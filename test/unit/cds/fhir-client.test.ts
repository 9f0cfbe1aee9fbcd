/**
 * The EHR's FHIR server misbehaving: redirects (within the server, to another host, in a
 * loop, without Location), 5xx, timeouts before the headers and in the middle of the body,
 * bodies that are not FHIR. The token only ever goes to URLs under fhirServer.
 */
import { createFhirClient, entriesOf, FhirAccessError, nextPageOf } from '../../../src/fhir/fhir-client';
import { json, startFhirServer, type FakeFhirServer } from '../../helpers/fhir-server';

const TOKEN = 'secret-token-123';
let ehr: FakeFhirServer | undefined;
let elsewhere: FakeFhirServer | undefined;
afterEach(async () => {
  await ehr?.close();
  await elsewhere?.close();
  ehr = elsewhere = undefined;
});

const clientOf = (base: string, timeoutMs = 2000) => createFhirClient({ baseUrl: base, accessToken: TOKEN, timeoutMs, maxBytes: 1_000_000 });
const binary = { resourceType: 'Binary', contentType: 'text/plain', data: Buffer.from('Pneumonia').toString('base64') };
const redirect =
  (location: string, status = 302) =>
  (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(status, location ? { Location: location } : {});
    res.end();
  };

/** The reason of the FhirAccessError a promise rejects with. */
async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FhirAccessError) return error.reason;
    throw error;
  }
  throw new Error('expected a FhirAccessError');
}

test('a redirect within the FHIR server is followed, with the token', async () => {
  ehr = await startFhirServer([
    ['/Binary/old', (req, res, base) => redirect(`${base}/Binary/new`, 301)(req, res)],
    ['/Binary/new', json(binary)],
  ]);
  await expect(clientOf(ehr.base).attachment('Binary/old')).resolves.toEqual({ contentType: 'text/plain', data: binary.data });
  expect(ehr.requests.map((r) => [r.url, r.authorization])).toEqual([
    ['/fhir/Binary/old', `Bearer ${TOKEN}`],
    ['/fhir/Binary/new', `Bearer ${TOKEN}`],
  ]);
});

test('a redirect to another host (here another port) is not followed: the token never leaves the FHIR server', async () => {
  elsewhere = await startFhirServer([['/', json(binary)]]);
  ehr = await startFhirServer([['/Binary/1', redirect(`${elsewhere!.base}/Binary/1`)]]);
  expect(await reasonOf(clientOf(ehr.base).attachment('Binary/1'))).toBe('URL is outside the FHIR server');
  expect(elsewhere.requests).toEqual([]);
});

test('a redirect out of the base path on the same host is not followed either', async () => {
  ehr = await startFhirServer([['/Binary/1', redirect('/admin/Binary/1')]]);
  expect(await reasonOf(clientOf(ehr.base).attachment('Binary/1'))).toBe('URL is outside the FHIR server');
  expect(ehr.requests.map((r) => r.url)).toEqual(['/fhir/Binary/1']);
});

test('a redirect on a search (not only attachments) is held to the same rule', async () => {
  elsewhere = await startFhirServer([['/', json({ resourceType: 'Bundle', type: 'searchset' })]]);
  ehr = await startFhirServer([['/DocumentReference', redirect(`${elsewhere.base}/DocumentReference?patient=1`, 307)]]);
  expect(await reasonOf(clientOf(ehr.base).search('DocumentReference?patient=1'))).toBe('URL is outside the FHIR server');
  expect(elsewhere.requests).toEqual([]);
});

test('redirect loops stop after 3 hops; a redirect without Location fails', async () => {
  ehr = await startFhirServer([
    ['/Binary/loop', (req, res, base) => redirect(`${base}/Binary/loop`)(req, res)],
    ['/Binary/nowhere', redirect('')],
  ]);
  expect(await reasonOf(clientOf(ehr.base).attachment('Binary/loop'))).toBe('too many redirects');
  expect(ehr.requests).toHaveLength(4);
  expect(await reasonOf(clientOf(ehr.base).attachment('Binary/nowhere'))).toBe('HTTP 302 without Location');
});

test.each([500, 502, 503, 401, 404])('HTTP %i from the FHIR server is a FhirAccessError', async (status) => {
  ehr = await startFhirServer([['/', json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] }, status)]]);
  expect(await reasonOf(clientOf(ehr.base).search('DocumentReference?patient=1'))).toBe(`HTTP ${status}`);
  expect(await reasonOf(clientOf(ehr.base).attachment('Binary/1'))).toBe(`HTTP ${status}`);
});

test('a server that never answers, or stalls in the middle of the body, times out', async () => {
  ehr = await startFhirServer([
    ['/Binary/silent', () => undefined],
    [
      '/Binary/stalls',
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Content-Length': '1000' });
        res.write('{"resourceType": "Binary", ');
      },
    ],
  ]);
  const started = Date.now();
  expect(await reasonOf(clientOf(ehr.base, 300).attachment('Binary/silent'))).toBe('timeout');
  expect(await reasonOf(clientOf(ehr.base, 300).attachment('Binary/stalls'))).toMatch(/timeout|connection failed/);
  expect(Date.now() - started).toBeLessThan(3000);
});

test('bodies that are not FHIR, or not the expected resource, are FhirAccessErrors', async () => {
  ehr = await startFhirServer([
    [
      '/DocumentReference',
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
        res.end('<html>login</html>');
      },
    ],
    ['/Condition', json({ resourceType: 'Patient' })],
    ['/Binary/1', json({ resourceType: 'Binary', contentType: 'text/plain' })],
    ['/Binary/2', json(null)],
    ['/Binary/3', json({ resourceType: 'Binary', contentType: 'text/plain', data: 42 })],
  ]);
  const client = clientOf(ehr.base);
  expect(await reasonOf(client.search('DocumentReference?patient=1'))).toBe('response is not a FHIR resource');
  expect(await reasonOf(client.search('Condition?patient=1'))).toBe('search returned Patient, not a Bundle');
  expect(await reasonOf(client.attachment('Binary/1'))).toBe('attachment is not a Binary resource with data');
  expect(await reasonOf(client.attachment('Binary/2'))).toBe('attachment is not a Binary resource with data');
  expect(await reasonOf(client.attachment('Binary/3'))).toBe('attachment is not a Binary resource with data');
});

test('Bundles are read tolerantly: entry and link of the wrong JSON type are ignored', () => {
  const bundle = (b: object) => ({ resourceType: 'Bundle', ...b }) as never;
  expect(entriesOf(bundle({ entry: { resource: { resourceType: 'Condition' } } }))).toEqual([]);
  expect(
    entriesOf(
      bundle({ entry: [null, 1, 'x', {}, { resource: 'x' }, { resource: { resourceType: 'Condition' } }, { resource: { resourceType: 'OperationOutcome' } }] }),
    ),
  ).toEqual([{ resourceType: 'Condition' }]);
  expect(nextPageOf(bundle({ link: 'next' }))).toBeUndefined();
  expect(nextPageOf(bundle({ link: [null, { relation: 'next', url: 42 }, { relation: 'next', url: 'DocumentReference?page=2' }] }))).toBe(
    'DocumentReference?page=2',
  );
});

test('a redirect whose Location is not a URL is a FhirAccessError (found by the fuzz test: it was a TypeError, a 500)', async () => {
  ehr = await startFhirServer([['/Binary/1', redirect('http://[::1')]]);
  expect(await reasonOf(clientOf(ehr.base).attachment('Binary/1'))).toBe('invalid redirect Location');
});
