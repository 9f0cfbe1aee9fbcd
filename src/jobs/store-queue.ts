/**
 * The in-process job runner: the store's own job tables are the queue (JobStore
 * leaseJobDocument), polled by this process. For the SQLite store: one machine (processes
 * on one file share it; nothing else does). A document whose worker died is leased again
 * once its lease runs out.
 */
import type { JobStore } from '../store/store';
import { MAX_ATTEMPTS, type JobQueue, type TaskHandler } from './types';

export interface StoreQueueOptions {
  leaseSeconds: number;
  pollSeconds: number;
  now?: () => Date;
}

export function storeQueue(store: JobStore, options: StoreQueueOptions): JobQueue {
  const now = options.now ?? (() => new Date());
  let stopping = false;
  const loops: Promise<void>[] = [];
  const sleepers = new Set<() => void>();
  const wake = () => {
    for (const w of [...sleepers]) w();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  async function loop(handler: TaskHandler): Promise<void> {
    while (!stopping) {
      let leased;
      try {
        const at = now();
        leased = await store.leaseJobDocument(new Date(at.getTime() + options.leaseSeconds * 1000).toISOString(), at.toISOString());
      } catch {
        leased = undefined; // the store is unavailable: try again at the next poll
      }
      if (!leased) {
        await sleep(options.pollSeconds * 1000);
        continue;
      }
      // A throw leaves the lease to run out: the document is tried again then.
      await handler({ id: leased.id, index: leased.index, lastAttempt: leased.attempts >= MAX_ATTEMPTS }).catch(() => undefined);
    }
  }

  return {
    kind: 'store',
    async start() {},
    async enqueue() {
      wake();
    },
    async work(concurrency, handler) {
      stopping = false;
      for (let i = 0; i < concurrency; i++) loops.push(loop(handler));
    },
    async stop(timeoutMs) {
      stopping = true;
      wake();
      await Promise.race([Promise.all(loops), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    },
  };
}
