/**
 * Coding-rule findings on both edges, with the full engine (ENGINE=both, the committed code
 * set, ranker and default model): a suggestion a rule touches has a "Coding rule:" paragraph
 * and indicator warning on its card; a finding about a recorded code is an information card;
 * the FHIR Bundle holds one OperationOutcome with one issue per finding (warning,
 * business-rule, the coding-rule code, the entries concerned), and none when nothing is found.
 */
import type { Bundle, Condition, OperationOutcome } from '@medplum/fhirtypes';
import request from 'supertest';
import { inlineAnalyzer } from '../../src/analysis/analyzer';
import { createTestApp } from '../helpers/app';
import { fullEngine } from '../helpers/engine';
import { expectValidCds, expectValidFhir, resourcesOf } from '../helpers/expect-valid';
import { documentReference, hookRequest, parametersOf, searchset } from '../helpers/resources';

jest.setTimeout(60_000);

const RULE_SYSTEM = 'http://icd10-cds.org/fhir/CodeSystem/coding-rule';
const PNEUMONIA = `DISCHARGE SUMMARY

HISTORY OF PRESENT ILLNESS
A 64-year-old man presented with fever, productive cough and shortness of breath for three days.

HOSPITAL COURSE
Chest x-ray showed right lower lobe consolidation. He was treated with ceftriaxone and azithromycin.

DISCHARGE DIAGNOSES
1. Community-acquired pneumonia.
2. Essential hypertension.
`;
const HYPERTENSION = `DISCHARGE SUMMARY

DISCHARGE DIAGNOSES
1. Essential hypertension.
`;

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
beforeAll(async () => {
  const { engine, info } = await fullEngine('both');
  ({ app } = await createTestApp({ engine: 'both' }, inlineAnalyzer(engine, info)));
});

interface HookCard {
  summary: string;
  detail: string;
  indicator: string;
  suggestions?: { actions: { resource: Condition }[] }[];
}

async function hook(text: string, encounterConditions?: object) {
  const res = await request(app)
    .post('/cds-services/icd10cm-suggestions')
    .send(hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(text)), ...(encounterConditions ? { encounterConditions } : {}) } }));
  expect(res.status).toBe(200);
  expectValidCds('response', res.body);
  return res.body.cards as HookCard[];
}
const codeOf = (card: HookCard) => card.suggestions?.[0].actions[0].resource.code!.coding![0].code;

async function operation(text: string, recorded: Condition[] = []) {
  const body = parametersOf(documentReference(text));
  for (const resource of recorded) body.parameter!.push({ name: 'recordedCondition', resource });
  const res = await request(app).post('/fhir/DocumentReference/$suggest-conditions').set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
  expect(res.status).toBe(200);
  expectValidFhir(res.body);
  return res.body as Bundle;
}
const outcomesOf = (bundle: Bundle) => resourcesOf(bundle).filter((r): r is OperationOutcome => r.resourceType === 'OperationOutcome');

const condition = (id: string, code: string): Condition => ({
  resourceType: 'Condition',
  id,
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code }] },
  subject: { reference: 'Patient/1288992' },
  encounter: { reference: 'Encounter/456' },
});

test('CDS: fever, cough and dyspnea with pneumonia are not separate cards; the pneumonia card names the rule and warns', async () => {
  const cards = await hook(PNEUMONIA);
  const codes = cards.map(codeOf);
  expect(codes).toContain('J18.9');
  for (const symptom of ['R50.9', 'R05.9', 'R06.02', 'R06.00']) expect(codes).not.toContain(symptom);
  const pneumonia = cards.find((c) => codeOf(c) === 'J18.9')!;
  expect(pneumonia.indicator).toBe('warning');
  expect(pneumonia.detail).toMatch(/^Coding rule: Integral symptom\\\. R50\\\.9 Fever\\, unspecified is not suggested separately/m);
  expect(pneumonia.detail).toContain('I\\.B\\.5');
  // Untouched suggestions stay information.
  expect(cards.find((c) => codeOf(c) === 'I10')!.indicator).toBe('info');
});

test('FHIR: one OperationOutcome, one issue per finding, pointing at the Condition entry', async () => {
  const bundle = await operation(PNEUMONIA);
  const [outcome, ...more] = outcomesOf(bundle);
  expect(more).toEqual([]);
  const entry = bundle.entry!.findIndex((e) => e.resource?.resourceType === 'Condition' && (e.resource as Condition).code!.coding![0].code === 'J18.9');
  const integral = outcome.issue.filter((i) => i.details?.coding?.[0].code === 'integral-symptom');
  expect(integral.length).toBeGreaterThanOrEqual(2);
  for (const issue of integral) {
    expect(issue).toMatchObject({ severity: 'warning', code: 'business-rule', expression: [`Bundle.entry[${entry}].resource`] });
    expect(issue.details!.coding![0]).toEqual({ system: RULE_SYSTEM, code: 'integral-symptom', display: 'Integral symptom' });
    expect(issue.details!.text).toMatch(/is not suggested separately: it is routinely part of J18\.9 Pneumonia/);
  }
});

test('FHIR: no OperationOutcome when no rule finds anything', async () => {
  const bundle = await operation(HYPERTENSION);
  expect(resourcesOf(bundle).some((r) => r.resourceType === 'Condition')).toBe(true);
  expect(outcomesOf(bundle)).toEqual([]);
});

test('FHIR: a recorded header code and an incomplete injury code are flagged on their recordedCondition inputs', async () => {
  const bundle = await operation(HYPERTENSION, [condition('c-1', 'E11'), condition('c-2', 'S72.001')]);
  const issues = outcomesOf(bundle)[0].issue;
  const rule = (code: string) => issues.find((i) => i.details?.coding?.[0].code === code)!;
  expect(rule('not-billable')).toMatchObject({ severity: 'warning', code: 'business-rule', expression: ['Parameters.parameter[1].resource'] });
  expect(rule('not-billable').details!.text).toMatch(/^Recorded E11 Type 2 diabetes mellitus is a header.*E11\.00.*and 78 more/);
  expect(rule('seventh-character')).toMatchObject({ expression: ['Parameters.parameter[2].resource'] });
  expect(rule('seventh-character').details!.text).toMatch(/S72\.001A/);
});

test('CDS: a recorded code the year lacks gets an information card, indicator warning, no suggestion', async () => {
  const cards = await hook(HYPERTENSION, searchset(condition('c-9', 'E11.A')));
  const info = cards.filter((c) => !c.suggestions);
  expect(info).toHaveLength(1);
  expect(info[0]).toMatchObject({ indicator: 'warning', summary: 'Coding rule (Not in the code set): recorded ICD-10-CM E11.A' });
  expect(info[0].detail).toMatch(/^Coding rule: Not in the code set\\\. Recorded E11\\\.A is not in the FY2023 code set/);
});

test('diabetes with CKD stage 3b: the combination first, then the stage; nothing missing', async () => {
  const cards = await hook(`DISCHARGE SUMMARY

DISCHARGE DIAGNOSES
1. Chronic kidney disease stage 3b.
2. Type 2 diabetes mellitus with diabetic chronic kidney disease.
`);
  const codes = cards.map(codeOf);
  expect(codes).toEqual(expect.arrayContaining(['E11.22', 'N18.32']));
  expect(codes.indexOf('E11.22')).toBeLessThan(codes.indexOf('N18.32'));
  expect(cards.find((c) => codeOf(c) === 'E11.22')!.detail).not.toMatch(/Use additional code\\\. /);
});
