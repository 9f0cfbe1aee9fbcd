/**
 * The Analyzer of the server: worker threads, each owning its own classifier (ONNX session +
 * tokenizer, loaded once at start-up), one analysis at a time per worker, and a bounded FIFO
 * queue in front of them. A long analysis never blocks the event loop, so /healthz and other
 * requests stay responsive; a full queue is refused at once (AnalysisQueueFullError → 503).
 * A worker that dies fails its job (AnalysisWorkerLostError → 503) and is replaced.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PROJECT_ROOT } from '../paths';
import type { EngineSettings } from '../engine/load-engine';
import { DEFAULT_CODESET_DIR, DEFAULT_KNOWLEDGE_DIR, DEFAULT_RANKER_DIR } from '../paths';
import type { ModelInfo } from '../model/types';
import type { Note } from '../note/note';
import { AnalysisQueueFullError, AnalysisWorkerLostError, AnalyzerClosedError, type Analysis, type AnalysisOptions, type Analyzer } from './analyzer';
import type { FromWorker, ToWorker, WorkerInit } from './worker';

export interface WorkerPoolOptions extends Partial<Omit<EngineSettings, 'modelDir' | 'intraOpThreads'>> {
  /** The classifier bundle. Without `mode`, the engine is the classifier alone (ENGINE=model). */
  modelDir: string;
  /** onnxruntime intra-op threads per worker (0: one per core). */
  intraOpThreads: number;
  /** Worker threads, each with its own session (memory: one model copy each). */
  workers: number;
  /** Analyses allowed to wait for a worker; more are refused. */
  maxQueue: number;
  /** The worker script (default: the compiled worker.js; tests wrap it to inject faults). */
  script?: string;
}

/** The compiled worker: next to this file under dist/, or dist/ when this file runs from src/ (ts-jest). */
export function workerScript(): string {
  const here = path.join(__dirname, 'worker.js');
  return existsSync(here) ? here : path.join(PROJECT_ROOT, 'dist', 'analysis', 'worker.js');
}

interface Job {
  id: number;
  notes: Note[];
  options: AnalysisOptions;
  resolve(analysis: Analysis): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

/**
 * Starts the workers and waits until every one has loaded the model.
 * @throws Error with the worker's message when the model cannot be loaded
 */
export async function createWorkerAnalyzer(options: WorkerPoolOptions): Promise<Analyzer> {
  const script = options.script ?? workerScript();
  if (!existsSync(script)) throw new Error(`analysis worker ${script} not found: run npm run build`);
  const queue: Job[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closing = false;
  /** Replacements of workers that died, while they load. */
  const restarts = new Set<Promise<unknown>>();

  const spawn = (): Promise<{ slot: Slot; info: ModelInfo }> =>
    new Promise((resolve, reject) => {
      const init: WorkerInit = {
        mode: options.mode ?? 'model',
        modelDir: options.modelDir,
        codeSetDir: options.codeSetDir ?? DEFAULT_CODESET_DIR,
        knowledgeDir: options.knowledgeDir ?? DEFAULT_KNOWLEDGE_DIR,
        rankerDir: options.rankerDir ?? DEFAULT_RANKER_DIR,
        intraOpThreads: options.intraOpThreads,
      };
      const worker = new Worker(script, { workerData: init });
      const slot: Slot = { worker };
      let ready = false;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          ready = true;
          resolve({ slot, info: message.info });
          return;
        }
        if (message.type === 'init-failed') {
          reject(new Error(message.message));
          void worker.terminate();
          return;
        }
        const job = slot.job;
        if (!job || job.id !== message.id) return;
        slot.job = undefined;
        if (message.type === 'result') job.resolve({ suggestions: message.suggestions, timings: message.timings });
        else job.reject(new Error(`analysis failed: ${message.message}`));
        dispatch();
      });
      const died = (error: Error) => {
        if (!ready) {
          reject(error);
          return;
        }
        const index = slots.indexOf(slot);
        if (index >= 0) slots.splice(index, 1);
        slot.job?.reject(new AnalysisWorkerLostError(`analysis worker stopped: ${error.message}`));
        slot.job = undefined;
        if (!closing) {
          const restart: Promise<unknown> = spawn()
            .then(
              async ({ slot: fresh }) => {
                // Closed while the replacement loaded: it must not outlive the pool.
                if (closing) return fresh.worker.terminate();
                slots.push(fresh);
                dispatch();
              },
              () => {
                // Could not restart: queued jobs fail rather than wait forever.
                if (slots.length === 0) for (const job of queue.splice(0)) job.reject(new AnalysisWorkerLostError('no analysis worker'));
              },
            )
            .finally(() => restarts.delete(restart));
          restarts.add(restart);
        }
      };
      worker.on('error', died);
      worker.on('exit', (code) => {
        if (!closing || !ready) died(new Error(`exit code ${code}`));
      });
    });

  function dispatch(): void {
    for (const slot of slots) {
      if (slot.job || queue.length === 0) continue;
      const job = queue.shift()!;
      slot.job = job;
      const message: ToWorker = { type: 'analyze', id: job.id, notes: job.notes, options: job.options };
      slot.worker.postMessage(message);
    }
  }

  const started = await Promise.allSettled(Array.from({ length: Math.max(1, options.workers) }, spawn));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failed) {
    closing = true;
    await Promise.all(ok.map(({ slot }) => slot.worker.terminate()));
    throw failed.reason as Error;
  }
  slots.push(...ok.map((s) => s.slot));
  const info = ok[0].info;

  let disposed: Promise<void> | undefined;
  async function closeWorkers(): Promise<void> {
    closing = true;
    for (const job of queue.splice(0)) job.reject(new AnalyzerClosedError());
    await Promise.all(
      slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            slot.worker.once('exit', () => resolve());
            slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
            // A worker stuck in a long run is not waited for.
            setTimeout(() => void slot.worker.terminate(), 5000).unref();
          }),
      ),
    );
    await Promise.all([...restarts]);
  }

  return {
    info,
    analyze(notes, analyzeOptions) {
      if (closing) return Promise.reject(new AnalyzerClosedError());
      const busy = slots.every((s) => s.job);
      if (busy && queue.length >= options.maxQueue) return Promise.reject(new AnalysisQueueFullError(options.maxQueue));
      return new Promise<Analysis>((resolve, reject) => {
        // Only what the worker reads crosses the thread boundary.
        const plain = notes.map((n) => ({ text: n.text, source: n.source }));
        queue.push({
          id: nextId++,
          notes: plain,
          options: {
            ...(analyzeOptions.suppress ? { suppress: [...analyzeOptions.suppress] } : {}),
            ...(analyzeOptions.setting ? { setting: analyzeOptions.setting } : {}),
          },
          resolve,
          reject,
        });
        dispatch();
      });
    },
    load: () => ({ queued: queue.length, running: slots.filter((s) => s.job).length }),
    dispose() {
      // Idempotent: a second call (a stop after a failed start, a test's cleanup) waits for the first.
      disposed ??= closeWorkers();
      return disposed;
    },
  };
}
