/**
 * The one encounter-coding use case: an encounter's notes and its recorded codes in, coded
 * suggestions with evidence out, audited once. Both edges (cds/, fhir/) and bulk work call it;
 * an edge only turns its wire input into an EncounterInput and the result into its wire output
 * (the `present` callback). No HTTP, FHIR or CDS types here.
 *
 * Sequence: analysis (result cache, in-flight sharing, time budget: analysis/suggestions.ts)
 * → delta against the recorded codes → the edge's presentation → the audit record, written
 * before the answer goes out (store/audit.ts: no audit, no answer). Failures that a retry may
 * cure (queue full, worker lost, the store unavailable) become 503 `transient` here, for every
 * caller.
 */
import type { Setting } from '../assign/code-note';
import { AnalysisQueueFullError, AnalysisUnavailableError } from '../analysis/analyzer';
import type { SuggestionService } from '../analysis/suggestions';
import { unavailable } from '../errors';
import type { Logger } from '../log';
import type { ModelInfo } from '../model/types';
import type { Note } from '../note/note';
import { auditDocumentsOf, auditSuggestionOf, writeAudit } from '../store/audit';
import { StoreUnavailableError, type AuditRecord, type Store } from '../store/store';
import type { CodeSet } from '../codeset/code-set';
import type { RuleChecker } from '../rules/check-coding';
import type { RuleFinding } from '../rules/findings';
import type { SuggestTimings } from '../suggest';
import { applyRecordedCodes, type DeltaResult, type DeltaSuggestion, type RecordedCode } from './recorded-codes';

/** What coding an encounter needs (no HTTP: bulk jobs build it too). */
export interface CodingDeps {
  suggestions: SuggestionService;
  store: Store;
  log: Logger;
  model: ModelInfo;
  now: () => Date;
  codeSet: CodeSet;
  rules: RuleChecker;
}

/** Who asked and about whom, for the audit trail and the logs (never any content). */
export interface EncounterCall {
  requestId: string;
  edge: AuditRecord['edge'];
  /** CDS service id, or the FHIR operation. */
  service: string;
  /** hookInstance (CDS); the FHIR edge names its Bundle id in its presentation. */
  callId?: string;
  user?: string;
  patient?: string;
  encounter?: string;
}

/** What the encounter already records. */
export interface EncounterRecord {
  codes: readonly RecordedCode[];
  /** False when the recorded diagnoses could not be read: the delta is then against nothing. */
  known: boolean;
  /** Why they could not be read (logged; never content). */
  reason?: string;
}

export interface EncounterInput {
  /** The decoded documents, in the order evidence indexes them. May be empty: nothing could be read. */
  notes: readonly Note[];
  /** Codes already recorded on the encounter (delta coding); a promise is awaited after the analysis, so a read of them overlaps it. */
  recorded: EncounterRecord | Promise<EncounterRecord>;
  call: EncounterCall;
  /** performance.now() after which the analysis is left to finish in the background (CDS hook time budget). */
  deadline?: number;
  /** Inpatient (default) or outpatient: uncertain diagnoses are coded as established only inpatient. */
  setting?: Setting;
}

/** The coding of an encounter, as the edge's presentation receives it. */
export type EncounterCoding =
  | {
      status: 'coded';
      /** New codes and refinements of recorded ones, ranked. */
      suggestions: DeltaSuggestion[];
      /** Suggestions left out because the encounter already records them (or something finer). */
      dropped: DeltaResult['dropped'];
      /** Coding-rule findings, about suggestions and recorded codes; a suggestion's own are on it too (`rules`). */
      findings: RuleFinding[];
      /** Suggestions a rule left out (integral symptoms), each with its finding. */
      removed: { code: string; finding: RuleFinding }[];
      /** Answered from the result cache. */
      cached: boolean;
      timings: SuggestTimings & { cache: number };
    }
  /** Over the time budget: the analysis goes on into the result cache. */
  | { status: 'pending' }
  /** No note could be read: nothing was analysed. */
  | { status: 'no-document' };

/** The edge's answer, and the ids under which it showed each suggestion (in order). */
export interface Presentation<T> {
  output: T;
  /** One per suggestion of a `coded` result, in order (empty otherwise). */
  shown: { suggestionId: string; cardUuid?: string }[];
  /** The call's id when the presentation makes it (the FHIR Bundle id); else the input's. */
  callId?: string;
}

/**
 * Codes one encounter.
 * @param deps - analysis, store, logger, model identity and clock
 * @param input - notes, recorded codes, the call and an optional deadline
 * @param present - builds the edge's answer from the coding
 * @throws OperationOutcomeError 503 when the analysis or the audit cannot be done now
 */
export async function codeEncounter<T>(deps: CodingDeps, input: EncounterInput, present: (coding: EncounterCoding) => Presentation<T>): Promise<T> {
  const { notes, call } = input;
  const coding = await codingOf(deps, input);
  const presentation = present(coding);
  const shown = coding.status === 'coded' ? coding.suggestions : [];
  // Every suggestion shown is audited under the id it was shown with.
  if (presentation.shown.length !== shown.length) throw new Error(`presentation named ${presentation.shown.length} ids for ${shown.length} suggestions`);
  await writeAudit(
    deps.store,
    {
      requestId: call.requestId,
      edge: call.edge,
      service: call.service,
      callId: presentation.callId ?? call.callId ?? call.requestId,
      user: call.user,
      patient: call.patient,
      encounter: call.encounter,
      model: { name: deps.model.name, version: deps.model.version },
      outcome: coding.status === 'no-document' ? 'no-document' : shown.length > 0 ? 'suggestions' : 'no-suggestion',
      ...(coding.status === 'pending' ? { analysis: 'pending' as const } : coding.status === 'coded' && coding.cached ? { analysis: 'cached' as const } : {}),
      recordedAt: deps.now().toISOString(),
      documents: auditDocumentsOf(notes),
      suggestions: shown.map((suggestion, i) => auditSuggestionOf(suggestion, notes, presentation.shown[i])),
    },
    deps.log,
  );
  return presentation.output;
}

async function codingOf(deps: CodingDeps, input: EncounterInput): Promise<EncounterCoding> {
  const { notes, call } = input;
  if (notes.length === 0) return { status: 'no-document' };
  const started = performance.now();
  const result = await deps.suggestions
    .suggest(notes, { deadline: input.deadline, requestId: call.requestId, setting: input.setting })
    .catch((error: unknown) => {
      if (error instanceof AnalysisQueueFullError) throw unavailable('Too many notes are being analysed; retry later');
      if (error instanceof AnalysisUnavailableError) throw unavailable('The analysis was interrupted; retry');
      if (error instanceof StoreUnavailableError) {
        deps.log.error({ requestId: call.requestId, store: deps.store.kind, err: { message: error.message } }, 'result cache could not be read');
        throw unavailable('The service cannot reach its store now; retry later');
      }
      throw error;
    });
  if (result.status === 'pending') {
    deps.log.info({ requestId: call.requestId, callId: call.callId, edge: call.edge }, 'analysis pending: over the time budget');
    return { status: 'pending' };
  }
  // Delta coding: codes already recorded are left out, finer ones refine them.
  const recorded = await input.recorded;
  const delta = applyRecordedCodes(result.suggestions, recorded.codes, deps.codeSet);
  // Coding rules: integral symptoms out, Excludes1 and paired codes flagged, recorded codes checked.
  const checked = deps.rules.check(delta.suggestions, recorded.codes);
  deps.log.info(
    {
      requestId: call.requestId,
      ...(call.callId ? { callId: call.callId } : {}),
      edge: call.edge,
      documents: notes.length,
      characters: notes.reduce((n, note) => n + note.text.length, 0),
      suggestions: checked.suggestions.length,
      findings: checked.findings.length,
      recordedCodes: recorded.codes.length,
      recordedKnown: recorded.known,
      ...(recorded.reason ? { recordedReason: recorded.reason } : {}),
      dropped: delta.dropped.length,
      refinements: delta.suggestions.filter((s) => s.refines).length,
      cached: result.cached,
      ms: performance.now() - started,
    },
    'encounter coded',
  );
  return {
    status: 'coded',
    suggestions: checked.suggestions,
    dropped: delta.dropped,
    findings: checked.findings,
    removed: checked.removed,
    cached: result.cached,
    timings: result.timings,
  };
}
