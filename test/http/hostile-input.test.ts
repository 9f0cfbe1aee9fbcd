/**
 * Hostile input at both edges, through the real app: every limit (body size, note length,
 * JSON nesting depth) answers with its status and an OperationOutcome; invalid UTF-8 and
 * binary attachments; prefetch values of the wrong shape; an EHR FHIR server that stalls.
 * Several cases are regressions of 500s found by the fuzz test (test/http/fuzz.test.ts).
 */
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { createTestApp } from '../helpers/app';
import { expectValidCds, expectValidFhir } from '../helpers/expect-valid';
import { nestedJson } from '../helpers/fuzz';
import { startFhirServer, type FakeFhirServer } from '../helpers/fhir-server';
import { base64, documentReference, hookRequest, parametersOf, SAMPLE_NOTE, searchset } from '../helpers/resources';

const SERVICE = '/cds-services/icd10cm-suggestions';
const SUGGEST = '/fhir/DocumentReference/$suggest-conditions';

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
let logs: string[];
beforeAll(async () => {
  ({ app, logs } = await createTestApp());
});

/** Posts the body as is (superagent would JSON-encode a Buffer sent with a JSON Content-Type). */
const post = (path: string, body: string | Buffer, type = 'application/json', headers: Record<string, string> = {}) => {
  const bytes = Buffer.from(body);
  const req = request(app)
    .post(path)
    .set({ 'Content-Type': type, 'Content-Length': String(bytes.length), ...headers });
  req.write(bytes);
  return req;
};
const cds = (body: unknown) => post(SERVICE, JSON.stringify(body));
const fhir = (body: unknown) => post(SUGGEST, JSON.stringify(body), 'application/fhir+json');

/** A 4xx OperationOutcome with this status, issue code and text. */
function expectOutcome(res: request.Response, status: number, code: string, text: RegExp) {
  expect(res.status).toBe(status);
  expectValidFhir(res.body);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].code).toBe(code);
  expect(res.body.issue[0].details.text).toMatch(text);
}

describe('JSON nesting depth (MAX_JSON_DEPTH, default 64): 400 too-costly before any validation', () => {
  const deepExtension = (levels: number) => {
    let extension = '{"url": "http://example.org/x", "valueString": "x"}';
    for (let i = 0; i < levels; i++) extension = `{"url": "http://example.org/x", "extension": [${extension}]}`;
    return extension;
  };

  test('a DocumentReference with extensions nested 3,000 deep (was a 500: the schema validator recursed out of stack)', async () => {
    const doc = JSON.stringify(documentReference(SAMPLE_NOTE)).replace(/^\{/, `{"extension": [${deepExtension(3000)}], `);
    const res = await post(SUGGEST, doc, 'application/fhir+json');
    expectOutcome(res, 400, 'too-costly', /more than 64 levels deep/);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
  });

  test.each([
    [
      'a hook request with a 100,000-deep prefetch value',
      SERVICE,
      JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: '@' } })).replace('"@"', nestedJson(100_000)),
    ],
    ['a feedback body nested 10,000 deep', `${SERVICE}/feedback`, `{"feedback": ${nestedJson(10_000, 'object')}}`],
    ['a bare 1,000-deep array', SUGGEST, nestedJson(1000)],
  ])('%s', async (_name, path, body) => {
    const res = await post(path, body);
    expectOutcome(res, 400, 'too-costly', /levels deep/);
  });

  test('the limit is configurable, and a real request is far below it', async () => {
    const { app: shallow } = await createTestApp({ maxJsonDepth: 16 });
    const send = (body: string) => request(shallow).post(SUGGEST).set('Content-Type', 'application/fhir+json').send(body);
    expect((await send(JSON.stringify(parametersOf(documentReference(SAMPLE_NOTE))))).status).toBe(200);
    expect((await send(`{"resourceType": "Parameters", "x": ${nestedJson(15)}}`)).body.issue[0].code).not.toBe('too-costly');
    expectOutcome(await send(`{"resourceType": "Parameters", "x": ${nestedJson(16)}}`), 400, 'too-costly', /more than 16 levels deep/);
  });
});

describe('body size (MAX_BODY_BYTES) and note length (MAX_NOTE_CHARS): 413 too-costly', () => {
  test('at the CDS edge too', async () => {
    const { app: small } = await createTestApp({ maxBodyBytes: 4096 });
    const res = await request(small)
      .post(SERVICE)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: documentReference('pneumonia '.repeat(1000)) } })));
    expectOutcome(res, 413, 'too-costly', /larger than the configured limit/);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  test('a gzip body is read (Content-Encoding), and the limit counts the inflated bytes: a 10 MB gzip bomb is 413', async () => {
    const ok = await post(SUGGEST, gzipSync(JSON.stringify(parametersOf(documentReference(SAMPLE_NOTE)))), 'application/json', { 'Content-Encoding': 'gzip' });
    expect(ok.status).toBe(200);
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"resourceType": "Parameters", "x": "'), Buffer.alloc(10 * 1024 * 1024, 0x61), Buffer.from('"}')]));
    expect(bomb.length).toBeLessThan(20_000);
    expectOutcome(await post(SUGGEST, bomb, 'application/json', { 'Content-Encoding': 'gzip' }), 413, 'too-costly', /configured limit/);
  });

  test('a note over MAX_NOTE_CHARS in a prefetched document: the document is skipped (no cards), never truncated', async () => {
    const { app: small, logs: smallLogs } = await createTestApp({ maxNoteChars: 1000 });
    const res = await request(small)
      .post(SERVICE)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: documentReference('pneumonia '.repeat(200)), encounterConditions: null } })));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
    expect(smallLogs.some((l) => l.includes('document skipped') && l.includes('the limit is 1000'))).toBe(true);
  });
});

describe('invalid UTF-8 and binary garbage in attachments', () => {
  const withBytes = (bytes: Buffer, contentType = 'text/plain') =>
    documentReference('', { content: [{ attachment: { contentType, data: bytes.toString('base64') } }] });
  const invalidUtf8 = Buffer.concat([Buffer.from('Pneumonia '), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(' hypertension')]);
  const png = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63fcffff3f0005fe02fea7d6a4830000000049454e44ae426082',
    'hex',
  );

  test.each([
    ['invalid UTF-8 declared as text/plain (UTF-8 by default)', invalidUtf8, 'text/plain'],
    ['invalid UTF-8 declared as charset=utf-8', invalidUtf8, 'text/plain; charset=utf-8'],
    ['a PNG declared as text/plain', png, 'text/plain'],
    ['lone UTF-16 surrogates declared as utf-16le', Buffer.from([0x00, 0xd8, 0x41, 0x00]), 'text/plain; charset=utf-16le'],
  ])('FHIR edge: %s → 422 code-invalid, nothing echoed', async (_name, bytes, contentType) => {
    const res = await fhir(parametersOf(withBytes(bytes, contentType)));
    expectOutcome(res, 422, 'code-invalid', /is not valid/);
    expect(res.text).not.toContain('Pneumonia');
  });

  test('CDS edge: the same document in prefetch is skipped (cards: []), the reason logged without content', async () => {
    const res = await cds(hookRequest({ prefetch: { dischargeSummaries: searchset(withBytes(invalidUtf8)), encounterConditions: null } }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
    expect(logs.some((l) => l.includes('document skipped') && l.includes('is not valid utf-8'))).toBe(true);
  });

  test('bytes valid in the declared single-byte charset are decoded (garbage in, no 5xx)', async () => {
    const res = await fhir(parametersOf(withBytes(png, 'text/plain; charset=iso-8859-1')));
    expect(res.status).toBe(200);
    expectValidFhir(res.body);
  });
});

describe('prefetch values of the wrong shape (regressions of fuzz-found 500s): read tolerantly', () => {
  const noFhirServer = (dischargeSummaries: unknown) => cds(hookRequest({ prefetch: { dischargeSummaries, encounterConditions: null } }));

  test.each([
    ['a Bundle whose entry is an object', { resourceType: 'Bundle', type: 'searchset', entry: { resource: documentReference(SAMPLE_NOTE) } }],
    [
      'a Bundle whose entry holds null, strings and resources that are not objects',
      { resourceType: 'Bundle', entry: [null, 'x', { resource: 5 }, { resource: { resourceType: 7 } }] },
    ],
    ['a Bundle whose link is a string', { resourceType: 'Bundle', entry: [], link: 'next' }],
    [
      'a DocumentReference whose content is an object',
      documentReference(SAMPLE_NOTE, { content: { attachment: { contentType: 'text/plain', data: base64(SAMPLE_NOTE) } } as never }),
    ],
    [
      'a DocumentReference whose attachment data is a number',
      documentReference(SAMPLE_NOTE, { content: [{ attachment: { contentType: 'text/plain', data: 42 as never } }] }),
    ],
    ['a DocumentReference whose attachment is null', documentReference(SAMPLE_NOTE, { content: [{ attachment: null as never }] })],
    [
      'a DocumentReference whose contentType is an array',
      documentReference(SAMPLE_NOTE, { content: [{ attachment: { contentType: ['text/plain'] as never, data: base64(SAMPLE_NOTE) } }] }),
    ],
    ['a DocumentReference whose type.coding is a string', documentReference(SAMPLE_NOTE, { type: { coding: 'LOINC 18842-5' as never } })],
    [
      'a DocumentReference whose context.encounter is an object',
      documentReference(SAMPLE_NOTE, { context: { encounter: { reference: 'Encounter/456' } as never } }),
    ],
    ['a DocumentReference whose date is a number', documentReference(SAMPLE_NOTE, { date: 20261125 as never })],
  ])('%s: 200, no cards from it', async (_name, value) => {
    const res = await noFhirServer(value);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
    expectValidCds('response', res.body);
  });

  test('a Bundle whose entry is a string, with no fhirServer: neither a document nor an OperationOutcome → no cards', async () => {
    const res = await noFhirServer({ resourceType: 'Bundle', entry: 'OperationOutcome' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });

  test('the same document with the expected shapes gives cards (the checks above are not over-eager)', async () => {
    const res = await noFhirServer(searchset(documentReference(SAMPLE_NOTE, { id: 'dé-1' })));
    expect(res.status).toBe(200);
    expect(res.body.cards.length).toBeGreaterThan(0);
  });
});

describe('an EHR FHIR server that stalls in the middle of a Binary (was a 500)', () => {
  let ehr: FakeFhirServer;
  afterAll(() => ehr?.close());

  test('412: the note could not be read within FHIR_TIMEOUT_MS', async () => {
    ehr = await startFhirServer([
      [
        '/Binary/1',
        (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Content-Length': '10000' });
          res.write('{"resourceType": "Binary", "contentType": "text/plain", "data": "');
        },
      ],
    ]);
    const { app: impatient } = await createTestApp({ fhirTimeoutMs: 300 });
    const doc = documentReference('', { content: [{ attachment: { contentType: 'text/plain', url: 'Binary/1' } }] });
    const auth = { access_token: 'secret-token-123', token_type: 'Bearer', expires_in: 300, scope: 'user/Binary.read', subject: 'icd10-cds' };
    const res = await request(impatient)
      .post(SERVICE)
      .set('Content-Type', 'application/json')
      .send(
        JSON.stringify(
          hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth, prefetch: { dischargeSummaries: searchset(doc), encounterConditions: null } }),
        ),
      );
    expectOutcome(res, 412, 'not-found', /could not be read from the FHIR server/);
  });
});

test('POST to /fhir/metadata: 405 with Allow: GET (found by the fuzz test: it was a 404)', async () => {
  const res = await post('/fhir/metadata', '{}');
  expectOutcome(res, 405, 'not-supported', /Method POST is not allowed/);
  expect(res.headers.allow).toBe('GET');
});
