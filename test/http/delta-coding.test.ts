/**
 * Delta coding at both edges: codes already recorded on the encounter are not suggested
 * again, and a more specific code is shown as a refinement of the recorded one.
 */
import type { Bundle, Condition, Reference } from '@medplum/fhirtypes';
import request from 'supertest';
import type { Card, HookResponse } from '../../src/cds/types';
import { createTestApp } from '../helpers/app';
import { expectSuggestedCondition, expectValidCds, expectValidFhir, resourcesOf } from '../helpers/expect-valid';
import { json, startFhirServer, type FakeFhirServer } from '../helpers/fhir-server';
import { documentReference, hookRequest, parametersOf, searchset } from '../helpers/resources';

const SERVICE = '/cds-services/icd10cm-suggestions';
const FHIR_OP = '/fhir/DocumentReference/$suggest-conditions';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const RELATED = 'http://hl7.org/fhir/StructureDefinition/condition-related';
/** The tiny model suggests N39.0, I50.9, J18.9 and I10 for this note. */
const NOTE = 'Discharge diagnoses: UTI; CHF; pneumonia; hypertension.';
const UNKNOWN_LINE = 'could not be read: this code may already be recorded';

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
let logs: string[];
beforeAll(async () => {
  ({ app, logs } = await createTestApp());
});

/** A Condition recorded on Encounter/456 of Patient/1288992. */
function recorded(id: string, code: string, display?: string, extra: Partial<Condition> = {}): Condition {
  return {
    resourceType: 'Condition',
    id,
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
    code: { coding: [{ system: ICD10CM, code, ...(display ? { display } : {}) }] },
    subject: { reference: 'Patient/1288992' },
    encounter: { reference: 'Encounter/456' },
    ...extra,
  };
}
const withStatus = (code: string) => ({ verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code }] } });

const call = (body: unknown) => request(app).post(SERVICE).set('Content-Type', 'application/json').send(JSON.stringify(body));
const hook = (prefetch: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  call(hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(NOTE)), ...prefetch }, ...extra }));
const conditionOf = (card: Card) => card.suggestions![0].actions[0].resource as Condition;
const codeOf = (c: Condition) => c.code!.coding![0].code;
const relatedOf = (c: Condition): Reference[] => (c.extension ?? []).filter((e) => e.url === RELATED).map((e) => e.valueReference!);

/** Every response: valid CDS Hooks, create-only actions, valid suggested Conditions; the suggestion cards. */
function expectCards(body: HookResponse): Card[] {
  expectValidCds('response', body);
  for (const card of body.cards) {
    expect(Array.from(card.summary).length).toBeLessThan(140);
    if (!card.suggestions) {
      // A coding-rule finding about a recorded code: information only.
      expect(card.indicator).toBe('warning');
      expect(card.summary).toMatch(/^Coding rule /);
      continue;
    }
    expect(card.suggestions.flatMap((s) => s.actions.map((a) => a.type))).toEqual(['create']);
    expectSuggestedCondition(conditionOf(card));
  }
  return body.cards.filter((c) => c.suggestions);
}

describe('CDS hook: recorded Conditions from prefetch', () => {
  test('nothing recorded (prefetch null): every code is suggested, no refinement', async () => {
    const res = await hook({ encounterConditions: null });
    expect(res.status).toBe(200);
    const cards = expectCards(res.body);
    expect(cards.map((c) => codeOf(conditionOf(c))).sort()).toEqual(['I10', 'I50.9', 'J18.9', 'N39.0']);
    for (const card of cards) {
      expect(card.summary).toMatch(/^Suggested ICD-10-CM /);
      expect(card.detail).not.toContain(UNKNOWN_LINE);
      expect(relatedOf(conditionOf(card))).toEqual([]);
    }
  });

  test('a recorded code is not suggested again; a code less specific than a recorded one neither', async () => {
    const res = await hook({
      encounterConditions: searchset(recorded('c-htn', 'I10'), recorded('c-hf', 'I50.23', 'Chronic diastolic (congestive) heart failure')),
    });
    const cards = expectCards(res.body);
    expect(cards.map((c) => codeOf(conditionOf(c))).sort()).toEqual(['J18.9', 'N39.0']);
    expect(logs.some((l) => l.includes('"dropped":2') && l.includes('"recordedKnown":true'))).toBe(true);
  });

  test('a recorded ancestor (category) or unspecified code: the finer suggestion is a refinement card', async () => {
    const res = await hook({
      encounterConditions: searchset(
        recorded('c-pna', 'J18', 'Pneumonia, unspecified organism'),
        // Undotted, lower case: normalized to N39.9, the category's unspecified code.
        recorded('c-uri', 'n399'),
      ),
    });
    const cards = expectCards(res.body);
    const byCode = new Map(cards.map((c) => [codeOf(conditionOf(c)), c]));
    expect([...byCode.keys()].sort()).toEqual(['I10', 'I50.9', 'J18.9', 'N39.0']);

    const pneumonia = byCode.get('J18.9')!;
    expect(pneumonia.summary).toBe('Refine recorded J18 → ICD-10-CM J18.9: Pneumonia, unspecified organism (88% confidence)');
    expect(pneumonia.detail).toContain(
      '**Refines a recorded diagnosis:** J18 \\(Pneumonia\\, unspecified organism\\)\\, Condition\\/c\\-pna is recorded for this encounter',
    );
    expect(pneumonia.detail).toContain('the recorded one stays as is');
    expect(pneumonia.suggestions![0].label).toBe('Add J18.9 as a provisional encounter diagnosis (refines recorded J18)');
    expect(pneumonia.suggestions![0].actions[0].description).toMatch(/; the recorded J18 is not changed$/);
    const condition = conditionOf(pneumonia);
    expect(relatedOf(condition)).toEqual([{ reference: 'Condition/c-pna', display: 'J18 Pneumonia, unspecified organism' }]);
    expect(condition.note!.at(-1)!.text).toBe(
      'Refines the recorded J18 Pneumonia, unspecified organism (Condition/c-pna): J18.9 is more specific. The recorded Condition is left as is.',
    );

    const uti = byCode.get('N39.0')!;
    expect(uti.summary).toMatch(/^Refine recorded N39\.9 → ICD-10-CM N39\.0: Urinary tract infection, site not specified \(\d+% confidence\)$/);
    expect(relatedOf(conditionOf(uti))).toEqual([{ reference: 'Condition/c-uri', display: 'N39.9' }]);

    for (const code of ['I10', 'I50.9']) expect(byCode.get(code)!.summary).toMatch(/^Suggested ICD-10-CM /);
    // The recorded category is a header: an information card says so, with its billable codes.
    const header = (res.body as HookResponse).cards.find((c) => !c.suggestions)!;
    expect(header.summary).toBe('Coding rule (Not billable): recorded ICD-10-CM J18');
    expect(header.detail).toMatch(/^Coding rule: Not billable\\\. Recorded J18 Pneumonia\\, unspecified organism is a header/);
    expect(header.detail).toContain('J18\\.9');
  });

  test('refuted and entered-in-error recorded Conditions do not stop a suggestion', async () => {
    const res = await hook({
      encounterConditions: searchset(
        recorded('c-1', 'I10', undefined, withStatus('refuted')),
        recorded('c-2', 'J18.9', undefined, withStatus('entered-in-error')),
        recorded('c-3', 'N39', undefined, withStatus('refuted')),
      ),
    });
    const cards = expectCards(res.body);
    expect(cards.map((c) => codeOf(conditionOf(c))).sort()).toEqual(['I10', 'I50.9', 'J18.9', 'N39.0']);
    expect(cards.every((c) => c.summary.startsWith('Suggested'))).toBe(true);
  });

  test('Conditions of another encounter or patient, and codes of other systems, are not used', async () => {
    const res = await hook({
      encounterConditions: searchset(
        recorded('c-1', 'I10', undefined, { encounter: { reference: 'Encounter/999' } }),
        recorded('c-2', 'J18.9', undefined, { subject: { reference: 'Patient/other' } }),
        recorded('c-3', 'I50.9', undefined, { encounter: undefined }),
        recorded('c-4', 'N39.0', undefined, { code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'N39.0' }] } }),
      ),
    });
    const cards = expectCards(res.body);
    expect(cards.map((c) => codeOf(conditionOf(c))).sort()).toEqual(['I10', 'I50.9', 'J18.9', 'N39.0']);
  });

  test('a single prefetched Condition (not a Bundle) is read too', async () => {
    const res = await hook({ encounterConditions: recorded('c-htn', 'I10') });
    expect(expectCards(res.body).map((c) => codeOf(conditionOf(c)))).not.toContain('I10');
  });
});

describe('CDS hook: recorded Conditions not prefetched', () => {
  let ehr: FakeFhirServer;
  let elsewhere: FakeFhirServer;
  afterEach(async () => {
    await ehr?.close();
    await elsewhere?.close();
  });
  const auth = {
    access_token: 'secret-token-456',
    token_type: 'Bearer',
    expires_in: 300,
    scope: 'user/Condition.read user/DocumentReference.read',
    subject: 'icd10-cds',
  };

  test('missing key: searched on fhirServer with the hook token, and applied', async () => {
    ehr = await startFhirServer([['/Condition?', json(searchset(recorded('c-htn', 'I10'), recorded('c-pna', 'J18')))]]);
    const res = await hook({}, { fhirServer: ehr.base, fhirAuthorization: auth });
    expect(res.status).toBe(200);
    const cards = expectCards(res.body);
    expect(cards.map((c) => codeOf(conditionOf(c))).sort()).toEqual(['I50.9', 'J18.9', 'N39.0']);
    expect(cards.find((c) => codeOf(conditionOf(c)) === 'J18.9')!.summary).toMatch(/^Refine recorded J18 → /);
    expect(cards.every((c) => !c.detail!.includes(UNKNOWN_LINE))).toBe(true);
    expect(ehr.requests.map((r) => [r.method, decodeURIComponent(r.url), r.authorization])).toEqual([
      ['GET', '/fhir/Condition?patient=1288992&encounter=456', 'Bearer secret-token-456'],
    ]);
    expect(logs.some((l) => l.includes('secret-token-456'))).toBe(false);
  });

  test('an OperationOutcome prefetch is searched on fhirServer too', async () => {
    ehr = await startFhirServer([['/Condition?', json(searchset(recorded('c-htn', 'I10')))]]);
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    const res = await hook({ encounterConditions: outcome }, { fhirServer: ehr.base, fhirAuthorization: auth });
    expect(expectCards(res.body).map((c) => codeOf(conditionOf(c)))).not.toContain('I10');
    expect(ehr.requests).toHaveLength(1);
  });

  test('a next link to another host is not followed (the token stays on fhirServer): searched on fhirServer instead', async () => {
    elsewhere = await startFhirServer([['/Condition', json(searchset(recorded('c-x', 'J18.9')))]]);
    ehr = await startFhirServer([['/Condition?', json(searchset(recorded('c-htn', 'I10'), recorded('c-pna', 'J18.9')))]]);
    const page1 = { ...searchset(recorded('c-htn', 'I10')), link: [{ relation: 'next', url: `${elsewhere.base}/Condition?page=2` }] };
    const res = await hook({ encounterConditions: page1 }, { fhirServer: ehr.base, fhirAuthorization: auth });
    expect(
      expectCards(res.body)
        .map((c) => codeOf(conditionOf(c)))
        .sort(),
    ).toEqual(['I50.9', 'N39.0']);
    expect(elsewhere.requests).toEqual([]);
    expect(ehr.requests.map((r) => [decodeURIComponent(r.url), r.authorization])).toEqual([
      ['/fhir/Condition?patient=1288992&encounter=456', 'Bearer secret-token-456'],
    ]);
  });

  test('a failing FHIR server is not fatal: the cards come without delta coding and say so', async () => {
    ehr = await startFhirServer([['/Condition', json({ resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception' }] }, 500)]]);
    const res = await hook({}, { fhirServer: ehr.base, fhirAuthorization: auth });
    expect(res.status).toBe(200);
    const cards = expectCards(res.body);
    expect(cards).toHaveLength(4);
    for (const card of cards) expect(card.detail).toContain(`_The diagnoses already recorded for this encounter ${UNKNOWN_LINE}._`);
    expect(logs.some((l) => l.includes('"recordedKnown":false') && l.includes('"recordedReason":"HTTP 500"'))).toBe(true);
    expect(logs.some((l) => l.includes('secret-token-456'))).toBe(false);
  });

  test('missing key and no fhirServer: answered without delta coding, and the cards say so', async () => {
    const res = await hook({});
    expect(res.status).toBe(200);
    const cards = expectCards(res.body);
    expect(cards).toHaveLength(4);
    for (const card of cards) expect(card.detail).toContain(UNKNOWN_LINE);
  });
});

describe('FHIR $suggest-conditions with recordedCondition', () => {
  const post = (body: unknown) => request(app).post(FHIR_OP).set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
  const withRecorded = (...conditions: unknown[]) => {
    const params = parametersOf(documentReference(NOTE));
    params.parameter!.push(...conditions.map((resource) => ({ name: 'recordedCondition', resource: resource as Condition })));
    return params;
  };
  const conditionsOf = (bundle: Bundle) => resourcesOf(bundle).filter((r): r is Condition => r.resourceType === 'Condition');

  test('recorded codes are left out, finer codes refine them, refuted ones do not count', async () => {
    const res = await post(
      withRecorded(
        recorded('c-htn', 'I10'),
        recorded('c-hf', 'I50.23'),
        { ...recorded('c-pna', 'J18', 'Pneumonia, unspecified organism'), id: undefined, identifier: [{ system: 'urn:ehr:dx', value: '77' }] },
        recorded('c-uti', 'N39.0', undefined, withStatus('refuted')),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expectValidFhir(res.body);
    const conditions = conditionsOf(res.body);
    for (const c of conditions) expectSuggestedCondition(c);
    expect(conditions.map(codeOf).sort()).toEqual(['J18.9', 'N39.0']);
    const pneumonia = conditions.find((c) => codeOf(c) === 'J18.9')!;
    expect(relatedOf(pneumonia)).toEqual([{ identifier: { system: 'urn:ehr:dx', value: '77' }, display: 'J18 Pneumonia, unspecified organism' }]);
    expect(pneumonia.note!.at(-1)!.text).toBe(
      'Refines the recorded J18 Pneumonia, unspecified organism: J18.9 is more specific. The recorded Condition is left as is.',
    );
    expect(relatedOf(conditions.find((c) => codeOf(c) === 'N39.0')!)).toEqual([]);
  });

  test('without recordedCondition nothing changes', async () => {
    const res = await post(parametersOf(documentReference(NOTE)));
    expect(conditionsOf(res.body).map(codeOf).sort()).toEqual(['I10', 'I50.9', 'J18.9', 'N39.0']);
  });

  const invalid: [string, () => unknown, number, string, RegExp][] = [
    ['a recordedCondition holding a Patient', () => withRecorded({ resourceType: 'Patient' }), 400, 'structure', /must hold a Condition resource/],
    [
      'a recordedCondition as a value',
      () => ({
        ...parametersOf(documentReference(NOTE)),
        parameter: [...parametersOf(documentReference(NOTE)).parameter!, { name: 'recordedCondition', valueString: 'I10' }],
      }),
      400,
      'structure',
      /must hold a Condition resource/,
    ],
    ['a schema-invalid recordedCondition (code as a string)', () => withRecorded({ ...recorded('c-1', 'I10'), code: 'I10' }), 400, 'structure', /code/],
    ['a recordedCondition without subject', () => withRecorded({ ...recorded('c-1', 'I10'), subject: undefined }), 400, 'required', /subject/],
    [
      'a recordedCondition of another patient',
      () => withRecorded(recorded('c-1', 'I10', undefined, { subject: { reference: 'Patient/other' } })),
      422,
      'business-rule',
      /patient of the documents/,
    ],
    [
      'a recordedCondition of another encounter',
      () => withRecorded(recorded('c-1', 'I10', undefined, { encounter: { reference: 'Encounter/999' } })),
      422,
      'business-rule',
      /encounter of the documents/,
    ],
  ];
  test.each(invalid)('%s: OperationOutcome', async (_name, body, status, code, text) => {
    const res = await post(body());
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expectValidFhir(res.body);
    expect(res.body.issue[0].code).toBe(code);
    expect(res.body.issue[0].details.text).toMatch(text);
  });
});
