/**
 * Schema checks every response goes through in tests: FHIR resources against the R4 JSON
 * schema, CDS Hooks bodies against the project's 2.0 schemas and invariants, plus the
 * service's own safety rules for suggested Conditions.
 */
import type { Condition, Resource } from '@medplum/fhirtypes';
import { validateCds, type CdsWireKind } from '../../src/cds/wire-checks';
import { validateResource } from '../../src/fhir/validate';

export function expectValidFhir(resource: unknown): void {
  expect(validateResource(resource)).toEqual([]);
}

export function expectValidCds(kind: CdsWireKind, body: unknown): void {
  expect(validateCds(kind, body)).toEqual([]);
}

/** The rules every suggested Condition follows, wherever it appears. */
export function expectSuggestedCondition(condition: Condition): void {
  expectValidFhir(condition);
  expect(condition.verificationStatus?.coding).toEqual([
    { system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional', display: 'Provisional' },
  ]);
  expect(condition.category?.[0].coding?.[0].code).toBe('encounter-diagnosis');
  expect(condition.code?.coding?.[0].system).toBe('http://hl7.org/fhir/sid/icd-10-cm');
  expect(condition.code?.coding?.[0].code).toMatch(/^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$/);
  expect(condition.meta?.security?.[0].code).toBe('AIAST');
  const confidence = condition.extension?.find((e) => e.url === 'http://hl7.org/fhir/uv/aitransparency/StructureDefinition/AIconfidence');
  expect(confidence?.valueDecimal).toBeGreaterThan(0);
  expect(confidence?.valueDecimal).toBeLessThanOrEqual(1);
  expect(condition.evidence?.[0].detail?.length).toBeGreaterThan(0);
  expect(condition.clinicalStatus).toBeUndefined();
}

/** Every resource of a Bundle. */
export function resourcesOf(bundle: { entry?: { resource?: Resource }[] }): Resource[] {
  return (bundle.entry ?? []).map((e) => e.resource!).filter(Boolean);
}

/** Unicode code-point slice (evidence offsets are published in code points). */
export function codePointSlice(text: string, offset: number, length: number): string {
  return Array.from(text)
    .slice(offset, offset + length)
    .join('');
}
