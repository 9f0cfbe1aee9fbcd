/**
 * The Conditions already recorded on the encounter (prefetch key `encounterConditions`), for
 * delta coding. Read like the discharge summaries (CDS Hooks 2.0 §Prefetch): a `null` value
 * means none; an absent key or an OperationOutcome is read from `fhirServer` with the hook's
 * token. Unlike the summaries they are not required: when they cannot be obtained (no
 * fhirServer, or the server fails) the service still answers, without delta coding, and the
 * cards say the recorded diagnoses could not be checked. Never 412 for these.
 */
import type { Bundle, Condition, Resource } from '@medplum/fhirtypes';
import { typedIdOf } from '../fhir/document-reference';
import { isOperationOutcome } from './discharge-summaries';
import { FhirAccessError, type FhirClient } from '../fhir/fhir-client';

/** Prefetch key of the encounter's recorded Conditions (see icd10cm-suggestions.ts). */
export const CONDITIONS_KEY = 'encounterConditions';

/** The search both the prefetch template and our own fetch use. */
export function conditionsQuery(patientToken: string, encounterToken: string): string {
  return `Condition?patient=${patientToken}&encounter=${encounterToken}`;
}

export interface RecordedConditions {
  /** The Conditions of this patient and encounter (unfiltered by status). */
  conditions: Condition[];
  /** False when they could not be obtained: delta coding is then skipped. */
  known: boolean;
  /** Why they are unknown (for the log; never content). */
  reason?: string;
}

/**
 * Reads the recorded Conditions from prefetch or fhirServer. Never throws for a FHIR
 * access problem: the result is then `known: false`.
 * @param prefetch - the request's prefetch object
 * @param client - FHIR access, when the request gave fhirServer
 * @param patientId - context.patientId
 * @param encounterId - context.encounterId
 */
export async function recordedConditions(
  prefetch: Record<string, unknown> | undefined,
  client: FhirClient | undefined,
  patientId: string,
  encounterId: string,
): Promise<RecordedConditions> {
  const keep = (resources: readonly Resource[]): RecordedConditions => ({ conditions: conditionsFor(resources, patientId, encounterId), known: true });
  const hasKey = !!prefetch && Object.prototype.hasOwnProperty.call(prefetch, CONDITIONS_KEY);
  const value = hasKey ? prefetch![CONDITIONS_KEY] : undefined;
  // §Prefetch: null means the client has no data for this key: nothing is recorded.
  if (hasKey && value === null) return keep([]);
  let prefetched: Resource[] | undefined;
  if (hasKey && !isOperationOutcome(value) && value && typeof value === 'object') {
    const resource = value as Resource;
    if (resource.resourceType === 'Condition') return keep([resource]);
    if (resource.resourceType === 'Bundle') {
      // Tolerant reader: prefetched Bundles are not schema-checked.
      prefetched = (Array.isArray(resource.entry) ? resource.entry : []).map((e) => e?.resource).filter((r): r is Resource => !!r);
      if (!(Array.isArray(resource.link) && resource.link.some((l) => l?.relation === 'next'))) return keep(prefetched);
      // Prefetched searchsets may be paginated: read the rest with the hook's token.
      const more = client ? await client.morePages(resource as Bundle).catch(() => undefined) : undefined;
      if (more) return keep([...prefetched, ...more]);
    }
  }
  // Absent, unusable (e.g. an OperationOutcome) or incomplete prefetch: read it ourselves.
  if (!client) {
    return { conditions: conditionsFor(prefetched ?? [], patientId, encounterId), known: false, reason: 'not prefetched and no fhirServer' };
  }
  try {
    return keep(await client.search(conditionsQuery(encodeURIComponent(patientId), encodeURIComponent(encounterId))));
  } catch (error) {
    // What was prefetched still counts (a partial delta beats none), but the cards say the
    // recorded diagnoses could not all be read.
    return {
      conditions: conditionsFor(prefetched ?? [], patientId, encounterId),
      known: false,
      reason: error instanceof FhirAccessError ? error.reason : 'search failed',
    };
  }
}

/**
 * Keeps the Conditions of this patient and encounter (servers may ignore search parameters,
 * and a Condition of another stay, e.g. a problem-list item, is not coded on this one).
 * @param resources - what prefetch or search returned
 * @param patientId - context.patientId
 * @param encounterId - context.encounterId
 */
export function conditionsFor(resources: readonly Resource[], patientId: string, encounterId: string): Condition[] {
  return resources.filter(
    (r): r is Condition =>
      r?.resourceType === 'Condition' && typedIdOf(r.subject) === `Patient/${patientId}` && typedIdOf(r.encounter) === `Encounter/${encounterId}`,
  );
}
