/**
 * The audit trail and feedback storage, over HTTP: what every call leaves in the store (and
 * what it never does: note text), feedback with override reasons, the acceptance report on a
 * scripted history, /readyz, and what happens when the store fails.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bundle, Condition, Extension } from '@medplum/fhirtypes';
import request from 'supertest';
import type { Card } from '../../src/cds/types';
import { OVERRIDE_REASON_SYSTEM } from '../../src/fhir/constants';
import type { Store } from '../../src/store/store';
import { reportOf } from '../../src/cli/report';
import { createTestApp } from '../helpers/app';
import { expectValidFhir } from '../helpers/expect-valid';
import { documentReference, hookRequest, parametersOf, SAMPLE_NOTE, searchset } from '../helpers/resources';

const SERVICE = '/cds-services/icd10cm-suggestions';
type App = Awaited<ReturnType<typeof createTestApp>>['app'];

const hook = (app: App, body: unknown) => request(app).post(SERVICE).set('Content-Type', 'application/json').send(JSON.stringify(body));
const feedback = (app: App, entries: unknown[]) =>
  request(app)
    .post(`${SERVICE}/feedback`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify({ feedback: entries }));
const reason = (code: string) => ({ system: OVERRIDE_REASON_SYSTEM, code });
const accepted = (card: Card, at = '2026-11-25T12:05:00Z') => ({
  card: card.uuid,
  outcome: 'accepted',
  acceptedSuggestions: [{ id: card.suggestions![0].uuid }],
  outcomeTimestamp: at,
});
const overridden = (card: Card, code?: string, at = '2026-11-25T12:05:00Z', userComment?: string) => ({
  card: card.uuid,
  outcome: 'overridden',
  ...(code || userComment ? { overrideReason: { ...(code ? { reason: reason(code) } : {}), ...(userComment ? { userComment } : {}) } } : {}),
  outcomeTimestamp: at,
});
const codeOf = (card: Card) => (card.suggestions![0].actions[0].resource as Condition).code!.coding![0].code!;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** offset and length of each derivation-reference of a Condition. */
function spansOf(condition: Condition): { offset: number; length: number }[] {
  return (condition.extension ?? [])
    .filter((e) => e.url.endsWith('derivation-reference'))
    .map((e: Extension) => ({
      offset: e.extension!.find((x) => x.url === 'offset')!.valueInteger!,
      length: e.extension!.find((x) => x.url === 'length')!.valueInteger!,
    }));
}

describe('audit trail', () => {
  let app: App;
  let store: Store;
  beforeAll(async () => {
    ({ app, store } = await createTestApp());
  });

  test('a hook call: ids, patient, encounter, user, model, note hash, and per card code, score, offsets in code points', async () => {
    // An astral character first, so UTF-16 and code-point offsets differ.
    const note = `😀 ${SAMPLE_NOTE}`;
    const res = await hook(app, hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(note)) } }));
    expect(res.status).toBe(200);
    const cards: Card[] = res.body.cards;
    expect(cards.length).toBeGreaterThan(0);

    const [record] = await store.auditRecords({ requestId: res.headers['x-request-id'] });
    expect(record).toMatchObject({
      edge: 'cds-hooks',
      service: 'icd10cm-suggestions',
      callId: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
      user: 'PractitionerRole/A2340113',
      patient: 'Patient/1288992',
      encounter: 'Encounter/456',
      model: { name: 'icd10-cds-test-keywords', version: '1.0.0' },
      outcome: 'suggestions',
      recordedAt: '2026-11-25T12:00:00.000Z',
      documents: [{ reference: 'DocumentReference/ds-1', contentIndex: 0, contentType: 'text/plain', sha256: sha256(note), length: Array.from(note).length }],
    });
    expect(record.suggestions).toHaveLength(cards.length);
    for (const [i, card] of cards.entries()) {
      const condition = card.suggestions![0].actions[0].resource as Condition;
      const audited = record.suggestions[i];
      expect(audited).toMatchObject({ code: codeOf(card), cardUuid: card.uuid, suggestionId: card.suggestions![0].uuid, threshold: expect.any(Number) });
      expect(audited.score).toBeCloseTo(condition.extension!.find((e) => e.url.endsWith('AIconfidence'))!.valueDecimal!, 4);
      // The audited offsets are the published ones (derivation-reference, code points).
      expect(audited.evidence.map((e) => ({ offset: e.start, length: e.end - e.start }))).toEqual(spansOf(condition));
      expect(audited.evidence.every((e) => e.note === 0 && e.status)).toBe(true);
    }
  });

  test('a FHIR call: the Bundle id is the call id, Condition identifiers the suggestion ids', async () => {
    const res = await request(app)
      .post('/fhir/DocumentReference/$suggest-conditions')
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(parametersOf(documentReference(SAMPLE_NOTE))));
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    const conditions = bundle.entry!.map((e) => e.resource!).filter((r): r is Condition => r.resourceType === 'Condition');
    const [record] = await store.auditRecords({ requestId: res.headers['x-request-id'] });
    expect(record).toMatchObject({
      edge: 'fhir',
      service: 'DocumentReference/$suggest-conditions',
      callId: bundle.id,
      patient: 'Patient/1288992',
      encounter: 'Encounter/456',
    });
    expect(record.user).toBeUndefined();
    expect(record.documents[0].sha256).toBe(sha256(SAMPLE_NOTE));
    expect(record.suggestions.map((s) => [s.code, `urn:uuid:${s.suggestionId}`, s.cardUuid])).toEqual(
      conditions.map((c) => [c.code!.coding![0].code, c.identifier![0].value, undefined]),
    );
  });

  test('calls that produce no suggestion are recorded too', async () => {
    const none = await hook(app, hookRequest({ hookInstance: 'no-document', prefetch: { dischargeSummaries: null } }));
    expect(none.body).toEqual({ cards: [] });
    const nothing = await hook(
      app,
      hookRequest({ hookInstance: 'nothing-found', prefetch: { dischargeSummaries: documentReference('Patient well, no complaints.') } }),
    );
    expect(nothing.body).toEqual({ cards: [] });
    const [a] = await store.auditRecords({ requestId: none.headers['x-request-id'] });
    const [b] = await store.auditRecords({ requestId: nothing.headers['x-request-id'] });
    expect(a).toMatchObject({ callId: 'no-document', outcome: 'no-document', documents: [], suggestions: [] });
    expect(b).toMatchObject({ callId: 'nothing-found', outcome: 'no-suggestion', suggestions: [] });
    expect(b.documents).toHaveLength(1);
  });

  test('errors are not audit records (the request log has them)', async () => {
    const res = await hook(app, { hook: 'encounter-discharge' });
    expect(res.status).toBe(400);
    expect(await store.auditRecords({ requestId: res.headers['x-request-id'] })).toEqual([]);
  });
});

describe('no note text in the store', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'icd10-store-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('neither the note nor its quoted passages are in any file of the store', async () => {
    const marker = 'Quokkamarkerzz';
    const storePath = path.join(dir, 'audit.sqlite');
    const { app, store } = await createTestApp({ storePath });
    const note = `DISCHARGE DIAGNOSES\n1. Community-acquired pneumonia (${marker}).\n2. Hypertension, ${marker} confirmed.\n`;
    const res = await hook(app, hookRequest({ prefetch: { dischargeSummaries: documentReference(note) } }));
    expect(res.status).toBe(200);
    // The marker is in the quoted evidence of the cards: quotes would carry it into the store.
    expect(res.body.cards.some((c: Card) => c.detail!.includes(marker))).toBe(true);
    const fb = await feedback(app, [overridden(res.body.cards[0], 'not-documented', undefined, 'no comment')]);
    expect(fb.status).toBe(200);

    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['audit.sqlite', 'audit.sqlite-wal']));
    const searched = (needle: string) => files.some((f) => readFileSync(path.join(dir, f)).includes(Buffer.from(needle, 'utf8')));
    expect(searched('no comment')).toBe(true); // the search works: the comment is stored
    expect(searched(marker)).toBe(false);
    expect(searched('Community-acquired')).toBe(false);
    await store.close();
    expect(readFileSync(storePath).includes(Buffer.from(marker))).toBe(false);
  });
});

describe('feedback', () => {
  let app: App;
  let store: Store;
  let logs: string[];
  let cards: Card[];
  beforeAll(async () => {
    ({ app, store, logs } = await createTestApp());
    cards = (await hook(app, hookRequest({ prefetch: { dischargeSummaries: documentReference(SAMPLE_NOTE) } }))).body.cards;
    expect(cards.length).toBeGreaterThanOrEqual(3);
  });

  test("stored durably before the 200, linked to the card, with the reason's display from the offered list", async () => {
    const res = await feedback(app, [accepted(cards[0]), overridden(cards[1], 'already-coded', '2026-11-25T12:06:00.5+01:00', 'Coded by the ED')]);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(await store.feedbackRecords({ card: cards[0].uuid })).toEqual([
      {
        requestId: res.headers['x-request-id'],
        service: 'icd10cm-suggestions',
        card: cards[0].uuid,
        outcome: 'accepted',
        acceptedSuggestions: [cards[0].suggestions![0].uuid],
        outcomeTimestamp: '2026-11-25T12:05:00Z',
        outcomeAt: '2026-11-25T12:05:00.000Z',
        receivedAt: '2026-11-25T12:00:00.000Z',
        known: true,
        code: codeOf(cards[0]),
      },
    ]);
    expect(await store.feedbackRecords({ card: cards[1].uuid })).toEqual([
      expect.objectContaining({
        outcome: 'overridden',
        acceptedSuggestions: [],
        reason: { system: OVERRIDE_REASON_SYSTEM, code: 'already-coded', display: 'Already coded for this encounter' },
        userComment: 'Coded by the ED',
        outcomeTimestamp: '2026-11-25T12:06:00.5+01:00',
        outcomeAt: '2026-11-25T11:06:00.500Z',
        known: true,
      }),
    ]);
  });

  test('the same entry sent again is stored once', async () => {
    const entry = overridden(cards[2], 'not-significant');
    expect((await feedback(app, [entry])).status).toBe(200);
    expect((await feedback(app, [entry])).status).toBe(200);
    expect(await store.feedbackRecords({ card: cards[2].uuid })).toHaveLength(1);
  });

  test('an unknown card: 200 like any other, stored flagged unknown, logged as such', async () => {
    const res = await feedback(app, [{ card: 'not-a-card-of-ours', outcome: 'overridden', outcomeTimestamp: '2026-11-25T12:05:00Z' }]);
    expect(res.status).toBe(200);
    expect(await store.feedbackRecords({ card: 'not-a-card-of-ours' })).toEqual([expect.objectContaining({ known: false })]);
    const line = JSON.parse(logs.find((l) => l.includes('not-a-card-of-ours') && l.includes('"feedback'))!);
    expect(line).toMatchObject({ level: 40, known: false, msg: 'feedback for a card this service has no audit record of' });
  });

  test('an impossible outcomeTimestamp: 400; a leap second is the last millisecond before it', async () => {
    const res = await feedback(app, [overridden(cards[3], undefined, '2026-02-30T10:00:00Z')]);
    expect(res.status).toBe(400);
    expect(res.body.issue[0]).toMatchObject({ code: 'value', expression: ['feedback[0].outcomeTimestamp'] });
    expect((await feedback(app, [overridden(cards[3], undefined, '2016-12-31T23:59:60Z')])).status).toBe(200);
    expect((await store.feedbackRecords({ card: cards[3].uuid }))[0].outcomeAt).toBe('2016-12-31T23:59:59.999Z');
  });

  test('an override reason the cards never offered: 400 OperationOutcome, and nothing of the body is stored', async () => {
    const before = (await store.feedbackRecords()).length;
    const res = await feedback(app, [
      accepted(cards[3]),
      { ...overridden(cards[3], 'too-expensive') },
      { ...overridden(cards[3]), overrideReason: { reason: { system: 'http://example.org/other', code: 'not-documented' } } },
    ]);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expectValidFhir(res.body);
    expect(res.body.issue.map((i: { code: string; expression: string[] }) => [i.code, i.expression[0]])).toEqual([
      ['code-invalid', 'feedback[1].overrideReason.reason'],
      ['code-invalid', 'feedback[2].overrideReason.reason'],
    ]);
    expect(res.body.issue[0].details.text).toContain('not-documented, negated-or-ruled-out');
    expect((await store.feedbackRecords()).length).toBe(before);
  });
});

describe('acceptance report', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'icd10-report-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('figures per code on a scripted history', async () => {
    const storePath = path.join(dir, 'report.sqlite');
    const { app, store } = await createTestApp({ storePath });
    const doc = documentReference('DISCHARGE DIAGNOSES\n1. Pneumonia.\n2. Hypertension.\n');
    const calls: Card[][] = [];
    for (const id of ['call-1', 'call-2', 'call-3']) {
      calls.push((await hook(app, hookRequest({ hookInstance: id, prefetch: { dischargeSummaries: doc } }))).body.cards);
    }
    await hook(app, hookRequest({ hookInstance: 'call-4', prefetch: { dischargeSummaries: null } }));
    const byCode = (cards: Card[], code: string) => cards.find((c) => codeOf(c) === code)!;
    expect(calls.map((cards) => cards.map(codeOf).sort())).toEqual([
      ['I10', 'J18.9'],
      ['I10', 'J18.9'],
      ['I10', 'J18.9'],
    ]);

    expect(
      (
        await feedback(app, [
          // J18.9: accepted twice; once overridden first, then accepted (the latest decides).
          accepted(byCode(calls[0], 'J18.9')),
          overridden(byCode(calls[1], 'J18.9'), 'not-documented', '2026-11-25T12:01:00Z'),
          accepted(byCode(calls[1], 'J18.9'), '2026-11-25T12:02:00Z'),
          // I10: overridden twice (two reasons), once no feedback.
          overridden(byCode(calls[0], 'I10'), 'already-coded'),
          overridden(byCode(calls[1], 'I10'), 'already-coded'),
          overridden(byCode(calls[2], 'I10')),
          { card: 'unknown-card', outcome: 'accepted', acceptedSuggestions: [{ id: 'x' }], outcomeTimestamp: '2026-11-25T12:05:00Z' },
        ])
      ).status,
    ).toBe(200);
    // The FHIR edge counts as suggestions made, never as cards.
    await request(app)
      .post('/fhir/DocumentReference/$suggest-conditions')
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(parametersOf(doc)));

    const expected = {
      calls: 5,
      callsWithoutSuggestion: 1,
      callsPending: 0,
      models: [{ name: 'icd10-cds-test-keywords', version: '1.0.0', calls: 5 }],
      codes: [
        {
          code: 'I10',
          suggestions: 4,
          cards: 3,
          cardsWithFeedback: 3,
          accepted: 0,
          overridden: 3,
          acceptanceRate: 0,
          overrideRate: 1,
          overrideReasons: { 'already-coded': 2, none: 1 },
        },
        { code: 'J18.9', suggestions: 4, cards: 3, cardsWithFeedback: 2, accepted: 2, overridden: 0, acceptanceRate: 1, overrideRate: 0, overrideReasons: {} },
      ],
      unknownCards: 1,
    };
    expect(await store.acceptanceReport()).toEqual(expected);
    // The command's function reads the same file (while the service holds it open).
    expect(await reportOf(storePath)).toEqual({ store: storePath, ...expected });
    // --since after every call: nothing.
    expect(await reportOf(storePath, new Date('2026-11-26T00:00:00Z'))).toEqual({
      store: storePath,
      since: '2026-11-26T00:00:00.000Z',
      calls: 0,
      callsWithoutSuggestion: 0,
      callsPending: 0,
      models: [],
      codes: [],
      unknownCards: 0,
    });
    await store.close();
  });

  test('a store that does not exist is not created by the report', async () => {
    const missing = path.join(dir, 'missing.sqlite');
    await expect(reportOf(missing)).rejects.toThrow(`store ${missing} does not exist`);
    expect(readdirSync(dir)).not.toContain('missing.sqlite');
  });
});

describe('readiness and store failure', () => {
  test('/readyz: 200 with the model and a writable store; a failed store: 503 everywhere but /healthz, never an unaudited card', async () => {
    const { app, store, logs } = await createTestApp();
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      model: { name: 'icd10-cds-test-keywords', version: '1.0.0' },
      store: { kind: 'sqlite', writable: true },
    });

    await store.close(); // stands for a store that fails (disk full, read-only, lost connection)

    const notReady = await request(app).get('/readyz');
    expect(notReady.status).toBe(503);
    expectValidFhir(notReady.body);
    expect(notReady.body.issue[0]).toMatchObject({
      code: 'transient',
      details: { text: 'The audit store cannot take writes, so no suggestion can be served' },
    });
    expect((await request(app).get('/healthz')).status).toBe(200);

    const call = await hook(app, hookRequest({ prefetch: { dischargeSummaries: documentReference(SAMPLE_NOTE) } }));
    expect(call.status).toBe(503);
    expect(call.body.resourceType).toBe('OperationOutcome');
    expect(call.body.issue[0].details.text).toBe('The audit trail cannot be written, so no suggestion is served; retry later');
    const fhir = await request(app)
      .post('/fhir/DocumentReference/$suggest-conditions')
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(parametersOf(documentReference(SAMPLE_NOTE))));
    expect(fhir.status).toBe(503);
    expect(fhir.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const fb = await feedback(app, [{ card: 'c', outcome: 'overridden', outcomeTimestamp: '2026-11-25T12:05:00Z' }]);
    expect(fb.status).toBe(503);
    expect(logs.filter((l) => l.includes('audit record could not be written'))).toHaveLength(2);
    expect(logs.some((l) => l.includes('feedback could not be stored'))).toBe(true);
  });
});
