/**
 * Prometheus metrics (prom-client), one registry per app so that apps built side by side (tests,
 * replicas in one process) never share or double-register instruments. Labels are bounded:
 * route patterns (never the raw URL, which may hold identifiers), methods, statuses, stage and
 * store operation names. No note text, token or identifier is ever a label.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config';
import type { SuggestTimings } from '../suggest';
import type { JobCounters, MetricsSources } from './sources';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Seconds; the long tail covers bulk analyses of very long notes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface Metrics {
  readonly registry: Registry;
  /** @param route - the matched route pattern, or `none` */
  request(method: string, route: string, status: number, seconds: number): void;
  /** An analysis by the model, with its stage times (ms, as SuggestTimings gives them). */
  analysis(outcome: 'done' | 'failed', seconds: number, timings?: SuggestTimings): void;
  /** A StoreUnavailableError raised by a store operation. */
  storeError(operation: string): void;
  readonly jobs: JobCounters;
  /** The text format. */
  scrape(): Promise<string>;
}

/** What the gauges read at scrape time. */
export interface MetricsReaders extends MetricsSources {
  analysisLoad?: () => { queued: number; running: number };
}

/**
 * @param readers - the analyzer's load and the optional job statistics
 */
export function createMetrics(readers: MetricsReaders = {}): Metrics {
  const registry = new Registry();
  // The process's own figures (memory, CPU, event-loop delay, garbage collection), read at scrape time.
  collectDefaultMetrics({ register: registry, prefix: 'icd10cds_' });
  const requests = new Counter({
    name: 'icd10cds_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: 'icd10cds_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const analyses = new Counter({
    name: 'icd10cds_analyses_total',
    help: 'Analyses run by the model (result-cache hits are not analyses), by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const analysisSeconds = new Histogram({
    name: 'icd10cds_analysis_duration_seconds',
    help: 'Time of an analysis, queue wait included.',
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const stageSeconds = new Histogram({
    name: 'icd10cds_analysis_stage_seconds',
    help: 'Time of an analysis stage: tokenize, infer (the model), evidence (passages, occlusion, assertions).',
    labelNames: ['stage'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'icd10cds_analysis_queue_depth',
    help: 'Analyses waiting for a worker.',
    registers: [registry],
    collect() {
      this.set(readers.analysisLoad?.().queued ?? 0);
    },
  });
  new Gauge({
    name: 'icd10cds_analysis_running',
    help: 'Analyses running on a worker now.',
    registers: [registry],
    collect() {
      this.set(readers.analysisLoad?.().running ?? 0);
    },
  });
  const storeErrors = new Counter({
    name: 'icd10cds_store_errors_total',
    help: 'Store operations that failed as unavailable (StoreUnavailableError), by operation.',
    labelNames: ['operation'],
    registers: [registry],
  });
  const jobDocuments = new Counter({
    name: 'icd10cds_job_documents_processed_total',
    help: 'Documents of bulk jobs processed, by outcome (coded, failed).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const jobsFinished = new Counter({
    name: 'icd10cds_jobs_finished_total',
    help: 'Bulk jobs that reached an end state, by state.',
    labelNames: ['state'],
    registers: [registry],
  });
  const jobsSource = readers.jobs;
  if (jobsSource) {
    // Both gauges from one read of the source per scrape.
    let pending: Promise<{ jobs: Record<string, number>; documents: Record<string, number> } | undefined> | undefined;
    const read = () =>
      (pending ??= jobsSource
        .stats()
        .catch(() => undefined)
        .finally(() => setImmediate(() => (pending = undefined))));
    const sourceFailures = new Counter({
      name: 'icd10cds_jobs_stats_failures_total',
      help: 'Scrapes at which the job statistics could not be read.',
      registers: [registry],
    });
    const fill = (gauge: Gauge<'state'>, counts: Record<string, number> | undefined) => {
      gauge.reset();
      for (const [state, n] of Object.entries(counts ?? {})) gauge.set({ state }, n);
    };
    new Gauge({
      name: 'icd10cds_jobs',
      help: 'Bulk jobs, by state, at scrape time.',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const stats = await read();
        if (!stats) sourceFailures.inc();
        fill(this, stats?.jobs);
      },
    });
    new Gauge({
      name: 'icd10cds_job_documents',
      help: 'Documents of bulk jobs, by state, at scrape time.',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        fill(this, (await read())?.documents);
      },
    });
  }

  return {
    registry,
    request(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      requestSeconds.observe(labels, seconds);
    },
    analysis(outcome, seconds, timings) {
      analyses.inc({ outcome });
      if (outcome !== 'done') return;
      analysisSeconds.observe(seconds);
      if (timings) for (const stage of ['tokenize', 'infer', 'evidence'] as const) stageSeconds.observe({ stage }, timings[stage] / 1000);
    },
    storeError(operation) {
      storeErrors.inc({ operation });
    },
    jobs: {
      documents: (outcome, n = 1) => jobDocuments.inc({ outcome }, n),
      jobFinished: (state) => jobsFinished.inc({ state }),
    },
    scrape: () => registry.metrics(),
  };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * METRICS=on needs METRICS_TOKEN unless the service listens on loopback only: the figures
 * reveal load and volumes, which are not for anyone on the network.
 * @throws Error at start-up when the combination is refused
 */
export function checkMetricsConfig(config: Pick<Config, 'metrics' | 'metricsToken' | 'host'>): void {
  if (config.metrics === 'on' && !config.metricsToken && !LOOPBACK.has(config.host) && !config.host.startsWith('127.')) {
    throw new Error('METRICS=on needs METRICS_TOKEN unless HOST is a loopback address');
  }
}
