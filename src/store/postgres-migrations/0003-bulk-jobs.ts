/**
 * Version 3: bulk coding jobs (docs/jobs.md): the job, each document's input until its result
 * is stored, and the results keyed by (job, document index) so a document coded twice is
 * stored once. Inputs hold note text and results evidence quotes: PHI at rest, deleted with
 * the job (cancel or expiry). The queue's own tables are pg-boss's, in its schema.
 */
import type { Migration } from './migration';

export const bulkJobs: Migration = {
  version: 3,
  name: 'bulk-jobs',
  sql: `
  CREATE TABLE bulk_job (
    id text PRIMARY KEY,
    owner text NOT NULL,
    request text NOT NULL,
    setting text,
    status text NOT NULL CHECK (status IN ('in-progress', 'completed')),
    total integer NOT NULL,
    created_at timestamptz NOT NULL,
    completed_at timestamptz,
    expires_at timestamptz NOT NULL
  );
  CREATE INDEX bulk_job_expires_at ON bulk_job (expires_at);

  CREATE TABLE bulk_input (
    job text NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    document text NOT NULL,
    lease_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    PRIMARY KEY (job, idx)
  );

  CREATE TABLE bulk_result (
    job text NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    conditions text NOT NULL,
    count integer NOT NULL,
    error text,
    PRIMARY KEY (job, idx)
  );
  `,
};
