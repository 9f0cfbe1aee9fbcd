import express from 'express';
import request from 'supertest';
import { badRequest, unprocessable } from '../../../src/errors';
import { errorHandler } from '../../../src/http/error-handler';
import { createLogger } from '../../../src/log';
import { StoreUnavailableError } from '../../../src/store/store';

/** An app whose routes throw, to test the one error middleware on its own. */
function appThrowing(error: unknown, path = '/fhir/x') {
  const lines: string[] = [];
  const log = createLogger('info', { write: (line: string) => lines.push(line) });
  const app = express();
  app.use(express.json({ limit: 100 }));
  app.all(path, () => {
    throw error;
  });
  app.use(errorHandler(log));
  return { app, lines };
}

test('an unexpected error: 500, generic OperationOutcome, no message or stack in the body; logged', async () => {
  const { app, lines } = appThrowing(new Error('secret internals at /srv/x.ts:12'));
  const res = await request(app).get('/fhir/x');
  expect(res.status).toBe(500);
  expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
  expect(res.body).toEqual({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'fatal', code: 'exception', details: { text: 'Internal error while processing the request' } }],
  });
  expect(res.text).not.toContain('secret');
  expect(lines.join('')).toContain('secret internals');
});

test.each(['/fhir/x', '/cds-services/x'])('the store unavailable at %s: 503 transient with Retry-After, never 500; logged without SQL', async (path) => {
  const { app, lines } = appThrowing(new StoreUnavailableError('postgresql store: claimTokenId failed: connect ECONNREFUSED 127.0.0.1:5432'), path);
  const res = await request(app).get(path);
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.headers['content-type']).toBe(`${path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json'}; charset=utf-8`);
  expect(res.body).toEqual({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'transient', details: { text: 'The service cannot reach its store now; retry later' } }],
  });
  expect(lines.map((l) => JSON.parse(l).msg)).toContain('store unavailable');
});

test('a thrown non-Error value is handled the same way', async () => {
  const { app } = appThrowing('a string');
  expect((await request(app).get('/fhir/x')).status).toBe(500);
});

test.each([
  [badRequest('bad', 'Parameters.parameter'), 400, 'invalid'],
  [unprocessable('no', 'not-supported'), 422, 'not-supported'],
])('OperationOutcomeError keeps its explicit status', async (error, status, code) => {
  const { app } = appThrowing(error, '/cds-services/x');
  const res = await request(app).get('/cds-services/x');
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.body.issue[0].code).toBe(code);
});

test('body-parser failures: 400 for bad JSON, 413 for too large, 415 for a bad charset', async () => {
  const { app } = appThrowing(new Error('unreached'));
  const send = (body: string, type = 'application/json') => request(app).post('/fhir/x').set('Content-Type', type).send(body);
  expect((await send('{"a":')).status).toBe(400);
  expect((await send(JSON.stringify({ a: 'x'.repeat(200) }))).status).toBe(413);
  expect((await send('{}', 'application/json; charset=latin-2')).status).toBe(415);
});

test('a body whose Content-Encoding does not match its bytes (gzip header, plain JSON): 400, not 500', async () => {
  // Found by the fuzz test: body-parser reports the zlib failure as a 400 without a `type`.
  const { app, lines } = appThrowing(new Error('unreached'));
  const res = await request(app).post('/fhir/x').set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{"a":1}');
  expect(res.status).toBe(400);
  expect(res.body.issue[0]).toEqual({
    severity: 'error',
    code: 'invalid',
    details: { text: 'Request body could not be read (check Content-Encoding and Content-Length)' },
  });
  expect(lines.join('')).not.toContain('unexpected error');
});
