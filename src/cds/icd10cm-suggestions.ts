/**
 * The `icd10cm-suggestions` service (hook encounter-discharge): the hook request and its
 * prefetch (or reads from fhirServer) → the encounter's notes and recorded codes →
 * codeEncounter (coding/code-encounter.ts) → cards. Reads from the EHR, never writes to it.
 */
import type { DocumentReference, Encounter } from '@medplum/fhirtypes';
import type { Caller } from '../auth/authenticate';
import type { FhirServerPolicy } from '../auth/fhir-server-policy';
import { codeEncounter } from '../coding/code-encounter';
import { OperationOutcomeError, preconditionFailed } from '../errors';
import { chooseDocuments, noteOf } from '../fhir/document-reference';
import { createFhirClient, FhirAccessError, type FhirClient } from '../fhir/fhir-client';
import { loadProfiles } from '../fhir/profiles';
import { recordedCodesOf } from '../fhir/recorded-conditions';
import { settingOfEncounter } from '../fhir/encounter-setting';
import { ServerTiming } from '../http/server-timing';
import type { Note } from '../note/note';
import type { Services } from '../services';
import { findingCards, pendingCard, toCards } from './cards';
import { fetchSummaries, summariesFor, summariesQuery, SUMMARIES_KEY } from './discharge-summaries';
import { CONDITIONS_KEY, conditionsQuery, recordedConditions, type RecordedConditions } from './encounter-conditions';
import { parseHookRequest } from './request';
import type { CdsServiceDefinition, EncounterDischargeContext, HookResponse } from './types';

export const SERVICE_ID = 'icd10cm-suggestions';

/** Prefetch key of the encounter: its class decides the coding setting (fhir/encounter-setting.ts); without it, inpatient. */
export const ENCOUNTER_KEY = 'encounter';

/** The discovery entry. */
export function definitionOf(loincCodes: readonly string[]): CdsServiceDefinition {
  return {
    hook: 'encounter-discharge',
    id: SERVICE_ID,
    title: 'ICD-10-CM coding suggestions from the discharge summary',
    description:
      "Suggests ICD-10-CM encounter diagnoses found in the discharge summary through the Alphabetic Index and ranked by learned models, checked against the Tabular List's coding rules, each with its confidence and the passage of the note that supports it. Suggestions only: nothing is recorded unless a clinician or coder accepts a card, and accepted diagnoses are created as provisional.",
    prefetch: {
      [SUMMARIES_KEY]: summariesQuery('{{context.patientId}}', loincCodes),
      [CONDITIONS_KEY]: conditionsQuery('{{context.patientId}}', '{{context.encounterId}}'),
      [ENCOUNTER_KEY]: 'Encounter/{{context.encounterId}}',
    },
    usageRequirements:
      "Needs the discharge summary (DocumentReference with inline text, or a Binary readable with the hook's FHIR token), by prefetch or by read access to DocumentReference and Binary on fhirServer. The encounter's Conditions (prefetch, or read access to Condition) let it leave out codes already recorded and show more specific codes as refinements; without them it still answers.",
  };
}

/** What a service call gets besides its body. */
export interface CallContext {
  requestId: string;
  /** Who made the call (auth/authenticate.ts). */
  caller: Caller;
  /** Collects the stages of the call for the Server-Timing header. */
  timing?: ServerTiming;
}

/**
 * @param services - app services
 * @param definition - this service's discovery entry
 * @param fhirServers - which fhirServer a caller may send the service to
 */
export function icd10cmSuggestions(services: Services, definition: CdsServiceDefinition, fhirServers: FhirServerPolicy) {
  const { config, log, model } = services;
  const profiles = loadProfiles();

  /** A client for the request's fhirServer, when it names one and the caller may send us there. */
  async function clientFor(
    fhirServer: string | undefined,
    accessToken: string | undefined,
    call: CallContext,
    hookInstance: string,
  ): Promise<FhirClient | undefined> {
    if (!fhirServer) return undefined;
    const verdict = await fhirServers.check(call.caller, fhirServer);
    if (!verdict.allowed) {
      // Treated as if nothing could be fetched: the prefetch alone must hold the note.
      log.warn({ requestId: call.requestId, hookInstance, reason: verdict.reason }, 'fhirServer refused: nothing is fetched from it');
      return undefined;
    }
    return createFhirClient({ baseUrl: fhirServer, accessToken, timeoutMs: config.fhirTimeoutMs, maxBytes: config.maxBodyBytes });
  }

  return async (body: unknown, call: CallContext): Promise<HookResponse> => {
    const { requestId } = call;
    const timing = call.timing ?? new ServerTiming();
    // The time budget runs from here (after authentication and body parsing).
    const deadline = performance.now() + config.hookTimeBudgetMs;
    const request = parseHookRequest<EncounterDischargeContext>(body, definition, 'encounterDischargeContext');
    const { patientId, encounterId } = request.context;
    const client = await clientFor(request.fhirServer, request.fhirAuthorization?.access_token, call, request.hookInstance);
    // Read alongside the summaries (latency budget, §Calling a CDS Service); never rejects.
    const recordedPending: Promise<RecordedConditions> = recordedConditions(request.prefetch, client, patientId, encounterId).catch(() => ({
      conditions: [],
      known: false,
      reason: 'unreadable prefetch',
    }));
    const query = summariesQuery(encodeURIComponent(patientId), config.dischargeSummaryLoinc);
    const found = await fetchSummaries(request.prefetch, client, query);
    const summaries = summariesFor(found, patientId, encounterId, config.dischargeSummaryLoinc);
    const choice = chooseDocuments(summaries);

    const notes: Note[] = [];
    let unobtainable = 0;
    for (const index of choice.use) {
      const doc: DocumentReference = summaries[index];
      try {
        notes.push(
          await timing.time('decode', () =>
            noteOf(doc, {
              maxBytes: config.maxBodyBytes,
              maxNoteChars: config.maxNoteChars,
              fetchAttachment: client ? (url) => client.attachment(url) : undefined,
            }),
          ),
        );
      } catch (error) {
        if (error instanceof FhirAccessError) unobtainable++;
        else if (!(error instanceof OperationOutcomeError)) throw error;
        // A document we cannot read (e.g. PDF only) yields no cards; the reason is logged,
        // without content.
        log.warn(
          { requestId, hookInstance: request.hookInstance, reason: error instanceof FhirAccessError ? error.reason : (error as OperationOutcomeError).message },
          'document skipped',
        );
      }
    }
    log.info(
      { requestId, hookInstance: request.hookInstance, found: found.length, summaries: summaries.length, notes: notes.length },
      'encounter-discharge documents',
    );
    if (notes.length === 0 && unobtainable > 0) throw preconditionFailed('The discharge summary could not be read from the FHIR server');
    // Awaited by codeEncounter after the analysis, so the read and the analysis overlap.
    let recordedKnown = false;
    const recorded = recordedPending.then((r) => {
      recordedKnown = r.known;
      return { codes: recordedCodesOf(r.conditions), known: r.known, reason: r.reason };
    });

    // The encounter's class, when prefetched and about this encounter: ED and observation stays are outpatient.
    const encounter = request.prefetch?.[ENCOUNTER_KEY] as Encounter | null | undefined;
    const setting = encounter && encounter.resourceType === 'Encounter' && encounter.id === encounterId ? settingOfEncounter(encounter) : undefined;

    return codeEncounter(
      services,
      {
        notes,
        recorded,
        ...(setting ? { setting } : {}),
        deadline,
        call: {
          requestId,
          edge: 'cds-hooks',
          service: definition.id,
          callId: request.hookInstance,
          user: request.context.userId,
          patient: `Patient/${patientId}`,
          encounter: `Encounter/${encounterId}`,
        },
      },
      (coding) => {
        if (coding.status === 'no-document') return { output: { cards: [] }, shown: [] };
        if (coding.status === 'pending') {
          // Over budget: one information card now; the analysis goes on into the result cache.
          return { output: { cards: [pendingCard({ model, topics: profiles.cdsTopics, newId: services.newId })] }, shown: [] };
        }
        timing.addAnalysis(coding.timings);
        const serializeStarted = performance.now();
        const cards = toCards(coding.suggestions, {
          patientId,
          encounterId,
          model,
          notes,
          newId: services.newId,
          overrideReasons: profiles.overrideReasons,
          topics: profiles.cdsTopics,
          codingRules: profiles.codingRules,
          recordedUnknown: !recordedKnown,
        });
        const information = findingCards(coding.findings, { model, topics: profiles.cdsTopics, codingRules: profiles.codingRules, newId: services.newId });
        timing.add('serialize', performance.now() - serializeStarted);
        // toCards makes one card per suggestion, in order; the information cards follow them.
        return {
          output: { cards: [...cards, ...information] },
          shown: cards.map((card) => ({ cardUuid: card.uuid, suggestionId: card.suggestions![0].uuid })),
        };
      },
    );
  };
}
