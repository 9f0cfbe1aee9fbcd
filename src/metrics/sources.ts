/**
 * What the metrics read from parts built elsewhere, kept to plain types so that those parts
 * (bulk coding jobs) need not import prom-client: a stats source read at scrape time, and
 * counters they increment as work finishes.
 */

/** Counts by state, e.g. `{ queued: 3, running: 1, completed: 40, failed: 2 }`. */
export type StateCounts = Record<string, number>;

/** Read once per scrape into the `icd10cds_jobs` and `icd10cds_job_documents` gauges. */
export interface JobStatsSource {
  stats(): Promise<{ jobs: StateCounts; documents: StateCounts }>;
}

/** Incremented by whoever runs the jobs (no labels beyond these: never a job or document id). */
export interface JobCounters {
  /** Documents coded, and documents that ended in an error record. */
  documents(outcome: 'coded' | 'failed', n?: number): void;
  /** A job reached an end state. */
  jobFinished(state: 'completed' | 'failed' | 'cancelled'): void;
}

/** The optional sources the metrics read. */
export interface MetricsSources {
  jobs?: JobStatsSource;
}
