/**
 * The contract of bulk coding jobs (docs/jobs.md): a job queue hands documents to workers,
 * the job service (job-service.ts) stores jobs and results. Two queues implement it:
 * pg-boss on PostgreSQL (pg-boss-queue.ts, any number of processes) and the in-process runner
 * over the store's own tables (store-queue.ts, one machine). Types, and the attempts bound.
 */

/** One document to code. */
export interface DocumentTask {
  /** The job's id and the document's index in it. */
  id: string;
  index: number;
  /** No retry follows: a failure must be stored as the document's error, not thrown. */
  lastAttempt: boolean;
}

/** Codes one document and stores its result; a throw means "try again later" (the queue retries). */
export type TaskHandler = (task: DocumentTask) => Promise<void>;

export interface JobQueue {
  /** `pg-boss` or `store` (logs, stats). */
  readonly kind: string;
  /** Connects (pg-boss: its schema and queue); every role calls it before enqueueing. */
  start(): Promise<void>;
  /** Hands the documents 0…count-1 of a stored job to the workers. */
  enqueue(id: string, count: number): Promise<void>;
  /** Starts `concurrency` workers in this process. */
  work(concurrency: number, handler: TaskHandler): Promise<void>;
  /**
   * Stops taking documents; those in hand finish within `timeoutMs`, else they are left to
   * be redelivered (their lease runs out). Then disconnects.
   */
  stop(timeoutMs: number): Promise<void>;
}

/** Attempts of one document before its failure is stored as its error (a kill counts as one). */
export const MAX_ATTEMPTS = 5;

/**
 * What bulk work there is, for gauges: the job tables of the shared store (every process),
 * and this process's workers. Cheap: a few counts.
 */
export interface JobStats {
  queue: string;
  jobs: { inProgress: number; completed: number };
  documents: { queued: number; done: number; failed: number };
  /** This process: documents being coded now, and coded (stored or found stored) and failed since start. */
  worker: { running: number; coded: number; failed: number; retried: number };
}

/** Emitted once per document a worker of this process finishes or gives back. */
export interface DocumentEvent {
  outcome: 'coded' | 'failed' | 'retry' | 'duplicate';
  ms: number;
  /** This document was the job's last: the job is complete. */
  jobCompleted?: boolean;
}

/** Emitted when a job of this process's callers ends otherwise than by its documents: cancelled. */
export interface JobEvent {
  state: 'cancelled';
}
