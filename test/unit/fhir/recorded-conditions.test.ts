import type { Condition } from '@medplum/fhirtypes';
import { recordedCodesOf, recordedReferenceOf } from '../../../src/fhir/recorded-conditions';

const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const status = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code }] });
const condition = (id: string | undefined, codings: Condition['code'], extra: Partial<Condition> = {}): Condition => ({
  resourceType: 'Condition',
  ...(id ? { id } : {}),
  subject: { reference: 'Patient/1288992' },
  code: codings,
  ...extra,
});

test.each<[string, Condition, { code: string; display?: string; reference?: string; identifier?: object }[]]>([
  [
    'dotted code with display',
    condition('c1', { coding: [{ system: ICD10CM, code: 'I50.9', display: 'Heart failure, unspecified' }] }),
    [{ code: 'I50.9', display: 'Heart failure, unspecified', reference: 'Condition/c1' }],
  ],
  [
    'undotted lower-case code is normalized',
    condition('c2', { coding: [{ system: ICD10CM, code: 'i5023' }] }),
    [{ code: 'I50.23', reference: 'Condition/c2' }],
  ],
  [
    'the ICD-10-CM OID is accepted',
    condition('c3', { coding: [{ system: 'urn:oid:2.16.840.1.113883.6.90', code: 'I10' }] }),
    [{ code: 'I10', reference: 'Condition/c3' }],
  ],
  [
    'other systems are ignored (WHO ICD-10, SNOMED CT)',
    condition('c4', {
      coding: [
        { system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' },
        { system: 'http://snomed.info/sct', code: '38341003' },
      ],
    }),
    [],
  ],
  ['a malformed code is ignored', condition('c5', { coding: [{ system: ICD10CM, code: 'I5.023' }] }), []],
  [
    'the same code twice in one Condition counts once',
    condition('c6', {
      coding: [
        { system: ICD10CM, code: 'I10' },
        { system: ICD10CM, code: 'I10' },
      ],
    }),
    [{ code: 'I10', reference: 'Condition/c6' }],
  ],
  [
    'two ICD-10-CM codes in one Condition count both',
    condition('c7', {
      coding: [
        { system: ICD10CM, code: 'E11.65' },
        { system: ICD10CM, code: 'R73.9' },
      ],
    }),
    [
      { code: 'E11.65', reference: 'Condition/c7' },
      { code: 'R73.9', reference: 'Condition/c7' },
    ],
  ],
  ['refuted records nothing', condition('c8', { coding: [{ system: ICD10CM, code: 'I10' }] }, { verificationStatus: status('refuted') }), []],
  ['entered-in-error records nothing', condition('c9', { coding: [{ system: ICD10CM, code: 'I10' }] }, { verificationStatus: status('entered-in-error') }), []],
  [
    'provisional counts (e.g. an accepted suggestion)',
    condition('c10', { coding: [{ system: ICD10CM, code: 'I10' }] }, { verificationStatus: status('provisional') }),
    [{ code: 'I10', reference: 'Condition/c10' }],
  ],
  [
    'no id: the identifier is kept instead',
    condition(undefined, { coding: [{ system: ICD10CM, code: 'I10' }] }, { identifier: [{ system: 'urn:ehr', value: '42' }] }),
    [{ code: 'I10', identifier: { system: 'urn:ehr', value: '42' } }],
  ],
  ['no code at all', condition('c11', undefined), []],
])('%s', (_name, resource, expected) => {
  expect(recordedCodesOf([resource])).toEqual(expected);
});

test('tolerates non-conformant prefetched content', () => {
  const junk = [
    null,
    { resourceType: 'Condition', identifier: 'x', verificationStatus: 'refuted', code: { coding: 'I10' } },
    { resourceType: 'Condition', code: { coding: [null, { system: ICD10CM, code: 10 }] } },
  ];
  expect(recordedCodesOf(junk as unknown as Condition[])).toEqual([]);
});

test('recordedReferenceOf: by id, else identifier, else display only', () => {
  expect(recordedReferenceOf({ code: 'I50.9', display: 'Heart failure, unspecified', reference: 'Condition/c1' })).toEqual({
    reference: 'Condition/c1',
    display: 'I50.9 Heart failure, unspecified',
  });
  expect(recordedReferenceOf({ code: 'I10', identifier: { system: 'urn:ehr', value: '42' } })).toEqual({
    identifier: { system: 'urn:ehr', value: '42' },
    display: 'I10',
  });
  expect(recordedReferenceOf({ code: 'I10' })).toEqual({ display: 'I10' });
});
