/**
 * The `icd10cm-suggestions` service (hook encounter-discharge): discharge summaries of the
 * encounter → notes → suggestConditions → delta against the encounter's recorded Conditions
 * → cards, audited before they are returned (store/audit.ts). Reads from the EHR, never
 * writes to it.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import type { Services } from '../app';
import { applyRecordedCodes } from '../coding/recorded-codes';
import { AnalysisQueueFullError, AnalysisUnavailableError } from '../analysis/analyzer';
import { OperationOutcomeError, preconditionFailed, unavailable } from '../errors';
import { chooseDocuments, noteOf } from '../fhir/document-reference';
import { loadProfiles } from '../fhir/profiles';
import { recordedCodesOf } from '../fhir/recorded-conditions';
import type { Note } from '../note/note';
import { auditDocumentsOf, auditSuggestionOf, writeAudit } from '../store/audit';
import { ServerTiming } from '../http/server-timing';
import type { AuditAnalysis, AuditOutcome, AuditSuggestion } from '../store/store';
import { pendingCard, toCards } from './cards';
import { fetchSummaries, summariesFor, summariesQuery, SUMMARIES_KEY } from './discharge-summaries';
import { CONDITIONS_KEY, conditionsQuery, recordedConditions, type RecordedConditions } from './encounter-conditions';
import { createFhirClient, FhirAccessError, type FhirClient } from './fhir-client';
import { parseHookRequest } from './request';
import type { CdsServiceDefinition, EncounterDischargeContext, HookResponse } from './types';

export const SERVICE_ID = 'icd10cm-suggestions';

/** The discovery entry. */
export function definitionOf(loincCodes: readonly string[]): CdsServiceDefinition {
  return {
    hook: 'encounter-discharge',
    id: SERVICE_ID,
    title: 'ICD-10-CM coding suggestions from the discharge summary',
    description:
      'Suggests ICD-10-CM encounter diagnoses found in the discharge summary by a machine-learning model, each with its confidence and the passage of the note that supports it. Suggestions only: nothing is recorded unless a clinician or coder accepts a card, and accepted diagnoses are created as provisional.',
    prefetch: {
      [SUMMARIES_KEY]: summariesQuery('{{context.patientId}}', loincCodes),
      [CONDITIONS_KEY]: conditionsQuery('{{context.patientId}}', '{{context.encounterId}}'),
    },
    usageRequirements:
      'Needs the discharge summary (DocumentReference with inline text, or a Binary readable with the hook\'s FHIR token), by prefetch or by read access to DocumentReference and Binary on fhirServer. The encounter\'s Conditions (prefetch, or read access to Condition) let it leave out codes already recorded and show more specific codes as refinements; without them it still answers.',
  };
}

/**
 * @param services - app services
 * @param definition - this service's discovery entry
 */
export function icd10cmSuggestions(services: Services, definition: CdsServiceDefinition) {
  const { config, log, model } = services;
  const profiles = loadProfiles();

  return async (body: unknown, requestId: string, timing = new ServerTiming()): Promise<HookResponse> => {
    // The time budget runs from here (after authentication and body parsing).
    const deadline = performance.now() + config.hookTimeBudgetMs;
    const request = parseHookRequest<EncounterDischargeContext>(body, definition, 'encounterDischargeContext');
    const { patientId, encounterId } = request.context;
    const client: FhirClient | undefined = request.fhirServer
      ? createFhirClient({
          baseUrl: request.fhirServer,
          accessToken: request.fhirAuthorization?.access_token,
          timeoutMs: config.fhirTimeoutMs,
          maxBytes: config.maxBodyBytes,
        })
      : undefined;
    // Read alongside the summaries (latency budget, §Calling a CDS Service); never rejects.
    const recordedPending: Promise<RecordedConditions> = recordedConditions(request.prefetch, client, patientId, encounterId)
      .catch(() => ({ conditions: [], known: false, reason: 'unreadable prefetch' }));
    const query = summariesQuery(encodeURIComponent(patientId), config.dischargeSummaryLoinc);
    const found = await fetchSummaries(request.prefetch, client, query);
    const summaries = summariesFor(found, patientId, encounterId, config.dischargeSummaryLoinc);
    const choice = chooseDocuments(summaries);

    const notes: Note[] = [];
    let unobtainable = 0;
    for (const index of choice.use) {
      const doc: DocumentReference = summaries[index];
      try {
        notes.push(await timing.time('decode', () => noteOf(doc, {
          maxBytes: config.maxBodyBytes,
          maxNoteChars: config.maxNoteChars,
          fetchAttachment: client ? (url) => client.attachment(url) : undefined,
        })));
      } catch (error) {
        if (error instanceof FhirAccessError) unobtainable++;
        else if (!(error instanceof OperationOutcomeError)) throw error;
        // A document we cannot read (e.g. PDF only) yields no cards; the reason is logged,
        // without content.
        log.warn({ requestId, hookInstance: request.hookInstance, reason: error instanceof FhirAccessError ? error.reason : (error as OperationOutcomeError).message }, 'document skipped');
      }
    }
    log.info({
      requestId,
      hookInstance: request.hookInstance,
      found: found.length,
      summaries: summaries.length,
      notes: notes.length,
    }, 'encounter-discharge documents');
    // Every call answered 200 is audited before the answer goes out, also when nothing is
    // suggested (store/audit.ts: no audit, no answer).
    const audit = (outcome: AuditOutcome, suggestions: AuditSuggestion[], analysis?: AuditAnalysis) => writeAudit(services.store, {
      requestId,
      edge: 'cds-hooks',
      service: definition.id,
      callId: request.hookInstance,
      user: request.context.userId,
      patient: `Patient/${patientId}`,
      encounter: `Encounter/${encounterId}`,
      model: { name: model.name, version: model.version },
      outcome,
      ...(analysis && analysis !== 'computed' ? { analysis } : {}),
      recordedAt: services.now().toISOString(),
      documents: auditDocumentsOf(notes),
      suggestions,
    }, log);
    if (notes.length === 0) {
      if (unobtainable > 0) throw preconditionFailed('The discharge summary could not be read from the FHIR server');
      await audit('no-document', []);
      return { cards: [] };
    }

    const result = await services.suggestions.suggest(notes, { deadline, requestId }).catch((error: unknown) => {
      if (error instanceof AnalysisQueueFullError) throw unavailable('Too many notes are being analysed; retry later');
      if (error instanceof AnalysisUnavailableError) throw unavailable('The analysis was interrupted; retry');
      throw error;
    });
    if (result.status === 'pending') {
      // Over budget: one information card now; the analysis goes on into the result cache.
      log.info({ requestId, hookInstance: request.hookInstance, budgetMs: config.hookTimeBudgetMs }, 'encounter-discharge analysis pending');
      const card = pendingCard({ model, topics: profiles.cdsTopics, newId: services.newId });
      await audit('no-suggestion', [], 'pending');
      return { cards: [card] };
    }
    timing.addAnalysis(result.timings);
    const { suggestions } = result;
    // Delta coding: codes already recorded on the encounter are left out, finer ones refine them.
    const recorded = await recordedPending;
    const delta = applyRecordedCodes(suggestions, recordedCodesOf(recorded.conditions));
    log.info({
      requestId,
      hookInstance: request.hookInstance,
      recordedConditions: recorded.conditions.length,
      recordedKnown: recorded.known,
      ...(recorded.reason ? { recordedReason: recorded.reason } : {}),
      dropped: delta.dropped.length,
      refinements: delta.suggestions.filter((s) => s.refines).length,
    }, 'encounter-discharge delta coding');
    const serializeStarted = performance.now();
    const cards = toCards(delta.suggestions, {
      patientId,
      encounterId,
      model,
      notes,
      newId: services.newId,
      overrideReasons: profiles.overrideReasons,
      topics: profiles.cdsTopics,
      recordedUnknown: !recorded.known,
    });
    timing.add('serialize', performance.now() - serializeStarted);
    // toCards makes one card per suggestion, in order.
    await audit(cards.length > 0 ? 'suggestions' : 'no-suggestion', delta.suggestions.map((suggestion, i) =>
      auditSuggestionOf(suggestion, notes, { cardUuid: cards[i].uuid, suggestionId: cards[i].suggestions![0].uuid })), result.cached ? 'cached' : 'computed');
    return { cards };
  };
}
