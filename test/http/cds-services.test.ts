import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Condition } from '@medplum/fhirtypes';
import request from 'supertest';
import type { Card, HookResponse } from '../../src/cds/types';
import { createTestApp } from '../helpers/app';
import { codePointSlice, expectSuggestedCondition, expectValidCds, expectValidFhir } from '../helpers/expect-valid';
import { json, startFhirServer, type FakeFhirServer } from '../helpers/fhir-server';
import { base64, documentReference, hookRequest, SAMPLE_NOTE, searchset } from '../helpers/resources';

const SERVICE = '/cds-services/icd10cm-suggestions';
const SPEC = path.join(__dirname, '..', 'fixtures', 'cds-hooks', 'spec-2.0.1');
const spec = (name: string) => JSON.parse(readFileSync(path.join(SPEC, name), 'utf8'));

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
let logs: string[];
beforeAll(async () => {
  ({ app, logs } = await createTestApp());
});

const call = (body: unknown) => request(app).post(SERVICE).set('Content-Type', 'application/json').send(JSON.stringify(body));
const conditionOf = (card: Card) => card.suggestions![0].actions[0].resource as Condition;

/** A response as the spec requires, and as this service promises. */
function expectCards(body: HookResponse) {
  expectValidCds('response', body);
  expect(body).not.toHaveProperty('systemActions');
  for (const card of body.cards) {
    expect(Array.from(card.summary).length).toBeLessThan(140);
    expect(card.indicator).toBe('info');
    expect(card.source.label).toBe('ICD-10-CM coding assistant (AI): icd10-cds-test-keywords 1.0.0');
    expect(card.selectionBehavior).toBe('at-most-one');
    expect(card.suggestions).toHaveLength(1);
    expect(card.suggestions![0].actions).toHaveLength(1);
    expect(card.suggestions![0].actions[0].type).toBe('create');
    expect(JSON.stringify(card)).not.toContain('autolaunchable');
    const condition = conditionOf(card);
    expectSuggestedCondition(condition);
    expect(condition.subject).toEqual({ reference: 'Patient/1288992' });
    expect(condition.encounter).toEqual({ reference: 'Encounter/456' });
    expect(condition.identifier![0].value).toBe(`urn:uuid:${card.suggestions![0].uuid}`);
  }
}

describe('discovery', () => {
  test('GET /cds-services lists the encounter-discharge service with its prefetch templates', async () => {
    const res = await request(app).get('/cds-services');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expectValidCds('discovery', res.body);
    expect(res.body.services).toEqual([
      expect.objectContaining({
        hook: 'encounter-discharge',
        id: 'icd10cm-suggestions',
        prefetch: {
          dischargeSummaries: 'DocumentReference?patient={{context.patientId}}&type=http://loinc.org|18842-5',
          encounterConditions: 'Condition?patient={{context.patientId}}&encounter={{context.encounterId}}',
          encounter: 'Encounter/{{context.encounterId}}',
        },
      }),
    ]);
  });

  test('unknown service: 404 OperationOutcome', async () => {
    const res = await request(app).post('/cds-services/nope').set('Content-Type', 'application/json').send('{}');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expectValidFhir(res.body);
  });
});

describe('encounter-discharge with prefetch', () => {
  test('the sample discharge summary gives one card per code, each with quoted evidence', async () => {
    const res = await call(hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(SAMPLE_NOTE)) } }));
    expect(res.status).toBe(200);
    expectCards(res.body);
    const cards: Card[] = res.body.cards;
    expect(cards.map((c) => c.summary)).toEqual([
      'Suggested ICD-10-CM I10: Essential (primary) hypertension (88% confidence)',
      'Suggested ICD-10-CM J18.9: Pneumonia, unspecified organism (88% confidence)',
      'Suggested ICD-10-CM E11.9: Type 2 diabetes mellitus without complications (82% confidence)',
      'Suggested ICD-10-CM N17.9: Acute kidney failure, unspecified (77% confidence)',
    ]);
    for (const card of cards) {
      expect(card.uuid).toMatch(/^00000000-0000-4000-8000-/);
      expect(card.overrideReasons!.map((r) => r.code)).toEqual([
        'not-documented',
        'negated-or-ruled-out',
        'history-only',
        'more-specific-code',
        'already-coded',
        'not-significant',
        'coding-rule-not-applicable',
      ]);
      expect(card.detail).toContain('**Supporting text** (Discharge summary 2026\\-11\\-25):');
      expect(card.detail).toContain('Suggestion only');
      // The quoted passage in the detail is the one the Condition points at.
      const condition = conditionOf(card);
      const span = condition.extension!.find((e) => e.url.endsWith('derivation-reference'))!.extension!;
      const quote = codePointSlice(SAMPLE_NOTE, span.find((x) => x.url === 'offset')!.valueInteger!, span.find((x) => x.url === 'length')!.valueInteger!);
      expect(card.detail).toContain(`> ${quote.replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`)}`);
    }
  });

  test('a test model says so on every card', async () => {
    const res = await call(hookRequest({ prefetch: { dischargeSummaries: documentReference('Pneumonia.') } }));
    expect(res.body.cards[0].detail).toMatch(/^\*\*Test model: these suggestions are not clinically meaningful\.\*\*/);
  });

  test('quoted note text cannot inject markup into the card', async () => {
    const res = await call(
      hookRequest({ prefetch: { dischargeSummaries: documentReference('<img src=x onerror=alert(1)> **pneumonia** [link](http://evil)') } }),
    );
    const detail: string = res.body.cards[0].detail;
    expect(detail).toContain('\\<img src\\=x onerror\\=alert\\(1\\)\\> \\*\\*pneumonia\\*\\* \\[link\\]\\(http\\:\\/\\/evil\\)');
  });

  test('prefetch null (no discharge summary): no cards', async () => {
    const res = await call(hookRequest({ prefetch: { dischargeSummaries: null } }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
    expectValidCds('response', res.body);
  });

  test('documents of another patient or encounter, or not discharge summaries, are never read', async () => {
    const others = searchset(
      documentReference('Pneumonia.', { subject: { reference: 'Patient/other' } }),
      documentReference('Pneumonia.', { context: { encounter: [{ reference: 'Encounter/999' }] } }),
      documentReference('Pneumonia.', { context: undefined }),
      documentReference('Pneumonia.', { type: { coding: [{ system: 'http://loinc.org', code: '34108-1' }] } }),
    );
    const res = await call(hookRequest({ prefetch: { dischargeSummaries: others } }));
    expect(res.body).toEqual({ cards: [] });
  });

  test('absolute and versioned references to the encounter are recognised', async () => {
    const doc = documentReference('Pneumonia.', {
      subject: { reference: 'https://ehr.example.org/fhir/Patient/1288992' },
      context: { encounter: [{ reference: 'https://ehr.example.org/fhir/Encounter/456/_history/3' }] },
    });
    const res = await call(hookRequest({ prefetch: { dischargeSummaries: searchset(doc) } }));
    expect(res.body.cards).toHaveLength(1);
  });

  test('a PDF-only discharge summary gives no cards (and the reason is logged without content)', async () => {
    const pdf = documentReference('', { content: [{ attachment: { contentType: 'application/pdf', data: base64('%PDF-1.4 pneumonia') } }] });
    const res = await call(hookRequest({ prefetch: { dischargeSummaries: searchset(pdf) } }));
    expect(res.body).toEqual({ cards: [] });
    expect(logs.some((l) => l.includes('document skipped') && l.includes('application/pdf'))).toBe(true);
  });

  test('nothing of the note or prefetch reaches the logs', async () => {
    const marker = 'QUOKKAMARKER';
    await call(hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(`${marker} pneumonia`)) } }));
    expect(logs.some((l) => l.includes(marker) || l.includes(base64(`${marker} pneumonia`)))).toBe(false);
  });
});

describe('encounter-discharge without usable prefetch', () => {
  let ehr: FakeFhirServer;
  let elsewhere: FakeFhirServer;
  afterEach(async () => {
    await ehr?.close();
    await elsewhere?.close();
  });
  const auth = { access_token: 'secret-token-123', token_type: 'Bearer', expires_in: 300, scope: 'user/DocumentReference.read', subject: 'icd10-cds' };

  test('no prefetch and no fhirServer: 412', async () => {
    const res = await call(hookRequest());
    expect(res.status).toBe(412);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expectValidFhir(res.body);
    expect(res.body.issue[0].details.text).toMatch(/not prefetched/);
  });

  test('prefetch is an OperationOutcome and no fhirServer: 412', async () => {
    const res = await call(
      hookRequest({ prefetch: { dischargeSummaries: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] } } }),
    );
    expect(res.status).toBe(412);
  });

  test('missing prefetch key: the summaries are searched on fhirServer with the hook token, pages followed', async () => {
    ehr = await startFhirServer([
      [
        '/DocumentReference?',
        (req, res, base) => {
          const page2 = req.url!.includes('page=2');
          json(
            page2
              ? searchset(documentReference('Hypertension.', { id: 'ds-2' }))
              : { ...searchset(documentReference(SAMPLE_NOTE)), link: [{ relation: 'next', url: `${base}/DocumentReference?patient=1288992&page=2` }] },
          )(req, res, base);
        },
      ],
    ]);
    const res = await call(hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth }));
    expect(res.status).toBe(200);
    expectCards(res.body);
    // The recorded Conditions are searched too, alongside the summaries (order not fixed).
    expect(ehr.requests.map((r) => [r.method, decodeURIComponent(r.url), r.authorization]).sort()).toEqual([
      ['GET', '/fhir/Condition?patient=1288992&encounter=456', 'Bearer secret-token-123'],
      ['GET', '/fhir/DocumentReference?patient=1288992&page=2', 'Bearer secret-token-123'],
      ['GET', '/fhir/DocumentReference?patient=1288992&type=http://loinc.org|18842-5', 'Bearer secret-token-123'],
    ]);
    expect(logs.some((l) => l.includes('secret-token-123'))).toBe(false);
  });

  test('a url attachment is read from fhirServer as a Binary with the token', async () => {
    ehr = await startFhirServer([
      [
        '/Binary/note-1',
        json({ resourceType: 'Binary', contentType: 'text/plain; charset=utf-8', data: base64('Chronic obstructive pulmonary disease (COPD).') }),
      ],
    ]);
    const doc = documentReference('', { content: [{ attachment: { contentType: 'text/plain', url: 'Binary/note-1' } }] });
    const res = await call(
      hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth, prefetch: { dischargeSummaries: searchset(doc), encounterConditions: null } }),
    );
    expect(res.status).toBe(200);
    expect(res.body.cards.map((c: Card) => conditionOf(c).code!.coding![0].code)).toEqual(['J44.9']);
    expect(ehr.requests).toEqual([expect.objectContaining({ url: '/fhir/Binary/note-1', authorization: 'Bearer secret-token-123' })]);
  });

  test('a url on another host is never sent the token (nor fetched): the note cannot be obtained, 412', async () => {
    ehr = await startFhirServer([]);
    elsewhere = await startFhirServer([['/Binary', json({ resourceType: 'Binary', contentType: 'text/plain', data: base64('Pneumonia') })]]);
    const doc = documentReference('', { content: [{ attachment: { contentType: 'text/plain', url: `${elsewhere.base}/Binary/1` } }] });
    const res = await call(hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth, prefetch: { dischargeSummaries: searchset(doc) } }));
    expect(res.status).toBe(412);
    expect(elsewhere.requests).toEqual([]);
  });

  test('a redirect to another host is not followed', async () => {
    elsewhere = await startFhirServer([['/Binary', json({ resourceType: 'Binary', contentType: 'text/plain', data: base64('Pneumonia') })]]);
    ehr = await startFhirServer([
      [
        '/Binary/1',
        (_req, res) => {
          res.writeHead(302, { Location: `${elsewhere.base}/Binary/1` });
          res.end();
        },
      ],
    ]);
    const doc = documentReference('', { content: [{ attachment: { contentType: 'text/plain', url: 'Binary/1' } }] });
    const res = await call(hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth, prefetch: { dischargeSummaries: searchset(doc) } }));
    expect(res.status).toBe(412);
    expect(elsewhere.requests).toEqual([]);
  });

  test('a FHIR server that fails (500) or is too slow: 412', async () => {
    ehr = await startFhirServer([['/DocumentReference', json({ resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception' }] }, 500)]]);
    expect((await call(hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth }))).status).toBe(412);
    await ehr.close();
    ehr = await startFhirServer([['/DocumentReference', () => undefined /* never answers */]]);
    const { app: impatient } = await createTestApp({ fhirTimeoutMs: 200 });
    const res = await request(impatient)
      .post(SERVICE)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth })));
    expect(res.status).toBe(412);
  });
});

describe('malformed hook calls: 400 OperationOutcome', () => {
  const cases: [string, unknown][] = [
    ["the spec's patient-view example (wrong hook)", spec('request-patient-view.json')],
    ['no hookInstance', { ...hookRequest(), hookInstance: undefined }],
    ['context without encounterId', hookRequest({ context: { userId: 'Practitioner/1', patientId: '1' } })],
    ['userId that is a Patient', hookRequest({ context: { userId: 'Patient/1', patientId: '1', encounterId: '2' } })],
    [
      'fhirAuthorization without fhirServer',
      hookRequest({ fhirAuthorization: { access_token: 'x', token_type: 'Bearer', expires_in: 1, scope: 's', subject: 'c' } }),
    ],
    ['an array', []],
  ];
  test.each(cases)('%s', async (_name, body) => {
    const res = await call(body);
    expect(res.status).toBe(400);
    expectValidFhir(res.body);
  });

  test('not JSON: 400; not application/json: 415', async () => {
    expect((await request(app).post(SERVICE).set('Content-Type', 'application/json').send('{')).status).toBe(400);
    expect((await request(app).post(SERVICE).set('Content-Type', 'text/plain').send('{}')).status).toBe(415);
  });
});

describe('feedback', () => {
  test.each(['feedback-accepted.json', 'feedback-overridden.json'])('spec example %s: 200', async (name) => {
    const res = await request(app)
      .post(`${SERVICE}/feedback`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(spec(name)));
    expect(res.status).toBe(200);
  });

  test("spec example with a reason from the spec's example system, which this service never offers: 400", async () => {
    const res = await request(app)
      .post(`${SERVICE}/feedback`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(spec('feedback-overridden-with-reason.json')));
    expect(res.status).toBe(400);
    expect(res.body.issue[0]).toMatchObject({ code: 'code-invalid', expression: ['feedback[0].overrideReason.reason'] });
  });

  test('the free-text comment is not logged', async () => {
    const body = spec('feedback-overridden-with-reason.json');
    body.feedback[0].overrideReason.reason = { system: 'http://icd10-cds.org/fhir/CodeSystem/override-reason', code: 'not-documented' };
    const res = await request(app).post(`${SERVICE}/feedback`).set('Content-Type', 'application/json').send(JSON.stringify(body));
    expect(res.status).toBe(200);
    expect(logs.some((l) => l.includes(body.feedback[0].overrideReason.userComment))).toBe(false);
  });

  test('invalid feedback: 400', async () => {
    const res = await request(app)
      .post(`${SERVICE}/feedback`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ feedback: [{ card: 'x', outcome: 'accepted', outcomeTimestamp: '2026-11-25T10:00:00Z' }] }));
    expect(res.status).toBe(400);
    expectValidFhir(res.body);
  });
});
