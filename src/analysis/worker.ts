/**
 * Worker thread entry (worker-pool.ts starts it from dist/analysis/worker.js): owns one coding
 * engine (ONNX session, tokenizer, code set, ranker: engine/load-engine.ts) and runs one
 * analysis at a time.
 *
 * Protocol (structured clone, no note text ever logged):
 * - worker → pool: `{ type: 'ready', info }` once loaded, or `{ type: 'init-failed', message }`;
 * - pool → worker: `{ type: 'analyze', id, notes, options }` → `{ type: 'result', id, suggestions, timings }`
 *   or `{ type: 'failed', id, message }`;
 * - pool → worker: `{ type: 'close' }`: the session is released and the thread ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadEngine, type EngineSettings } from '../engine/load-engine';
import { passagesOf } from '../evidence/passages';
import { assertionInContext, sectionAt, sectionsOf, type SectionKind } from '../evidence/sections';
import type { ModelInfo } from '../model/types';
import type { Note } from '../note/note';
import type { Suggestion, SuggestTimings } from '../suggest';
import type { AnalysisOptions } from './analyzer';
import { WARM_UP_NOTE } from './warm-up-note';

export type WorkerInit = EngineSettings;

export type ToWorker = { type: 'analyze'; id: number; notes: Note[]; options: AnalysisOptions } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'init-failed'; message: string }
  | { type: 'result'; id: number; suggestions: Suggestion[]; timings: SuggestTimings }
  | { type: 'failed'; id: number; message: string };

/**
 * V8 compiles a regular expression when it is first used: the assertion rules
 * (evidence/assertion.ts, large Unicode patterns) took about 0.9 s on the first note a worker
 * saw (CPU profile: hitsOf), against a few ms once compiled, so the first hook calls missed
 * their budget. Running every passage of a synthetic note through the assertion rules at
 * start-up pays that before the worker says it is ready.
 */
export function warmUp(): void {
  // V8 compiles a regular expression anew for each kind of subject string it meets: text
  // with characters above U+00FF (two-byte), ASCII, and Latin-1 with accents each cost
  // ~0.2 s on first use (measured: the assertion rules on a one-sentence passage of each
  // kind, after the others were warm). The synthetic note is two-byte (an en dash), so it
  // is run as written, as ASCII, and as ASCII with an accented letter in every passage.
  // Through latin1 bytes: a string made by replace() keeps its source's two-byte form.
  const ascii = Buffer.from(WARM_UP_NOTE.replace(/[^\u0000-\u007f]/gu, '-'), 'latin1').toString('latin1');
  const judge = (passage: string, kind: SectionKind | undefined) => {
    const words = /\p{L}{4,}/u.exec(passage);
    if (words) assertionInContext(passage, { start: words.index, end: words.index + words[0].length }, kind);
  };
  for (const text of [WARM_UP_NOTE, ascii]) {
    const sections = sectionsOf(text);
    for (const passage of passagesOf(text)) {
      const kind = sectionAt(sections, passage.start)?.kind;
      judge(text.slice(passage.start, passage.end), kind);
      if (text === ascii) judge(`${text.slice(passage.start, passage.end)} caf\u00e9`, kind);
    }
  }
}

function start(): void {
  const port = parentPort;
  if (!port) return;
  const post = (message: FromWorker) => port.postMessage(message);
  const init = workerData as WorkerInit;
  loadEngine(init).then(
    async ({ engine, classifier, info }) => {
      warmUp();
      // And one full-size window, so the first note is not slowed by onnxruntime allocating
      // for the largest shapes (the probe at load runs a one-word window); and one note
      // through the whole engine (the Index walk builds its lookups on first use).
      await classifier.classify('note '.repeat(classifier.info.maxLength)).catch(() => undefined);
      await engine.suggest([{ text: WARM_UP_NOTE, source: { display: 'warm-up', contentIndex: 0, contentType: 'text/plain' } }]).catch(() => undefined);
      port.on('message', (message: ToWorker) => {
        if (message.type === 'close') {
          void classifier.dispose().finally(() => port.close());
          return;
        }
        const timings: SuggestTimings = { tokenize: 0, infer: 0, evidence: 0 };
        engine.suggest(message.notes, { ...message.options, timings }).then(
          (suggestions) => post({ type: 'result', id: message.id, suggestions, timings }),
          (error: Error) => post({ type: 'failed', id: message.id, message: error.message }),
        );
      });
      post({ type: 'ready', info });
    },
    (error: Error) => post({ type: 'init-failed', message: error.message }),
  );
}

start();
