/**
 * GET /metrics: absent when METRICS=off, 401 OperationOutcome without the right bearer token,
 * and with it the Prometheus text format, in which a request's counter moved, the latency and
 * analysis histograms are present, a store made unavailable (SQLite locked by another
 * connection) is counted, and neither note text nor any identifier of the calls appears; with
 * the real worker pool (a held worker), the queue depth and running analyses read at scrape time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { createTestApp, serveWithWorkers, TINY_MODEL_DIR } from '../helpers/app';
import { documentReference, SAMPLE_NOTE } from '../helpers/resources';
import { metricsOf } from '../../src/app';
import { checkMetricsConfig } from '../../src/metrics/metrics';
import { testConfig } from '../helpers/app';

const TOKEN = 'metrics-test-token-0123456789abcdef-XYZ';
const FAULTY_WORKER = path.join(__dirname, '..', 'fixtures', 'analysis', 'faulty-worker.js');
const OPERATION = '/fhir/DocumentReference/$suggest-conditions';

/** Prometheus text format → samples `{ name, labels, value }` (comments checked for HELP/TYPE). */
function parseExposition(text: string) {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('GET /metrics', () => {
  test('off (the default): 404 OperationOutcome', async () => {
    const { app } = await createTestApp();
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('on: no token or a wrong one is 401 OperationOutcome', async () => {
    const { app, logs } = await createTestApp({ metrics: 'on', metricsToken: TOKEN });
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const call = request(app).get('/metrics');
      const res = await (auth ? call.set('Authorization', auth) : call);
      expect(res.status).toBe(401);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  test('on, with the token: counters moved, histograms present, no content or identifiers', async () => {
    const { app, settled, logs } = await createTestApp({ metrics: 'on', metricsToken: TOKEN });
    const doc = documentReference(SAMPLE_NOTE, { id: 'doc-secret-7731', subject: { reference: 'Patient/pt-secret-4412' } });
    const before = parseExposition((await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).text);
    const count = (p: ReturnType<typeof parseExposition>, route: string, status: string) =>
      p.samples.find((s) => s.name === 'icd10cds_http_requests_total' && s.labels.route === route && s.labels.status === status)?.value ?? 0;
    const ok = await request(app).post(OPERATION).set('Content-Type', 'application/fhir+json').send(doc);
    expect(ok.status).toBe(200);
    await request(app).get('/fhir/Condition/pt-secret-4412').expect(404);
    await request(app).get('/no/such/path/doc-secret-7731').expect(404);
    await settled();
    const res = await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    const after = parseExposition(res.text);
    expect(count(after, OPERATION, '200') - count(before, OPERATION, '200')).toBe(1);
    // Route patterns, never the URL: the read route by its pattern, unknown paths as `none`.
    expect(count(after, '/fhir/:type/:id', '404')).toBe(1);
    expect(count(after, 'none', '404')).toBe(1);
    expect(after.types.get('icd10cds_http_request_duration_seconds')).toBe('histogram');
    const bucket = (name: string, labels: Record<string, string> = {}) =>
      after.samples.filter((s) => s.name === `${name}_count` && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
    expect(bucket('icd10cds_http_request_duration_seconds', { route: OPERATION })).toBe(1);
    expect(bucket('icd10cds_analysis_duration_seconds')).toBe(1);
    for (const stage of ['tokenize', 'infer', 'evidence']) expect(bucket('icd10cds_analysis_stage_seconds', { stage })).toBe(1);
    expect(after.samples.find((s) => s.name === 'icd10cds_analyses_total' && s.labels.outcome === 'done')?.value).toBe(1);
    expect(after.samples.find((s) => s.name === 'icd10cds_analysis_queue_depth')?.value).toBe(0);
    // The process's own figures, for the operator on call.
    expect(after.samples.find((s) => s.name === 'icd10cds_process_resident_memory_bytes')?.value).toBeGreaterThan(0);
    expect(after.types.get('icd10cds_nodejs_eventloop_lag_seconds')).toBe('gauge');
    // Nothing of the call: no note text, no document or patient id, no token.
    for (const secret of ['doc-secret-7731', 'pt-secret-4412', TOKEN, ...SAMPLE_NOTE.split(/\s+/).filter((w) => w.length > 8)]) {
      expect(res.text).not.toContain(secret);
    }
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  test('store unavailable (SQLite locked by another connection) is counted by operation', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'metrics-store-'));
    try {
      const storePath = path.join(dir, 'store.sqlite');
      const { app, store } = await createTestApp({ metrics: 'on', metricsToken: TOKEN, storePath, resultCache: 'off' });
      const other = new Database(storePath);
      other.exec('BEGIN EXCLUSIVE');
      try {
        const res = await request(app).post(OPERATION).set('Content-Type', 'application/fhir+json').send(documentReference(SAMPLE_NOTE));
        expect(res.status).toBe(503);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      const metrics = parseExposition((await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).text);
      expect(metrics.samples.find((s) => s.name === 'icd10cds_store_errors_total' && s.labels.operation === 'recordAudit')?.value).toBe(1);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test('the worker pool: queue depth and running analyses at scrape time, a lost worker counted as a failed analysis', async () => {
    const served = await serveWithWorkers(
      { modelDir: TINY_MODEL_DIR, intraOpThreads: 1, workers: 1, maxQueue: 8, script: FAULTY_WORKER },
      { metrics: 'on', metricsToken: TOKEN },
    );
    try {
      const scrape = async () =>
        parseExposition(await (await fetch(`${served.base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text()).samples;
      const value = (samples: Awaited<ReturnType<typeof scrape>>, name: string, labels: Record<string, string> = {}) =>
        samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
      const post = (text: string) =>
        fetch(`${served.base}${OPERATION}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/fhir+json' },
          body: JSON.stringify(documentReference(text)),
        });
      // The only worker is held for 1.5 s; two more analyses wait behind it.
      const calls = [post(`${SAMPLE_NOTE}\nHOLD_WORKER_MS=1500`)];
      await new Promise((r) => setTimeout(r, 300));
      calls.push(post(`${SAMPLE_NOTE}\nsecond`), post(`${SAMPLE_NOTE}\nthird`));
      await new Promise((r) => setTimeout(r, 300));
      const during = await scrape();
      expect(value(during, 'icd10cds_analysis_running')).toBe(1);
      expect(value(during, 'icd10cds_analysis_queue_depth')).toBe(2);
      expect((await Promise.all(calls)).map((r) => r.status)).toEqual([200, 200, 200]);
      expect((await post(`${SAMPLE_NOTE}\nCRASH_WORKER`)).status).toBe(503);
      const after = await scrape();
      expect(value(after, 'icd10cds_analysis_queue_depth')).toBe(0);
      expect(value(after, 'icd10cds_analyses_total', { outcome: 'done' })).toBe(3);
      expect(value(after, 'icd10cds_analyses_total', { outcome: 'failed' })).toBe(1);
      expect(value(after, 'icd10cds_http_requests_total', { route: OPERATION, status: '503' })).toBe(1);
    } finally {
      await served.close();
    }
  }, 60_000);

  test('job statistics are read at scrape time; job counters can be incremented', async () => {
    let reads = 0;
    let documents: Record<string, number> = { queued: 5, coded: 0 };
    const jobs = {
      async stats() {
        reads++;
        return { jobs: { running: 1, completed: 2 }, documents };
      },
    };
    const { app } = await createTestApp({ metrics: 'on', metricsToken: TOKEN }, undefined, undefined, { metricsSources: { jobs } });
    const scrape = async () => parseExposition((await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).text).samples;
    const value = (samples: Awaited<ReturnType<typeof scrape>>, name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    let samples = await scrape();
    expect(value(samples, 'icd10cds_jobs', { state: 'running' })).toBe(1);
    expect(value(samples, 'icd10cds_job_documents', { state: 'queued' })).toBe(5);
    expect(reads).toBe(1);
    documents = { coded: 5 };
    metricsOf(app)!.jobs.documents('coded', 5);
    metricsOf(app)!.jobs.documents('failed');
    metricsOf(app)!.jobs.jobFinished('completed');
    samples = await scrape();
    expect(value(samples, 'icd10cds_job_documents', { state: 'queued' })).toBeUndefined();
    expect(value(samples, 'icd10cds_job_documents', { state: 'coded' })).toBe(5);
    expect(value(samples, 'icd10cds_job_documents_processed_total', { outcome: 'coded' })).toBe(5);
    expect(value(samples, 'icd10cds_job_documents_processed_total', { outcome: 'failed' })).toBe(1);
    expect(value(samples, 'icd10cds_jobs_finished_total', { state: 'completed' })).toBe(1);
  });

  test('METRICS=on without a token is refused unless HOST is loopback', () => {
    expect(() => checkMetricsConfig(testConfig({ metrics: 'on', host: '0.0.0.0' }))).toThrow(/METRICS_TOKEN/);
    expect(() => checkMetricsConfig(testConfig({ metrics: 'on', host: '127.0.0.1' }))).not.toThrow();
    expect(() => checkMetricsConfig(testConfig({ metrics: 'on', host: '0.0.0.0', metricsToken: TOKEN }))).not.toThrow();
    expect(() => checkMetricsConfig(testConfig({ metrics: 'off', host: '0.0.0.0' }))).not.toThrow();
  });
});
