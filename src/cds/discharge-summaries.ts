/**
 * The encounter's discharge summaries: from prefetch when the client sent them, otherwise
 * read from `fhirServer` (CDS Hooks 2.0 §Prefetch); only documents about this patient and
 * this encounter, of a discharge-summary LOINC type, are kept.
 */
import type { Bundle, DocumentReference, Resource } from '@medplum/fhirtypes';
import { preconditionFailed } from '../errors';
import { LOINC_SYSTEM } from '../fhir/constants';
import { typedIdOf } from '../fhir/document-reference';
import type { FhirClient } from './fhir-client';

/** Prefetch key of the discharge summaries (see services.ts). */
export const SUMMARIES_KEY = 'dischargeSummaries';

/** The search both the prefetch template and our own fetch use. */
export function summariesQuery(patientToken: string, loincCodes: readonly string[]): string {
  const types = loincCodes.map((code) => `${LOINC_SYSTEM}|${code}`).join(',');
  return `DocumentReference?patient=${patientToken}&type=${types}`;
}

/** Whether a prefetch value reports a failed prefetch (§Prefetch: an OperationOutcome, possibly in a Bundle). */
export function isOperationOutcome(value: unknown): boolean {
  const v = value as Resource | Bundle | null;
  if (!v || typeof v !== 'object') return false;
  if (v.resourceType === 'OperationOutcome') return true;
  // A Bundle whose only content is an OperationOutcome reports a failed prefetch too.
  return v.resourceType === 'Bundle' && (v.entry ?? []).length > 0 &&
    (v.entry ?? []).every((e) => e.resource?.resourceType === 'OperationOutcome');
}

/**
 * Documents from the prefetch value or the FHIR server.
 * @param prefetch - the request's prefetch object
 * @param client - FHIR access, when the request gave fhirServer
 * @param query - the search to run when the prefetch cannot be used
 * @returns the resources found (not yet filtered)
 * @throws OperationOutcomeError 412 when neither source can supply them
 */
export async function fetchSummaries(
  prefetch: Record<string, unknown> | undefined,
  client: FhirClient | undefined,
  query: string,
): Promise<Resource[]> {
  const hasKey = !!prefetch && Object.prototype.hasOwnProperty.call(prefetch, SUMMARIES_KEY);
  const value = hasKey ? prefetch![SUMMARIES_KEY] : undefined;
  // §Prefetch: null means the client has no data for this key: nothing to suggest.
  if (hasKey && value === null) return [];
  if (hasKey && !isOperationOutcome(value) && value && typeof value === 'object') {
    const resource = value as Resource;
    if (resource.resourceType === 'DocumentReference') return [resource];
    if (resource.resourceType === 'Bundle') {
      const entries = (resource.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r);
      // Prefetched searchsets may be paginated: read the rest with the hook's token.
      const more = client && resource.link?.some((l) => l.relation === 'next') ? await client.morePages(resource).catch(() => undefined) : [];
      if (more) return [...entries, ...more];
    }
  }
  // Absent, unusable (e.g. an OperationOutcome) or incomplete prefetch: read it ourselves.
  if (!client) {
    throw preconditionFailed('The discharge summaries were not prefetched and the request gives no fhirServer to read them from');
  }
  try {
    return await client.search(query);
  } catch {
    throw preconditionFailed('The discharge summaries could not be read from the FHIR server');
  }
}

/**
 * Keeps the discharge summaries of this patient and encounter.
 * @param resources - what prefetch or search returned
 * @param patientId - context.patientId
 * @param encounterId - context.encounterId
 * @param loincCodes - LOINC codes of discharge summaries
 */
export function summariesFor(
  resources: readonly Resource[],
  patientId: string,
  encounterId: string,
  loincCodes: readonly string[],
): DocumentReference[] {
  return resources.filter((r): r is DocumentReference => {
    if (r.resourceType !== 'DocumentReference') return false;
    const isSummary = r.type?.coding?.some((c) => c.system === LOINC_SYSTEM && loincCodes.includes(c.code ?? ''));
    // Safety: never read another patient's note, nor one from another stay (servers may
    // ignore search parameters they do not support, so the search alone is not trusted).
    const samePatient = typedIdOf(r.subject) === `Patient/${patientId}`;
    const sameEncounter = (r.context?.encounter ?? []).some((e) => typedIdOf(e) === `Encounter/${encounterId}`);
    return !!isSummary && samePatient && sameEncounter;
  });
}
