import type { CapabilityStatement } from '@medplum/fhirtypes';
import request from 'supertest';
import { loadProfiles } from '../../src/fhir/profiles';
import { createTestApp } from '../helpers/app';
import { expectValidFhir } from '../helpers/expect-valid';

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
beforeAll(async () => {
  ({ app } = await createTestApp({ publicBaseUrl: 'https://cds.example.org' }));
});

test('GET /fhir/metadata: a CapabilityStatement naming the operation by its canonical', async () => {
  const res = await request(app).get('/fhir/metadata');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
  const cs = res.body as CapabilityStatement;
  expectValidFhir(cs);
  expect(cs).toMatchObject({ status: 'active', kind: 'instance', fhirVersion: '4.0.1', implementation: { url: 'https://cds.example.org/fhir' } });
  const docRef = cs.rest![0].resource!.find((r) => r.type === 'DocumentReference')!;
  expect(docRef.operation).toEqual([
    {
      name: 'suggest-conditions',
      definition: 'http://icd10-cds.org/fhir/OperationDefinition/DocumentReference-suggest-conditions',
      documentation: 'Suggest ICD-10-CM encounter diagnoses from a discharge summary',
    },
  ]);
  // Nothing on DocumentReference but the operation: the service stores nothing.
  expect(docRef.interaction).toBeUndefined();
});

test('every definition in fhir-profiles/ is valid FHIR R4 and readable at /fhir/{type}/{id}', async () => {
  const { byReference } = loadProfiles();
  expect([...byReference.keys()].sort()).toEqual([
    'CodeSystem/cds-topic',
    'CodeSystem/coding-rule',
    'CodeSystem/override-reason',
    'OperationDefinition/DocumentReference-suggest-conditions',
    'StructureDefinition/suggested-condition',
  ]);
  for (const [reference, resource] of byReference) {
    expectValidFhir(resource);
    const res = await request(app).get(`/fhir/${reference}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(resource);
  }
});

test('the OperationDefinition declares a side-effect-free type-level operation', () => {
  const op = loadProfiles().suggestOperation;
  expect(op).toMatchObject({ code: 'suggest-conditions', affectsState: false, system: false, type: true, instance: false, resource: ['DocumentReference'] });
  expect(op.parameter!.map((p) => [p.name, p.use, p.min, p.max, p.type])).toEqual([
    ['document', 'in', 1, '*', 'DocumentReference'],
    ['recordedCondition', 'in', 0, '*', 'Condition'],
    ['setting', 'in', 0, '1', 'code'],
    ['encounter', 'in', 0, '1', 'Encounter'],
    ['return', 'out', 1, '1', 'Bundle'],
  ]);
});
