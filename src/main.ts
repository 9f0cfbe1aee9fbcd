/**
 * Process entry: configuration → store → model → app → listen. The store and the model are
 * opened before the server listens (fail fast), and SIGTERM/SIGINT drain the server (in-flight
 * requests finish, http/drain.ts) before the store and the model are closed.
 */
import { createWorkerAnalyzer } from './analysis/worker-pool';
import { createApp, jobServiceOf } from './app';
import { trustedClientsOf } from './auth/trusted-clients';
import { loadConfig } from './config';
import { checkMetricsConfig } from './metrics/metrics';
import { createDrainState, drainServer } from './http/drain';
import { createLogger } from './log';
import { loadCodingRules } from './rules/load-rules';
import { openStore } from './store/open-store';
import { pgBossQueue } from './jobs/pg-boss-queue';
import { openSqlExecutor } from './store/postgres';

async function main() {
  const config = loadConfig(process.env);
  // Checked now, before the model is loaded: a bad CDS_CLIENTS file stops the start at once.
  trustedClientsOf(config);
  checkMetricsConfig(config);
  const log = createLogger(config.logLevel);
  const store = await openStore(config, log);
  const started = Date.now();
  // The model runs in worker threads (each loads its own session and tokenizer), so a long
  // analysis never blocks the event loop.
  const analyzer = await createWorkerAnalyzer({
    mode: config.engine,
    modelDir: config.modelDir,
    codeSetDir: config.codeSetDir,
    knowledgeDir: config.knowledgeDir,
    rankerDir: config.rankerDir,
    intraOpThreads: config.ortThreads,
    workers: config.analysisWorkers,
    maxQueue: config.analysisQueueMax,
  });
  const { name, version, clinicallyMeaningful, labels, engine } = analyzer.info;
  log.info({ model: { name, version, labels: labels.length }, engine, workers: config.analysisWorkers, ms: Date.now() - started }, 'model loaded');
  if (!clinicallyMeaningful) log.warn({ model: name }, 'this model is a test model: its suggestions are not clinically meaningful');

  const coding = await loadCodingRules(config.codeSetDir, config.knowledgeDir);
  log.info({ codeSet: coding.codeSet.version }, 'code set loaded');
  const drain = createDrainState();
  // Bulk jobs: pg-boss on the PostgreSQL store (any number of processes), else the
  // in-process runner over the SQLite store's tables (one machine).
  const jobQueue =
    config.storeUrl === undefined
      ? undefined
      : pgBossQueue(
          openSqlExecutor(config.storeUrl, {
            poolSize: Math.min(config.storePoolSize, 2 + config.jobConcurrency),
            connectionTimeoutMs: config.storeConnectTimeoutMs,
            log,
          }),
          { leaseSeconds: config.jobLeaseSeconds, pollSeconds: config.jobPollSeconds, log },
        );
  const app = createApp({ config, analyzer, log, store, drain, coding, jobQueue });
  const jobs = jobServiceOf(app);
  await jobs.start();
  if (config.role !== 'api') await jobs.startWorking();
  log.info({ role: config.role, queue: jobs.queueKind }, 'bulk jobs ready');
  const server = app.listen(config.port, config.host, () => {
    const address = server.address();
    log.info({ host: config.host, port: typeof address === 'object' && address ? address.port : config.port }, 'listening');
  });
  // Drain: no new connections, in-flight requests finish (at most SHUTDOWN_DRAIN_MS), then
  // the store and the model are closed. Exit 0 when every request finished, 1 when some
  // were cut at the deadline. A second signal exits at once.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal, inFlight: drain.inFlight }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, inFlight: drain.inFlight, drainMs: config.shutdownDrainMs }, 'shutting down');
    // Workers take no new document; the one in hand finishes, or is redelivered elsewhere once its lease runs out.
    const [result] = await Promise.all([
      drainServer(server, drain, config.shutdownDrainMs),
      jobs.stop(config.shutdownDrainMs).catch((error: Error) => log.error({ err: { message: error.message } }, 'bulk job workers did not stop cleanly')),
    ]);
    if (!result.finished) log.warn({ cut: result.cut, ms: result.ms }, 'drain deadline passed: requests cut');
    await analyzer
      .dispose()
      .then(() => store.close())
      .catch((error: Error) => log.error({ err: { message: error.message } }, 'close failed'));
    log.info({ ms: result.ms, finished: result.finished }, 'stopped');
    process.exit(result.finished ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: Error) => {
  // Start-up problems (configuration, store, model bundle) are ours, not PHI: print them plainly.
  console.error(`icd10-cds failed to start: ${error.message}`);
  process.exit(1);
});
