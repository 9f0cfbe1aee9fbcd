/**
 * Bulk coding jobs (FHIR asynchronous request pattern, docs/jobs.md), without HTTP: submit a
 * job of documents, read its status and results, cancel it, and work its documents. The
 * same for either queue (types.ts JobQueue) and either store.
 *
 * Idempotent per document: the queue delivers a document at least once; its result is
 * stored once under (job, index) (JobStore recordJobResult) and its input deleted with it,
 * so a document redelivered after its worker died is coded again and stored once, and the
 * output is assembled from the stored results in document order.
 */
import type { Logger } from '../log';
import type { Profiles } from '../fhir/profiles';
import type { Services } from '../services';
import type { BulkDocumentResult, BulkJobRecord, Store } from '../store/store';
import { codeDocument, gaveUpError } from './code-document';
import type { DocumentEvent, DocumentTask, JobEvent, JobQueue, JobStats } from './types';

/** Least time between two sweeps of expired jobs by this process. */
const SWEEP_INTERVAL_MS = 60_000;

export interface JobServiceDeps {
  services: Services;
  profiles: Profiles;
  queue: JobQueue;
}

export interface NewJob {
  owner: string;
  request: string;
  /** Each DocumentReference as the caller sent it (checked when coded: a bad one fails alone). */
  documents: readonly unknown[];
  setting?: string;
}

export class JobService {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly counters = { running: 0, coded: 0, failed: 0, retried: 0 };
  private readonly listeners = new Set<(event: DocumentEvent) => void>();
  private readonly jobListeners = new Set<(event: JobEvent) => void>();
  private sweeper: NodeJS.Timeout | undefined;
  private working = false;

  constructor(private readonly deps: JobServiceDeps) {
    this.store = deps.services.store;
    this.log = deps.services.log;
  }

  get queueKind(): string {
    return this.deps.queue.kind;
  }

  private now(): Date {
    return this.deps.services.now();
  }

  private ttlMs(): number {
    return this.deps.services.config.jobOutputTtlHours * 3600_000;
  }

  /** Connects the queue and starts sweeping expired jobs (every role). */
  async start(): Promise<void> {
    await this.deps.queue.start();
    this.sweeper ??= setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  /** Starts this process's workers (ROLE worker or all). */
  async startWorking(): Promise<void> {
    this.working = true;
    await this.deps.queue.work(this.deps.services.config.jobConcurrency, (task) => this.work(task));
    this.log.info({ queue: this.deps.queue.kind, concurrency: this.deps.services.config.jobConcurrency }, 'bulk job workers started');
  }

  /** Stops taking documents; those in hand finish within `timeoutMs` or are redelivered elsewhere. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.deps.queue.stop(timeoutMs);
    if (this.working) this.log.info({ running: this.counters.running }, 'bulk job workers stopped');
    this.working = false;
  }

  /** Listens to jobs cancelled through this process (for metrics); returns the unsubscribe. */
  onJob(listener: (event: JobEvent) => void): () => void {
    this.jobListeners.add(listener);
    return () => this.jobListeners.delete(listener);
  }

  /** Listens to this process's finished documents (for metrics); returns the unsubscribe. */
  onDocument(listener: (event: DocumentEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stats(): Promise<JobStats> {
    const counts = await this.store.jobCounts();
    return {
      queue: this.deps.queue.kind,
      jobs: { inProgress: counts.jobs['in-progress'], completed: counts.jobs.completed },
      documents: counts.documents,
      worker: { ...this.counters },
    };
  }

  /** Stores a job and queues its documents. */
  async submit(job: NewJob): Promise<BulkJobRecord> {
    const createdAt = this.now();
    const id = this.deps.services.newId();
    const record = {
      id,
      owner: job.owner,
      request: job.request,
      ...(job.setting ? { setting: job.setting } : {}),
      createdAt: createdAt.toISOString(),
      expiresAt: new Date(createdAt.getTime() + this.ttlMs()).toISOString(),
    };
    await this.store.createJob(
      record,
      job.documents.map((d) => JSON.stringify(d)),
    );
    try {
      await this.deps.queue.enqueue(id, job.documents.length);
    } catch (error) {
      // Not queued: no worker would ever take it; nothing may stay stored.
      await this.store.deleteJob(id).catch(() => undefined);
      throw error;
    }
    this.log.info({ job: id, documents: job.documents.length, queue: this.deps.queue.kind }, 'bulk job queued');
    return { ...record, status: 'in-progress', total: job.documents.length, done: 0, failed: 0 };
  }

  /** The job, if `owner` started it and it has not expired. */
  async job(owner: string, id: string): Promise<BulkJobRecord | undefined> {
    const job = await this.store.bulkJob(id);
    if (!job || job.owner !== owner) return undefined;
    if (job.expiresAt < this.now().toISOString()) {
      await this.store.deleteJob(id);
      return undefined;
    }
    return job;
  }

  /** The stored results of a completed job of `owner`, in document order. */
  async results(owner: string, id: string): Promise<{ job: BulkJobRecord; results: BulkDocumentResult[] } | undefined> {
    const job = await this.job(owner, id);
    if (!job || job.status !== 'completed') return undefined;
    return { job, results: await this.store.jobResults(id) };
  }

  /** Cancels (deletes) a job of `owner` with its documents and results; false when there is none. */
  async cancel(owner: string, id: string): Promise<boolean> {
    const job = await this.job(owner, id);
    if (!job) return false;
    const deleted = await this.store.deleteJob(id);
    if (deleted) {
      this.log.info({ job: id }, 'bulk job cancelled');
      for (const listener of this.jobListeners) listener({ state: 'cancelled' });
    }
    return deleted;
  }

  async sweep(): Promise<void> {
    try {
      const n = await this.store.expireJobs(this.now().toISOString());
      if (n > 0) this.log.info({ jobs: n }, 'bulk jobs expired');
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'expired bulk jobs could not be deleted');
    }
  }

  private emit(event: DocumentEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** One delivery of one document. */
  private async work(task: DocumentTask): Promise<void> {
    const started = performance.now();
    const input = await this.store.jobDocument(task.id, task.index);
    // Already stored (a redelivery after the result was written), or the job is gone.
    if (!input) return this.emit({ outcome: 'duplicate', ms: performance.now() - started });
    this.counters.running++;
    this.log.debug({ job: task.id, index: task.index }, 'bulk job document started');
    try {
      let result: BulkDocumentResult;
      try {
        result = await codeDocument(this.deps.services, this.deps.profiles, {
          document: input.document,
          index: task.index,
          setting: input.setting,
          requestId: this.deps.services.newId(),
        });
      } catch (error) {
        this.log.warn(
          { job: task.id, index: task.index, lastAttempt: task.lastAttempt, err: { message: (error as Error).message } },
          'bulk job document not coded',
        );
        if (!task.lastAttempt) {
          this.counters.retried++;
          this.emit({ outcome: 'retry', ms: performance.now() - started });
          throw error;
        }
        result = { index: task.index, conditions: '', count: 0, error: gaveUpError(task.index) };
      }
      const now = this.now();
      const { stored, completed } = await this.store.recordJobResult(task.id, result, {
        now: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.ttlMs()).toISOString(),
      });
      const outcome = !stored ? 'duplicate' : result.error ? 'failed' : 'coded';
      if (outcome === 'coded') this.counters.coded++;
      if (outcome === 'failed') this.counters.failed++;
      this.log.info({ job: task.id, index: task.index, outcome, conditions: result.count }, 'bulk job document');
      if (completed) this.log.info({ job: task.id }, 'bulk job completed');
      this.emit({ outcome, ms: performance.now() - started, ...(completed ? { jobCompleted: true } : {}) });
    } finally {
      this.counters.running--;
    }
  }
}
