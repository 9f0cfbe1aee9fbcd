/**
 * The coding engine over HTTP (ENGINE=both, the committed code set, ranker and default
 * model) on short discharge summaries: a clear diagnosis is suggested with its sentence and
 * Index path; the same diagnosis denied, ruled out, about a relative, in the discharge
 * instructions or only hypothetical is not; probable diagnoses are coded as established
 * inpatient and not outpatient, the setting taken from the encounter class when none is
 * given; a resolved past condition gives its history code; every code
 * is billable in the loaded code set, which the Conditions name.
 */
import type { Bundle, Condition } from '@medplum/fhirtypes';
import request from 'supertest';
import { inlineAnalyzer } from '../../src/analysis/analyzer';
import knownErrors from '../fixtures/coding/discharge-summaries-known-errors.json';
import summaries from '../fixtures/coding/discharge-summaries.json';
import { createTestApp } from '../helpers/app';
import { fullEngine, indexEngine } from '../helpers/engine';
import { expectValidCds, expectValidFhir, resourcesOf } from '../helpers/expect-valid';
import { documentReference, hookRequest, parametersOf, searchset } from '../helpers/resources';

jest.setTimeout(60_000);

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
beforeAll(async () => {
  const { engine, info } = await fullEngine('both');
  ({ app } = await createTestApp({ engine: 'both' }, inlineAnalyzer(engine, info)));
});

/** The codes of a hook call's cards, and the cards. */
async function hook(text: string, prefetch: Record<string, unknown> = {}) {
  const res = await request(app)
    .post('/cds-services/icd10cm-suggestions')
    .send(hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(text)), ...prefetch } }));
  expect(res.status).toBe(200);
  expectValidCds('response', res.body);
  const cards = res.body.cards as { detail: string; suggestions: { actions: { resource: Condition }[] }[] }[];
  return { cards, codes: cards.map((c) => c.suggestions[0].actions[0].resource.code!.coding![0].code!) };
}

/** The Conditions of a $suggest-conditions call. */
async function operation(text: string, setting?: 'inpatient' | 'outpatient') {
  const body = parametersOf(documentReference(text));
  if (setting) body.parameter!.push({ name: 'setting', valueCode: setting });
  const res = await request(app).post('/fhir/DocumentReference/$suggest-conditions').set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
  expect(res.status).toBe(200);
  expectValidFhir(res.body);
  return resourcesOf(res.body as Bundle).filter((r): r is Condition => r.resourceType === 'Condition');
}
const codesOf = (conditions: readonly Condition[]) => conditions.map((c) => c.code!.coding![0].code!);

test('a clear diagnosis is suggested, quoting its sentence and the Index path that leads to it', async () => {
  const { cards, codes } = await hook(
    'DISCHARGE DIAGNOSES:\n1. Acute pulmonary embolism.\nHOSPITAL COURSE: CT angiography showed bilateral pulmonary emboli; heparin was started.',
  );
  expect(codes).toContain('I26.99');
  const card = cards[codes.indexOf('I26.99')];
  expect(card.detail).toContain('> 1\\. Acute pulmonary embolism\\.');
  expect(card.detail).toMatch(/\*\*Alphabetic Index:\*\* Embolism → pulmonary.* I26\\\.99/);
});

test.each([
  ['denied', 'HISTORY: She denied chest pain, fever or shortness of breath.\nDISCHARGE DIAGNOSES: Ankle sprain.', ['R07', 'R50', 'R06']],
  ['ruled out', 'HOSPITAL COURSE: CT angiography was negative and pulmonary embolism was ruled out.\nDISCHARGE DIAGNOSES: Costochondritis.', ['I26']],
  [
    'to be ruled out, then found negative',
    'HOSPITAL COURSE: A head ultrasound was done to rule out intracranial hemorrhage. The ultrasound was negative for intracranial hemorrhage.\nDISCHARGE DIAGNOSES: Prematurity.',
    ['I62'],
  ],
  ['about a relative', 'FAMILY HISTORY: Her mother had breast cancer at 52.\nDISCHARGE DIAGNOSES: Community-acquired pneumonia.', ['C50']],
  [
    'in the discharge instructions',
    'DISCHARGE DIAGNOSES: Cellulitis of the right lower leg.\nDISCHARGE INSTRUCTIONS: Return if you develop chest pain, fever or shortness of breath.',
    ['R07', 'R50', 'R06'],
  ],
  ['hypothetical', 'PLAN: Monitor for signs of deep vein thrombosis.\nDISCHARGE DIAGNOSES: Right knee osteoarthritis.', ['I82']],
])('a diagnosis %s is not suggested', async (_kind, text, categories) => {
  const { codes } = await hook(text);
  for (const category of categories) expect(codes.filter((c) => c.startsWith(category))).toEqual([]);
});

test("the relative's cancer gives its family-history code", async () => {
  const { codes } = await hook('FAMILY HISTORY: Her mother had breast cancer at 52.\nDISCHARGE DIAGNOSES: Community-acquired pneumonia.');
  expect(codes).toContain('J18.9');
  expect(codes.filter((c) => c.startsWith('Z80'))).toEqual(['Z80.3']);
});

test('probable at discharge: coded as established inpatient, with the guideline; not coded outpatient', async () => {
  const text = 'DISCHARGE DIAGNOSES: Probable community-acquired pneumonia.\nHOSPITAL COURSE: Cough and fever; chest x-ray with a right lower lobe opacity.';
  const inpatient = await operation(text, 'inpatient');
  const pneumonia = inpatient.find((c) => c.code!.coding![0].code === 'J18.9');
  expect(pneumonia).toBeDefined();
  expect(pneumonia!.note!.some((n) => /coded as if established.*II\\?\.H and III\\?\.C/.test(n.text))).toBe(true);
  expect(codesOf(await operation(text, 'outpatient'))).not.toContain('J18.9');
});

test.each([
  ['AMB', 'outpatient'],
  ['EMER', 'outpatient'],
  ['IMP', 'inpatient'],
])('the encounter class %s decides the setting (%s) when none is given, on both edges', async (classCode, setting) => {
  const text = 'DISCHARGE DIAGNOSES: Probable community-acquired pneumonia.\nHOSPITAL COURSE: Cough and fever; chest x-ray with a right lower lobe opacity.';
  const encounter = {
    resourceType: 'Encounter',
    id: '456',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: classCode },
  };
  const body = parametersOf(documentReference(text));
  body.parameter!.push({ name: 'encounter', resource: encounter } as never);
  const res = await request(app).post('/fhir/DocumentReference/$suggest-conditions').set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
  expect(res.status).toBe(200);
  expectValidFhir(res.body);
  const operationCodes = codesOf(resourcesOf(res.body as Bundle).filter((r): r is Condition => r.resourceType === 'Condition'));
  const { codes: hookCodes } = await hook(text, { encounter });
  for (const codes of [operationCodes, hookCodes]) {
    if (setting === 'inpatient') expect(codes).toContain('J18.9');
    else expect(codes).not.toContain('J18.9');
  }
});

test('an explicit setting outweighs the encounter class', async () => {
  const text = 'DISCHARGE DIAGNOSES: Probable community-acquired pneumonia.\nHOSPITAL COURSE: Cough and fever; chest x-ray with a right lower lobe opacity.';
  const body = parametersOf(documentReference(text));
  body.parameter!.push({ name: 'setting', valueCode: 'inpatient' }, {
    name: 'encounter',
    resource: { resourceType: 'Encounter', id: '456', status: 'finished', class: { code: 'AMB' } },
  } as never);
  const res = await request(app).post('/fhir/DocumentReference/$suggest-conditions').set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
  expect(res.status).toBe(200);
  expect(codesOf(resourcesOf(res.body as Bundle).filter((r): r is Condition => r.resourceType === 'Condition'))).toContain('J18.9');
});

test("the words before 'secondary to' describe the other condition: essential hypertension, not secondary", async () => {
  const codes = codesOf(
    await operation('IMPRESSION: Mild tortuosity of the thoracic aorta, maybe secondary to hypertension.\nDISCHARGE DIAGNOSES: Hypertension.'),
  );
  expect(codes).toContain('I10');
  expect(codes.filter((c) => c.startsWith('I15'))).toEqual([]);
});

test('a resolved past condition gives its personal-history code, not the condition', async () => {
  const codes = codesOf(await operation('PAST MEDICAL HISTORY: History of DVT, treated in 2019.\nDISCHARGE DIAGNOSES: Community-acquired pneumonia.'));
  expect(codes).toContain('Z86.718');
  expect(codes.filter((c) => c.startsWith('I82'))).toEqual([]);
});

test('the Conditions name the loaded code set, and every code suggested for every summary is billable in it', async () => {
  const { codeSet } = await indexEngine();
  for (const s of summaries) {
    const conditions = await operation(s.text, s.setting as 'inpatient' | 'outpatient');
    for (const c of conditions) {
      const coding = c.code!.coding![0];
      expect(coding.version).toBe(codeSet.version);
      expect([s.id, coding.code, codeSet.isBillable(coding.code!)]).toEqual([s.id, coding.code, true]);
    }
  }
});

test('over the discharge-summary table, the expected codes are found (a floor the engine must keep) and no forbidden code is suggested', async () => {
  let found = 0;
  let expected = 0;
  const forbidden: string[] = [];
  for (const s of summaries) {
    const codes = codesOf(await operation(s.text, s.setting as 'inpatient' | 'outpatient'));
    expected += s.expected.length;
    found += s.expected.filter((c) => codes.includes(c)).length;
    forbidden.push(...(s.forbidden ?? []).filter((c) => codes.includes(c)).map((c) => `${s.id}: ${c}`));
  }
  // Forbidden codes still suggested are listed with why; a new one fails, and so does a fixed one still listed.
  expect(forbidden.sort()).toEqual(
    Object.keys(knownErrors)
      .filter((k) => !k.startsWith('$'))
      .sort(),
  );
  // A floor below what the engine finds (docs/coding.md); a change that loses more fails here.
  expect(found / expected).toBeGreaterThanOrEqual(0.7);
});
