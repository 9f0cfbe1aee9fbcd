/**
 * The Analyzer: notes in, suggestions out, wherever the model runs. `inlineAnalyzer` runs
 * suggestConditions on this thread (tests, tools); `worker-pool.ts` runs it in worker threads
 * that own the ONNX session and the tokenizer, so the event loop stays free while a heavy
 * model works. Imports no HTTP, FHIR or CDS code.
 */
import type { Setting } from '../assign/code-note';
import { createEngine, type Engine } from '../engine/engine';
import type { AssertionStatus } from '../evidence/assertion';
import type { Classifier, ModelInfo } from '../model/types';
import type { Note } from '../note/note';
import type { Suggestion, SuggestTimings } from '../suggest';

/** What shapes an analysis besides the notes (part of the result cache's key). */
export interface AnalysisOptions {
  /** Statuses whose evidence alone never suggests a code. */
  suppress?: readonly AssertionStatus[];
  /** Inpatient or outpatient: how uncertain diagnoses are coded. */
  setting?: Setting;
}

export interface Analysis {
  suggestions: Suggestion[];
  /** Where the time went (ms); never any content. */
  timings: SuggestTimings;
}

export interface Analyzer {
  readonly info: ModelInfo;
  /**
   * @param notes - decoded notes (only `text` and `source` are used)
   * @param options - statuses that suppress a code, and the setting
   */
  analyze(notes: readonly Note[], options: AnalysisOptions): Promise<Analysis>;
  /** Analyses waiting for a worker and running now (metrics read it at scrape time). */
  load?(): { queued: number; running: number };
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

/**
 * Thrown when the analyzer was closed (the process is stopping): a request whose client left
 * during the drain, or a job document picked up late, is retried elsewhere, never a 500.
 */
export class AnalyzerClosedError extends AnalysisUnavailableError {
  constructor() {
    super('the analyzer is closed');
  }
}

/**
 * The engine on this thread: for tests and tools. Given a classifier alone, the engine is the
 * classifier's (ENGINE=model).
 * @param engine - the engine, or a classifier
 * @param info - what the analyzer reports (default: the classifier's info)
 */
export function inlineAnalyzer(engine: Engine | Classifier, info?: ModelInfo): Analyzer {
  const running: Engine = 'suggest' in engine ? engine : createEngine({ mode: 'model', classifier: engine });
  const reported = info ?? ('info' in engine ? (engine as Classifier).info : undefined);
  if (!reported) throw new Error("inlineAnalyzer needs the engine's info");
  let active = 0;
  return {
    info: reported,
    async analyze(notes, options) {
      const timings: SuggestTimings = { tokenize: 0, infer: 0, evidence: 0 };
      active++;
      try {
        const suggestions = await running.suggest(notes, { suppress: options.suppress, setting: options.setting, timings });
        return { suggestions, timings };
      } finally {
        active--;
      }
    },
    load: () => ({ queued: 0, running: active }),
    // The engine belongs to whoever made it.
    dispose: async () => {},
  };
}
