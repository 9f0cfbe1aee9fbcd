/**
 * The job queue on PostgreSQL: pg-boss (docs/jobs.md argues the choice), in its own schema
 * of the store's database, one queue job per document carrying only the job id and the
 * document's index (no PHI in the queue's tables, which keep finished jobs for a while).
 *
 * A worker killed mid-document: its queue job stays `active` until `expireInSeconds`
 * (JOB_LEASE_SECONDS) has passed, then pg-boss's maintenance (every third of the lease, at
 * most 10 s; one process runs it at a time) moves it back to `retry`, and the next poll of any
 * worker (JOB_POLL_SECONDS) takes it: lease + maintenance + poll at worst.
 */
import PgBoss from 'pg-boss';
import type { Logger } from '../log';
import type { SqlExecutor } from '../store/postgres';
import { MAX_ATTEMPTS, type JobQueue, type TaskHandler } from './types';

const QUEUE = 'suggest-conditions';
export const PG_BOSS_SCHEMA = 'pgboss';

export interface PgBossQueueOptions {
  leaseSeconds: number;
  pollSeconds: number;
  log: Logger;
}

/** The seconds between two maintenance runs for a lease: a third of it, 1–10 s. */
export function maintenanceSecondsOf(leaseSeconds: number): number {
  return Math.max(1, Math.min(10, Math.floor(leaseSeconds / 3)));
}

/**
 * @param db - a pool on the store's database (store/postgres.ts openSqlExecutor); closed by stop
 * @param options - lease and polling, logger
 */
export function pgBossQueue(db: SqlExecutor, options: PgBossQueueOptions): JobQueue {
  const { leaseSeconds, pollSeconds, log } = options;
  const boss = new PgBoss({
    db: { executeSql: (text: string, values: unknown[]) => db.executeSql(text, values) as Promise<{ rows: never[] }> },
    schema: PG_BOSS_SCHEMA,
    supervise: true,
    schedule: false,
    maintenanceIntervalSeconds: maintenanceSecondsOf(leaseSeconds),
    // Finished queue jobs hold ids only; a day is enough to look into one.
    deleteAfterDays: 1,
  });
  boss.on('error', (error: Error & { code?: string }) => log.warn({ queue: 'pg-boss', err: { message: error.message, code: error.code } }, 'job queue error'));
  let stopped = false;
  // This process's workers: a kick-off here and a finished document wake them without waiting
  // for the polling interval (pg-boss waits one after every fetch, even one that found work).
  const workers: string[] = [];
  const wakeWorkers = () => {
    for (const worker of workers) boss.notifyWorker(worker);
  };

  return {
    kind: 'pg-boss',
    async start() {
      await boss.start();
      await boss.createQueue(QUEUE, { name: QUEUE, retryLimit: MAX_ATTEMPTS - 1, retryDelay: 0, expireInSeconds: leaseSeconds });
    },
    async enqueue(id, count) {
      const jobs = Array.from({ length: count }, (_, index) => ({
        name: QUEUE,
        data: { id, index },
        retryLimit: MAX_ATTEMPTS - 1,
        retryDelay: 0,
        expireInSeconds: leaseSeconds,
      }));
      for (let i = 0; i < jobs.length; i += 500) await boss.insert(jobs.slice(i, i + 500));
      wakeWorkers();
    },
    async work(concurrency, handler: TaskHandler) {
      for (let i = 0; i < concurrency; i++) {
        const worker = await boss.work<{ id: string; index: number }>(
          QUEUE,
          { batchSize: 1, pollingIntervalSeconds: pollSeconds, includeMetadata: true },
          async ([job]) => {
            try {
              await handler({ id: job.data.id, index: job.data.index, lastAttempt: job.retryCount >= job.retryLimit });
            } finally {
              wakeWorkers();
            }
          },
        );
        workers.push(worker);
      }
    },
    async stop(timeoutMs) {
      if (stopped) return;
      stopped = true;
      // Graceful: no new documents; those in hand finish within the timeout, else are failed
      // back to the queue (retried by another worker).
      await boss.stop({ graceful: true, wait: true, timeout: Math.max(1000, timeoutMs), close: false });
      await db.close();
    },
  };
}
