/**
 * The suggestion service in front of the Analyzer: result cache, one in-flight analysis per
 * key, and the CDS hook's time budget.
 *
 * Cache key: SHA-256 over the SHA-256s of the notes' decoded texts (UTF-8, as the audit
 * hashes them), the model's name, version and thresholds, the engine (mode, code-set year,
 * ranker), the setting (inpatient or outpatient), the suppressed statuses
 * (SUPPRESS_ASSERTIONS) and the passages per suggestion. Value: the suggestions with offsets
 * only (cache-value.ts); the quotes are rebuilt from the caller's notes on a hit.
 *
 * A result cache that cannot be read because the store is unavailable rejects the call with
 * the store's StoreUnavailableError; any other read failure is a miss.
 *
 * A caller with a deadline gets `pending` when the analysis is not done by then; the
 * analysis goes on and fills the cache, and a later call for the same notes joins it while
 * it runs, or reads the cache once it is done.
 */
import { createHash } from 'node:crypto';
import type { Setting } from '../assign/code-note';
import type { AssertionStatus } from '../evidence/assertion';
import type { Logger } from '../log';
import type { ModelInfo } from '../model/types';
import type { Note } from '../note/note';
import { StoreUnavailableError, type Store } from '../store/store';
import { MAX_PASSAGES, type Suggestion, type SuggestTimings } from '../suggest';
import type { Analysis, Analyzer } from './analyzer';
import { decodeCacheValue, encodeCacheValue } from './cache-value';

export type SuggestResult = { status: 'done'; suggestions: Suggestion[]; cached: boolean; timings: SuggestTimings & { cache: number } } | { status: 'pending' };

export interface SuggestionService {
  readonly info: ModelInfo;
  /**
   * @param notes - decoded notes
   * @param options - `deadline` (performance.now() ms) after which `pending` is answered;
   *   without it, waits for the result
   */
  suggest(notes: readonly Note[], options?: { deadline?: number; requestId?: string; setting?: Setting }): Promise<SuggestResult>;
  /** Analyses running now (tests, shutdown). */
  readonly inFlight: number;
  /** Resolves when no analysis is running. */
  idle(): Promise<void>;
}

export interface SuggestionServiceOptions {
  analyzer: Analyzer;
  store: Store;
  log: Logger;
  suppress: readonly AssertionStatus[];
  cache: boolean;
  cacheTtlHours: number;
  now?: () => Date;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** @param options - analyzer, store, logger and the settings that shape the output */
export function createSuggestionService(options: SuggestionServiceOptions): SuggestionService {
  const { analyzer, store, log } = options;
  const now = options.now ?? (() => new Date());
  const suppress = [...options.suppress].sort();
  const { name, version, thresholds, engine } = analyzer.info;
  const ttlMs = options.cacheTtlHours * 3_600_000;
  const running = new Map<string, Promise<Analysis>>();

  const keyOf = (notes: readonly Note[], setting: Setting) =>
    sha256(
      JSON.stringify({
        v: 1,
        notes: notes.map((n) => sha256(n.text)),
        model: { name, version, thresholds },
        ...(engine ? { engine, setting } : {}),
        suppress,
        maxPassages: MAX_PASSAGES,
      }),
    );

  async function remember(key: string, analysis: Analysis, notes: readonly Note[]): Promise<void> {
    const value = encodeCacheValue(analysis.suggestions, notes);
    if (value === undefined) {
      log.warn({ model: name }, 'result not cached: evidence text could not be located by offsets');
      return;
    }
    const at = now();
    await store.cacheSuggestions({ key, model: { name, version }, value, createdAt: at.toISOString() }, new Date(at.getTime() - ttlMs).toISOString());
  }

  function start(key: string, notes: readonly Note[], setting: Setting, requestId?: string): Promise<Analysis> {
    const analysis = analyzer.analyze(notes, { suppress, setting });
    running.set(key, analysis);
    analysis
      // After a turn of the event loop: callers awaiting this analysis answer first, and the
      // cache write (encoding and a committed transaction, ~1.8 ms) follows their response.
      .then((a) => (options.cache ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => remember(key, a, notes)) : undefined))
      .catch((error: Error) => log.error({ requestId, err: { message: error.message } }, 'analysis or cache write failed'))
      .finally(() => running.delete(key));
    return analysis;
  }

  return {
    info: analyzer.info,
    get inFlight() {
      return running.size;
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running.values()]).then(() => new Promise((r) => setImmediate(r)));
    },
    async suggest(notes, { deadline, requestId, setting = 'inpatient' } = {}) {
      const lookupStarted = performance.now();
      const key = keyOf(notes, setting);
      if (options.cache) {
        const value = await store.cachedSuggestions(key, new Date(now().getTime() - ttlMs).toISOString()).catch((error: Error) => {
          // A store that cannot answer now would refuse the audit write every answer needs
          // too: fail at once (503 for the caller) rather than analyse for an answer that
          // cannot be given, which would double the wait on a frozen database. Anything else
          // (a closed store) is a miss.
          if (error instanceof StoreUnavailableError) throw error;
          log.warn({ requestId, err: { message: error.message } }, 'result cache unreadable');
          return undefined;
        });
        if (value !== undefined) {
          const suggestions = decodeCacheValue(value, notes);
          return { status: 'done', suggestions, cached: true, timings: { tokenize: 0, infer: 0, evidence: 0, cache: performance.now() - lookupStarted } };
        }
      }
      const cache = performance.now() - lookupStarted;
      const analysis = running.get(key) ?? start(key, notes, setting, requestId);
      const done = (a: Analysis): SuggestResult => ({
        status: 'done',
        // Callers sharing one analysis each get their own copy (delta coding builds on it).
        suggestions: structuredClone(a.suggestions),
        cached: false,
        timings: { ...a.timings, cache },
      });
      if (deadline === undefined) return done(await analysis);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'pending'>((resolve) => {
        timer = setTimeout(() => resolve('pending'), Math.max(0, deadline - performance.now()));
      });
      try {
        const first = await Promise.race([analysis, late]);
        return first === 'pending' ? { status: 'pending' } : done(first);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
