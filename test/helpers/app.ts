/**
 * Test wiring: the real app with the real tiny ONNX model (test/fixtures/tiny-model), a
 * config built like production's, sequential ids, a fixed clock, captured log lines and a
 * store of its own, opened as main.ts opens it (in-memory SQLite unless the test names a file
 * with `storePath` or a PostgreSQL database with `storeUrl`).
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Analyzer } from '../../src/analysis/analyzer';
import { createWorkerAnalyzer, type WorkerPoolOptions } from '../../src/analysis/worker-pool';
import { createApp, jobServiceOf, suggestionServiceOf, type AppDeps } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { JobQueue } from '../../src/jobs/types';
import { createLogger, type Logger } from '../../src/log';
import { createClassifier } from '../../src/model/classifier';
import type { Classifier } from '../../src/model/types';
import { loadCodingRules, type CodingRules } from '../../src/rules/load-rules';
import { openStore } from '../../src/store/open-store';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';

export const TINY_MODEL_DIR = path.join(__dirname, '..', 'fixtures', 'tiny-model');
export const FIXED_NOW = new Date('2026-11-25T12:00:00.000Z');

/** Production defaults, the tiny model, and any overrides. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  // ENGINE=model: these tests drive the edges with the tiny model; the engine's own tests (test/engine) load the code set and ranker.
  return { ...loadConfig({ MODEL_DIR: TINY_MODEL_DIR, LOG_LEVEL: 'info', STORE_PATH: ':memory:', ENGINE: 'model' }), ...overrides };
}

let tiny: Promise<Classifier> | undefined;
/** The tiny model, loaded once per test file. */
export function tinyClassifier(): Promise<Classifier> {
  tiny ??= createClassifier(TINY_MODEL_DIR, { intraOpThreads: 1 });
  return tiny;
}

let rules: Promise<CodingRules> | undefined;
/** The committed code set and coding-rule checks, loaded once per test file. */
export function codingRules(): Promise<CodingRules> {
  rules ??= (() => {
    const { codeSetDir, knowledgeDir } = testConfig();
    return loadCodingRules(codeSetDir, knowledgeDir);
  })();
  return rules;
}

/** uuids 00000000-0000-4000-8000-000000000001, …002, … */
export function seqIds(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

/**
 * The app as main.ts builds it, but with the tiny model and captured logs.
 *
 * Authentication is OFF by default here (production's default is on), so that tests of
 * what the endpoints do need no tokens; test/http/auth*.test.ts pass `{ auth: 'on', ... }`.
 * @param overrides - configuration overrides
 * @param analyzer - where the model runs (default: the tiny classifier on this thread)
 * @param newId - uuid source (default: a sequence; replicas sharing a store need distinct ones)
 * @param extra - further dependencies (the metrics' job source)
 */
export async function createTestApp(
  overrides: Partial<Config> = {},
  analyzer?: Analyzer,
  newId: () => string = seqIds(),
  extra: { now?: () => Date; jobQueue?: (config: Config, log: Logger) => JobQueue } & Pick<AppDeps, 'metricsSources'> = {},
) {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  // Tests serve their EHR's FHIR server on loopback: local testing, as ALLOW_PRIVATE_FHIR_SERVERS allows.
  const config = testConfig({ auth: 'off', allowPrivateFhirServers: 'on', ...overrides });
  const classifier = await tinyClassifier();
  const log = createLogger(config.logLevel, destination);
  const store = await openStore(config, log);
  const app = createApp({
    config,
    ...(analyzer ? { analyzer } : { classifier }),
    log,
    store,
    newId,
    now: extra.now ?? (() => FIXED_NOW),
    coding: await codingRules(),
    ...(extra.jobQueue ? { jobQueue: extra.jobQueue(config, log) } : {}),
    ...(extra.metricsSources ? { metricsSources: extra.metricsSources } : {}),
  });
  // Resolves when background work is done: result-cache writes follow the response.
  const settled = () => suggestionServiceOf(app).idle();
  return { app, classifier, config, logs, store, settled, jobs: jobServiceOf(app) };
}

/** Serves `app` on a free loopback port: the server, and its base URL without a trailing slash. */
export async function listenOnLoopback(app: { listen(port: number, host: string): Server }): Promise<{ server: Server; base: string }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * The app as main.ts runs it, with the model in worker threads, served on loopback with an
 * in-memory store and no authentication; `close` stops the server, the workers and the store.
 * @param pool - the worker pool (model, workers, queue, script)
 * @param overrides - configuration overrides
 */
export async function serveWithWorkers(
  pool: WorkerPoolOptions,
  overrides: Partial<Config> = {},
): Promise<{ base: string; analyzer: Analyzer; store: Store; close(): Promise<void> }> {
  const analyzer = await createWorkerAnalyzer(pool);
  const store = openSqliteStore(':memory:');
  const app = createApp({
    config: testConfig({ auth: 'off', ...overrides }),
    analyzer,
    store,
    log: createLogger('silent'),
    newId: seqIds(),
    coding: await codingRules(),
  });
  const { server, base } = await listenOnLoopback(app);
  return {
    base,
    analyzer,
    store,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await analyzer.dispose();
      await store.close();
    },
  };
}
