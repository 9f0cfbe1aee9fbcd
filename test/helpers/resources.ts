/**
 * Builders of request bodies for tests: DocumentReferences, Parameters, hook requests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DocumentReference, Parameters } from '@medplum/fhirtypes';

export const NOTES_DIR = path.join(__dirname, '..', 'fixtures', 'notes');
export const SAMPLE_NOTE = readFileSync(path.join(NOTES_DIR, 'discharge-summary.txt'), 'utf8');

export const base64 = (text: string, encoding: BufferEncoding = 'utf8') => Buffer.from(text, encoding).toString('base64');

/** A discharge summary DocumentReference (US Core shape) holding `text` inline. */
export function documentReference(text: string, overrides: Partial<DocumentReference> = {}): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    id: 'ds-1',
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' }] },
    category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category', code: 'clinical-note' }] }],
    subject: { reference: 'Patient/1288992' },
    date: '2026-11-25T10:00:00Z',
    context: { encounter: [{ reference: 'Encounter/456' }] },
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: base64(text) } }],
    ...overrides,
  };
}

/** Parameters with one `document` per DocumentReference. */
export function parametersOf(...docs: DocumentReference[]): Parameters {
  return { resourceType: 'Parameters', parameter: docs.map((resource) => ({ name: 'document', resource })) };
}

/** An encounter-discharge request for Patient/1288992, Encounter/456. */
export function hookRequest(overrides: Record<string, unknown> = {}) {
  return {
    hook: 'encounter-discharge',
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    context: { userId: 'PractitionerRole/A2340113', patientId: '1288992', encounterId: '456' },
    ...overrides,
  };
}

/** A searchset Bundle, as a client prefetches it. */
export function searchset(...resources: object[]) {
  return { resourceType: 'Bundle', type: 'searchset', total: resources.length, entry: resources.map((resource) => ({ resource })) };
}
