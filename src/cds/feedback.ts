/**
 * POST /cds-services/{id}/feedback (CDS Hooks 2.0 §Feedback): checks the body and logs the
 * outcomes (card ids, outcome, reason codes; no free text, which may hold PHI).
 * Durable storage comes with the audit trail.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Logger } from '../log';
import { badRequest, invalidResource, issue } from '../errors';
import type { Feedback } from './types';
import { validateCds } from './wire-checks';

/**
 * @param body - the parsed JSON body
 * @param serviceId - the service the feedback is for
 * @param log - logger
 * @param requestId - for log correlation
 */
export function receiveFeedback(body: unknown, serviceId: string, log: Logger, requestId: string): void {
  if (body === undefined) throw badRequest('Request body is empty', undefined, 'required');
  const messages = validateCds('feedback', body);
  if (messages.length > 0) {
    throw invalidResource(messages.slice(0, 20).map((m): OperationOutcomeIssue => issue('error', 'structure', m)));
  }
  for (const entry of (body as { feedback: Feedback[] }).feedback) {
    log.info({
      requestId,
      serviceId,
      card: entry.card,
      outcome: entry.outcome,
      acceptedSuggestions: entry.acceptedSuggestions?.map((s) => s.id),
      overrideReason: entry.overrideReason?.reason?.code,
      outcomeTimestamp: entry.outcomeTimestamp,
    }, 'feedback');
  }
}
