/**
 * The encounter's discharge summaries: from prefetch when the client sent them, otherwise
 * read from `fhirServer` (CDS Hooks 2.0 §Prefetch); only documents about this patient and
 * this encounter, of a discharge-summary LOINC type, are kept.
 */
import type { Bundle, DocumentReference, Resource } from '@medplum/fhirtypes';
import { preconditionFailed } from '../errors';
import { LOINC_SYSTEM } from '../fhir/constants';
import { typedIdOf } from '../fhir/document-reference';
import { entriesOf, nextPageOf, type FhirClient } from '../fhir/fhir-client';

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
  return v.resourceType === 'Bundle' && Array.isArray(v.entry) && v.entry.length > 0 && v.entry.every((e) => e?.resource?.resourceType === 'OperationOutcome');
}

/**
 * Documents from the prefetch value or the FHIR server.
 * @param prefetch - the request's prefetch object
 * @param client - FHIR access, when the request gave fhirServer
 * @param query - the search to run when the prefetch cannot be used
 * @returns the resources found (not yet filtered)
 * @throws OperationOutcomeError 412 when neither source can supply them
 */
export async function fetchSummaries(prefetch: Record<string, unknown> | undefined, client: FhirClient | undefined, query: string): Promise<Resource[]> {
  const hasKey = !!prefetch && Object.prototype.hasOwnProperty.call(prefetch, SUMMARIES_KEY);
  const value = hasKey ? prefetch![SUMMARIES_KEY] : undefined;
  // §Prefetch: null means the client has no data for this key: nothing to suggest.
  if (hasKey && value === null) return [];
  if (hasKey && !isOperationOutcome(value) && value && typeof value === 'object') {
    const resource = value as Resource;
    if (resource.resourceType === 'DocumentReference') return [resource];
    if (resource.resourceType === 'Bundle') {
      const entries = entriesOf(resource);
      // Prefetched searchsets may be paginated: read the rest with the hook's token.
      const more = client && nextPageOf(resource) ? await client.morePages(resource).catch(() => undefined) : [];
      if (more) return [...entries, ...more];
    }
  }
  // Absent, unusable (e.g. an OperationOutcome) or incomplete prefetch: read it ourselves.
  if (!client) {
    throw preconditionFailed(
      'The discharge summaries were not prefetched, and the request names no fhirServer to read them from that this client may send the service to',
    );
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
export function summariesFor(resources: readonly Resource[], patientId: string, encounterId: string, loincCodes: readonly string[]): DocumentReference[] {
  return resources.filter((r): r is DocumentReference => {
    if (r.resourceType !== 'DocumentReference' || !isReadable(r)) return false;
    const isSummary = r.type?.coding?.some((c) => c.system === LOINC_SYSTEM && loincCodes.includes(c.code ?? ''));
    // Safety: never read another patient's note, nor one from another stay (servers may
    // ignore search parameters they do not support, so the search alone is not trusted).
    const samePatient = typedIdOf(r.subject) === `Patient/${patientId}`;
    const sameEncounter = (r.context?.encounter ?? []).some((e) => typedIdOf(e) === `Encounter/${encounterId}`);
    return !!isSummary && samePatient && sameEncounter;
  });
}

type Check = (value: unknown) => boolean;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);
const isString: Check = (v) => typeof v === 'string';
/** An object whose listed elements pass their checks (other elements are not looked at). */
const shaped =
  (elements: Record<string, Check>): Check =>
  (v) =>
    isObject(v) && Object.entries(elements).every(([name, check]) => check(v[name]));
const arrayOf =
  (check: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(check);

const reference = shaped({ reference: optional(isString) });
const identifier = shaped({ system: optional(isString), value: optional(isString) });
/** The elements of a DocumentReference this service reads, with their R4 JSON types. */
const readableDocument = shaped({
  id: optional(isString),
  status: optional(isString),
  docStatus: optional(isString),
  date: optional(isString),
  type: optional(
    shaped({
      text: optional(isString),
      coding: optional(arrayOf(shaped({ system: optional(isString), code: optional(isString), display: optional(isString) }))),
    }),
  ),
  subject: optional(shaped({ reference: optional(isString), identifier: optional(identifier) })),
  context: optional(shaped({ encounter: optional(arrayOf(reference)) })),
  relatesTo: optional(arrayOf(shaped({ code: optional(isString), target: optional(reference) }))),
  masterIdentifier: optional(identifier),
  identifier: optional(arrayOf(identifier)),
  content: arrayOf(shaped({ attachment: shaped({ contentType: optional(isString), data: optional(isString), url: optional(isString) }) })),
});

/**
 * Whether the elements of a DocumentReference that this service reads have the JSON types R4
 * gives them. Prefetched and fetched documents are not schema-checked (a tolerant reader:
 * unknown elements or ids outside the R4 id syntax do not matter), but a `content` that is
 * not an array or a `data` that is not a string cannot be read: such a document is left out,
 * as unreadable, rather than failing the call.
 * @param doc - a resource with resourceType DocumentReference
 */
export function isReadable(doc: DocumentReference): boolean {
  return readableDocument(doc);
}
