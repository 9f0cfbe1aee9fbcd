/**
 * POST /cds-services/{id}/feedback (CDS Hooks 2.0 §Feedback): checks the body and the
 * override reasons, stores every entry durably (linked to the card's audit record by card
 * uuid), then logs the outcomes (card ids, outcome, reason codes; never the free-text
 * comment, which may hold PHI).
 *
 * All or nothing: one invalid entry rejects the body (400) and nothing is stored; a store
 * failure is 503 and nothing is acknowledged, so the client may send it again (repeated
 * entries are stored once).
 *
 * A card uuid no audit record holds is stored anyway, flagged unknown, and answered 200 like
 * any other (the answer does not reveal which cards exist; standards §1.8). Unknown cards are
 * counted apart in the report and left out of its figures.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Logger } from '../log';
import { badRequest, invalidResource, issue, unavailable } from '../errors';
import type { FeedbackRecord, FeedbackResult, Store } from '../store/store';
import { offeredReason } from './override-reasons';
import type { Coding, Feedback } from './types';
import { validateCds } from './wire-checks';

export interface FeedbackContext {
  serviceId: string;
  requestId: string;
  /** The reasons offered on this service's cards (overrideReasonsOf). */
  overrideReasons: readonly Coding[];
  store: Store;
  log: Logger;
  /** Reception time. */
  now: Date;
}

/**
 * The instant of an RFC 3339 date-time (schema-checked) as ISO 8601 UTC, for ordering; a leap
 * second (:60) counts as the last millisecond before it. Undefined for an impossible date
 * (e.g. February 30), which JavaScript would roll over.
 * @param timestamp - outcomeTimestamp
 */
export function instantOf(timestamp: string): string | undefined {
  const [y, m, d] = timestamp.slice(0, 10).split('-').map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return undefined;
  const instant = new Date(timestamp.replace(/^(.{17})60(\.\d+)?/, '$159.999'));
  return Number.isNaN(instant.getTime()) ? undefined : instant.toISOString();
}

/**
 * The stored form of each entry, or the issues that make the body invalid.
 * @param entries - schema-valid feedback entries
 * @param ctx - reasons, ids, clock
 */
function recordsOf(entries: readonly Feedback[], ctx: FeedbackContext): { records: FeedbackRecord[]; issues: OperationOutcomeIssue[] } {
  const issues: OperationOutcomeIssue[] = [];
  const records = entries.map((entry, i): FeedbackRecord => {
    const sent = entry.overrideReason?.reason;
    const reason = sent ? offeredReason(ctx.overrideReasons, sent) : undefined;
    if (sent && !reason) {
      // The reason must be one the card offered (CDS Hooks 2.0 §Feedback: "the Coding of the
      // reason the user selected from the card's overrideReasons").
      issues.push(
        issue(
          'error',
          'code-invalid',
          `The override reason is not one this service offers (system ${ctx.overrideReasons[0]?.system}, codes ${ctx.overrideReasons.map((r) => r.code).join(', ')})`,
          `feedback[${i}].overrideReason.reason`,
        ),
      );
    }
    const outcomeAt = instantOf(entry.outcomeTimestamp);
    if (!outcomeAt) issues.push(issue('error', 'value', 'outcomeTimestamp is not a valid date-time', `feedback[${i}].outcomeTimestamp`));
    return {
      requestId: ctx.requestId,
      service: ctx.serviceId,
      card: entry.card,
      outcome: entry.outcome,
      acceptedSuggestions: entry.acceptedSuggestions?.map((s) => s.id) ?? [],
      ...(reason ? { reason: { system: reason.system, code: reason.code, display: reason.display! } } : {}),
      ...(entry.overrideReason?.userComment ? { userComment: entry.overrideReason.userComment } : {}),
      outcomeTimestamp: entry.outcomeTimestamp,
      outcomeAt: outcomeAt ?? '',
      receivedAt: ctx.now.toISOString(),
    };
  });
  return { records, issues };
}

/**
 * Checks, stores and logs a feedback body.
 * @param body - the parsed JSON body
 * @param ctx - service id, request id, offered reasons, store, logger, clock
 * @throws OperationOutcomeError 400 (invalid body or reason), 503 (store failure)
 */
export async function receiveFeedback(body: unknown, ctx: FeedbackContext): Promise<void> {
  if (body === undefined) throw badRequest('Request body is empty', undefined, 'required');
  const messages = validateCds('feedback', body);
  if (messages.length > 0) {
    throw invalidResource(messages.slice(0, 20).map((m): OperationOutcomeIssue => issue('error', 'structure', m)));
  }
  const { records, issues } = recordsOf((body as { feedback: Feedback[] }).feedback, ctx);
  if (issues.length > 0) throw invalidResource(issues.slice(0, 20));

  let results: FeedbackResult[];
  try {
    results = await ctx.store.recordFeedback(records);
  } catch (error) {
    ctx.log.error({ requestId: ctx.requestId, store: ctx.store.kind, err: { message: (error as Error).message } }, 'feedback could not be stored');
    throw unavailable('Feedback cannot be stored now; send it again later');
  }
  for (const [i, record] of records.entries()) {
    const { known, duplicate } = results[i];
    const line = {
      requestId: ctx.requestId,
      serviceId: ctx.serviceId,
      card: record.card,
      known,
      duplicate,
      outcome: record.outcome,
      acceptedSuggestions: record.acceptedSuggestions,
      overrideReason: record.reason?.code,
      outcomeTimestamp: record.outcomeTimestamp,
    };
    if (known) ctx.log.info(line, 'feedback');
    else ctx.log.warn(line, 'feedback for a card this service has no audit record of');
  }
}
