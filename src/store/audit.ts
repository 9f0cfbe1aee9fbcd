/**
 * Audit records from what the edges already hold (notes, suggestions, the ids they showed),
 * and the one way both edges write them: before answering, or not at all.
 *
 * Content never enters a record: documents are identified by reference and by the SHA-256
 * of their decoded text (the text evidence offsets index), evidence by offsets in Unicode
 * code points, the unit the service publishes (derivation-reference offset/length).
 */
import { createHash } from 'node:crypto';
import type { Reference } from '@medplum/fhirtypes';
import { unavailable } from '../errors';
import { codePointIndex } from '../note/code-points';
import type { Logger } from '../log';
import type { Note, NoteSource } from '../note/note';
import type { Suggestion } from '../suggest';
import type { AuditDocument, AuditRecord, AuditSuggestion, Store } from './store';

/** A reference as text: `Patient/123`, or `identifier:<system>|<value>` when only an identifier is known. */
export function referenceText(ref: Pick<Reference, 'reference' | 'identifier'> | NoteSource | undefined): string | undefined {
  if (!ref) return undefined;
  if (ref.reference) return ref.reference;
  if (ref.identifier?.value) return `identifier:${ref.identifier.system ?? ''}|${ref.identifier.value}`;
  return undefined;
}

/**
 * The documents of a call: reference, content element, media type, SHA-256 of the decoded
 * text as UTF-8, and its length in code points.
 * @param notes - the decoded notes, in the order evidence indexes them
 */
export function auditDocumentsOf(notes: readonly Note[]): AuditDocument[] {
  return notes.map((note) => ({
    reference: referenceText(note.source),
    contentIndex: note.source.contentIndex,
    contentType: note.source.contentType,
    sha256: createHash('sha256').update(note.text, 'utf8').digest('hex'),
    length: codePointIndex(note, note.text.length),
  }));
}

/**
 * One suggestion as audited: code, score, threshold, ids shown, status, evidence offsets
 * (converted from UTF-16 to code points). Never the quoted text.
 * @param suggestion - the suggestion shown (a DeltaSuggestion carries the codes it refines)
 * @param notes - the notes its evidence points into
 * @param ids - the card uuid (CDS) and the suggestion / Condition id
 */
export function auditSuggestionOf(
  suggestion: Suggestion & { refines?: readonly { code: string }[] },
  notes: readonly Note[],
  ids: { cardUuid?: string; suggestionId: string },
): AuditSuggestion {
  return {
    code: suggestion.code,
    score: suggestion.score,
    threshold: suggestion.threshold,
    ...(ids.cardUuid ? { cardUuid: ids.cardUuid } : {}),
    suggestionId: ids.suggestionId,
    ...(suggestion.status ? { status: suggestion.status } : {}),
    ...(suggestion.refines?.length ? { refines: suggestion.refines.map((r) => r.code) } : {}),
    evidence: suggestion.evidence.map((e) => ({
      note: e.note,
      start: codePointIndex(notes[e.note], e.start),
      end: codePointIndex(notes[e.note], e.end),
      ...(e.context ? { status: e.context.status } : {}),
    })),
  };
}

/**
 * Writes the audit record before the response goes out. A suggestion that cannot be audited
 * is not served: the store's failure becomes 503 (OperationOutcome, transient), logged
 * without content, so a client may retry and no clinician sees an unaudited suggestion.
 * @param store - where records go
 * @param record - the call
 * @param log - logger
 * @throws OperationOutcomeError 503 when the store fails
 */
export async function writeAudit(store: Store, record: AuditRecord, log: Logger): Promise<void> {
  const started = performance.now();
  try {
    await store.recordAudit(record);
  } catch (error) {
    log.error({ requestId: record.requestId, store: store.kind, err: { message: (error as Error).message } }, 'audit record could not be written');
    throw unavailable('The audit trail cannot be written, so no suggestion is served; retry later');
  }
  log.debug({ requestId: record.requestId, suggestions: record.suggestions.length, ms: performance.now() - started }, 'audit recorded');
}
