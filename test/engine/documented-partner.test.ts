/**
 * A partner code that a suggested code's Tabular note requires ("use additional code to identify
 * type of heart failure (I50.-)" at I11.0) is suggested whenever the Index finds it documented,
 * even ranked below the threshold (engine.ts documentedPartners), so the coder is never told
 * "add it when the note documents it" about a code the note documents.
 */
import type { Bundle, Condition, OperationOutcome } from '@medplum/fhirtypes';
import request from 'supertest';
import { inlineAnalyzer } from '../../src/analysis/analyzer';
import { candidatesOf, documentedPartners, type Candidate } from '../../src/engine/engine';
import type { IndexEngine } from '../../src/engine/index-engine';
import { createTestApp } from '../helpers/app';
import { fullEngine, indexEngine } from '../helpers/engine';
import { expectValidFhir, resourcesOf } from '../helpers/expect-valid';
import { documentReference, parametersOf } from '../helpers/resources';

jest.setTimeout(60_000);

const NOTE = `DISCHARGE SUMMARY
DISCHARGE DIAGNOSES:
1. Acute on chronic systolic congestive heart failure, ejection fraction 25%.
2. Hypertension.
HOSPITAL COURSE: 74-year-old man with known heart failure with reduced ejection fraction presented with orthopnea and bilateral leg edema after dietary indiscretion. He was treated with IV furosemide.
`;

let index: IndexEngine;
let candidates: Candidate[];
beforeAll(async () => {
  index = await indexEngine();
  candidates = candidatesOf({ index, labels: [], texts: [NOTE], probabilities: [undefined], setting: 'inpatient', modelFloor: 1 });
});
const row = (code: string, confidence: number) => ({ c: candidates.find((c) => c.code === code)!, confidence });

test('the documented partner below the threshold is added, marked with the code that requires it', () => {
  expect(candidates.map((c) => c.code)).toEqual(expect.arrayContaining(['I11.0', 'I50.23', 'R60.0']));
  const kept = [row('I11.0', 0.9)];
  const added = documentedPartners(index.codeSet, kept, [...kept, row('I50.23', 0.1), row('R60.0', 0.2)]);
  expect(added.map((a) => [a.c.code, a.partnerOf])).toEqual([['I50.23', 'I11.0']]);
});

test('nothing is added when the partner is already kept, or when no code asks for one', () => {
  const both = [row('I11.0', 0.9), row('I50.23', 0.8)];
  expect(documentedPartners(index.codeSet, both, [...both, row('R60.0', 0.1)])).toEqual([]);
  const edema = [row('R60.0', 0.9)];
  expect(documentedPartners(index.codeSet, edema, [...edema, row('I50.23', 0.1)])).toEqual([]);
});

test('a classifier-only candidate is never added as a partner: the note must document it through the Index', () => {
  const kept = [row('I11.0', 0.9)];
  const modelOnly = { c: { code: 'I50.9', display: 'Heart failure, unspecified', supports: [], notes: [], modelProbability: 0.3 }, confidence: 0.2 };
  expect(documentedPartners(index.codeSet, kept, [...kept, modelOnly])).toEqual([]);
});

test('over HTTP: I11.0 comes with I50.23 and no "use additional code" finding; edema and orthopnea are integral to the failure', async () => {
  const { engine, info } = await fullEngine('both');
  const { app } = await createTestApp({ engine: 'both' }, inlineAnalyzer(engine, info));
  const res = await request(app)
    .post('/fhir/DocumentReference/$suggest-conditions')
    .set('Content-Type', 'application/fhir+json')
    .send(JSON.stringify(parametersOf(documentReference(NOTE))));
  expect(res.status).toBe(200);
  expectValidFhir(res.body);
  const resources = resourcesOf(res.body as Bundle);
  const codes = resources.filter((r): r is Condition => r.resourceType === 'Condition').map((c) => c.code!.coding![0].code);
  expect(codes).toEqual(expect.arrayContaining(['I11.0', 'I50.23']));
  expect(codes).not.toContain('R60.0');
  expect(codes).not.toContain('R06.01');
  const issues = resources.filter((r): r is OperationOutcome => r.resourceType === 'OperationOutcome').flatMap((o) => o.issue);
  expect(issues.filter((i) => i.details?.coding?.[0].code === 'use-additional-code' && /I11\.0/.test(i.details.text ?? ''))).toEqual([]);
});
