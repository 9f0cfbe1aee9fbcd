/**
 * One document of a bulk job, coded exactly as a synchronous $suggest-conditions call with
 * that one document (fhir/suggest-conditions.ts suggestConditionsFor): its Conditions as NDJSON
 * lines, or the OperationOutcome of the call's client error. Errors a retry may cure (503,
 * anything unexpected) are thrown, for the queue to retry.
 */
import type { DocumentReference, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Setting } from '../assign/code-note';
import { invalidResource, issue, OperationOutcomeError, unprocessable } from '../errors';
import type { Profiles } from '../fhir/profiles';
import { suggestConditionsFor } from '../fhir/suggest-conditions';
import { validateResource } from '../fhir/validate';
import type { Services } from '../services';
import type { BulkDocumentResult } from '../store/store';

/** The error entry of a document: the call's issues, then which document of the job it was. */
function errorOf(outcome: OperationOutcome, index: number, doc: { id?: unknown } | undefined): string {
  const reference = typeof doc?.id === 'string' && /^[A-Za-z0-9\-.]{1,64}$/.test(doc.id) ? `DocumentReference/${doc.id}` : undefined;
  const where = issue('information', 'informational', `Document ${index + 1} of the job${reference ? ` (${reference})` : ''}`);
  return JSON.stringify({ ...outcome, issue: [...(outcome.issue ?? []), where] } satisfies OperationOutcome);
}

/**
 * @param services - app services
 * @param profiles - loaded definitions
 * @param task - the document (JSON, as the kick-off gave it), its index, the job's setting and a request id for the audit
 * @throws OperationOutcomeError 5xx, or anything unexpected: worth a retry
 */
export async function codeDocument(
  services: Services,
  profiles: Profiles,
  task: { document: string; index: number; setting?: string; requestId: string },
): Promise<BulkDocumentResult> {
  let parsed: { id?: unknown } | undefined;
  try {
    parsed = JSON.parse(task.document) as { id?: unknown };
    const issues = validateResource(parsed, 'DocumentReference');
    if (issues.length > 0) throw invalidResource(issues);
    const doc = parsed as DocumentReference;
    if (!doc.id && !doc.identifier?.length) {
      throw unprocessable('In a bulk job every document needs an id or an identifier: its Conditions reference it', 'required', 'DocumentReference');
    }
    const setting = task.setting === 'inpatient' || task.setting === 'outpatient' ? (task.setting as Setting) : undefined;
    const bundle = await suggestConditionsFor(
      services,
      profiles,
      { documents: [{ doc, expression: 'DocumentReference' }], recorded: [], ...(setting ? { setting } : {}) },
      { requestId: task.requestId },
    );
    const conditions = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r?.resourceType === 'Condition');
    return { index: task.index, conditions: conditions.map((c) => `${JSON.stringify(c)}\n`).join(''), count: conditions.length };
  } catch (error) {
    if (error instanceof OperationOutcomeError && error.status < 500) {
      return { index: task.index, conditions: '', count: 0, error: errorOf(error.outcome, task.index, parsed) };
    }
    throw error;
  }
}

/** The error entry of a document that could not be coded after every attempt. */
export function gaveUpError(index: number): string {
  return errorOf(
    {
      resourceType: 'OperationOutcome',
      issue: [issue('error', 'transient', 'The document could not be coded after several attempts; start a new job for it')],
    },
    index,
    undefined,
  );
}
