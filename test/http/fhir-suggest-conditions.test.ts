import type { Bundle, Condition, Device, OperationOutcome, Provenance } from '@medplum/fhirtypes';
import request from 'supertest';
import { createTestApp } from '../helpers/app';
import { codePointSlice, expectSuggestedCondition, expectValidFhir, resourcesOf } from '../helpers/expect-valid';
import { base64, documentReference, parametersOf, SAMPLE_NOTE } from '../helpers/resources';

const PATH = '/fhir/DocumentReference/$suggest-conditions';

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
let logs: string[];
beforeAll(async () => {
  ({ app, logs } = await createTestApp());
});

const post = (body: unknown, contentType = 'application/fhir+json', path = PATH) =>
  request(app)
    .post(path)
    .set('Content-Type', contentType)
    .send(typeof body === 'string' ? body : JSON.stringify(body));

const conditionsOf = (bundle: Bundle) => resourcesOf(bundle).filter((r): r is Condition => r.resourceType === 'Condition');
const codesOf = (bundle: Bundle) => conditionsOf(bundle).map((c) => c.code!.coding![0].code);
const derivations = (c: Condition) =>
  (c.extension ?? [])
    .filter((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/derivation-reference')
    .map((e) => ({
      offset: e.extension!.find((x) => x.url === 'offset')!.valueInteger!,
      length: e.extension!.find((x) => x.url === 'length')!.valueInteger!,
      reference: e.extension!.find((x) => x.url === 'reference')!.valueReference,
    }));

describe('POST $suggest-conditions', () => {
  test('the README sample note returns a Bundle of provisional Conditions with confidence and quoted evidence', async () => {
    const res = await post(parametersOf(documentReference(SAMPLE_NOTE)));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const bundle = res.body as Bundle;
    expectValidFhir(bundle);
    expect(bundle.type).toBe('collection');
    // Ties in score are ordered by code.
    expect(codesOf(bundle)).toEqual(['I10', 'J18.9', 'E11.9', 'N17.9']);
    for (const condition of conditionsOf(bundle)) {
      expectSuggestedCondition(condition);
      expect(condition.subject).toEqual({ reference: 'Patient/1288992' });
      expect(condition.encounter).toEqual({ reference: 'Encounter/456' });
      expect(condition.evidence).toEqual([{ detail: [{ reference: 'DocumentReference/ds-1', display: 'Discharge summary 2026-11-25' }] }]);
      const spans = derivations(condition);
      expect(spans.length).toBeGreaterThan(0);
      // Every quoted passage is exactly the note's text at its offsets, and is in Condition.note.
      for (const span of spans) {
        const quote = codePointSlice(SAMPLE_NOTE, span.offset, span.length);
        expect(quote.trim()).toBe(quote);
        expect(condition.note!.some((n) => n.text.includes('Source text:'))).toBe(true);
        expect(span.reference).toEqual({ reference: 'DocumentReference/ds-1', display: 'Discharge summary 2026-11-25' });
      }
    }
    // R05.9 (cough) is below its per-code threshold 0.6 in the tiny model: not suggested.
    expect(codesOf(bundle)).not.toContain('R05.9');
  });

  test('a Provenance names the model (a Device) as the author of every suggestion, from the source document', async () => {
    const res = await post(parametersOf(documentReference(SAMPLE_NOTE)));
    const bundle = res.body as Bundle;
    const entries = bundle.entry!;
    const conditionUrls = entries.filter((e) => e.resource!.resourceType === 'Condition').map((e) => e.fullUrl);
    const provenances = entries.filter((e) => e.resource!.resourceType === 'Provenance').map((e) => e.resource as Provenance);
    expect(provenances).toHaveLength(1);
    const [provenance] = provenances;
    expect(provenance.target.map((t) => t.reference).sort()).toEqual([...conditionUrls].sort());
    expect(provenance.recorded).toBe('2026-11-25T12:00:00.000Z');
    expect(provenance.agent[0].type!.coding![0].code).toBe('author');
    expect(provenance.entity).toEqual([{ role: 'source', what: { reference: 'DocumentReference/ds-1', display: 'Discharge summary 2026-11-25' } }]);
    const device = entries.find((e) => e.fullUrl === provenance.agent[0].who.reference)!.resource as Device;
    expect(device.resourceType).toBe('Device');
    expect(device.deviceName).toEqual([{ name: 'icd10-cds-test-keywords', type: 'model-name' }]);
    expect(device.version![0].value).toBe('1.0.0');
  });

  test('no suggestion, no Provenance', async () => {
    const res = await post(parametersOf(documentReference('Routine follow-up. Nothing new.')));
    expect(res.status).toBe(200);
    expect(resourcesOf(res.body)).toEqual([]);
  });

  test('evidence quotes the passage that mentions the code', async () => {
    const res = await post(parametersOf(documentReference(SAMPLE_NOTE)));
    const pneumonia = conditionsOf(res.body).find((c) => c.code!.coding![0].code === 'J18.9')!;
    const quotes = derivations(pneumonia).map((s) => codePointSlice(SAMPLE_NOTE, s.offset, s.length));
    expect(quotes.every((q) => /pneumonia/i.test(q))).toBe(true);
  });

  test('offsets count Unicode code points (astral characters and non-breaking spaces before the evidence)', async () => {
    const text = '😀😀 Patient\u00a0seen.\nDiagnosis: pneumonia of the right lung.';
    const res = await post(parametersOf(documentReference(text)));
    const [condition] = conditionsOf(res.body);
    const [span] = derivations(condition);
    expect(codePointSlice(text, span.offset, span.length)).toBe('Diagnosis: pneumonia of the right lung.');
    expect(span.offset).toBe(text.indexOf('Diagnosis') - 2);
  });

  test('accepts a bare DocumentReference and the %24 form of the path', async () => {
    const res = await post(documentReference('Hypertension, well controlled.'), 'application/fhir+json', '/fhir/DocumentReference/%24suggest-conditions');
    expect(res.status).toBe(200);
    expect(codesOf(res.body)).toEqual(['I10']);
  });

  test('accepts application/json too', async () => {
    const res = await post(documentReference('Hypertension.'), 'application/json');
    expect(res.status).toBe(200);
  });

  test('a note with nothing to suggest gives an empty collection', async () => {
    const res = await post(parametersOf(documentReference('Routine follow-up visit. No complaints.')));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ resourceType: 'Bundle', id: expect.any(String), type: 'collection', timestamp: '2026-11-25T12:00:00.000Z' });
    expectValidFhir(res.body);
  });

  test('several documents: codes merged, each Condition cites the documents that support it', async () => {
    const summary = documentReference('Pneumonia treated with antibiotics.');
    const addendum = documentReference('Addendum: hypertension noted.', { id: 'ds-2' });
    const res = await post(parametersOf(summary, addendum));
    const conditions = conditionsOf(res.body);
    expect(conditions.map((c) => [c.code!.coding![0].code, c.evidence![0].detail!.map((d) => d.reference)])).toEqual([
      ['I10', ['DocumentReference/ds-2']],
      ['J18.9', ['DocumentReference/ds-1']],
    ]);
  });

  test('a long note is windowed, never truncated: a code at the very end is found', async () => {
    const filler = 'The patient walked in the corridor and ate lunch. '.repeat(400);
    const res = await post(parametersOf(documentReference(`${filler}Final diagnosis: atrial fibrillation.`)));
    expect(res.status).toBe(200);
    expect(codesOf(res.body)).toEqual(['I48.91']);
  });

  test('HTML attachments: markup removed, evidence offsets point into the decoded text', async () => {
    const html =
      '<html><head><title>DS</title><style>p{}</style></head><body><h1>Discharge</h1><p>Dx: <b>COPD</b> exacerbation &amp; hypoxia.</p></body></html>';
    const doc = documentReference('', { content: [{ attachment: { contentType: 'text/html', data: base64(html) } }] });
    const res = await post(parametersOf(doc));
    expect(res.status).toBe(200);
    const [copd] = conditionsOf(res.body);
    expect(copd.code!.coding![0].code).toBe('J44.9');
    expect(copd.note!.map((n) => n.text)).toContain('Source text: "Dx: COPD exacerbation \\& hypoxia." (present)');
  });

  test('entered-in-error documents are skipped; a superseded one gives way to its replacement', async () => {
    const old = documentReference('Pneumonia.', { id: 'old', status: 'superseded' });
    const replacement = documentReference('Hypertension.', { id: 'new', relatesTo: [{ code: 'replaces', target: { reference: 'DocumentReference/old' } }] });
    const wrong = documentReference('Anemia.', { id: 'wrong', status: 'entered-in-error' });
    const res = await post(parametersOf(old, replacement, wrong));
    expect(res.status).toBe(200);
    expect(codesOf(res.body)).toEqual(['I10']);
    const outcome = resourcesOf(res.body).find((r) => r.resourceType === 'OperationOutcome') as OperationOutcome;
    expect(outcome.issue.map((i) => [i.severity, i.details?.text, i.expression])).toEqual([
      ['warning', 'document is replaced by another document of the request', ['Parameters.parameter[0].resource']],
      ['warning', 'document is entered-in-error', ['Parameters.parameter[2].resource']],
    ]);
  });

  test('only entered-in-error documents: 422 business-rule', async () => {
    const res = await post(parametersOf(documentReference('Pneumonia.', { status: 'entered-in-error' })));
    expect(res.status).toBe(422);
    expect(res.body.issue[0].code).toBe('business-rule');
  });

  test('nothing is logged of the note: no text, no quote', async () => {
    const marker = 'ZEBRAMARKER';
    await post(parametersOf(documentReference(`${marker} pneumonia ${marker}`)));
    expect(logs.some((line) => line.includes(marker) || line.includes('pneumonia'))).toBe(false);
  });
});

describe('$suggest-conditions errors are OperationOutcomes', () => {
  const cases: [string, () => request.Test, number, string, RegExp][] = [
    ['body is not JSON', () => post('{"resourceType": '), 400, 'structure', /not valid JSON/],
    ['Content-Type is text/plain', () => post('pneumonia', 'text/plain'), 415, 'not-supported', /Content-Type/],
    ['body is a Patient', () => post({ resourceType: 'Patient' }), 400, 'structure', /Parameters or DocumentReference/],
    ['DocumentReference is schema-invalid (status final)', () => post(documentReference('x', { status: 'final' as never })), 400, 'value', /status/],
    [
      'Parameters without document',
      () => post({ resourceType: 'Parameters', parameter: [{ name: 'other', valueString: 'x' }] }),
      400,
      'not-supported',
      /Unknown parameter "other"/,
    ],
    [
      'document parameter holding a Patient',
      () => post({ resourceType: 'Parameters', parameter: [{ name: 'document', resource: { resourceType: 'Patient' } }] }),
      400,
      'structure',
      /DocumentReference resource/,
    ],
    ['att-1: data without contentType', () => post(documentReference('x', { content: [{ attachment: { data: base64('x') } }] })), 400, 'invariant', /att-1/],
    [
      'PDF attachment',
      () => post(documentReference('x', { content: [{ attachment: { contentType: 'application/pdf', data: base64('%PDF-1.4') } }] })),
      422,
      'not-supported',
      /application\/pdf/,
    ],
    [
      'url-only attachment',
      () => post(documentReference('x', { content: [{ attachment: { contentType: 'text/plain', url: 'https://example.org/Binary/1' } }] })),
      422,
      'not-supported',
      /url/,
    ],
    ['no subject', () => post(documentReference('x', { subject: undefined })), 422, 'required', /subject/],
    ['empty note', () => post(documentReference('   \n ')), 422, 'processing', /no text/],
    [
      'invalid base64',
      () => post(documentReference('x', { content: [{ attachment: { contentType: 'text/plain', data: 'not base64!' } }] })),
      400,
      'invalid',
      /base64/,
    ],
  ];
  test.each(cases)('%s', async (_name, send, status, code, text) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expectValidFhir(res.body);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe(code);
    expect(res.body.issue[0].details.text).toMatch(text);
  });

  test('a body above the limit: 413', async () => {
    const { app: small } = await createTestApp({ maxBodyBytes: 2048 });
    const res = await request(small)
      .post(PATH)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(parametersOf(documentReference('pneumonia '.repeat(500)))));
    expect(res.status).toBe(413);
    expect(res.body.issue[0].code).toBe('too-costly');
  });

  test('a note above the character limit: 413, never truncated', async () => {
    const { app: small } = await createTestApp({ maxNoteChars: 1000 });
    const res = await request(small)
      .post(PATH)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(parametersOf(documentReference('pneumonia '.repeat(200)))));
    expect(res.status).toBe(413);
    expect(res.body.issue[0].details.text).toMatch(/2000 characters; the limit is 1000/);
  });

  test('GET on the operation: 405 with Allow', async () => {
    const res = await request(app).get(PATH);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expectValidFhir(res.body);
  });

  test('XML only: 406', async () => {
    const res = await request(app).get('/fhir/metadata').set('Accept', 'application/fhir+xml');
    expect(res.status).toBe(406);
  });

  test('unknown FHIR path: 404 OperationOutcome', async () => {
    const res = await request(app).get('/fhir/Patient/1');
    expect(res.status).toBe(404);
    expect(res.body.issue[0].code).toBe('not-found');
  });
});
