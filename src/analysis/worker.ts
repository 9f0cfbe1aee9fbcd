/**
 * Worker thread entry (worker-pool.ts starts it from dist/analysis/worker.js): owns one
 * classifier (ONNX session + tokenizer) and runs suggestConditions for one job at a time.
 *
 * Protocol (structured clone, no note text ever logged):
 * - worker → pool: `{ type: 'ready', info }` once loaded, or `{ type: 'init-failed', message }`;
 * - pool → worker: `{ type: 'analyze', id, notes, suppress }` → `{ type: 'result', id, suggestions, timings }`
 *   or `{ type: 'failed', id, message }`;
 * - pool → worker: `{ type: 'close' }`: the session is released and the thread ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AssertionStatus } from '../evidence/assertion';
import { passagesOf } from '../evidence/passages';
import { assertionInContext, sectionAt, sectionsOf } from '../evidence/sections';
import { createClassifier } from '../model/classifier';
import type { Classifier } from '../model/types';
import type { Note } from '../note/note';
import { suggestConditions, type SuggestTimings } from '../suggest';
import { WARM_UP_NOTE } from './warm-up-note';

export interface WorkerInit {
  modelDir: string;
  intraOpThreads: number;
}

export type ToWorker =
  | { type: 'analyze'; id: number; notes: Note[]; suppress?: AssertionStatus[] }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; info: Classifier['info'] }
  | { type: 'init-failed'; message: string }
  | { type: 'result'; id: number; suggestions: Awaited<ReturnType<typeof suggestConditions>>; timings: SuggestTimings }
  | { type: 'failed'; id: number; message: string };

/**
 * V8 compiles (and tiers up) a regular expression as it is used: the assertion rules
 * (evidence/assertion.ts, large Unicode patterns) took about 0.9 s on the first note a worker
 * saw and 0.2-0.3 s on the next (CPU profile: hitsOf), against about 5 ms once warm, so the
 * first hook calls missed their budget. Running every passage of a synthetic note through the
 * assertion rules at start-up pays that (about 1 s) before the worker says it is ready.
 */
function warmUp(): void {
  const text = WARM_UP_NOTE;
  const sections = sectionsOf(text);
  for (const passage of passagesOf(text)) {
    const words = /\p{L}{4,}/u.exec(text.slice(passage.start, passage.end));
    if (!words) continue;
    assertionInContext(text.slice(passage.start, passage.end), { start: words.index, end: words.index + words[0].length }, sectionAt(sections, passage.start)?.kind);
  }
}

function start(): void {
  const port = parentPort;
  if (!port) return;
  const post = (message: FromWorker) => port.postMessage(message);
  const init = workerData as WorkerInit;
  createClassifier(init.modelDir, { intraOpThreads: init.intraOpThreads }).then(
    async (classifier) => {
      warmUp();
      // And one full-size window, so the first note is not slowed by onnxruntime allocating
      // for the largest shapes (the probe at load runs a one-word window).
      await classifier.classify('note '.repeat(classifier.info.maxLength)).catch(() => undefined);
      port.on('message', (message: ToWorker) => {
        if (message.type === 'close') {
          void classifier.dispose().finally(() => port.close());
          return;
        }
        const timings: SuggestTimings = { tokenize: 0, infer: 0, evidence: 0 };
        suggestConditions(message.notes, classifier, { suppress: message.suppress, timings }).then(
          (suggestions) => post({ type: 'result', id: message.id, suggestions, timings }),
          (error: Error) => post({ type: 'failed', id: message.id, message: error.message }),
        );
      });
      post({ type: 'ready', info: classifier.info });
    },
    (error: Error) => post({ type: 'init-failed', message: error.message }),
  );
}

start();
