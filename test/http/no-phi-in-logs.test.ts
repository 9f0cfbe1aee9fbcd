/**
 * No PHI in logs or error bodies (style §6, standards §1.5): a unique marker, shaped like PHI
 * (a name and a date of birth), goes into notes and into every free-text place of malformed
 * requests at both edges, on success and error paths. It must appear in no log line and in no
 * error response; the Authorization header and the hook's FHIR token never reach a log line.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createTestApp } from '../helpers/app';
import { startFhirServer, json, type FakeFhirServer } from '../helpers/fhir-server';
import { base64, documentReference, hookRequest, parametersOf, SAMPLE_NOTE, searchset } from '../helpers/resources';

const SERVICE = '/cds-services/icd10cm-suggestions';
const SUGGEST = '/fhir/DocumentReference/$suggest-conditions';
/** Unique per run, with spaces and punctuation like a real name, so no check can mistake it for an identifier. */
const MARKER = `Quokka Zebulon-${randomBytes(4).toString('hex')} DOB 1956-02-03`;
const NOTE = `Patient ${MARKER} was admitted with community-acquired pneumonia. ${MARKER} has hypertension.\n\n${SAMPLE_NOTE}`;
const HEADER_TOKEN = `Bearer hdr.${randomBytes(12).toString('hex')}.sig`;
const FHIR_TOKEN = `fhir-token-${randomBytes(12).toString('hex')}`;

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
let logs: string[];
let small: Awaited<ReturnType<typeof createTestApp>>;
let ehr: FakeFhirServer;
const errorBodies: { what: string; status: number; text: string }[] = [];

beforeAll(async () => {
  ({ app, logs } = await createTestApp({ logLevel: 'trace' }));
  small = await createTestApp({ logLevel: 'trace', maxNoteChars: 400, maxBodyBytes: 8192 });
  ehr = await startFhirServer([
    ['/DocumentReference', json(searchset(documentReference(NOTE)))],
    ['/Condition', json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: MARKER }] }, 500)],
    ['/Binary/1', json({ resourceType: 'Binary', contentType: 'text/plain', data: base64(NOTE) })],
  ]);
});
afterAll(() => ehr.close());

/** Sends raw text with the marker-bearing Authorization header; records error bodies. */
async function send(what: string, target: typeof app, path: string, body: string, type = 'application/json') {
  const res = await request(target).post(path).set({ 'Content-Type': type, Authorization: HEADER_TOKEN }).send(body);
  if (res.status >= 400) errorBodies.push({ what, status: res.status, text: res.text });
  return res;
}

const doc = (text: string, attachment: Record<string, unknown> = {}) =>
  documentReference(text, { content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: base64(text), ...attachment } }] });
const invalidUtf8 = Buffer.concat([Buffer.from(NOTE), Buffer.from([0xff, 0xfe, 0xc3])]).toString('base64');
const auth = { access_token: FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'icd10-cds' };

test('every path, success and error, at both edges', async () => {
  const cases: [string, typeof app, string, string, number][] = [
    // Success paths (the cards and Conditions quote the note: that is their job, not a leak).
    [
      'CDS success, prefetch',
      app,
      SERVICE,
      JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: searchset(doc(NOTE)), encounterConditions: null } })),
      200,
    ],
    [
      'CDS success, read from fhirServer with the hook token',
      app,
      SERVICE,
      JSON.stringify(hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth })),
      200,
    ],
    [
      'CDS success, url attachment',
      app,
      SERVICE,
      JSON.stringify(
        hookRequest({
          fhirServer: ehr.base,
          fhirAuthorization: auth,
          prefetch: { dischargeSummaries: searchset(documentReference('', { content: [{ attachment: { contentType: 'text/plain', url: 'Binary/1' } }] })) },
        }),
      ),
      200,
    ],
    ['FHIR success', app, SUGGEST, JSON.stringify(parametersOf(doc(NOTE))), 200],
    // Error paths.
    ['FHIR note over MAX_NOTE_CHARS (413)', small.app, SUGGEST, JSON.stringify(parametersOf(doc(NOTE))), 413],
    ['FHIR body over MAX_BODY_BYTES (413)', small.app, SUGGEST, JSON.stringify(parametersOf(doc(NOTE.repeat(10)))), 413],
    [
      'CDS note over MAX_NOTE_CHARS (document skipped)',
      small.app,
      SERVICE,
      JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: doc(NOTE), encounterConditions: null } })),
      200,
    ],
    ['FHIR invalid UTF-8 (422)', app, SUGGEST, JSON.stringify(parametersOf(doc(NOTE, { data: invalidUtf8 }))), 422],
    [
      'CDS invalid UTF-8 (document skipped)',
      app,
      SERVICE,
      JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: doc(NOTE, { data: invalidUtf8 }), encounterConditions: null } })),
      200,
    ],
    [
      'FHIR unsupported type with the name in a parameter (422)',
      app,
      SUGGEST,
      JSON.stringify(parametersOf(doc(NOTE, { contentType: `application/pdf; name="${MARKER}.pdf"` }))),
      422,
    ],
    [
      'FHIR unknown charset holding the marker (422)',
      app,
      SUGGEST,
      JSON.stringify(parametersOf(doc(NOTE, { contentType: `text/plain; charset="${MARKER}"` }))),
      422,
    ],
    ['FHIR contentType that is the marker (400)', app, SUGGEST, JSON.stringify(parametersOf(doc(NOTE, { contentType: MARKER }))), 400],
    [
      'FHIR unknown parameter named with the marker (400)',
      app,
      SUGGEST,
      JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: MARKER, valueString: MARKER }] }),
      400,
    ],
    [
      'FHIR schema-invalid values holding the marker (400)',
      app,
      SUGGEST,
      JSON.stringify(documentReference(NOTE, { status: MARKER as never, date: MARKER, id: MARKER })),
      400,
    ],
    ['FHIR not JSON (400)', app, SUGGEST, `{"resourceType": "Parameters", "note": "${MARKER}`, 400],
    ['CDS not JSON (400)', app, SERVICE, `{"hook": "encounter-discharge", "context": "${MARKER}"`, 400],
    ['CDS JSON that is not an object (400)', app, SERVICE, JSON.stringify(MARKER), 400],
    [
      'CDS wrong types holding the marker (400)',
      app,
      SERVICE,
      JSON.stringify({ hook: MARKER, hookInstance: 7, context: { userId: MARKER, patientId: MARKER, encounterId: [MARKER] }, fhirServer: MARKER }),
      400,
    ],
    [
      'CDS prefetch OperationOutcome holding the marker, no fhirServer (412)',
      app,
      SERVICE,
      JSON.stringify(
        hookRequest({ prefetch: { dischargeSummaries: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'x', diagnostics: MARKER }] } } }),
      ),
      412,
    ],
    ['CDS text/plain body (415)', app, SERVICE, NOTE, 415],
    [
      'feedback holding the marker in a comment (200)',
      app,
      `${SERVICE}/feedback`,
      JSON.stringify({ feedback: [{ card: 'c', outcome: 'overridden', overrideReason: { userComment: MARKER }, outcomeTimestamp: '2026-11-25T10:00:00Z' }] }),
      200,
    ],
    [
      'feedback invalid, holding the marker (400)',
      app,
      `${SERVICE}/feedback`,
      JSON.stringify({ feedback: [{ card: MARKER, outcome: MARKER, outcomeTimestamp: MARKER, overrideReason: { userComment: MARKER } }] }),
      400,
    ],
  ];
  for (const [what, target, path, body, status] of cases) {
    const res = await send(
      what,
      target,
      path,
      body,
      path.startsWith('/fhir') && status !== 415 ? 'application/fhir+json' : status === 415 ? 'text/plain' : 'application/json',
    );
    expect([what, res.status]).toEqual([what, status]);
  }
  expect(errorBodies.length).toBeGreaterThan(10);

  const allLogs = [...logs, ...small.logs];
  expect(allLogs.length).toBeGreaterThan(cases.length); // request lines at least: the logs were captured
  const leaks = (needle: string) => allLogs.filter((l) => l.includes(needle));
  expect(leaks(MARKER)).toEqual([]);
  expect(leaks(MARKER.split(' ')[1])).toEqual([]); // any part of it, not only the whole
  expect(leaks(base64(NOTE).slice(0, 40))).toEqual([]);
  expect(leaks(HEADER_TOKEN.slice('Bearer '.length))).toEqual([]);
  expect(leaks(FHIR_TOKEN)).toEqual([]);
  expect(errorBodies.filter((b) => b.text.includes(MARKER.split(' ')[1]) || b.text.includes(FHIR_TOKEN) || b.text.includes(HEADER_TOKEN))).toEqual([]);
  // The EHR did receive the hook's token: it was used, just never logged.
  expect(ehr.requests.some((r) => r.authorization === `Bearer ${FHIR_TOKEN}`)).toBe(true);
});

test('with authentication on, a rejected token is not logged either', async () => {
  const { app: guarded, logs: guardedLogs } = await createTestApp({ auth: 'on', logLevel: 'trace' });
  const res = await request(guarded)
    .post(SERVICE)
    .set({ 'Content-Type': 'application/json', Authorization: HEADER_TOKEN })
    .send(JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: doc(NOTE) } })));
  expect(res.status).toBe(401);
  expect(res.text).not.toContain(HEADER_TOKEN.slice('Bearer '.length));
  expect(guardedLogs.length).toBeGreaterThan(0);
  expect(guardedLogs.filter((l) => l.includes(HEADER_TOKEN.slice('Bearer '.length)) || l.includes(MARKER.split(' ')[1]))).toEqual([]);
});
