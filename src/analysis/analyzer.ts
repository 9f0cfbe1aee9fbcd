/**
 * The Analyzer: notes in, suggestions out, wherever the model runs. `inlineAnalyzer` runs
 * suggestConditions on this thread (tests, tools); `worker-pool.ts` runs it in worker threads
 * that own the ONNX session and the tokenizer, so the event loop stays free while a heavy
 * model works. Imports no HTTP, FHIR or CDS code.
 */
import type { Classifier, ModelInfo } from '../model/types';
import type { Note } from '../note/note';
import { suggestConditions, type SuggestOptions, type Suggestion, type SuggestTimings } from '../suggest';

export interface Analysis {
  suggestions: Suggestion[];
  /** Where the time went (ms); never any content. */
  timings: SuggestTimings;
}

export interface Analyzer {
  readonly info: ModelInfo;
  /**
   * @param notes - decoded notes (only `text` and `source` are used)
   * @param options - statuses that suppress a code
   */
  analyze(notes: readonly Note[], options: Pick<SuggestOptions, 'suppress'>): Promise<Analysis>;
  dispose(): Promise<void>;
}

/** The analysis cannot be done now but may be on a retry: the edges answer 503 (transient). */
export class AnalysisUnavailableError extends Error {}

/** Thrown when the analysis queue is full. */
export class AnalysisQueueFullError extends AnalysisUnavailableError {
  constructor(limit: number) {
    super(`analysis queue full (${limit} waiting)`);
  }
}

/** Thrown when the worker running an analysis stopped (it is replaced), or none could be restarted. */
export class AnalysisWorkerLostError extends AnalysisUnavailableError {}

/** The model on this thread: for tests and tools. */
export function inlineAnalyzer(classifier: Classifier): Analyzer {
  return {
    info: classifier.info,
    async analyze(notes, options) {
      const timings: SuggestTimings = { tokenize: 0, infer: 0, evidence: 0 };
      const suggestions = await suggestConditions(notes, classifier, { suppress: options.suppress, timings });
      return { suggestions, timings };
    },
    // The classifier belongs to whoever made it.
    dispose: async () => {},
  };
}
